"""The learner's journey end to end through the engine, on a real SQLite database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.app import App, build_app
from bot.settings import Settings
from data.models import Completion, Learner, QuizAnswer, QuizAttempt
from tests.driver import ChatDriver, FakeAnswerer, FakeClock


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Every journey test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("fresh_postgres")
    return url


async def count(app: App, model: type, **where: object) -> int:
    async with app.assistant.sessions() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def test_first_message_asks_consent_and_stores_nothing(app: App, chat: ChatDriver) -> None:
    await chat.say("xin chào")
    assert "Trợ lý Học vụ số" in chat.text
    assert "Luật 91/2025/QH15" in chat.text and "không phải người thật" in chat.text
    assert chat.buttons() == ["✅ Đồng ý", "❌ Không đồng ý"]
    assert await count(app, Learner) == 0


async def test_declining_consent_stores_nothing_and_says_how_to_come_back(app: App, chat: ChatDriver) -> None:
    await chat.say("xin chào")
    await chat.press("Không đồng ý")
    assert "không lưu" in chat.text
    assert await count(app, Learner) == 0
    await chat.say("học")
    assert "Đồng ý" in chat.buttons()[0]


async def test_registration_stores_name_village_and_age(app: App, chat: ChatDriver) -> None:
    await chat.say("/start")
    await chat.say("1")  # consent by typing the number
    assert "tên" in chat.text
    await chat.say("   Trần   Thị Mai  ")
    assert chat.text == texts.CONFIRM_NAME.format(name="Trần Thị Mai")
    await chat.say("vâng ạ")
    assert "Thôn Đông" in chat.buttons()
    await chat.say("thon tay")  # the option's words, without diacritics
    await chat.press("60 đến 69")
    assert "Trần Thị Mai" in chat.text and "Thôn Tây" in chat.text
    assert chat.buttons()[:4] == ["📚 Học bài", "❓ Hỏi đáp", "📈 Tiến độ", "🆘 Trợ giúp"]
    async with app.assistant.sessions() as session:
        learner = (await session.scalars(select(Learner))).one()
    assert (learner.name, learner.village_id, learner.age_group, learner.commune_id) == (
        "Trần Thị Mai",
        "thon-tay",
        "60-69",
        "tan-hoc",
    )
    assert learner.consent_at is not None and learner.registered_at is not None


async def test_whole_journey_then_progress_survives_a_restart(
    app: App, chat: ChatDriver, settings: Settings, clock: FakeClock
) -> None:
    await chat.register()
    await chat.press("Học bài")
    await chat.press("An toàn")
    await chat.press("Giữ kín mã OTP")
    assert "thẻ 1/3" in chat.text
    await chat.press("Tiếp")
    await chat.say("tiep")  # typed, no diacritics
    assert "thẻ 3/3" in chat.text
    await chat.press("Làm bài kiểm tra")
    assert "Câu 1/3" in chat.text
    await chat.answer_quiz({1: 2, 2: 1, 3: 1})
    assert "Chúc mừng" in chat.text and "3/3" in chat.text
    await chat.say("menu")
    await chat.press("Tiến độ")
    assert "Đã xong 1/3 bài" in chat.text
    assert "An toàn (thử): 1/2" in chat.text
    await app.close()

    again = await build_app(settings, clock=clock, answerer=FakeAnswerer())
    try:
        chat2 = ChatDriver(again.assistant, "an")
        await chat2.say("/tiendo")
        assert "Đã xong 1/3 bài" in chat2.text
        await chat2.say("/hoc")
        assert "🛡️ An toàn (thử) (1/2)" in chat2.buttons()
        assert await count(again, Completion) == 1
    finally:
        await again.close()


async def test_leaving_mid_lesson_resumes_at_the_same_card(chat: ChatDriver) -> None:
    await chat.register()
    await chat.say("/hoc")
    await chat.press("An toàn")
    await chat.press("Đường link lạ")
    await chat.press("Tiếp")
    assert "thẻ 2/3" in chat.text
    await chat.say("0")
    await chat.say("/hoc")
    await chat.press("An toàn")
    assert "▶ Đường link lạ" in chat.buttons()
    await chat.press("Đường link lạ")
    assert "thẻ 2/3" in chat.text and "học dở" in chat.text


async def test_a_quiz_left_halfway_goes_on_where_it_stopped(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("quiz:an-toan-otp")
    options = [b for b in chat.last[-1].buttons if b.payload.startswith("ans:")]
    await chat.press_payload(options[1].payload)  # question 1, right
    assert "Câu 2/3" in chat.text
    await chat.press_payload("lesson:an-toan-otp")  # back to read a card first
    await chat.say("mã otp là gì")  # and a question on the side
    await chat.press_payload("quiz:an-toan-otp")
    assert "cháu hỏi tiếp câu 2" in chat.text and "Câu 2/3" in chat.text
    await chat.answer_quiz({2: 1, 3: 1})  # the rest, right
    assert "Chúc mừng" in chat.text and "3/3" in chat.text  # the answer before the break still counts
    assert await count(app, QuizAttempt) == 1
    assert await count(app, Completion) == 1


async def test_failing_offers_the_cards_that_teach_missed_answers_then_retry(
    app: App, chat: ChatDriver
) -> None:
    await chat.register()
    await chat.press_payload("quiz:an-toan-otp")
    await chat.answer_quiz({1: 1, 2: 1, 3: 2})  # 1 of 3 right; needs 2
    assert "1/3" in chat.text and "cần 2" in chat.text
    assert "👀 Xem lại: Mã OTP là của riêng bác" in chat.buttons()
    assert "👀 Xem lại: Lỡ đưa mã thì sao" in chat.buttons()
    await chat.press("Xem lại: Lỡ đưa mã")
    assert "Gọi ngay cho ngân hàng" in chat.text
    await chat.press("Làm lại bài kiểm tra")
    await chat.answer_quiz({1: 2, 2: 1, 3: 1})
    assert "Chúc mừng" in chat.text
    assert await count(app, QuizAttempt) == 2
    assert await count(app, QuizAttempt, passed=True) == 1
    assert await count(app, QuizAnswer) == 6
    assert await count(app, Completion) == 1


async def test_retaking_a_passed_quiz_does_not_count_twice(app: App, chat: ChatDriver) -> None:
    await chat.register()
    for _ in range(2):
        await chat.press_payload("quiz:dien-thoai-wifi")
        await chat.answer_quiz({1: 1, 2: 1})
    assert "vẫn được ghi là đã xong" in chat.text
    assert await count(app, Completion) == 1


async def test_finishing_every_core_lesson_is_celebrated(chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("quiz:dien-thoai-wifi")
    await chat.answer_quiz({1: 1, 2: 1})
    assert "bài cốt lõi" not in chat.text
    await chat.press_payload("quiz:an-toan-otp")
    await chat.answer_quiz({1: 2, 2: 1, 3: 1})
    assert "tất cả các bài cốt lõi" in chat.text


async def test_menu_words_return_to_the_menu_from_anywhere(chat: ChatDriver) -> None:
    await chat.register()
    for word in ("menu", "/menu", "0", "MENU"):
        await chat.press_payload("lesson:an-toan-link")
        await chat.say(word)
        assert "📚 Học bài" in chat.buttons(), word


async def test_help_and_progress_commands(chat: ChatDriver) -> None:
    await chat.register()
    await chat.say("/trogiup")
    assert texts.HELP in chat.text
    await chat.say("/tiendo")
    assert (
        "Đã xong 0/3 bài" in chat.text and "Bài nên học tiếp: Kết nối Wi-Fi" in chat.text
    )  # first core lesson
