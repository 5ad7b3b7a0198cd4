"""`data.learners` on SQLite and on PostgreSQL: statuses, search, paging with the total, and the village
scope of a village head's requests (which also narrows other modules' queries on learners)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from data import learners as data
from data import stats
from data.commune import Commune, Village
from data.db import create_engine, migrate, session_factory
from data.models import Completion, Learner, LessonProgress

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CORE = ["c1", "c2", "c3"]


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'hocvuso.db'}"
    fresh: str = request.getfixturevalue("fresh_postgres")
    return fresh


@pytest.fixture
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    made = session_factory(engine)
    async with made() as session, session.begin():
        # name, village, lessons passed, days idle, opened a lesson
        for n, (name, village, lessons, idle, opened) in enumerate(
            [
                ("Nguyễn Văn An", "dong", CORE, 0, False),  # finished
                ("Trần Thị Bình", "dong", ["c1"], 10, False),  # stuck
                ("Lê Văn Cường", "dong", ["c1", "x9"], 2, False),  # learning
                ("Phạm Đức", "tay", [], 30, True),  # opened a lesson 30 days ago: stuck
                ("Hoàng Thị Em", "tay", [], 1, False),  # not started
            ],
            1,
        ):
            session.add(
                Learner(
                    id=n,
                    channel="test",
                    channel_user_id=f"u{n}",
                    chat_id=f"u{n}",
                    name=name,
                    commune_id="xa",
                    village_id=village,
                    registered_at=NOW - timedelta(days=60),
                    created_at=NOW - timedelta(days=60),
                    last_active_at=NOW - timedelta(days=idle),
                )
            )
            await session.flush()
            for lesson in lessons:
                session.add(Completion(learner_id=n, lesson_id=lesson, correct=1, total=1, completed_at=NOW))
            if opened:
                session.add(
                    LessonProgress(
                        learner_id=n, lesson_id="c1", card_number=1, started_at=NOW, updated_at=NOW
                    )
                )
        session.add(  # erased: never listed
            Learner(
                id=9,
                channel="test",
                channel_user_id="deleted-9",
                chat_id="",
                commune_id="xa",
                village_id="dong",
                registered_at=NOW,
                created_at=NOW,
                last_active_at=NOW,
                deleted_at=NOW,
            )
        )
    data.install_village_scope()
    try:
        yield made
    finally:
        data.scope_to_village(None)
        await engine.dispose()


async def listed(sessions: async_sessionmaker[AsyncSession], **filters: object) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows, total = await data.learners(session, "xa", CORE, data.LearnerFilter(**filters), NOW)  # type: ignore[arg-type]
    assert total == len(rows)
    return [(r.name, r.status) for r in rows]


async def test_statuses_search_and_paging(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await listed(sessions) == [
        ("Hoàng Thị Em", "not-started"),
        ("Lê Văn Cường", "learning"),
        ("Nguyễn Văn An", "finished"),
        ("Phạm Đức", "stuck"),
        ("Trần Thị Bình", "stuck"),
    ]
    assert await listed(sessions, status="stuck") == [("Phạm Đức", "stuck"), ("Trần Thị Bình", "stuck")]
    assert await listed(sessions, status="stuck", stuck_days=20) == [("Phạm Đức", "stuck")]
    assert await listed(sessions, search="duc") == [("Phạm Đức", "stuck")]
    assert await listed(sessions, search="VAN", village_id="dong") == [
        ("Lê Văn Cường", "learning"),
        ("Nguyễn Văn An", "finished"),
    ]
    async with sessions() as session:
        page, total = await data.learners(session, "xa", CORE, data.LearnerFilter(), NOW, page=2, size=2)
        assert total == 5 and [r.name for r in page] == ["Nguyễn Văn An", "Phạm Đức"]
        past, total = await data.learners(session, "xa", CORE, data.LearnerFilter(), NOW, page=9, size=2)
        assert past == [] and total == 5
        row = page[0]
        assert (row.core_done, row.core_total, row.lessons_done) == (3, 3, 3)


async def test_a_village_scope_narrows_every_query_on_learners(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    commune = Commune(
        id="xa",
        name="Xã Thử",
        province="Tỉnh Thử",
        villages=[Village(id="dong", name="Đông", adults=10), Village(id="tay", name="Tây", adults=10)],
        targets=[{"year": 2026, "basic_skills_share": 0.5}],  # type: ignore[list-item]
    )
    data.scope_to_village("tay")
    assert [name for name, _ in await listed(sessions)] == ["Hoàng Thị Em", "Phạm Đức"]
    async with sessions() as session:
        overview = await stats.overview(session, commune, CORE, NOW)  # knows nothing of village heads
        assert overview.registered == 2 and overview.finished_core == 0
        assert await session.scalar(select(func.count()).select_from(Learner)) == 2
        # a mentor's name or a learner looked up for a 403 ignore the scope on purpose
        assert (await data.learner_in_commune(session, "xa", 1)) is not None
        assert await data.mentor_names(session, "xa", [1]) == {1: "Nguyễn Văn An"}
    data.scope_to_village(None)
    async with sessions() as session:
        overview = await stats.overview(session, commune, CORE, NOW)
        assert overview.registered == 6 and overview.finished_core == 1  # stats counts the erased one too
