"""Answering a group of queued questions on SQLite and PostgreSQL: two requests answering the same group
at the same moment (a double click, two admins) send each learner the answer once in all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import store
from data.db import create_engine, migrate, session_factory
from data.models import Learner, OutboxMessage, UnansweredQuestion

NOW = datetime(2026, 11, 2, 8, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hocvuso.db'}"
    fresh: str = request.getfixturevalue("fresh_postgres")
    return fresh


async def seed(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """Three learners of tan-hoc asking the same thing (one twice), one of xa-khac."""
    async with sessions() as session, session.begin():
        learners = [
            Learner(
                channel="test",
                channel_user_id=f"u{i}",
                chat_id=f"u{i}",
                commune_id=commune,
                role="learner",
                created_at=NOW,
                last_active_at=NOW,
            )
            for i, commune in enumerate(["tan-hoc", "tan-hoc", "tan-hoc", "xa-khac"])
        ]
        session.add_all(learners)
        await session.flush()
        questions = [
            UnansweredQuestion(learner_id=learner.id, text="đổi mật khẩu zalo", asked_at=NOW, candidates={})
            for learner in [*learners, learners[0]]
        ]
        session.add_all(questions)
        await session.flush()
        return [q.id for q in questions]


async def test_two_requests_answering_one_group_send_each_learner_one_message(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        ids = await seed(sessions)

        async def answer() -> tuple[int, ...]:
            async with sessions() as session, session.begin():
                done = await store.answer_group(
                    session, "tan-hoc", "Xã Tân Học", ids, "Như sau ạ.", "canbo", NOW
                )
                return done.question_ids

        first, second = await asyncio.gather(answer(), answer())
        assert sorted(first + second) == sorted(ids[:3] + ids[4:])  # every tan-hoc question, once
        async with sessions() as session:
            rows = (await session.execute(select(OutboxMessage.chat_id, OutboxMessage.reply))).all()
            assert sorted(chat for chat, _ in rows) == ["u0", "u1", "u2"]
            assert all("đổi mật khẩu zalo" in reply["text"] for _, reply in rows)
            foreign = await session.get(UnansweredQuestion, ids[3])
            assert foreign is not None and foreign.status == "open"
            answered = await session.scalar(
                select(func.count()).where(UnansweredQuestion.status == "answered")
            )
            assert answered == 4
    finally:
        await engine.dispose()
