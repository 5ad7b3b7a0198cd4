"""The Telegram adapter against a fake Bot API server over real HTTP (aiogram polls it for real)."""

from __future__ import annotations

import asyncio
import time

from bot import texts
from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.messages import Button, Incoming, Reply
from bot.service import Assistant
from data.models import Completion, Learner, QuizAnswer
from tests.channels.conftest import FAST, count
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.users import TelegramUser, finish_otp_lesson, open_otp_lesson, register, start_otp_quiz


async def test_a_learner_completes_a_lesson_and_its_quiz(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 501)
    await register(user)
    await finish_otp_lesson(user)
    assert await count(app, Completion) == 1
    # the command menu was set, and every button press was answered (no spinning buttons)
    commands = telegram_server.calls_of("setMyCommands")[0].params["commands"]
    assert [c["command"] for c in commands] == ["start", "menu", "hoc", "hoi", "tiendo", "trogiup"]
    answered = {c.params["callback_query_id"] for c in telegram_server.calls_of("answerCallbackQuery")}
    assert answered == user.callbacks and len(answered) >= 10


async def test_next_and_back_edit_the_card_in_place(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 502)
    await register(user)
    await open_otp_lesson(user)
    sent_before = len(telegram_server.calls_of("sendMessage"))
    card_message, _ = user.button("Tiếp")
    await user.press("Tiếp")
    await user.press("Lại")
    assert len(telegram_server.calls_of("sendMessage")) == sent_before  # nothing new in the chat
    card = telegram_server.messages["502"][card_message]
    assert card["edited"] == 2 and "thẻ 1/3" in card["text"]
    labels = [[b["text"] for b in row] for row in card["reply_markup"]["inline_keyboard"]]
    assert any(texts.BTN_NEXT in row for row in labels)  # back on card 1: "Tiếp" again, no "Lại"
    assert not any(texts.BTN_PREV in row for row in labels)


async def test_learner_text_is_never_read_as_markup(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    typed = "<b>Hoa</b> *Mai* & co"  # e.g. a question quoted back to the learner
    await telegram.send("503", [Reply(f"Bác hỏi: {typed}", (Button("🏠 Menu chính", "menu"),))])
    (shown,) = telegram_server.chat(503)
    assert shown["text"] == f"Bác hỏi: {typed}"  # shown exactly as typed
    (sent,) = telegram_server.calls_of("sendMessage")
    assert sent.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;Hoa&lt;/b&gt; *Mai* &amp; co" in sent.params["text"]  # escaped on the wire


async def test_start_deep_link_reaches_the_engine(
    telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 504)
    await user.say("/start m_abc123")
    _, data = user.button("Đồng ý")
    assert data == "consent:yes:m_abc123"


async def test_a_redelivered_update_has_one_effect(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 505)
    await register(user)
    await start_otp_quiz(user)
    await user.press("Không bao giờ")
    await user.press("Một lần")
    message_id, data = user.button("Gọi ngay cho ngân hàng")
    last = telegram_server.callback_update(505, message_id, data)
    first = await user.deliver(last)
    assert any("Chúc mừng" in r for r in first)
    await telegram_server.send_update(last)  # Telegram delivers the same update again
    await user.say("/tiendo")  # something after it, so we know the redelivery was consumed
    assert await count(app, Completion) == 1
    assert await count(app, QuizAnswer) == 3
    assert not any("Chúc mừng" in r for r in user.last)


async def test_two_fast_taps_on_one_answer_count_once(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 506)
    await register(user)
    await start_otp_quiz(user)
    message_id, data = user.button("Không bao giờ")
    tap1 = telegram_server.callback_update(506, message_id, data)
    tap2 = telegram_server.callback_update(506, message_id, data)  # a second tap: another callback id
    await telegram_server.send_update(tap1)
    replies = await user.deliver(tap2)
    assert await count(app, QuizAnswer) == 1
    assert any(texts.ALREADY_ANSWERED in r or texts.STALE_BUTTON in r for r in replies), replies
    assert sum("Đúng rồi" in r for r in replies) == 1


async def test_stickers_photos_and_stale_buttons_get_calm_replies(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 507)
    await register(user)
    sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
               "is_animated": False, "is_video": False}  # fmt: skip
    replies = await user.deliver(telegram_server.message_update(507, sticker=sticker))
    assert texts.MEDIA["sticker"] in replies
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    replies = await user.deliver(telegram_server.message_update(507, photo=photo))
    assert texts.MEDIA["image"] in replies
    await open_otp_lesson(user)
    old_card, old_next = user.button("Tiếp")
    await user.press("Tiếp")
    await user.press("Tiếp")
    replies = await user.deliver(telegram_server.callback_update(507, old_card, old_next))
    assert any(texts.STALE_BUTTON in r for r in replies), replies
    assert await count(app, Learner) == 1


async def test_long_messages_are_split_under_the_limit(
    telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    sentence = "Bác nhớ giữ kín mã OTP của mình nhé. "
    text = sentence * 300  # about 11,000 characters
    await telegram.send("508", [Reply(text, (Button("🏠 Menu chính", "menu"),))])
    sends = telegram_server.calls_of("sendMessage")
    assert len(sends) == 3
    assert all(len(c.params["text"]) <= 4096 for c in sends)
    assert all(c.params["text"].endswith(".") for c in sends)  # broken after a sentence
    assert " ".join(c.params["text"] for c in sends) == text.strip()
    assert [("reply_markup" in c.params) for c in sends] == [False, False, True]


async def test_a_429_is_waited_out(telegram: TelegramChannel, telegram_server: FakeTelegram) -> None:
    telegram_server.too_many = 1
    telegram_server.retry_after = 1
    started = time.monotonic()
    await telegram.send("509", [Reply("Chào bác")])
    sends = telegram_server.calls_of("sendMessage")
    assert len(sends) == 2  # refused once, then sent
    assert sends[1].at - sends[0].at >= 0.95  # it waited what Telegram asked
    assert telegram_server.chat(509)[0]["text"] == "Chào bác"
    assert time.monotonic() - started < 10


async def test_long_options_are_written_out_and_pressed_by_number(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    long_option = "Không bấm; tự tìm VNeID trong CH Play hoặc App Store, hoặc hỏi công an xã"
    reply = Reply("Câu 1/3: Bác làm gì?", (Button(long_option, "menu:a"), Button("Gọi lại ngay", "b")))
    await telegram.send("510", [reply, Reply("Hoặc về menu", (Button("🏠 Menu chính", "menu"),))])
    first, second = telegram_server.chat(510)
    assert f"1. {long_option}" in first["text"] and "2. Gọi lại ngay" in first["text"]
    keys = [b for row in first["reply_markup"]["inline_keyboard"] for b in row]
    assert [(k["text"], k["callback_data"]) for k in keys] == [("1", "menu:a"), ("2", "b")]
    assert len(first["reply_markup"]["inline_keyboard"]) == 1  # the numbers share one row
    assert second["reply_markup"]["inline_keyboard"] == [[{"text": "🏠 Menu chính", "callback_data": "menu"}]]


async def test_polling_recovers_when_telegram_fails_at_start(app: App, telegram_server: FakeTelegram) -> None:
    telegram_server.failures += [("deleteWebhook", 502), ("getMe", 502)]
    channel = TelegramChannel(app.assistant, telegram_server.token, telegram_server.base, limits=FAST)
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=1))
    try:
        user = TelegramUser(telegram_server, 511)
        replies = await user.say("xin chào")  # answered once polling came back
        assert any(
            "Đồng ý" in str(c.params.get("reply_markup")) for c in telegram_server.calls_of("sendMessage")
        )
        assert replies
        assert len(telegram_server.calls_of("deleteWebhook")) >= 2
        assert channel.problem is None  # reported while it failed, cleared once Telegram answered
    finally:
        stop.set()
        await polling
        await channel.close()


async def test_an_unreadable_webhook_update_is_acknowledged_and_skipped(
    app: App, telegram_server: FakeTelegram
) -> None:
    channel = TelegramChannel(app.assistant, telegram_server.token, telegram_server.base, limits=FAST)
    try:
        await channel.feed_webhook({"update_id": "not a number", "message": 5})
        await channel.feed_webhook({"update_id": 77})  # an update kind we do not handle
        assert channel.executor.pending == 0
    finally:
        await channel.close()


class SlowAssistant:
    """The real assistant, but every event takes half a second: shutdown finds work in hand."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    async def handle(self, event: Incoming) -> list[Reply]:
        await asyncio.sleep(0.5)
        return await self.assistant.handle(event)


async def test_shutdown_finishes_the_events_in_hand(app: App, telegram_server: FakeTelegram) -> None:
    slow = SlowAssistant(app.assistant)
    channel = TelegramChannel(slow, telegram_server.token, telegram_server.base, limits=FAST)  # type: ignore[arg-type]
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=1))
    update = await telegram_server.send_update(telegram_server.message_update(512, "xin chào"))
    while telegram_server.fetched_up_to < update["update_id"]:  # noqa: ASYNC110 - a fake, polled
        await asyncio.sleep(0.01)
    stop.set()  # as SIGTERM does: stop taking updates, then close
    await polling
    assert not telegram_server.calls_of("sendMessage")  # still being handled
    await channel.close()
    sent = telegram_server.calls_of("sendMessage")  # ...and answered before close returned
    assert any("Đồng ý" in str(c.params.get("reply_markup")) for c in sent)
