"""Urgent questions on the bundled patterns and curriculum, with stories written for this test (none of them
is in the dev questions): detection, and the action cards the data file names."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.commands import DEFAULT_QUESTIONS
from retrieval.evaluation import load_questions
from retrieval.normalize import fold
from retrieval.shape import Shape, default_reader
from retrieval.urgent import Urgency, default_urgency

STORIES = {
    "money-gone": [
        "chiều qua có người gọi nói con trai bác bị tai nạn, bác hoảng quá chuyển cho nó 20 triệu rồi",
        "bac da nap 3 trieu vao trang ban hang tren mang, gio khong lien lac duoc nua",
        "tai khoan ngan hang cua bac tu nhien bi rut het tien sang nay",
        "me lo chuyen khoan cho nguoi ban hang online roi ma khong thay giao hang",
    ],
    "code-gone": [
        "co thang goi xung nha mang bao sim sap khoa, bac lo doc ma cho no roi",
        "Hôm nay bác đã đọc mã 6 số trong tin nhắn cho người tự xưng nhân viên ngân hàng",
        "bac nhap ma otp vao trang web nhan qua xong roi chau a",
    ],
    "someone-controls": [
        "facebook cua bac bi hack, no dang nhan tin muon tien ban be",
        "điện thoại bác tự nhiên tự mở ứng dụng ngân hàng, như có ai điều khiển",
        "bac lo cai cai app nguoi ta gui qua zalo roi",
    ],
    "phone-lost": [
        "sang nay di cho bac bi giat mat dien thoai",
        "ong nha toi danh roi dien thoai o xe buyt roi",
        "cháu ơi bác mất cái điện thoại có cả ứng dụng ngân hàng trong đó",
    ],
}

NOT_URGENT = [
    "có người gọi bảo bác chuyển tiền để giải quyết hồ sơ, có nên chuyển không",  # nothing has gone yet
    "bac chua doc ma cho ai, nguoi ta van goi xin",
    "ngan hang goi xin ma otp co dua khong",
    "lam sao de khong bi hack zalo",
    "chuan bi gi phong khi mat dien thoai",
    "dung 4g xem phim co mat tien khong",  # costs money, nothing lost
    "doc mat khau wifi cho khach co sao khong",  # "đọc mật khẩu" is not "đọc mất"
    "bac gui cho con anh roi",  # something sent, no money
    "cach chuyen tien cho con qua app ngan hang",
]


def test_the_stories_are_not_dev_questions() -> None:
    dev = {fold(q.text) for q in load_questions(DEFAULT_QUESTIONS)}
    assert not [s for stories in STORIES.values() for s in stories if fold(s) in dev] + [
        s for s in NOT_URGENT if fold(s) in dev
    ]


@pytest.mark.parametrize(("situation", "story"), [(k, s) for k, v in STORIES.items() for s in v])
def test_an_urgent_story_is_detected_as_its_situation(situation: str, story: str) -> None:
    found = [s.name for s in default_urgency().detect(story)]
    assert situation in found, (story, found)


@pytest.mark.parametrize("question", NOT_URGENT)
def test_what_has_not_happened_is_not_urgent(question: str) -> None:
    assert not default_urgency().is_urgent(question), [s.name for s in default_urgency().detect(question)]


@pytest.fixture(scope="module")
def curriculum() -> Curriculum:
    return load_curriculum(Path(__file__).parents[2] / "lessons" / "content")


def test_every_action_card_exists_and_tells_what_to_do_now(curriculum: Curriculum) -> None:
    reader = default_reader()
    actions = {a for s in default_urgency().situations for a in s.actions}
    assert actions
    for action in actions:
        lesson_id, _, number = action.partition("#")
        lesson = curriculum.lesson(lesson_id)
        assert lesson is not None, action
        if number:
            assert 1 <= int(number) <= len(lesson.cards), action
            card = lesson.card(int(number))
            assert reader.card_shape(card.title, card.text, card.asks) is Shape.PROBLEM, action


def test_the_file_format_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "urgent.yaml"
    path.write_text(
        "situations:\n  - name: x\n    patterns: ['lo | + roi']\n    actions: [a#1]\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="empty phrase"):
        Urgency(path)
