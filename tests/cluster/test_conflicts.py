"""Two processes writing the same row at once (PostgreSQL): only the processed-event id's
own conflict counts as "duplicate event"; any other IntegrityError rolls the event back and handles it
again, so the second process loads what the first created instead of dropping the update. And
processed event ids are forgotten after the retention period (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.messages import Incoming, Kind, Reply
from bot.service import Assistant
from data.db import create_engine, migrate, session_factory
from data.models import Learner, ProcessedEvent
from data.repository import SqlStore
from tests.driver import FakeClock


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'conflicts.db'}"
    return str(request.getfixturevalue("fresh_postgres"))


@pytest.fixture
async def postgres(fresh_postgres: str) -> str:
    return fresh_postgres


class CreatesTheLearner:
    """A dialogue step that creates its learner when missing. The first time, each caller waits after
    finding no learner until the other has looked too: both then insert the same (channel, user)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.looked = asyncio.Barrier(2)
        self.tries: dict[str, int] = {}

    async def handle(self, store: SqlStore, event: Incoming) -> list[Reply]:
        self.tries[event.event_id] = self.tries.get(event.event_id, 0) + 1
        existing = await store.learner(event.channel, event.user_id)
        if self.tries[event.event_id] == 1:
            await self.looked.wait()
        if existing is None:
            now = self.clock.now()
            values: dict[str, Any] = {
                "channel": event.channel,
                "channel_user_id": event.user_id,
                "chat_id": event.user_id,
                "role": "learner",
                "created_at": now,
                "last_active_at": now,
            }
            await store.session.execute(insert(Learner).values(**values))
            return [Reply("created")]
        return [Reply("found")]


def event(event_id: str) -> Incoming:
    return Incoming(channel="telegram", user_id="4242", event_id=event_id, kind=Kind.TEXT, text="xin chào")


async def test_the_second_process_loads_the_learner_the_first_created(postgres: str) -> None:
    # PostgreSQL only: on SQLite one writer at a time (from the event's first write) means two
    # processes never both find no learner and then insert it
    url = postgres
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    clock = FakeClock()
    dialogue = CreatesTheLearner(clock)
    # two assistants: two processes' worth of in-process locks, one database
    first, second = (
        Assistant(session_factory(engine), dialogue, clock, event_key=b"k" * 32)  # type: ignore[arg-type]
        for _ in range(2)
    )
    try:
        replies = await asyncio.wait_for(
            asyncio.gather(first.handle(event("e1")), second.handle(event("e2"))), 30
        )
        texts = sorted(r[0].text for r in replies)
        assert texts == ["created", "found"]  # before the fix: one update dropped as a "duplicate"
        assert max(dialogue.tries.values()) == 2  # the loser was rolled back and handled again
        async with session_factory(engine)() as session:
            events = (await session.execute(select(func.count()).select_from(ProcessedEvent))).scalar()
            people = (await session.execute(select(func.count()).select_from(Learner))).scalar()
        assert (events, people) == (2, 1)
        # the same event delivered again (another process, later): no second effect, no error reply
        assert await first.handle(event("e2")) == []
    finally:
        await engine.dispose()


async def test_processed_event_ids_are_purged_after_the_retention(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    clock = FakeClock()
    assistant = Assistant(session_factory(engine), None, clock, event_retention=timedelta(days=30))  # type: ignore[arg-type]
    try:
        async with session_factory(engine)() as session, session.begin():
            for days, name in ((45, "old"), (31, "older-than-30"), (29, "recent"), (0, "today")):
                session.add(
                    ProcessedEvent(
                        channel="telegram", event_id=name, processed_at=clock.now() - timedelta(days=days)
                    )
                )
        removed = await assistant.purge_events(clock.now() - assistant.event_retention)
        async with session_factory(engine)() as session:
            left = sorted((await session.execute(select(ProcessedEvent.event_id))).scalars())
        assert (removed, left) == (2, ["recent", "today"])
    finally:
        await engine.dispose()
