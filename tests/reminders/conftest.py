"""Fixtures for reminders: a harness that runs the scheduler and the outbox on a fake clock, the way
`hocvuso run` does, with a fake channel that records what each learner received."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import reminders
from bot.app import App
from bot.messages import Reply
from bot.outbox import OutboxWorker
from bot.reminders import RunReport, Scheduler
from data.models import Learner
from tests.admin.helpers import FakeSender
from tests.driver import ChatDriver, FakeClock

VN = timezone(timedelta(hours=7))


def vn(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment of November 2026 in Vietnam time, as UTC (2 November 2026 is a Monday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


@dataclass
class Harness:
    """The assistant, its scheduler and outbox worker, and a recording channel named "test"."""

    app: App
    clock: FakeClock
    sender: FakeSender = field(default_factory=FakeSender)
    runs: list[RunReport] = field(default_factory=list)

    def scheduler(self, **options: object) -> Scheduler:
        return Scheduler(
            self.app.assistant.sessions,
            self.app.curriculum,
            self.app.communes,
            self.clock,
            channels=["test"],
            **options,
        )

    async def learner(self, user: str, name: str = "Nguyễn Văn An", rhythm: str | None = "weekly") -> int:
        """A registered learner (now), with reminders set to `rhythm` (None: never asked)."""
        chat = ChatDriver(self.app.assistant, user)
        await chat.register(name)
        learner_id = await self.learner_id(user)
        if rhythm is not None:
            async with self.app.assistant.sessions() as session, session.begin():
                await reminders.set_rhythm(session, learner_id, rhythm, self.clock.now())
        return learner_id

    async def learner_id(self, user: str) -> int:
        async with self.app.assistant.sessions() as session:
            found = await session.scalar(select(Learner.id).where(Learner.channel_user_id == user))
        assert found is not None
        return int(found)

    async def write(self, user: str, text: str = "chào cháu") -> None:
        """The learner writes; the engine calls `on_activity` (as the lead's wiring does)."""
        await ChatDriver(self.app.assistant, user).say(text)
        async with self.app.assistant.sessions() as session, session.begin():
            await reminders.on_activity(session, await self.learner_id(user), self.clock.now())

    async def tick(self, at: datetime, scheduler: Scheduler | None = None) -> list[tuple[str, Reply]]:
        """Move the clock to `at`, run one scheduler pass and the outbox; what was delivered now."""
        self.clock.current = at
        before = len(self.sender.sent)
        self.runs.append(await (scheduler or self.scheduler()).run_once())
        await OutboxWorker(
            self.app.assistant.sessions, {"test": self.sender}, self.clock, rates={"test": 0}
        ).run_once()
        return [(chat, reply) for chat, replies in self.sender.sent[before:] for reply in replies]

    async def days(self, start: datetime, days: int, hours: tuple[int, ...] = (8, 15, 20)) -> list[datetime]:
        """Run the scheduler at these Vietnam hours every day from `start`; when each user got something."""
        got: list[datetime] = []
        for day in range(days):
            for hour in hours:
                moment = (start + timedelta(days=day)).astimezone(VN).replace(hour=hour, minute=5)
                if await self.tick(moment.astimezone(UTC)):
                    got.append(moment.astimezone(UTC))
        return got


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(vn(2, 15))  # Monday 2 November 2026, 15:00 in Vietnam


@pytest.fixture
def harness(app: App, clock: FakeClock) -> Harness:
    return Harness(app, clock)
