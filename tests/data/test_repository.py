"""The store against a real SQLite file: uniqueness holds and the schema comes from the migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from data.db import create_engine, migrate, session_factory
from data.repository import SqlStore

NOW = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'hocvuso.db'}"
    fresh: str = request.getfixturevalue("fresh_postgres")
    return fresh


async def test_migration_creates_the_schema_and_store_rules_hold(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    await asyncio.to_thread(migrate, url)  # a second run is a no-op
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {
            "learners",
            "conversation_states",
            "lesson_progress",
            "quiz_attempts",
            "quiz_answers",
            "completions",
            "processed_events",
            "unanswered_questions",
            "alembic_version",
        } <= tables

        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            store = SqlStore(session, NOW)
            assert await store.claim_event("zalo", "m1")
            assert not await store.claim_event("zalo", "m1")
            assert await store.claim_event("telegram", "m1")
            learner = await store.create_learner("zalo", "u1", "u1", "Ba")
            attempt = await store.start_attempt(learner.id, "l1", 2)
            assert await store.record_answer(attempt, "l1", "q1", 0, True)
            assert not await store.record_answer(attempt, "l1", "q1", 1, False)
            assert await store.record_completion(learner.id, "l1", attempt, 2, 2)
            assert not await store.record_completion(learner.id, "l1", attempt, 2, 2)
            await store.reach_card(learner.id, "l2", 3)
            await store.reach_card(learner.id, "l2", 2)  # back to card 2: the furthest stays 3
            await store.reach_card(learner.id, "l4", 1)
            await store.reach_card(learner.id, "l4", 2)
            await store.save_state(learner.id, {"step": "card"})
        async with sessions() as session:
            store = SqlStore(session, NOW)
            again = await store.learner("zalo", "u1")
            assert again is not None
            assert await store.attempt_answers(attempt) == {"q1": 0}
            assert await store.completed(again.id) == {"l1"}
            assert await store.lessons_in_progress(again.id) == {"l2": 3, "l4": 2}
            assert await store.state(again.id) == {"step": "card"}
            assert await store.learner("telegram", "u1") is None
    finally:
        await engine.dispose()
