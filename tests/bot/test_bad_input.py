"""Bad input of every kind gets a calm reply, never a traceback, never corrupted state."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot import texts
from bot.app import App
from data.models import Completion, ConversationState, Learner, QuizAnswer
from tests.bot.test_journey import count
from tests.driver import ChatDriver


async def state_of(app: App) -> dict[str, object]:
    async with app.assistant.sessions() as session:
        return dict((await session.scalars(select(ConversationState))).one().state)


async def in_lesson(chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("lesson:an-toan-link")
    await chat.press("Tiếp")
    assert "thẻ 2/3" in chat.text


async def test_empty_and_whitespace_text(app: App, chat: ChatDriver) -> None:
    await in_lesson(chat)
    for text in ("", "   ", "\n\t "):
        await chat.say(text)
        assert chat.text == texts.EMPTY
        assert "↩ Quay lại bài đang học" in chat.buttons()
    assert (await state_of(app))["card"] == 2
    await chat.press("Quay lại bài đang học")
    assert "thẻ 2/3" in chat.text


async def test_ten_thousand_characters(app: App, chat: ChatDriver, answerer: object) -> None:
    await in_lesson(chat)
    await chat.say("vneid " * 2000)
    assert "chỉ đọc 300 chữ đầu" in chat.text
    assert texts.ANSWER_UNKNOWN in chat.text
    assert len(chat.assistant.dialogue.answerer.questions[-1]) == 300  # type: ignore[union-attr]
    assert (await state_of(app))["card"] == 2


async def test_emoji_only(chat: ChatDriver) -> None:
    await chat.register()
    await chat.say("👍👍🙏")
    assert chat.last[0].text == texts.NO_WORDS and chat.buttons()[0] == "📚 Học bài"
    assert chat.assistant.dialogue.answerer.questions == []  # type: ignore[union-attr]


async def test_unknown_command(chat: ChatDriver) -> None:
    await chat.register()
    await chat.say("/abcxyz")
    assert 'Cháu chưa biết lệnh "/abcxyz"' in chat.text
    assert chat.buttons()[0] == "📚 Học bài"


async def test_stickers_images_voice_and_unknown_media(chat: ChatDriver) -> None:
    await chat.register()
    for media in ("sticker", "image", "voice", "unsupported", "something-new"):
        await chat.other(media)
        assert chat.last[0].text == texts.MEDIA.get(media, texts.MEDIA_DEFAULT)
        assert chat.buttons()


async def test_button_from_an_old_message(app: App, chat: ChatDriver) -> None:
    await in_lesson(chat)
    old_next = chat.history[-2]  # the message with card 1's "Tiếp"
    await chat.press_payload(chat.button("Tiếp", old_next).payload)
    assert texts.STALE_BUTTON in chat.text
    assert "thẻ 2/3" in chat.text  # shown where the learner really is, not moved on
    assert (await state_of(app))["card"] == 2


async def test_a_button_of_a_lesson_that_no_longer_exists(chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("lesson:khong-con-nua")
    assert texts.LESSON_GONE in chat.text
    await chat.press_payload("next:khong-con-nua:1")
    assert texts.STALE_BUTTON in chat.text
    await chat.press_payload("garbage:::")
    assert texts.STALE_BUTTON in chat.text


async def test_quiz_answer_when_no_quiz_is_running(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("ans:999:0:1")
    assert texts.NOTHING_TO_ANSWER in chat.text
    assert await count(app, QuizAnswer) == 0


async def test_same_answer_button_pressed_twice_fast(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("quiz:an-toan-otp")
    first = chat.button("Không bao giờ").payload
    await asyncio.gather(chat.press_payload(first), chat.press_payload(first))
    assert await count(app, QuizAnswer) == 1
    assert any(texts.ALREADY_ANSWERED in r.text for replies in chat.history[-2:] for r in replies)
    assert (await state_of(app))["q"] == 1


async def test_the_same_event_delivered_twice_completes_once(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("quiz:dien-thoai-wifi")
    await chat.press_payload(chat.button("Kết nối Internet").payload)
    last = chat.button("Hỏi chủ nhà").payload
    assert await chat.press_payload(last, event_id="tg-42")
    assert await chat.press_payload(last, event_id="tg-42") == []  # redelivered: no effect, no error
    assert await count(app, Completion) == 1
    assert await count(app, QuizAnswer) == 2


async def test_double_tap_on_next_moves_one_card(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("lesson:an-toan-link")
    tap = chat.button("Tiếp").payload
    await asyncio.gather(chat.press_payload(tap), chat.press_payload(tap))
    assert (await state_of(app))["card"] == 2


async def test_names_are_checked(app: App, chat: ChatDriver) -> None:
    await chat.say("hi")
    await chat.press("Đồng ý")
    await chat.say("   ")
    assert chat.text == texts.ASK_NAME_AGAIN
    await chat.say("x" * 61)
    assert chat.text == texts.NAME_TOO_LONG
    await chat.say("12345 😀")
    assert chat.text == texts.NAME_INVALID
    await chat.say("menu")  # a menu word is not a name
    assert chat.text == texts.NAME_INVALID
    await chat.say("Lê\x00 Văn\u202e Ba\x07")
    assert chat.text == texts.CONFIRM_NAME.format(name="Lê Văn Ba")
    await chat.say("dung roi")
    async with app.assistant.sessions() as session:
        assert (await session.scalars(select(Learner.name))).one() == "Lê Văn Ba"


async def test_typing_instead_of_choosing_a_village_asks_again(chat: ChatDriver) -> None:
    await chat.say("hi")
    await chat.press("Đồng ý")
    await chat.say("Ba")
    await chat.say("vang")
    await chat.say("thôn không có")
    assert texts.VILLAGE_UNKNOWN in chat.text and "Thôn Đông" in chat.buttons()
    await chat.say("9")
    assert texts.CHOOSE_NUMBER.format(count=5) in chat.text and "Thôn Đông" in chat.buttons()
    await chat.other("sticker")
    assert "Thôn Đông" in chat.buttons()


async def test_an_unexpected_error_apologises_and_rolls_back(app: App, chat: ChatDriver) -> None:
    await chat.register()

    def broken(question: str) -> object:
        raise RuntimeError("boom")

    chat.assistant.dialogue.answerer.answer = broken  # type: ignore[union-attr, method-assign]
    before = await state_of(app)
    await chat.say("cách cài VNeID thế nào")
    assert chat.text == texts.INTERNAL_ERROR
    assert await state_of(app) == before
    await chat.say("menu")
    assert chat.buttons()[0] == "📚 Học bài"
