"""SQLite in the event loop: waits for other writers never stop the loop, and the write gate is always
handed on (after a commit, a rollback or an error), so no chat waits behind a transaction that ended."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from data.db import create_engine, session_factory


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "loop.db"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wait_seconds=2.0)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars())


async def insert(engine: AsyncEngine, body: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})


async def ticks_during(seconds: float) -> int:
    """How many times a 5 ms timer fired: near seconds/0.005 when the loop is free, near 0 when blocked."""
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.005)
        count += 1
    return count


async def test_a_write_waits_for_another_process_while_the_loop_keeps_running(
    engine: AsyncEngine, path: Path
) -> None:
    other = sqlite3.connect(path)  # another process's connection, e.g. an admin command
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('from the other process')")
    started = time.monotonic()
    write = asyncio.create_task(insert(engine, "from the assistant"))
    ticks = await ticks_during(0.3)
    assert not write.done()  # still waiting for the lock...
    assert ticks > 20  # ...without freezing the loop, as SQLite's own busy handler would
    other.commit()
    other.close()
    await write
    assert time.monotonic() - started >= 0.3
    assert await rows(engine) == ["from the other process", "from the assistant"]


async def test_a_write_gives_up_after_the_wait_and_leaves_nothing_behind(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wait_seconds=0.2)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        other = sqlite3.connect(path)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            await insert(engine, "lost")
        other.rollback()
        other.close()
        await insert(engine, "kept")  # the gate was handed on after the failure
        assert await rows(engine) == ["kept"]
    finally:
        await engine.dispose()


async def test_writers_of_one_engine_take_turns_and_the_gate_is_handed_on(engine: AsyncEngine) -> None:
    order: list[str] = []

    async def slow_writer(name: str) -> None:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{name} 1"})
            order.append(f"{name} 1")
            await asyncio.sleep(0.05)  # a transaction that waits on something, as a retrieval does
            await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{name} 2"})
            order.append(f"{name} 2")

    await asyncio.wait_for(asyncio.gather(slow_writer("a"), slow_writer("b"), slow_writer("c")), 1.5)
    assert order == ["a 1", "a 2", "b 1", "b 2", "c 1", "c 2"]  # whole transactions, one after another
    assert await rows(engine) == ["a 1", "a 2", "b 1", "b 2", "c 1", "c 2"]


async def test_the_gate_is_handed_on_after_a_rollback_and_after_an_error(engine: AsyncEngine) -> None:
    await insert(engine, "first")

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        async with session_factory(engine)() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('rolled back')"))
            raise Abandon
    with pytest.raises(IntegrityError):
        await insert(engine, "first")  # the unique constraint refuses it
    await asyncio.wait_for(insert(engine, "second"), 1.0)
    assert await rows(engine) == ["first", "second"]


async def test_reads_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    await insert(engine, "committed")
    async with session_factory(engine)() as writer, writer.begin():
        await writer.execute(text("INSERT INTO notes (body) VALUES ('not yet')"))
        # a reader on another connection sees the last commit at once (WAL), not waiting for the writer
        assert await asyncio.wait_for(rows(engine), 1.0) == ["committed"]
    assert await rows(engine) == ["committed", "not yet"]


SLOW_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :upto) SELECT count(*) FROM n"
)


async def test_the_dashboard_engine_runs_long_queries_off_the_loop(engine: AsyncEngine, path: Path) -> None:
    """A report over a large commune takes hundreds of milliseconds; in the dashboard's engine it runs
    in a worker thread, so chats served by the same process are answered meanwhile."""
    dashboard = create_engine(f"sqlite+aiosqlite:///{path}", in_loop=False)
    try:
        async with dashboard.connect() as connection:  # how long does the query take here?
            started = time.monotonic()
            await connection.execute(text(SLOW_QUERY), {"upto": 1_500_000})
            seconds = time.monotonic() - started
        assert seconds > 0.1  # slow enough to tell a blocked loop from a free one

        async def report() -> None:
            async with dashboard.connect() as connection:
                await connection.execute(text(SLOW_QUERY), {"upto": 1_500_000})

        running = asyncio.create_task(report())
        chats_answered = 0
        while not running.done():
            await insert(engine, f"chat {chats_answered}")  # a learner's event, on the chats' engine
            chats_answered += 1
            await asyncio.sleep(0.005)
        await running
        assert chats_answered > 5  # run in the loop, the query would let one or two through
    finally:
        await dashboard.dispose()


async def test_a_failed_commit_leaves_nothing_and_hands_the_gate_on(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
        await connection.execute(
            text("CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id))")
        )
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        async with session_factory(engine)() as session, session.begin():
            await session.execute(text("PRAGMA defer_foreign_keys=ON"))  # the check waits for COMMIT
            await session.execute(text("INSERT INTO notes (body) VALUES ('part of the failed one')"))
            await session.execute(text("INSERT INTO children (parent) VALUES (42)"))
    # the next writers are not kept waiting, and nothing of the failed transaction rides along
    await asyncio.wait_for(asyncio.gather(insert(engine, "next"), insert(engine, "and next")), 1.0)
    assert await rows(engine) == ["next", "and next"]
