"""`hocvuso lessons check` catches each kind of content error and says file:line and why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.loader import ContentError, check_curriculum, load_curriculum
from tests.conftest import FIXTURE_CURRICULUM


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


def test_card_over_500_characters(content: Path) -> None:
    lesson = content / "an-toan" / "02-link.md"
    edit(lesson, "Tin nhắn báo trúng thưởng thường là lừa đảo.", "Chữ " * 130)
    found = problems(content)
    line = lesson.read_text(encoding="utf-8").splitlines().index("## Trúng thưởng bất ngờ") + 1
    assert found == [f"{lesson}:{line}: card 2: 519 characters, more than 500"]


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
