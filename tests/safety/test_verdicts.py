"""Verdicts, replies and privacy: three levels, never "an toàn", a reply that fits a phone, nothing kept."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

from lessons.models import Curriculum
from retrieval.encoders import Vectors
from safety.check import SIGNALS_FILE, VERDICTS, Level, ScamChecker, ScamKind
from safety.evaluation import DEFAULT_MESSAGES, load_messages
from safety.render import ADVICE, MAX_REPLY_CHARS, MAX_SIGNALS, render

QUOTED = re.compile(r"“[^”]*”")


def own_words(reply: str) -> str:
    """The reply without the quoted words of the checked message (a scam may itself say "an toàn")."""
    return QUOTED.sub("", reply)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "Tôi là cán bộ công an, bà liên quan đường dây rửa tiền, phải chuyển tiền vào tài khoản tạm giữ,"
            " không được nói với ai.",
            Level.VERY_LIKELY,
        ),
        ("Vietcombank: điểm thưởng sắp hết hạn, đổi quà tại j8sk.vip/doidiem", Level.VERY_LIKELY),
        ("Cô ơi cho cháu mượn ít tiền, chiều cháu trả", Level.SUSPICIOUS),
        ("Anh ơi chuyển giúp em 2 triệu vào số tài khoản này, gấp lắm", Level.VERY_LIKELY),
        ("Chúc mừng quý khách là khách hàng may mắn của tháng", Level.SUSPICIOUS),
        ("Mẹ ơi chiều nay con về ăn cơm nhé", Level.NO_CLEAR_SIGN),
        ("Mã OTP của Quý khách là 482913. Không cung cấp mã này cho bất kỳ ai.", Level.NO_CLEAR_SIGN),
    ],
)
def test_three_levels(checker: ScamChecker, text: str, level: Level) -> None:
    result = checker.check(text)
    assert result.level is level
    assert result.verdict == VERDICTS[level]
    assert (result.kind is None) == (level is Level.NO_CLEAR_SIGN)


def test_the_verdicts_are_the_three_agreed_wordings() -> None:
    assert VERDICTS == {
        Level.VERY_LIKELY: "⚠️ Rất có thể là lừa đảo",
        Level.SUSPICIOUS: "🤔 Có dấu hiệu đáng ngờ, bác cẩn thận",
        Level.NO_CLEAR_SIGN: "Cháu chưa thấy dấu hiệu lừa đảo rõ ràng",
    }


def test_never_an_toan_in_anything_the_check_says() -> None:
    ours = [*VERDICTS.values(), *ADVICE.values()]
    ours += [
        str(item["explanation"])
        for item in yaml.safe_load(SIGNALS_FILE.read_text(encoding="utf-8"))["signals"]
    ]
    for text in ours:
        assert "an toàn" not in text.lower(), text


def test_never_an_toan_in_a_reply_and_replies_fit_a_phone(checker: ScamChecker) -> None:
    for message in load_messages(DEFAULT_MESSAGES):
        reply = render(checker.check(message.text))
        assert len(reply) <= MAX_REPLY_CHARS, reply
        assert "an toàn" not in own_words(reply).lower(), reply
        assert reply.count("\n• ") <= MAX_SIGNALS


def test_a_message_full_of_signs_still_fits(checker: ScamChecker) -> None:
    text = (
        "Bộ Công an và Viện kiểm sát thông báo: bà có lệnh bắt vì rửa tiền. Trong 24h phải chuyển "
        "toàn bộ tiền vào tài khoản tạm giữ, đọc mã OTP, cài ứng dụng VNeID bản mới theo link "
        "https://vneid-gov.top/app.apk, bật trợ năng, chụp ảnh căn cước hai mặt, "
        "không được nói với con cháu. " * 3
    )
    result = checker.check(text)
    reply = render(result)
    assert result.level is Level.VERY_LIKELY
    assert len(result.signals) > MAX_SIGNALS
    assert len(reply) <= MAX_REPLY_CHARS
    assert 1 <= reply.count("\n• ") <= MAX_SIGNALS


def test_the_reply_says_what_to_do_where_to_report_and_which_lesson(checker: ScamChecker) -> None:
    reply = render(checker.check("Em gửi nhầm mã OTP vào máy bác, bác đọc lại giúp em"))
    assert reply.startswith("⚠️ Rất có thể là lừa đảo")
    for words in (
        "đừng bấm link",
        "đừng chuyển tiền",
        "số in trên thẻ",
        "không gọi số trong tin",
        "113",
        "5656",
    ):
        assert words in reply
    assert "Mã OTP: tuyệt đối không đưa cho ai" in reply


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("Có người gọi xưng công an bảo bác chuyển tiền vào tài khoản tạm giữ", ("156",)),
        ("Tin nhắn: bạn trúng thưởng xe máy, nộp phí 500k để nhận", ("5656",)),
        ("Vietcombank: xác minh tại vietcombank-xacminh.top", ("5656", "canhbao.khonggianmang.vn")),
    ],
)
def test_reporting_channels_are_the_ones_the_curriculum_cites(
    checker: ScamChecker, text: str, channels: tuple[str, ...]
) -> None:
    assert checker.check(text).report_to == channels


@pytest.mark.parametrize(
    ("text", "kind", "lesson"),
    [
        ("Bác đọc giúp cháu mã OTP vừa gửi về máy", ScamKind.OTP_THEFT, "an-toan-so-ma-otp"),
        (
            "Công an gọi bảo bà liên quan vụ án, chuyển tiền vào tài khoản tạm giữ để phục vụ điều tra",
            ScamKind.FAKE_AUTHORITY,
            "an-toan-so-cuoc-goi-gia-danh",
        ),
        (
            "Con gọi video vài giây rồi bảo sóng yếu, nhờ mẹ chuyển gấp 20 triệu vào tài khoản bạn con",
            ScamKind.RELATIVE,
            "an-toan-so-cuoc-goi-video-gia",
        ),
        ("Tuyển cộng tác viên làm nhiệm vụ, nạp 500k kích hoạt, hoa hồng 30%", ScamKind.JOB, None),
    ],
)
def test_kind_and_lesson(checker: ScamChecker, text: str, kind: ScamKind, lesson: str | None) -> None:
    result = checker.check(text)
    assert result.kind is kind
    assert result.lesson_id == (lesson or "an-toan-so-viec-nhe-dau-tu-trung-thuong")
    assert result.lesson_title


def test_stats_hold_the_kind_and_domains_but_nothing_of_the_text(checker: ScamChecker) -> None:
    text = "Bà Nguyễn Thị Lan ơi, đăng nhập vietcombank-xacminh.top/lan để nhận 5 triệu"
    result = checker.check(text)
    stats = result.stats()
    assert stats == ("phishing_link", ("vietcombank-xacminh.top",))
    assert "Lan" not in repr(stats)


def test_checking_keeps_nothing_of_the_message(checker: ScamChecker) -> None:
    before = {name: repr(value)[:2000] for name, value in vars(checker).items()}
    marker = "Nguyễn Văn Marker-7431"
    for _ in range(5):
        checker.check(f"{marker}: chuyển tiền vào tài khoản tạm giữ ngay")
    after = {name: repr(value)[:2000] for name, value in vars(checker).items()}
    assert before == after
    assert all(marker not in value for value in after.values())


def test_fragments_are_short_quotes_not_the_whole_message(checker: ScamChecker) -> None:
    text = "Xin chào. " * 40 + "Bác đọc giúp cháu mã OTP vừa gửi về máy nhé. " + "Cảm ơn bác. " * 40
    result = checker.check(text)
    assert result.signals
    assert all(len(signal.fragment) <= 60 and signal.fragment in text for signal in result.signals)
    assert text not in repr(result.as_dict())


class SameVectorEncoder:
    """A fake encoder: every text is the same unit vector, so every card looks alike (cosine 1)."""

    name = "same-vector"
    dimension = 4

    def queries(self, texts: Sequence[str]) -> Vectors:
        return np.tile(np.array([1, 0, 0, 0], dtype=np.float32), (len(texts), 1))

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self.queries(texts)


def test_the_card_likeness_uses_the_encoder_when_given(curriculum: Curriculum) -> None:
    lexical = ScamChecker(curriculum)
    encoded = ScamChecker(curriculum, encoder=SameVectorEncoder())
    text = "Mẹ ơi chiều nay con về ăn cơm nhé"
    assert "lesson_card" not in {s.kind for s in lexical.check(text).signals}
    assert "lesson_card" in {s.kind for s in encoded.check(text).signals}


def test_default_messages_file_is_the_dev_set() -> None:
    expected = Path(__file__).resolve().parents[1] / "data" / "scam_messages.yaml"
    assert expected == DEFAULT_MESSAGES
