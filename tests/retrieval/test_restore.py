"""Putting diacritics back from the curriculum's own phrases."""

from __future__ import annotations

from retrieval.restore import Restorer

TEXTS = [
    "Mã OTP là của riêng bác, không đưa cho ai.",
    "Lỡ bấm vào đường link lạ thì tắt mạng ngay.",
    "Ma quỷ không có thật.",
]


def test_phrases_get_their_written_form_back() -> None:
    restorer = Restorer(TEXTS)
    assert restorer.restore("lo bam vao duong link la") == "lỡ bấm vào đường link lạ"


def test_longer_phrases_settle_ambiguous_syllables() -> None:
    restorer = Restorer(TEXTS)
    # "ma" alone is ambiguous (mã / ma); next to "otp" the curriculum says "mã"
    assert restorer.restore("ma otp") == "mã otp"
    assert restorer.restore("ma quy") == "ma quỷ"


def test_shorthand_is_expanded_and_typed_diacritics_are_kept() -> None:
    restorer = Restorer(TEXTS)
    assert restorer.restore("ko dua ma otp") == "không đưa mã otp"
    assert restorer.restore("Má otp") == "má otp"  # the learner's own accents win


def test_unknown_words_stay_as_typed() -> None:
    assert Restorer(TEXTS).restore("gia vang hom nay") == "gia vang hom nay"


def test_the_reading_with_the_fewest_phrases_wins_over_reading_left_to_right() -> None:
    restorer = Restorer(
        [
            "Giữ thẻ như thẻ ngân hàng.",
            "Làm như lời cháu dặn, như vậy là đúng.",
            "Làm thế nào cho đúng? Hỏi thế nào cũng được.",
        ]
    )
    # left to right, "nhu the" would be taken first as the known phrase "như thẻ"
    assert restorer.restore("nhu the nao") == "như thế nào"
    assert restorer.restore("giu nhu the ngan hang") == "giữ như thẻ ngân hàng"


def test_a_question_with_diacritics_keeps_its_plain_words() -> None:
    restorer = Restorer(["Cảnh báo: chưa nấu xong.", "Tin nhắn lạ."])
    assert restorer.restore("cách nấu canh chua") == "cách nấu canh chua"
    assert restorer.restore("cach nau canh chua") == "cach nấu cảnh chưa"  # typed plain: restored


def test_shorthand_in_a_question_with_diacritics_is_still_spelled_out() -> None:
    restorer = Restorer(["Không được đưa mã OTP."])
    assert restorer.restore("có đưa mã đc k") == "có đưa mã được không"
