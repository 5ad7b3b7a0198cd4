"""The outbox worker with an in-process fake channel: each message once, paced per channel, retried,
and never sent twice across a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from admin import store as admin_store
from bot.app import App
from bot.messages import Reply
from bot.outbox import OutboxWorker
from data import outbox
from data.models import Broadcast, Learner, OutboxMessage
from tests.admin.helpers import FakeSender
from tests.driver import ChatDriver


async def register(app: App, users: list[str], channel: str = "test") -> None:
    for user in users:
        chat = ChatDriver(app.assistant, user, channel=channel)
        await chat.register(f"Bác {user}")


async def announce(app: App, text: str = "Ngày hội toàn dân học tập số 10/10") -> int:
    async with app.assistant.sessions() as session, session.begin():
        broadcast = await admin_store.announce(
            session, "tan-hoc", None, text, "admin", app.assistant.clock.now()
        )
    return broadcast.id


async def statuses(app: App) -> dict[str, str]:
    async with app.assistant.sessions() as session:
        rows = await session.execute(select(OutboxMessage.chat_id, OutboxMessage.status))
        return dict(rows.all())


class FakeTime:
    """A monotonic clock that only moves when the worker sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_each_recipient_gets_the_announcement_once_at_the_channel_pace(app: App) -> None:
    await register(app, ["a", "b", "c", "d"])
    broadcast_id = await announce(app)
    sender, time = FakeSender(), FakeTime()
    seen: list[int] = []
    worker = OutboxWorker(
        app.assistant.sessions,
        {"test": sender},
        app.assistant.clock,
        rates={"test": 2.0},
        monotonic=time.monotonic,
        sleep=time.sleep,
        on_progress=lambda p: seen.append(p.sent),
    )
    progress = await worker.run_once()
    assert progress.sent == 4 and seen == [1, 2, 3, 4]
    assert sorted(chat for chat, _ in sender.sent) == ["a", "b", "c", "d"]
    assert "Ngày hội toàn dân học tập số" in sender.sent[0][1][0].text
    # 2 a second, counted over 1.05 s (room for the network's jitter): three waits between four sends
    assert time.sleeps == pytest.approx([0.525, 0.525, 0.525])
    assert (await worker.run_once()).sent == 0 and len(sender.sent) == 4
    async with app.assistant.sessions() as session:
        assert (await outbox.progress(session, broadcast_id))["sent"] == 4


async def test_a_failed_send_is_retried_then_given_up(app: App) -> None:
    await register(app, ["a", "b"])
    await announce(app)
    sender = FakeSender(fail_times=1)
    worker = OutboxWorker(app.assistant.sessions, {"test": sender}, app.assistant.clock, rates={"test": 0})
    first = await worker.run_once()
    assert (first.sent, first.retried) == (1, 1)
    assert (await worker.run_once()).sent == 1
    assert sorted(chat for chat, _ in sender.sent) == ["a", "b"]
    await announce(app, "lần hai")
    sender.fail_times = 10
    for _ in range(3):
        await worker.run_once()
    async with app.assistant.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed"))).all()
    assert len(rows) == 2 and all(row.attempts == 3 for row in rows)


class CrashingSender(FakeSender):
    """Delivers, then the process dies before the worker can record it."""

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        await super().send(chat_id, replies)
        if len(self.sent) == 2:
            raise asyncio.CancelledError  # what a killed task sees


async def test_after_a_crash_nothing_is_sent_twice_and_the_rest_goes_out(app: App) -> None:
    await register(app, ["a", "b", "c", "d"])
    await announce(app)
    crashing = CrashingSender()
    worker = OutboxWorker(app.assistant.sessions, {"test": crashing}, app.assistant.clock, rates={"test": 0})
    with pytest.raises(asyncio.CancelledError):
        await worker.run_once()
    assert sorted((await statuses(app)).values()) == ["pending", "pending", "sending", "sent"]

    restarted = FakeSender()
    worker = OutboxWorker(app.assistant.sessions, {"test": restarted}, app.assistant.clock, rates={"test": 0})
    assert await worker.recover() == 1
    await worker.run_once()
    delivered = [chat for chat, _ in crashing.sent] + [chat for chat, _ in restarted.sent]
    assert sorted(delivered) == ["a", "b", "c", "d"]  # every learner exactly once
    assert sorted((await statuses(app)).values()) == ["sent", "sent", "sent", "uncertain"]


async def test_messages_for_a_channel_without_a_sender_wait(app: App) -> None:
    await register(app, ["a"], channel="test")
    await register(app, ["z"], channel="zalo")
    await announce(app)
    sender = FakeSender()
    worker = OutboxWorker(app.assistant.sessions, {"test": sender}, app.assistant.clock, rates={"test": 0})
    await worker.run_once()
    assert await statuses(app) == {"a": "sent", "z": "pending"}


async def test_deleted_learners_get_nothing(app: App) -> None:
    await register(app, ["a", "b"])
    async with app.assistant.sessions() as session, session.begin():
        learner = (await session.scalars(select(Learner).where(Learner.channel_user_id == "b"))).one()
        learner.deleted_at = datetime(2026, 11, 1, tzinfo=UTC)
    await announce(app)
    assert list(await statuses(app)) == ["a"]


async def test_reminders_wait_behind_answers_pushes_and_announcements(app: App) -> None:
    chat = ChatDriver(app.assistant, "order")
    await chat.register()
    now = app.assistant.clock.now()
    async with app.assistant.sessions() as session, session.begin():
        learner = (await session.scalars(select(Learner))).one()
        for kind in ("reminder", "digest", "push", "announcement"):  # the bulk ones queued first
            broadcast = Broadcast(kind=kind, commune_id="tan-hoc", text=kind, created_at=now)
            await outbox.enqueue(session, broadcast, [learner], {"text": kind}, now)
    async with app.assistant.sessions() as session:
        rows = await outbox.pending(session, ["test"], 10)
    assert [row.reply["text"] for row in rows] == ["push", "announcement", "reminder", "digest"]
