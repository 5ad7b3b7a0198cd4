"""The outbox's claims, leases, priorities and shared pause, on SQLite (the same code as on PostgreSQL;
tests/outbox/test_fleet.py runs it with several real processes)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from bot.app import App
from bot.channels.ratelimit import UNLIMITED, RateLimiter
from bot.messages import Reply
from bot.outbox import OutboxWorker
from data import outbox
from data.models import Broadcast, OutboxMessage, OutboxSender
from tests.driver import FakeClock
from tests.outbox.fleet import answer, push, seed_learners


@dataclass
class Timed:
    """A channel sender that records when each message went, and has a limiter like the real ones."""

    name: str = "telegram"
    bot_key: str = "telegram:test"
    sent: list[tuple[float, str]] = field(default_factory=list)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(UNLIMITED))

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        await self.limiter.acquire(chat_id)
        self.sent.append((time.monotonic(), replies[0].text))

    def texts(self) -> list[str]:
        return [text for _, text in self.sent]


async def statuses(app: App) -> dict[str, str]:
    async with app.assistant.sessions() as session:
        rows = await session.execute(select(OutboxMessage.reply, OutboxMessage.status))
        return {reply["text"]: status for reply, status in rows}


async def test_an_answer_goes_out_while_a_push_is_being_sent(app: App) -> None:
    sessions = app.assistant.sessions
    learners = await seed_learners(sessions, 40)
    await push(sessions, learners, "push")
    sender = Timed()
    worker = OutboxWorker(
        sessions, {"telegram": sender}, app.assistant.clock, rates={"telegram": 20}, reply_poll=0.05
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.2))
    while len(sender.sent) < 5:  # noqa: ASYNC110 - polled, as a test driver would
        await asyncio.sleep(0.01)
    await answer(sessions, learners[-1], "reply")
    asked = time.monotonic()
    while "reply" not in sender.texts():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    stop.set()
    await running
    replied = next(at for at, text in sender.sent if text == "reply")
    assert replied - asked < 0.5  # not behind the 35 push messages still waiting (1.75 s at 20/s)
    assert list((await statuses(app)).values()).count("pending") >= 20


async def test_a_row_whose_lease_ran_out_becomes_uncertain_a_live_one_is_left_alone(
    app: App, clock: FakeClock
) -> None:
    sessions = app.assistant.sessions
    learners = await seed_learners(sessions, 4)
    await push(sessions, learners, "push")
    now = clock.now()
    async with sessions() as session, session.begin():  # two rows another process claimed
        for chat, lease in (("100001", now - timedelta(seconds=1)), ("100002", now + timedelta(seconds=30))):
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.chat_id == chat)
                .values(status="sending", claimed_by="other", lease_until=lease)
            )
    sender = Timed()
    worker = OutboxWorker(sessions, {"telegram": sender}, clock, rates={"telegram": 0}, shared=True)
    assert await worker.recover() == 1  # only the row whose lease is over
    await worker.run_once()
    assert sorted(sender.texts()) == ["push 100003", "push 100004"]  # neither claimed row is resent
    assert (await statuses(app))["push 100001"] == "uncertain"
    assert (await statuses(app))["push 100002"] == "sending"  # its process may still record it
    clock.advance(seconds=31)
    await worker.run_once()
    assert (await statuses(app))["push 100002"] == "uncertain" and len(sender.sent) == 2


async def test_only_the_holder_of_the_bots_lease_sends_pushes_anyone_sends_answers(
    app: App, clock: FakeClock
) -> None:
    sessions = app.assistant.sessions
    learners = await seed_learners(sessions, 3)
    await push(sessions, learners, "push")
    await answer(sessions, learners[0], "reply")
    async with sessions() as session, session.begin():
        session.add(
            OutboxSender(
                sender="telegram:test", holder="other", lease_until=clock.now() + timedelta(seconds=10)
            )
        )
    sender = Timed()
    worker = OutboxWorker(sessions, {"telegram": sender}, clock, rates={"telegram": 0}, shared=True)
    await worker.run_once()
    assert sender.texts() == ["reply"]
    clock.advance(seconds=11)  # the other process stopped renewing its lease: this one takes over
    await worker.run_once()
    assert sorted(sender.texts()) == ["push 100001", "push 100002", "push 100003", "reply"]
    async with sessions() as session:
        assert await session.scalar(select(OutboxSender.holder)) == worker.holder


async def test_a_429_in_one_process_pauses_every_process(app: App, clock: FakeClock) -> None:
    sessions = app.assistant.sessions
    told, other = Timed(), Timed()
    first = OutboxWorker(sessions, {"telegram": told}, clock, shared=True)
    second = OutboxWorker(sessions, {"telegram": other}, clock, shared=True)
    told.limiter.pause(3.0)  # what the channel does on "429, retry after 3"
    await asyncio.gather(*first._writes)
    async with sessions() as session:
        paused = await session.scalar(select(OutboxSender.paused_until))
    assert paused is not None and paused.replace(tzinfo=None) == (clock.now() + timedelta(seconds=3)).replace(
        tzinfo=None
    )
    await second._beat()  # the other process's next beat
    assert other.limiter.paused_until - time.monotonic() > 2.5  # its replies wait as well
    started = time.monotonic()
    await other.send("1", [Reply("after the pause")])
    assert time.monotonic() - started > 2.5


async def test_rows_take_their_broadcasts_priority(app: App) -> None:
    sessions = app.assistant.sessions
    (learner,) = await seed_learners(sessions, 1)
    now = app.assistant.clock.now()
    async with sessions() as session, session.begin():
        for kind in ("digest", "reminder", "announcement", "push", "answer"):
            broadcast = Broadcast(kind=kind, text=kind, created_at=now)
            await outbox.enqueue(session, broadcast, [learner], {"text": kind}, now)
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.reply, OutboxMessage.priority).order_by(OutboxMessage.id)
        )
        assert {reply["text"]: priority for reply, priority in rows} == {
            "digest": 2,
            "reminder": 2,
            "announcement": 1,
            "push": 1,
            "answer": 0,
        }
        lease = now + timedelta(seconds=5)
        (claimed,) = await outbox.claim_next(session, "telegram", (0, 2), "me", now, lease)
        assert claimed.reply["text"] == "answer" and claimed.attempts == 1
        claimed_two = await outbox.claim_next(session, "telegram", (1, 2), "me", now, lease, limit=2)
        assert [row.reply["text"] for row in claimed_two] == ["announcement", "push"]


@dataclass
class Refusing(Timed):
    """`Timed`, answering 429 ("retry after `pause`") to the sends numbered in `refuse` (1-based), as
    the platform does; the refused send goes again after the pause, like the real channels'."""

    refuse: set[int] = field(default_factory=set)
    pause: float = 0.4
    tries: int = 0

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        while True:
            await self.limiter.acquire(chat_id)
            self.tries += 1
            if self.tries in self.refuse:
                self.limiter.pause(self.pause)  # tells the outbox worker, as on a real 429
                continue
            self.sent.append((time.monotonic(), replies[0].text))
            return


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most sends within any `window` seconds (sliding)."""
    ordered, most, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_sends_around_a_429_never_exceed_the_rate_in_any_second(app: App) -> None:
    learners = await seed_learners(app.assistant.sessions, 140)
    await push(app.assistant.sessions, learners, "push")
    rate = 40.0
    sender = Refusing(refuse={30, 31, 90})  # two sends in flight refused together, then one more
    worker = OutboxWorker(
        app.assistant.sessions, {"telegram": sender}, app.assistant.clock, rates={"telegram": rate}
    )
    started = time.monotonic()
    await worker.run_once()
    took = time.monotonic() - started
    times = [at for at, _ in sender.sent]
    assert len(times) == 140 and len(set(sender.texts())) == 140
    assert busiest(times) <= rate, busiest(times)
    # yet close to the rate: 140 sends, three pauses of 0.4 s (two of them together)
    assert took < 140 / rate / 0.9 + 2 * sender.pause + 0.5, took
