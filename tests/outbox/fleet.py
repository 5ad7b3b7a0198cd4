"""What the fleet test and bench/bench_cluster.py share: a fake Telegram that records each message it
accepted (when, to whom, what) and can answer 429, sender processes, and rows written straight into a
migrated database (learners, a push, answers)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from data import outbox
from data.models import Broadcast, Learner, OutboxMessage, OutboxSender
from tests.channels.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Recording(FakeTelegram):
    """Fake Telegram that keeps every accepted sendMessage as (monotonic time, chat id, text) and
    answers 429 (`retry_after`) to the send that comes when the count of accepted messages starting
    with `inject_prefix` (every message: "") reaches a value of `inject_at`."""

    delivered: list[tuple[float, str, str]] = field(default_factory=list)
    limited_at: list[float] = field(default_factory=list)
    inject_at: set[int] = field(default_factory=set)
    inject_prefix: str = ""
    limited_chats: list[str] = field(default_factory=list)  # who was answered 429
    counted: int = 0

    def _limited(self) -> web.Response | None:
        if self.counted in self.inject_at:
            self.inject_at.discard(self.counted)
            self.too_many = 1
        response = super()._limited()
        if response is not None:
            self.limited_at.append(time.monotonic())
        return response

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        response = await super()._m_sendMessage(params)
        if response.status == 429:
            self.limited_chats.append(str(params["chat_id"]))
        if response.status == 200:
            text = self.rendered(params) or ""
            self.delivered.append((time.monotonic(), str(params["chat_id"]), text))
            self.counted += text.startswith(self.inject_prefix)
        return response

    def of(self, prefix: str) -> list[tuple[float, str, str]]:
        return [d for d in self.delivered if d[2].startswith(prefix)]


@dataclass
class Sender:
    """One sender process (`tests.outbox.sender`)."""

    process: asyncio.subprocess.Process
    holder: str

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no chance to record anything

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def spawn(module: str, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m module args…` from the repository root; waits for its "ready <what>" line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
    assert line.startswith("ready "), line
    return process, line.removeprefix("ready ")


async def start_sender(url: str, base: str, rate: float, row_lease: float, bot_lease: float) -> Sender:
    return Sender(*await spawn("tests.outbox.sender", url, base, str(rate), str(row_lease), str(bot_lease)))


async def seed_learners(sessions: async_sessionmaker[AsyncSession], count: int) -> list[Learner]:
    """`count` Telegram learners with chat ids 100001…; returned as loaded rows."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Learner),
            [
                {
                    "channel": "telegram",
                    "channel_user_id": str(100_001 + i),
                    "chat_id": str(100_001 + i),
                    "role": "learner",
                    "created_at": now,
                    "last_active_at": now,
                }
                for i in range(count)
            ],
        )
    async with sessions() as session:
        return list((await session.scalars(select(Learner).order_by(Learner.id))).all())


async def push(sessions: async_sessionmaker[AsyncSession], learners: Sequence[Learner], text: str) -> int:
    """A push to every learner: each gets "<text> <chat id>", so each delivery names its row."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        broadcast = Broadcast(kind="push", text=text, created_at=now)
        rows = [
            outbox.Recipient(x.id, x.channel, x.chat_id, {"text": f"{text} {x.chat_id}"}) for x in learners
        ]
        return await outbox.add_rows(session, broadcast, rows, now)


async def answer(sessions: async_sessionmaker[AsyncSession], learner: Learner, text: str) -> None:
    """An answer to one learner (a reply: claimed before any push)."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        broadcast = Broadcast(kind="answer", text=text, created_at=now)
        await outbox.add_rows(
            session,
            broadcast,
            [outbox.Recipient(learner.id, "telegram", learner.chat_id, {"text": text})],
            now,
        )


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[int, tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.claimed_by))
        return {row_id: (status, holder) for row_id, status, holder in rows}


async def unfinished(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Rows still pending or being sent."""
    async with sessions() as session:
        query = select(func.count()).where(OutboxMessage.status.in_(["pending", "sending"]))
        return int(await session.scalar(query) or 0)


async def bulk_holder(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(OutboxSender.holder).where(OutboxSender.sender.like("telegram:%")))


def busiest_second(times: Sequence[float]) -> tuple[int, float]:
    """The most sends in any window of one second (sliding, not only whole seconds), and when that
    window ends."""
    ordered = sorted(times)
    most, start, when = 0, 0, 0.0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:
            start += 1
        if end - start + 1 > most:
            most, when = end - start + 1, at
    return most, when


def max_in_any_second(times: Sequence[float]) -> int:
    return busiest_second(times)[0]
