"""Cluster benchmark, the outbox side: messages per second sent by 1, 2 and 4 sender processes on
PostgreSQL against the single process on SQLite, in one run; the bulk rate held fleet-wide by 4
processes; and the p95 latency of replies while a 10,000-row push is being sent.

Run: `.venv/bin/python bench/bench_cluster.py [--replies 2000] [--push 10000] [--rate 30] [--seconds 30]`

Every process is the real `OutboxWorker` with the real `TelegramChannel` (tests/outbox/sender.py),
sending to a fake Bot API server on 127.0.0.1 in this process (tests/outbox/fleet.py); PostgreSQL 15 is
a throw-away cluster (tests/postgres.py), SQLite a file. The learners' presses per second through
`hocvuso web`/`hocvuso worker` are measured by the inbox side (tests/cluster); this one measures what
the processes send. Nothing here asserts: it prints the figures and the ratios.
- replies: `--replies` answer rows (priority 0, one per chat), queued before the processes start; every
  process sends replies, so they scale with processes (up to the database and this 2-core machine);
- push: `--push` rows at `--rate`/s with 4 processes: one holds the bot's lease and sends them; the
  others send the answers queued every 0.2 s meanwhile. Measured for `--seconds` (the whole push takes
  push/rate seconds: 10,000 rows at 30/s is 5.6 minutes), then the processes stop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from data.db import create_engine, migrate, session_factory
from tests import postgres
from tests.outbox.fleet import Recording, answer, max_in_any_second, push, seed_learners, start_sender

UNLIMITED_RATE = 1000.0  # bulk rate for the throughput runs: the processes' own cost is measured


async def fresh_database(server_url: str) -> str:
    name = f"b_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def replies_per_second(url: str, processes: int, count: int) -> float:
    """`count` answers queued, then `processes` senders start: answers delivered per second."""
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    server = Recording()
    base = await server.start()
    learners = await seed_learners(sessions, count)
    for number, learner in enumerate(learners):
        await answer(sessions, learner, f"reply {number}")
    senders = list(
        await asyncio.gather(*(start_sender(url, base, UNLIMITED_RATE, 30, 5) for _ in range(processes)))
    )
    try:
        deadline = time.monotonic() + 600
        while len(server.delivered) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        times = sorted(at for at, _, _ in server.delivered)
        return (len(times) - 1) / (times[-1] - times[0])
    finally:
        for sender in senders:
            await sender.stop()
        await server.stop()
        await engine.dispose()


async def push_with_replies(url: str, rows: int, rate: float, seconds: float) -> dict[str, float]:
    """4 senders, a push of `rows` at `rate`/s, an answer queued every 0.2 s; measured for `seconds`."""
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    server = Recording()
    base = await server.start()
    learners = await seed_learners(sessions, rows)
    senders = list(await asyncio.gather(*(start_sender(url, base, rate, 30, 5) for _ in range(4))))
    try:
        await push(sessions, learners, "push")
        started = time.monotonic()
        asked: dict[str, float] = {}
        number = 0
        while time.monotonic() - started < seconds:
            text = f"reply {number}"
            await answer(sessions, learners[(number * 97) % rows], text)
            asked[text] = time.monotonic()
            number += 1
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        answered = {text: at for at, _, text in server.of("reply")}
        latency = [(answered[t] - asked[t]) * 1000 for t in asked if t in answered]
        pushed = sorted(at for at, _, _ in server.of("push"))
        return {
            "pushed": len(pushed),
            "push_rate": (len(pushed) - 1) / (pushed[-1] - pushed[0]),
            "max_in_a_second": max_in_any_second(pushed),
            "replies": len(latency),
            "asked": len(asked),
            "p50": statistics.median(latency),
            "p95": statistics.quantiles(latency, n=20)[-1],
        }
    finally:
        for sender in senders:
            await sender.stop()
        await server.stop()
        await engine.dispose()


async def main(replies: int, rows: int, rate: float, seconds: float) -> None:
    print(f"replies: {replies} answers queued, one per chat; fake Telegram on 127.0.0.1\n")
    print(f"{'run':<28} {'messages/s':>11} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await replies_per_second(f"sqlite+aiosqlite:///{tmp}/bench.db", 1, replies)
    print(f"{'SQLite, 1 process':<28} {sqlite:>11.1f} {1.0:>7.2f}")
    with postgres.postgres_server() as server_url:
        for processes in (1, 2, 4):
            url = await fresh_database(server_url)
            rate_pg = await replies_per_second(url, processes, replies)
            label = f"PostgreSQL, {processes} process{'es' if processes > 1 else ''}"
            print(f"{label:<28} {rate_pg:>11.1f} {rate_pg / sqlite:>7.2f}", flush=True)
        url = await fresh_database(server_url)
        result = await push_with_replies(url, rows, rate, seconds)
    print(
        f"\npush of {rows} rows at {rate:g}/s by 4 processes on PostgreSQL, answers every 0.2 s meanwhile;"
        f" measured for {seconds:g} s"
    )
    print(
        f"  push: {result['pushed']:.0f} sent, {result['push_rate']:.1f}/s"
        f" ({result['push_rate'] / rate:.0%} of the rate), at most {result['max_in_a_second']:.0f}"
        " in any second"
    )
    print(
        f"  replies during the push: {result['replies']:.0f} of {result['asked']:.0f} answered,"
        f" p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replies", type=int, default=2000)
    parser.add_argument("--push", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(main(args.replies, args.push, args.rate, args.seconds))
