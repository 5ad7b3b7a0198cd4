"""Updates aiogram's models cannot read, in polling and webhook mode: each is read on its own, what
can be read is answered, what cannot is acknowledged, logged by update id and field path (never a
name or a text) and counted in /healthz; a forwarded message is content, never a command."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from aiogram.exceptions import ClientDecodeError

from bot import texts
from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.messages import Kind
from bot.run import Running, _health
from bot.web import TELEGRAM_SECRET_HEADER, WebParts, create_web_app
from tests.channels import payloads
from tests.channels.conftest import FAST
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.recording import RecordingAssistant, drain, logged, polling
from tests.channels.users import TelegramUser, register

SECRET = "telegram-webhook-secret-for-tests"
STRANGER = "Trần Thị Bưởi"  # the name on the unreadable updates: it must never reach a log line
SCAM = "Con trai bác đang cấp cứu, chuyển gấp 5 triệu vào số 0912 345 678"
QUESTION = "Cái này có phải lừa đảo không cháu?"
PRIVATE = (STRANGER, "Bưởi", "0912", "cấp cứu", "lừa đảo", "Người lạ", "VNeID chưa")


def mixed_batch(server: FakeTelegram) -> list[dict[str, Any]]:
    """Good updates around each unreadable kind, as one getUpdates batch would carry them."""
    return [
        payloads.message(server, 601, text="xin chào"),
        payloads.hidden_user_forward(server, 602, SCAM, name=STRANGER),
        payloads.story_reply(server, 603, QUESTION, name=STRANGER),
        payloads.old_poll(server, 604, name=STRANGER),
        payloads.without_chat(server, 605, SCAM, name=STRANGER),
        payloads.message(server, 606, text="xin chào"),
    ]


def check_what_was_read(
    recorder: RecordingAssistant, server: FakeTelegram, batch: list[dict[str, Any]]
) -> None:
    assert sorted({e.user_id for e in recorder.events}) == ["601", "602", "603", "604", "606"]
    (forward,) = recorder.of(602)
    assert (forward.kind, forward.text, forward.forwarded) == (Kind.TEXT, SCAM, True)
    (reply,) = recorder.of(603)
    assert (reply.kind, reply.text, reply.forwarded) == (Kind.TEXT, QUESTION, False)
    (poll,) = recorder.of(604)
    assert poll.kind is Kind.OTHER
    for user in (601, 602, 603, 604, 606):  # every one that could be read was answered
        assert server.chat(user), f"chat {user} got no answer"
    assert not server.chat(605)


def check_logs(records: list[logging.LogRecord], batch: list[dict[str, Any]]) -> None:
    text = logged(records)
    hidden, story, poll, broken = (u["update_id"] for u in batch[1:5])
    assert f"update {hidden} answered without" in text
    assert "message.forward_origin.hidden_user.sender_user_name" in text
    assert f"update {story} answered without" in text and "message.external_reply.story" in text
    assert f"update {poll} answered without" in text and "message.poll" in text
    assert f"update {broken} could not be read" in text and "message.chat.id" in text
    for private in PRIVATE:
        assert private not in text, private


async def test_polling_answers_every_readable_update_of_a_batch(
    app: App, telegram_server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = RecordingAssistant(app.assistant)
    channel = TelegramChannel(recorder, telegram_server.token, telegram_server.base, limits=FAST)  # type: ignore[arg-type]
    batch = mixed_batch(telegram_server)
    try:
        async with polling(channel):
            await telegram_server.send_batch(batch)
            await drain(telegram_server, channel, batch[-1]["update_id"])  # all acknowledged, at once
            check_what_was_read(recorder, telegram_server, batch)
            assert channel.unreadable.as_dict() == {"skipped": 1, "salvaged": 3}
            health = await _health(Running(app, channels=[channel]))
            assert health["unreadable_updates"] == {"telegram": {"skipped": 1, "salvaged": 3}}
            assert health["status"] == "ok"
            # and polling goes on: the next message is answered as usual
            after = payloads.message(telegram_server, 607, text="xin chào")
            await telegram_server.send_update(after)
            await drain(telegram_server, channel, after["update_id"])
            assert telegram_server.chat(607)
    finally:
        await channel.close()
    check_logs(caplog.records, batch)


async def test_the_webhook_reads_the_same_updates_and_drops_none_silently(
    app: App, telegram_server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = RecordingAssistant(app.assistant)
    channel = TelegramChannel(recorder, telegram_server.token, telegram_server.base, limits=FAST)  # type: ignore[arg-type]

    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    web = create_web_app(WebParts(health=health, telegram=channel, telegram_secret=SECRET))
    batch = mixed_batch(telegram_server)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://hook"
        ) as client:
            for update in batch:
                response = await client.post(
                    "/webhooks/telegram", json=update, headers={TELEGRAM_SECRET_HEADER: SECRET}
                )
                assert response.status_code == 200  # acknowledged: Telegram must not resend it
        await channel.executor.wait_idle()
        check_what_was_read(recorder, telegram_server, batch)
        assert channel.unreadable.as_dict() == {"skipped": 1, "salvaged": 3}
    finally:
        await channel.close()
    check_logs(caplog.records, batch)


async def test_a_forwarded_start_is_text_and_never_a_command(app: App, telegram_server: FakeTelegram) -> None:
    recorder = RecordingAssistant(app.assistant)
    channel = TelegramChannel(recorder, telegram_server.token, telegram_server.base, limits=FAST)  # type: ignore[arg-type]
    batch = [
        payloads.user_forward(telegram_server, 610, "/start"),
        payloads.legacy_forward(telegram_server, 611, "/start m_abc123"),
        payloads.hidden_user_forward(telegram_server, 612, "/xoadulieu"),
        payloads.message(telegram_server, 613, text="/start"),  # typed by the learner: a command
    ]
    try:
        async with polling(channel):
            await telegram_server.send_batch(batch)
            await drain(telegram_server, channel, batch[-1]["update_id"])
    finally:
        await channel.close()
    seen = {e.user_id: (e.kind, e.text, e.payload, e.forwarded) for e in recorder.events}
    assert seen == {
        "610": (Kind.TEXT, "/start", "", True),
        "611": (Kind.TEXT, "/start m_abc123", "", True),
        "612": (Kind.TEXT, "/xoadulieu", "", True),
        "613": (Kind.COMMAND, "start", "", False),
    }


async def test_aiogram_never_logs_an_update_body(
    app: App, telegram_server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """aiogram logs a failed getUpdates with the error's text, which holds the whole JSON answer."""
    caplog.set_level(logging.DEBUG)
    channel = TelegramChannel(app.assistant, telegram_server.token, telegram_server.base, limits=FAST)
    try:
        body = {"ok": True, "result": [payloads.hidden_user_forward(telegram_server, 620, SCAM, STRANGER)]}
        error = ClientDecodeError("Failed to deserialize object", ValueError("sender_user_name"), body)
        logging.getLogger("aiogram.dispatcher").error(
            "Failed to fetch updates - %s: %s", type(error).__name__, error
        )
        try:
            raise error
        except ClientDecodeError:
            logging.getLogger("aiogram.event").exception("Cause exception while process update %s", body)
    finally:
        await channel.close()
    text = logged(caplog.records)
    assert "Failed to fetch updates - ClientDecodeError: ClientDecodeError" in text
    assert "ClientDecodeError; details withheld" in text
    for private in PRIVATE:
        assert private not in text, private


async def test_half_an_emoji_in_the_json_is_read_not_a_crash(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    """JSON may carry one half of a surrogate pair ("\\ud83d"); no database can store it as text."""
    user = TelegramUser(telegram_server, 630)
    await register(user)
    replies = await user.say("mã otp là gì \ud83d ạ")
    assert replies and not any(texts.INTERNAL_ERROR in r for r in replies), replies
