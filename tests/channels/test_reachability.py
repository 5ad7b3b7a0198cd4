"""A learner who blocked the bot, or whose chat is gone: marked unreachable at once (from the refusal
or from `my_chat_member`), never retried, skipped by pushes, and reachable again when they write."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloApiError, ZaloChannel
from bot.outbox import OutboxWorker
from data import outbox
from data.models import Broadcast, Learner, OutboxMessage
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo
from tests.channels.recording import drain
from tests.channels.users import TelegramUser, ZaloUser, register

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_FOUND = "Bad Request: chat not found"


async def learner(app: App, channel: str, user_id: str) -> Learner:
    async with app.assistant.sessions() as session:
        return (
            await session.scalars(
                select(Learner).where(Learner.channel == channel, Learner.channel_user_id == user_id)
            )
        ).one()


async def queue_push(app: App, who: Learner, text: str) -> int:
    """What a mentor's push or an announcement does: one outbox row per reachable recipient."""
    async with app.assistant.sessions() as session, session.begin():
        broadcast = Broadcast(kind="announcement", text=text, created_at=app.assistant.clock.now())
        fresh = await session.get(Learner, who.id)
        assert fresh is not None
        return await outbox.enqueue(session, broadcast, [fresh], {"text": text}, app.assistant.clock.now())


async def rows(app: App) -> list[OutboxMessage]:
    async with app.assistant.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_blocked_learner_is_marked_at_once_skipped_by_pushes_and_back_when_they_write(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 701)
    await register(user)
    sends = len(telegram_server.calls_of("sendMessage"))
    telegram_server.refusals.append(("sendMessage", 403, BLOCKED))
    await user.say("tiến độ")
    assert len(telegram_server.calls_of("sendMessage")) == sends + 1  # refused once, never retried
    marked = await learner(app, "telegram", "701")
    assert isinstance(marked.unreachable_at, datetime)
    assert await queue_push(app, marked, "Bài mới: Giữ kín mã OTP") == 0  # skipped by pushes

    replies = await user.say("menu")  # they unblocked the bot and write again
    assert replies
    back = await learner(app, "telegram", "701")
    assert back.unreachable_at is None
    assert await queue_push(app, back, "Bài mới: Giữ kín mã OTP") == 1


async def test_chat_not_found_in_the_outbox_is_given_up_at_once_with_the_chats_other_messages(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 702)
    await register(user)
    who = await learner(app, "telegram", "702")
    assert await queue_push(app, who, "Thông báo một") == 1
    assert await queue_push(app, who, "Thông báo hai") == 1
    telegram_server.refusals.append(("sendMessage", 400, NOT_FOUND))
    sends = len(telegram_server.calls_of("sendMessage"))
    worker = OutboxWorker(app.assistant.sessions, {"telegram": telegram}, app.assistant.clock)
    progress = await worker.run_once()
    assert progress.failed == 1 and progress.retried == 0
    assert len(telegram_server.calls_of("sendMessage")) == sends + 1  # the second was never tried
    first, second = await rows(app)
    assert (first.status, first.attempts, first.error) == ("failed", 1, "unreachable")
    assert (second.status, second.attempts, second.error) == ("failed", 0, "unreachable")
    assert (await learner(app, "telegram", "702")).unreachable_at is not None
    assert (await worker.run_once()).failed == 0  # nothing left to try


async def test_my_chat_member_tells_when_a_learner_blocks_and_unblocks(
    app: App, telegram: TelegramChannel, telegram_server: FakeTelegram
) -> None:
    user = TelegramUser(telegram_server, 703)
    await register(user)
    kicked = await telegram_server.send_update(telegram_server.member_update(703, "kicked"))
    await drain(telegram_server, telegram, kicked["update_id"])
    assert (await learner(app, "telegram", "703")).unreachable_at is not None
    assert await queue_push(app, await learner(app, "telegram", "703"), "Bài mới") == 0
    member = await telegram_server.send_update(telegram_server.member_update(703, "member", old="kicked"))
    await drain(telegram_server, telegram, member["update_id"])
    assert (await learner(app, "telegram", "703")).unreachable_at is None
    assert "my_chat_member" in (telegram_server.allowed_updates or [])  # else Telegram never sends it


async def test_zalo_refusal_for_good_marks_the_learner_and_is_not_retried(
    app: App, zalo: ZaloChannel, zalo_server: FakeZalo
) -> None:
    user = ZaloUser(zalo_server, "u-blocked")
    await register(user)
    sends = len(zalo_server.sent("sendMessage"))
    zalo_server.failures.append(("sendMessage", 403, 403))
    await user.say("tien do")
    assert len(zalo_server.sent("sendMessage")) == sends + 1
    marked = await learner(app, "zalo", "u-blocked")
    assert marked.unreachable_at is not None
    await user.say("menu")
    assert (await learner(app, "zalo", "u-blocked")).unreachable_at is None


@pytest.mark.parametrize(
    ("code", "description", "reason"),
    [
        (403, "Forbidden", "forbidden"),
        (400, "Bad Request: chat not found", "chat not found"),
        (404, "user not found", "chat not found"),
        (400, "User has blocked the bot", "blocked"),
        (400, "text is invalid", None),  # our mistake, not the learner's chat
        (404, "Not Found", None),  # a wrong API address must not mark everyone unreachable
        (401, "Unauthorized", None),
        (500, "Internal Server Error", None),
    ],
)
def test_which_zalo_refusals_are_for_good(code: int, description: str, reason: str | None) -> None:
    assert ZaloApiError("sendMessage", code, description).unreachable == reason
