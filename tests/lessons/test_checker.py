"""`hocvuso lessons check` catches each kind of content error and says file:line and why."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from lessons.loader import ContentError, check_curriculum, load_curriculum

FIXTURE_CURRICULUM = Path(__file__).parent.parent / "data" / "curriculum"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CURRICULUM, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_curriculum(root)[1]]


def test_the_fixture_curriculum_is_clean(content: Path) -> None:
    curriculum = load_curriculum(content)
    assert [t.id for t in curriculum.topics] == ["dien-thoai", "an-toan"]
    assert [le.id for le in curriculum.core_lessons] == ["dien-thoai-wifi", "an-toan-otp"]
    lesson = curriculum.lesson("an-toan-otp")
    assert lesson is not None and lesson.cards[0].title == "Mã OTP là của riêng bác"
    assert curriculum.glossary[0].term == "OTP"


def card_line(lesson: Path, heading: str) -> int:
    return lesson.read_text(encoding="utf-8").splitlines().index(heading) + 1


def test_card_over_450_characters(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "Tin nhắn báo trúng thưởng thường là lừa đảo.", "Chữ " * 112 + "chữ.")  # 452 characters
    line = card_line(lesson, "## Trúng thưởng bất ngờ")
    assert problems(content) == [f"{lesson}:{line}: card 2: 452 characters, more than 450"]


def test_a_card_of_exactly_450_characters_with_asks_and_media_lines_is_fine(content: Path) -> None:
    # the limit counts what the learner reads: not the heading, an audio line or the asks lines
    lesson = content / "an-toan" / "02-link.md"
    (content / "an-toan" / "audio").mkdir()
    (content / "an-toan" / "audio" / "the.ogg").write_bytes(b"OggS")
    text = "Chữ " * 110 + "chữ ở tin."
    assert len(text) == 450
    asks = "".join(f"asks: câu hỏi số {n} về tin nhắn trúng thưởng có thật không\n" for n in range(5))
    edit(
        lesson,
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\n",
        f"audio: audio/the.ogg\n{text}\n{asks}",
    )
    curriculum, found = check_curriculum(content)
    assert found == []
    card = curriculum.lessons[-1].cards[1]
    assert (card.text, card.audio, len(card.asks)) == (text, "audio/the.ogg", 5)


def test_asks_lines_are_questions_of_the_card_not_its_text(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(
        lesson,
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\n",
        "asks: tin nhan bao trung thuong co that ko\n"
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\n"
        "asks:   được báo   trúng thưởng  xe máy   là thật hả  \n",
    )
    curriculum = load_curriculum(content)
    lesson_ = curriculum.lesson("an-toan-link")
    assert lesson_ is not None
    card = lesson_.cards[1]
    assert card.text == "Tin nhắn báo trúng thưởng thường là lừa đảo."
    assert card.asks == ("tin nhan bao trung thuong co that ko", "được báo trúng thưởng xe máy là thật hả")
    assert lesson_.cards[0].asks == ()


def test_an_empty_asks_line_is_rejected(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(
        lesson,
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\n",
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\nasks:  \n",
    )
    line = card_line(lesson, "asks:  ")
    assert problems(content) == [f"{lesson}:{line}: card 2: the 'asks:' line is empty"]


def test_an_asks_entry_over_150_characters_is_rejected(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    question = "co phai lua dao khong " * 7  # 154 characters once stripped
    edit(
        lesson,
        "Tin nhắn báo trúng thưởng thường là lừa đảo.\n",
        f"Tin nhắn báo trúng thưởng thường là lừa đảo.\nasks: {question}\n",
    )
    line = card_line(lesson, f"asks: {question}")
    assert problems(content) == [f"{lesson}:{line}: card 2: asks entry of 153 characters, more than 150"]


def test_an_asks_entry_repeated_in_the_lesson_is_rejected_even_written_differently(content: Path) -> None:
    # the same question typed with or without diacritics, in another case or spacing, is one question
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "dẫn tới trang giả.\n", "dẫn tới trang giả.\nasks: Bấm vào link lạ có sao không\n")
    edit(lesson, "Đại sứ số.\n", "Đại sứ số.\nasks: bam vao  LINK la co sao khong\n")
    first = card_line(lesson, "asks: Bấm vào link lạ có sao không")
    second = card_line(lesson, "asks: bam vao  LINK la co sao khong")
    assert problems(content) == [
        f"{lesson}:{second}: card 3: the asks entry 'bam vao LINK la co sao khong' repeats line {first}"
    ]


def test_the_same_question_in_two_lessons_is_allowed(content: Path) -> None:
    for lesson in (content / "an-toan" / "02-link.md", content / "dien-thoai" / "01-wifi.md"):
        text = lesson.read_text(encoding="utf-8").rstrip("\n")
        lesson.write_text(text + "\nasks: hoi ai bay gio\n", encoding="utf-8")
    assert problems(content) == []


def test_glossary_entries_take_asks_lines_checked_the_same_way(content: Path) -> None:
    glossary = content / "glossary.md"
    edit(glossary, "xác nhận giao dịch.\n", "xác nhận giao dịch.\nasks: otp la gi\nasks: OTP là gì?\n")
    curriculum, found = check_curriculum(content)
    line = card_line(glossary, "asks: OTP là gì?")
    assert [str(p) for p in found] == [
        f"{glossary}:{line}: card 1: the asks entry 'OTP là gì?' repeats line {line - 1}"
    ]
    edit(glossary, "asks: OTP là gì?\n", "asks: mã OTP dùng làm gì\n")
    curriculum = load_curriculum(content)
    assert curriculum.glossary[0].asks == ("otp la gi", "mã OTP dùng làm gì")
    assert curriculum.glossary[0].text == "Mã số dùng một lần mà ngân hàng gửi để xác nhận giao dịch."


def test_reviewed_is_an_optional_date(content: Path) -> None:
    curriculum = load_curriculum(content)
    reviewed = {lesson.id: lesson.reviewed for lesson in curriculum.lessons}
    assert reviewed == {"dien-thoai-wifi": None, "an-toan-otp": date(2026, 1, 15), "an-toan-link": None}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "reviewed: Input should be a valid date"),
        ("hôm qua", "reviewed: Input should be a valid date"),
        ((date.today() + timedelta(days=1)).isoformat(), "is in the future"),
    ],
)
def test_reviewed_must_be_a_real_date_not_in_the_future(content: Path, value: str, reason: str) -> None:
    lesson = content / "an-toan" / "01-otp.md"
    edit(lesson, "reviewed: 2026-01-15", f"reviewed: {value}")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:9: reviewed: ") and reason in found


def test_correct_option_out_of_range(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "      correct: 2\n", "      correct: 3\n")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:19: quiz.questions.0:")
    assert "exactly one of the 2 options" in found


def test_several_correct_options(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "      correct: 2\n", "      correct: [1, 2]\n")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:19: quiz.questions.0.correct: Input should be a valid integer")


def test_reference_to_a_missing_card(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "      card: 2\n", "      card: 7\n")
    assert problems(content) == [
        f"{lesson}:29: quiz.questions.1: card 7 does not exist (the lesson has 3 cards)"
    ]


def test_duplicate_ids_and_titles(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "id: an-toan-link", "id: an-toan-otp")
    edit(lesson, "title: Đường link lạ", "title: Giữ kín mã OTP")
    found = problems(content)
    assert f"{lesson}:2: id 'an-toan-otp' is also used by {content / 'an-toan' / '01-otp.md'}" in found
    assert f"{lesson}:2: title 'Giữ kín mã OTP' is also used by {content / 'an-toan' / '01-otp.md'}" in found


def test_missing_sources(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "sources:\n  - title: Bài kiểm thử\n    publisher: Nhóm phát triển\n", "sources: []\n")
    assert problems(content) == [
        f"{lesson}:9: sources: List should have at least 1 item after validation, not 0"
    ]


def test_source_without_publisher(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "    publisher: Nhóm phát triển\n", "")
    assert problems(content) == [f"{lesson}:10: sources.0.publisher: Field required"]


def test_invalid_yaml_points_at_the_line(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "title: Kết nối Wi-Fi", "title: Kết nối: Wi-Fi: [")
    [found] = problems(content)
    assert found.startswith(f"{lesson}:") and "invalid YAML" in found


def test_too_few_cards_and_text_before_the_first_card(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "## Kết nối\nVào Cài đặt, chọn Wi-Fi, chọn tên mạng và nhập mật khẩu.\n", "")
    edit(lesson, "---\n\n## Wi-Fi là gì", "---\nLời mở đầu lạc chỗ\n## Wi-Fi là gì")
    found = problems(content)
    assert any("a lesson has 3 to 6 cards, this one has 2" in p for p in found)
    assert any("text before the first '## ' card heading" in p for p in found)
    assert any("card 7" not in p and "card 2 does not exist" not in p for p in found)


def test_lesson_in_the_wrong_topic_folder_and_bad_file_name(content: Path) -> None:
    moved = content / "dien-thoai" / "2-otp.md"
    shutil.move(content / "an-toan" / "01-otp.md", moved)
    found = problems(content)
    assert f"{moved}:1: file name must look like 'NN-slug.md', e.g. 01-cai-dat.md" in found
    assert f"{moved}:3: topic 'an-toan' but the file is in folder 'dien-thoai'" in found


def test_unknown_field_and_missing_quiz(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "core: true\n", "core: true\nauthor: ai đó\n")
    found = problems(content)
    assert f"{lesson}:9: author: Extra inputs are not permitted" in found


def test_missing_image_file(content: Path) -> None:
    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "## Mật khẩu Wi-Fi\n", "## Mật khẩu Wi-Fi\n![Sơ đồ](images/khong-co.png)\n")
    [found] = problems(content)
    assert found.endswith("card 2: image file 'images/khong-co.png' not found")


def test_glossary_term_explained_twice(content: Path) -> None:
    glossary = content / "glossary.md"
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n## otp\nLặp lại.\n", encoding="utf-8")
    [found] = problems(content)
    assert "the term 'otp' is explained twice" in found


def test_load_refuses_content_with_problems(content: Path) -> None:
    edit(content / "an-toan" / "02-link.md", "      card: 2\n", "      card: 9\n")
    with pytest.raises(ContentError) as error:
        load_curriculum(content)
    assert "card 9 does not exist" in str(error.value)


@pytest.mark.parametrize(
    ("asks", "reason"),
    [
        ("asks:\n", "card 1: the 'asks:' line is empty"),
        ("asks: wi-fi la gi\nasks: Wi-Fi là gì?\n", "card 1: the asks entry 'Wi-Fi là gì?' repeats line"),
    ],
)
def test_lessons_check_rejects_an_empty_or_repeated_asks_entry(content: Path, asks: str, reason: str) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    lesson = content / "dien-thoai" / "01-wifi.md"
    edit(lesson, "không tốn dung lượng 4G.\n", f"không tốn dung lượng 4G.\n{asks}")
    line = lesson.read_text(encoding="utf-8").splitlines().index(asks.splitlines()[-1]) + 1
    result = CliRunner().invoke(app, ["lessons", "check", "--content", str(content)])
    assert result.exit_code == 1
    assert f"{lesson}:{line}: {reason}" in result.output
    assert "1 problem(s) found." in result.output
