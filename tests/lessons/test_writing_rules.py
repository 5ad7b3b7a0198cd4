"""The checker's writing rules: every card stands alone, listed jargon is explained at first use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from lessons.loader import check_curriculum
from lessons.rules import DEFAULT_TERMS_FILE

FIXTURE_CURRICULUM = Path(__file__).parent.parent / "data" / "curriculum"

CARD = "Tin nhắn báo trúng thưởng thường là lừa đảo."  # card 2 of an-toan/02-link.md


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CURRICULUM, root)
    return root


@pytest.fixture
def lesson(content: Path) -> Path:
    return content / "an-toan" / "02-link.md"


def write_card(lesson: Path, text: str) -> int:
    """Replace card 2's text; return the file line of its first text line."""
    source = lesson.read_text(encoding="utf-8")
    assert CARD in source
    lesson.write_text(source.replace(CARD, text, 1), encoding="utf-8")
    return source.splitlines().index(CARD) + 1


def problems(root: Path, terms_file: Path | None = DEFAULT_TERMS_FILE) -> list[str]:
    return [str(p) for p in check_curriculum(root, terms_file)[1]]


@pytest.mark.parametrize(
    "text",
    [
        "Sau đó bác bấm Xác nhận.",
        "Tiếp theo, bác mở ứng dụng ngân hàng.",
        "tiếp đó bác nhập số tiền.",
        "Như vậy là bác đã chuyển xong.",
        "SAU DO bac bam Xac nhan.",  # typed without diacritics, in capitals
    ],
)
def test_a_card_may_not_start_by_continuing_another(lesson: Path, content: Path, text: str) -> None:
    line = write_card(lesson, text)
    [found] = problems(content)
    assert found.startswith(f"{lesson}:{line}: card 2: starts with '")
    assert found.endswith("so it needs the card before it")


@pytest.mark.parametrize("phrase", ["như trên", "ở trên", "thẻ trước", "thẻ sau", "bước trên"])
def test_a_card_may_not_point_at_another_card(lesson: Path, content: Path, phrase: str) -> None:
    line = write_card(lesson, f"Tin nhắn báo trúng thưởng là lừa đảo.\nBác làm {phrase.upper()} là được.")
    assert problems(content) == [
        f"{lesson}:{line + 1}: card 2: '{phrase}' points at another card; say it again here"
    ]


@pytest.mark.parametrize("phrase", ["dưới đây", "sau đây", "như sau"])
@pytest.mark.parametrize("ending", [".", "", ":", " :\n\n"])
def test_an_announcement_with_nothing_after_it_is_rejected(
    lesson: Path, content: Path, phrase: str, ending: str
) -> None:
    line = write_card(
        lesson, f"Tin nhắn báo trúng thưởng là lừa đảo.\nBác kiểm tra theo các cách {phrase}{ending}"
    )
    found = problems(content)
    assert f"{lesson}:{line + 1}: card 2: '{phrase}' announces something this card does not show" in found


@pytest.mark.parametrize("phrase", ["dưới đây", "sau đây", "như sau"])
def test_an_announcement_followed_by_its_list_in_the_same_card_is_fine(
    lesson: Path, content: Path, phrase: str
) -> None:
    write_card(
        lesson, f"Bác kiểm tra tin trúng thưởng theo các cách {phrase}:\n1. Gọi tổng đài.\n2. Hỏi con cháu."
    )
    assert problems(content) == []


def test_a_card_ending_with_a_colon_is_rejected(lesson: Path, content: Path) -> None:
    line = write_card(lesson, "Tin nhắn báo trúng thưởng thường là lừa đảo.\nBác nhớ hai điều:")
    assert problems(content) == [
        f"{lesson}:{line + 1}: card 2: ends with ':', so what it announces is in another card"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Bác kiểm tra hạn thẻ trước khi đi khám.",  # a physical card, before going
        "Sau khi nhận tin, bác đừng trả lời.",  # "Sau khi", not "Sau đó"
        "Bác có thể sau này hỏi lại.",  # "thể sau", not "thẻ sau"
        "Tin nhắn báo trúng thưởng thường là lừa đảo. Vậy là đủ.",
    ],
)
def test_ordinary_sentences_are_not_mistaken_for_references(lesson: Path, content: Path, text: str) -> None:
    write_card(lesson, text)
    assert problems(content) == []


def test_the_bundled_terms_list_holds_the_terms_the_issue_names() -> None:
    data = yaml.safe_load(DEFAULT_TERMS_FILE.read_text(encoding="utf-8"))
    terms = {item["term"] for item in data["terms"]}
    assert {
        "GB",
        "data",
        "SMS",
        "Messenger",
        "Telegram",
        "VietQR",
        "phong tỏa",
        "xác thực",
        "OTP",
        "eKYC",
        "NFC",
        "passcode",
        "deepfake",
        "livestream",
        "COD",
        "ví điện tử",
        "sinh trắc học",
        "mã độc",
    } <= terms


def test_a_term_used_first_without_an_explanation_is_reported_with_its_line(
    lesson: Path, content: Path
) -> None:
    line = write_card(
        lesson, "Tin nhắn báo trúng thưởng là lừa đảo.\nHọ xin bác mã OTP và bảo bác mua thêm data."
    )
    assert problems(content) == [
        f"{lesson}:{line + 1}: card 2: 'OTP' is used for the first time without an explanation; "
        "write 'OTP (…)', 'OTP là …', 'OTP, tức là …' or 'OTP: …'",
        f"{lesson}:{line + 1}: card 2: 'data' is used for the first time without an explanation; "
        "write 'data (…)', 'data là …', 'data, tức là …' or 'data: …'",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Họ xin mã OTP (mã số dùng một lần) của bác.",
        "Mã otp là mã số dùng một lần; đừng đưa ai.",
        "Họ xin mã OTP, tức là mã số dùng một lần.",
        "Họ xin mã OTP, tức mã số dùng một lần.",
        "Họ xin mã OTP, nghĩa là mã số dùng một lần.",
        "Đừng đưa ai mã OTP: mã số dùng một lần ngân hàng gửi.",
        "Đừng đưa ai “OTP” (mã số dùng một lần).",
        "Đừng đưa ai mã số dùng một lần (OTP).",  # the explanation comes first, the term in brackets
    ],
)
def test_the_accepted_ways_to_explain_a_term(lesson: Path, content: Path, text: str) -> None:
    write_card(lesson, text)
    assert problems(content) == []


def test_an_explanation_at_a_later_use_is_too_late(lesson: Path, content: Path) -> None:
    line = write_card(lesson, "Họ xin mã OTP của bác. OTP là mã số dùng một lần.")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:{line}: card 2: 'OTP' is used for the first time")


def test_only_the_first_use_in_the_lesson_needs_the_explanation(lesson: Path, content: Path) -> None:
    edit_card_1 = "Đường link lạ trong tin nhắn có thể dẫn tới trang giả."
    text = lesson.read_text(encoding="utf-8").replace(
        edit_card_1, "Link lạ đòi mã OTP (mã số dùng một lần) là trang giả.", 1
    )
    lesson.write_text(text, encoding="utf-8")
    write_card(lesson, "Họ xin mã OTP thì bác không đưa.")
    assert problems(content) == []


def test_the_first_use_is_found_in_card_order(lesson: Path, content: Path) -> None:
    # card 2 uses the term bare, card 3 explains it: the learner met it unexplained in card 2
    source = lesson.read_text(encoding="utf-8")
    lesson.write_text(
        source.replace("Khi nghi ngờ, hãy hỏi", "Ví điện tử là ứng dụng giữ tiền. Khi nghi ngờ, hãy hỏi"),
        encoding="utf-8",
    )
    line = write_card(lesson, "Họ đòi bác nạp tiền vào ví điện tử.")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:{line}: card 2: 'ví điện tử' is used for the first time")


def test_terms_match_whole_words_in_any_case_and_listed_spellings(lesson: Path, content: Path) -> None:
    write_card(lesson, "Tài khoản bị PHONG TOẢ. Điện thoại 32GB. Trang metadata.gov.vn không liên quan.")
    found = problems(content)
    assert [p.split(": ", 1)[1].split(" is used")[0] for p in found] == [
        "card 2: 'GB'",
        "card 2: 'phong tỏa'",
    ]


def test_headings_and_asks_lines_are_not_first_uses(lesson: Path, content: Path) -> None:
    source = lesson.read_text(encoding="utf-8").replace("## Trúng thưởng bất ngờ", "## Trúng thưởng qua SMS")
    lesson.write_text(source, encoding="utf-8")
    write_card(lesson, "Tin nhắn báo trúng thưởng thường là lừa đảo.\nasks: sms bao trung thuong co that ko")
    assert problems(content) == []


def test_the_terms_list_is_maintained_in_a_file(lesson: Path, content: Path, tmp_path: Path) -> None:
    write_card(lesson, "Tin nhắn báo trúng thưởng thường là lừa đảo, kiểu chiêu “sim rác”.")
    terms = tmp_path / "terms.yaml"
    terms.write_text("terms:\n  - term: sim rác\n    spellings: [sim rac]\n", encoding="utf-8")
    [found] = problems(content, terms)
    assert "'sim rác' is used for the first time" in found
    assert problems(content, None) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("terms: [", "invalid YAML"),
        ("other: 1\n", "the file must hold 'terms:', a non-empty list"),
        ("terms:\n  - term: OTP\n    spelling: [otp]\n", "terms.0: each item is 'term: <word>'"),
    ],
)
def test_a_broken_terms_file_is_reported(content: Path, tmp_path: Path, text: str, reason: str) -> None:
    terms = tmp_path / "terms.yaml"
    terms.write_text(text, encoding="utf-8")
    [found] = problems(content, terms)
    assert found.startswith(f"{terms}:") and reason in found
