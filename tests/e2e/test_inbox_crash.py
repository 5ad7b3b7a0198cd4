"""The embedded default (one `hocvuso run` process, SQLite) killed with kill -9 right after answering a
burst of webhooks: every update it answered 200 is handled after the restart, once.

Learners type registration and a lesson in bursts; the process paces replies at the real per-chat
limit, so when it is killed most acknowledged updates are still waiting in the inbox table (checked:
otherwise the test would prove nothing). After the restart the learners finish; each one's name,
village and single completion show that no update was lost, repeated or reordered.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo
from tests.cluster.journeys import (
    PRIVACY_KEY,
    TELEGRAM_SECRET,
    ZALO_SECRET,
    Learner,
    Webhooks,
    event_ref,
    learners,
    replies,
)
from tests.cluster.processes import Role, environment
from tests.e2e.test_run import free_port


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    yield telegram, zalo
    await telegram.stop()
    await zalo.stop()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql).fetchall())


async def wait_for_completions(path: Path, expected: int, limit: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        done = query(path, "SELECT count(*) FROM completions")[0][0]
        left = query(path, "SELECT count(*) FROM inbox")[0][0]
        if done == expected and left == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{done} of {expected} lessons completed, {left} updates left in the inbox")


def check_learners(path: Path, people: list[Learner]) -> None:
    rows = query(
        path,
        "SELECT l.channel_user_id, l.name, l.village_id, "
        "(SELECT count(*) FROM completions c WHERE c.learner_id = l.id AND c.lesson_id = 'an-toan-otp') "
        "FROM learners l",
    )
    found = {str(r[0]): (r[1], r[2], r[3]) for r in rows}
    for person in people:
        assert found.get(person.user_id) == (person.name, person.village, 1), (
            person,
            found.get(person.user_id),
        )
    stored = {str(r[0]) for r in query(path, "SELECT event_id FROM processed_events")}
    for person in people:
        for word, event_id in zip(person.words, person.acknowledged, strict=True):
            if word != "xin chào":  # before consent nothing is kept, not even the event's id
                assert event_ref(person.channel, event_id) in stored, (person.user_id, word)


async def test_updates_acknowledged_before_kill_9_are_handled_once_after_restart(
    tmp_path: Path, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    telegram, zalo = servers
    port = free_port()
    env = environment(
        tmp_path / "var",
        port,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE=telegram.base,
        ZALO_BOT_TOKEN=zalo.token,
        ZALO_API_BASE=zalo.base,
        HOCVUSO_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        ZALO_WEBHOOK_SECRET=ZALO_SECRET,
        HOCVUSO_PRIVACY_KEY=PRIVACY_KEY,
    )
    database = tmp_path / "var" / "hocvuso.db"
    process = Role("run", env)
    await process.start()
    people = learners(16, zalo_share=0.25)
    hooks = Webhooks([process.base], telegram, zalo)
    try:
        # registration and the lesson's first card, in bursts; kill -9 right after the last 200
        await asyncio.gather(
            *(hooks.journey(p, duplicates=0.05, until=p.words.index("giữ kín mã otp") + 1) for p in people)
        )
        await process.kill()
        waiting = query(database, "SELECT count(*) FROM inbox")[0][0]
        acknowledged = sum(len(p.acknowledged) for p in people)
        assert waiting > 0, "every update was handled before the kill: nothing was put to the test"

        process = Role("run", env)
        await process.start()
        await asyncio.gather(*(hooks.journey(p, duplicates=0.05) for p in people))
        await wait_for_completions(database, len(people))
    finally:
        await hooks.close()
        code = await process.stop()
    assert code == 0, process.output
    check_learners(database, people)
    for person in people:
        texts = replies(person, telegram, zalo)
        assert sum("Chúc mừng" in t for t in texts) == 1, person
        assert sum("Cháu ghi tên bác là" in t for t in texts) <= 1, person
    assert query(database, "SELECT count(*) FROM inbox")[0][0] == 0  # no message text left behind
    print(f"\n{acknowledged} updates acknowledged before the kill, {waiting} of them still unhandled")
