"""The Zalo adapter against a fake Zalo Bot API server over real HTTP (it polls getUpdates for real)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import texts
from bot.app import App
from bot.channels.zalo import ZaloApiError, ZaloChannel, to_incoming, unwrap
from bot.messages import Kind, Reply
from data.models import Completion, QuizAnswer
from tests.channels.conftest import FAST, count
from tests.channels.fake_zalo import FakeZalo
from tests.channels.users import ZaloUser, finish_otp_lesson, register, start_otp_quiz


async def test_a_learner_completes_a_lesson_by_typing_numbers(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    user = ZaloUser(zalo_server, "6ede9afa66b88fe6d6a9")
    await register(user)
    await finish_otp_lesson(user)
    assert await count(app, Completion) == 1
    # options are a numbered list with a hint, never buttons; webhook removed before polling
    assert any("1. " in t and "gõ số" in t for t in zalo_server.inbox[user.user_id])
    assert zalo_server.sent("deleteWebhook")
    assert zalo_server.sent("sendChatAction")


async def test_option_words_work_without_diacritics(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    user = ZaloUser(zalo_server, "u-words")
    await user.say("xin chao")
    replies = await user.say("dong y")
    assert any(texts.ASK_NAME in r for r in replies), replies


async def test_a_redelivered_event_has_one_effect(app: App, zalo: ZaloChannel, zalo_server: FakeZalo) -> None:
    user = ZaloUser(zalo_server, "u-redeliver")
    await register(user)
    await start_otp_quiz(user)
    await user.press("Không bao giờ")
    await user.press("Một lần")
    last = zalo_server.event(user.user_id, text=user.option("Gọi ngay cho ngân hàng"))
    replies = await user.deliver(last)
    assert any("Chúc mừng" in r for r in replies)
    await zalo_server.deliver(last)  # the same event again
    replies = await user.say("tien do")
    assert await count(app, Completion) == 1
    assert await count(app, QuizAnswer) == 3
    assert not any("Chúc mừng" in r for r in replies)


async def test_images_stickers_voice_and_unsupported_get_calm_replies(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    user = ZaloUser(zalo_server, "u-media")
    await register(user)
    for event_name, media in (
        ("message.image.received", "image"),
        ("message.sticker.received", "sticker"),
        ("message.voice.received", "voice"),
        ("message.unsupported.received", "unsupported"),
    ):
        replies = await user.deliver(zalo_server.event(user.user_id, event_name))
        assert any(texts.MEDIA[media] in r for r in replies), (event_name, replies)


async def test_long_messages_are_split_at_2000_characters(zalo: ZaloChannel, zalo_server: FakeZalo) -> None:
    paragraph = "Bác chỉ tải ứng dụng từ CH Play hoặc App Store. " * 12
    text = "\n\n".join([paragraph.strip()] * 8)  # about 4,600 characters in 8 paragraphs
    await zalo.send("u-long", [Reply(text)])
    sent = zalo_server.inbox["u-long"]
    assert len(sent) == 3
    assert all(len(t) <= 2000 for t in sent)
    assert "\n\n".join(sent) == text  # broken between paragraphs, nothing lost


async def test_server_errors_are_retried_once_and_client_errors_never(
    zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    zalo_server.failures.append(("sendMessage", 502, 502))
    await zalo.send("u-retry", [Reply("Chào bác")])
    assert zalo_server.inbox["u-retry"] == ["Chào bác"]
    assert len(zalo_server.sent("sendMessage")) == 2

    zalo_server.failures.append(("sendMessage", 200, 400))  # HTTP 200 with ok=false: still a failure
    with pytest.raises(ZaloApiError) as failure:
        await zalo.send("u-retry", [Reply("Lần hai")])
    assert failure.value.code == 400
    assert len(zalo_server.sent("sendMessage")) == 3  # not retried

    zalo_server.failures.extend([("sendMessage", 429, 429), ("sendMessage", 429, 429)])
    with pytest.raises(ZaloApiError):
        await zalo.send("u-retry", [Reply("Lần ba")])
    assert len(zalo_server.sent("sendMessage")) == 5  # one retry, then given up


async def test_the_token_never_reaches_the_logs(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import configure_logging

    configure_logging(app.settings.model_copy(update={"log_level": "DEBUG"}))
    caplog.set_level(logging.DEBUG)
    zalo_server.failures.extend([("sendMessage", 500, 500), ("sendMessage", 500, 500)])
    user = ZaloUser(zalo_server, "u-logs")
    await zalo_server.deliver(zalo_server.event(user.user_id, text="xin chao"))
    await zalo_server.settle()
    assert caplog.records, "expected the failed delivery to be logged"
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "not delivered" in logged
    assert zalo_server.token not in logged
    assert "xin chao" not in logged  # nor what the learner wrote


async def test_unauthorised_is_never_retried_and_polling_survives_a_failing_start(
    app: App, zalo_server: FakeZalo
) -> None:
    channel = ZaloChannel(app.assistant, zalo_server.token, zalo_server.base, limits=FAST, retry_delay=0.05)
    zalo_server.failures.append(("sendMessage", 401, 401))
    with pytest.raises(ZaloApiError) as failure:
        await channel.send("u-401", [Reply("Chào bác")])
    assert failure.value.code == 401 and len(zalo_server.sent("sendMessage")) == 1

    zalo_server.failures += [("deleteWebhook", 500, 500)] * 3  # down at start (with the one retry, twice)
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=1))
    try:
        user = ZaloUser(zalo_server, "u-restart")
        replies = await user.say("xin chao")
        assert any("Đồng ý" in r for r in replies), replies
        assert len(zalo_server.sent("deleteWebhook")) >= 3
    finally:
        stop.set()
        await polling
        await channel.close()


async def test_a_call_without_retry_fails_at_once(zalo: ZaloChannel, zalo_server: FakeZalo) -> None:
    zalo_server.failures.append(("getMe", 500, 500))
    with pytest.raises(ZaloApiError) as failure:
        await zalo.call("getMe", {}, retry=False)
    assert failure.value.code == 500 and len(zalo_server.sent("getMe")) == 1


def test_events_in_an_envelope_or_bare_translate_alike() -> None:
    bare = {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
            "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
            "text": "Xin chào",
            "message_id": "2d758cb5e222177a4e35",
            "date": 1750316131602,
        },
    }
    for body in (bare, {"ok": True, "result": bare}):
        event = unwrap(body)
        assert event is not None
        incoming = to_incoming(event)
        assert incoming is not None
        assert (incoming.kind, incoming.text, incoming.event_id) == (
            Kind.TEXT,
            "Xin chào",
            "6ede9afa66b88fe6d6a9:2d758cb5e222177a4e35",
        )
        assert incoming.reply_to == "6ede9afa66b88fe6d6a9" and incoming.display_name == "Ted"
    group = {**bare, "message": {**bare["message"], "chat": {"id": "g", "chat_type": "GROUP"}}}
    assert to_incoming(group) is None
    assert unwrap({"ok": True}) is None and unwrap("not json") is None and unwrap([1, 2]) is None
