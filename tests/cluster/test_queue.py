"""The cluster's job queue on the suite's PostgreSQL, in process: two workers (two Procrastinate apps,
as two machines would run) take the updates of eight learners enqueued together; each learner's
updates are handled one at a time, in the order they were stored, while learners go in parallel. And
the jobs of a worker that stopped sending heartbeats go back to the queue.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from procrastinate.schema import SchemaManager
from sqlalchemy import text

from bot.channels.serial import SerialExecutor
from bot.cluster import conninfo, create_queue, enqueue, register_handler, retry_stalled, run_worker
from bot.settings import Settings
from data.db import create_engine, migrate, session_factory

KEY = b"k" * 32


class RecordingChannel:
    """Stands in for a channel: "handling" an update records when it ran, after a random pause."""

    name = "telegram"

    def __init__(self, runs: list[tuple[str, int, float, float]], seed: int) -> None:
        self.runs = runs
        self.rng = random.Random(seed)
        self.executor = SerialExecutor()

    async def take(self, payload: dict[str, Any]) -> None:
        began = time.monotonic()
        await asyncio.sleep(self.rng.uniform(0.005, 0.06))
        self.runs.append((payload["callback_query"]["from"]["id"], payload["seq"], began, time.monotonic()))


def update(learner: str, seq: int) -> dict[str, Any]:
    return {
        "update_id": seq,
        "seq": seq,
        "callback_query": {"id": f"{learner}-{seq}", "from": {"id": learner}},
    }


@pytest.fixture
async def database(fresh_postgres: str, tmp_path: Path) -> str:
    await asyncio.to_thread(migrate, fresh_postgres)
    with psycopg.connect(conninfo(fresh_postgres), autocommit=True) as connection:
        connection.execute(SchemaManager.get_schema())
    return fresh_postgres


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=url, worker_concurrency=8, worker_stalled_seconds=30.0)


async def test_two_workers_keep_each_learners_order(database: str, tmp_path: Path) -> None:
    settings = settings_for(database, tmp_path)
    engine = create_engine(database)
    runs: list[tuple[str, int, float, float]] = []
    web = create_queue(settings)
    workers = [create_queue(settings) for _ in range(2)]
    stop = asyncio.Event()
    try:
        await web.open_async()
        learners = [f"learner-{n}" for n in range(8)]
        for seq in range(15):  # stored interleaved, as learners type at the same time
            for learner in learners:
                await enqueue(web, KEY, "telegram", update(learner, seq))
        tasks = []
        for number, queue in enumerate(workers):
            await queue.open_async()
            register_handler(queue, {"telegram": RecordingChannel(runs, number)})  # type: ignore[dict-item]
            tasks.append(asyncio.create_task(run_worker(queue, session_factory(engine), settings, stop)))
        deadline = time.monotonic() + 60
        while len(runs) < 8 * 15 and time.monotonic() < deadline:  # noqa: ASYNC110 - counting records
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for queue in [web, *workers]:
            await queue.close_async()
        await engine.dispose()
    assert len(runs) == 8 * 15
    for learner in learners:
        mine = sorted((r for r in runs if r[0] == learner), key=lambda r: r[2])
        assert [r[1] for r in mine] == list(range(15)), learner  # in the order stored, each once
        assert all(a[3] <= b[2] for a, b in itertools.pairwise(mine)), learner  # never two at once
    concurrent = sum(1 for a in runs for b in runs if a[0] != b[0] and a[2] < b[2] < a[3])
    assert concurrent > 0  # different learners do go side by side


async def test_the_jobs_of_a_silent_worker_go_back_to_the_queue(database: str, tmp_path: Path) -> None:
    settings = settings_for(database, tmp_path)
    engine = create_engine(database)
    queue = create_queue(settings)
    try:
        await queue.open_async()
        await enqueue(queue, KEY, "telegram", update("learner-1", 0))
        # a worker took it, then died: its heartbeat stops
        dead = await queue.job_manager.register_worker()
        job = await queue.job_manager.fetch_job(queues=None, worker_id=dead)
        assert job is not None
        sessions = session_factory(engine)
        assert await retry_stalled(queue, sessions, seconds=30) == 0  # still fresh: left alone
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute'")
            )
        assert await retry_stalled(queue, sessions, seconds=30) == 1
        jobs = await queue.job_manager.list_jobs_async()
        assert [j.status for j in jobs] == ["todo"]
    finally:
        await queue.close_async()
        await engine.dispose()
