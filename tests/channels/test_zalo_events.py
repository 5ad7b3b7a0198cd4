"""Unusual Zalo bodies: a text with a link is text (what a learner passes on to ask "is this a
scam?"); a body without `event_name` is logged by its shape and acknowledged, never silently lost."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from bot import texts
from bot.app import App
from bot.channels.zalo import SECRET_HEADER, ZaloChannel, to_incoming
from bot.messages import Kind
from bot.web import WebParts, create_web_app
from tests.channels.conftest import FAST
from tests.channels.fake_zalo import FakeZalo
from tests.channels.recording import RecordingAssistant, logged, polling
from tests.channels.users import ZaloUser, register

SCAM_LINK = "https://vietcombank-tri-an.top/nhan-qua"
SECRET = "zalo-webhook-secret-for-tests"


@pytest.fixture
async def recorded(app: App, zalo_server: FakeZalo) -> Any:
    recorder = RecordingAssistant(app.assistant)
    channel = ZaloChannel(recorder, zalo_server.token, zalo_server.base, limits=FAST, retry_delay=0.05)  # type: ignore[arg-type]
    async with polling(channel):
        yield recorder, channel
    await channel.close()


async def test_a_link_event_is_the_learners_text_with_the_link(
    recorded: tuple[RecordingAssistant, ZaloChannel], zalo_server: FakeZalo
) -> None:
    recorder, _ = recorded
    user = ZaloUser(zalo_server, "u-link")
    asked = f"Cháu xem giúp bác link này có phải lừa đảo không {SCAM_LINK}"
    replies = await user.deliver(zalo_server.event(user.user_id, "message.link.received", text=asked))
    assert texts.MEDIA["unsupported"] not in replies  # not "Cháu chưa đọc được tin nhắn này"
    bare = zalo_server.event(
        user.user_id, "message.link.received", link={"url": SCAM_LINK, "title": "Nhận quà tri ân"}
    )
    await user.deliver(bare)
    first, second = recorder.of("u-link")
    assert (first.kind, first.text) == (Kind.TEXT, asked)
    assert (second.kind, second.text) == (Kind.TEXT, SCAM_LINK)  # the link alone, not the site's title


def test_link_text_keeps_the_words_and_adds_a_link_they_lack() -> None:
    event = {
        "event_name": "message.link.received",
        "message": {
            "from": {"id": "u1", "display_name": "Bà Hoa"},
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "message_id": "m1",
            "text": "/start xem giúp bác",
            "url": SCAM_LINK,
        },
    }
    incoming = to_incoming(event)
    assert incoming is not None
    assert (incoming.kind, incoming.text) == (Kind.TEXT, f"/start xem giúp bác\n{SCAM_LINK}")  # no command


async def test_a_body_without_event_name_is_logged_by_shape_and_the_next_is_answered(
    recorded: tuple[RecordingAssistant, ZaloChannel], zalo_server: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder, channel = recorded
    user = ZaloUser(zalo_server, "u-shape")
    nameless = zalo_server.event(user.user_id, text="mật khẩu của bác là 123456")
    del nameless["event_name"]
    await zalo_server.deliver(nameless)
    replies = await user.say("xin chao")
    assert replies  # the next event is answered as usual
    assert [e.text for e in recorder.of("u-shape")] == ["xin chao"]
    assert channel.unreadable.as_dict() == {"skipped": 1, "salvaged": 0}
    text = logged(caplog.records)
    assert "without event_name" in text
    assert "message{chat{chat_type,id},date,from{display_name,id,is_bot},message_id,text}" in text
    for private in ("mật khẩu", "123456", "Bà Hoa", "u-shape"):
        assert private not in text, private


async def test_the_zalo_webhook_acknowledges_and_logs_a_body_without_event_name(
    app: App, zalo_server: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = ZaloChannel(app.assistant, zalo_server.token, zalo_server.base, limits=FAST)

    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    web = create_web_app(WebParts(health=health, zalo=channel, zalo_secret=SECRET))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://hook"
        ) as client:
            response = await client.post(
                "/webhooks/zalo",
                json={"ok": True, "result": {"sender": {"id": "u-x"}, "content": "tin nhắn riêng"}},
                headers={SECRET_HEADER: SECRET},
            )
        assert response.status_code == 200
    finally:
        await channel.close()
    text = logged(caplog.records)
    assert "without event_name" in text and "{ok,result{content,sender{id}}}" in text
    assert "tin nhắn riêng" not in text and "u-x" not in text


async def test_half_an_emoji_in_the_json_is_read_not_a_crash(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    """JSON may carry one half of a surrogate pair ("\\ud83d"); no database can store it as text."""
    user = ZaloUser(zalo_server, "u-half")
    await register(user)
    replies = await user.say("mã otp là gì \ud83d ạ")
    assert replies and not any(texts.INTERNAL_ERROR in r for r in replies), replies
