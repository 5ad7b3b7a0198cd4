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
