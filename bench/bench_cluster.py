"""Cluster benchmark, in one run: learners' presses per second through 1, 2 and 4 `hocvuso worker`
processes on PostgreSQL against the single `hocvuso run` process on SQLite; the p95 latency of replies
to learners while a 10,000-row push is being sent; and the outbox side alone (messages per second sent
by 1, 2 and 4 sender processes, the bulk rate held fleet-wide, answers queued during a push).

Run: `.venv/bin/python bench/bench_cluster.py [--learners 150] [--webs 1] [--push 10000] [--rate 25]
[--seconds 30] [--talkers 40] [--gap 4] [--replies 2000] [--outbox-rate 30] [--only presses,latency,outbox]`

Inbox side (bench/cluster_presses.py): real `hocvuso run` / `web` / `worker` processes, a fake Telegram
Bot API in a process of its own (tests/outbox/telegram_process.py), learners of tests/cluster/journeys.py
typing their scripted journeys (registration, the OTP lesson, its quiz) in bursts through the webhooks.
- presses: `--learners` learners; updates a second from the first POST to the moment every lesson is
  completed (polled in the database every 0.1 s), process start-up not included; each run on a fresh
  database (PostgreSQL: migrated, Procrastinate's tables created), `--webs` web processes;
- latency: 1 web + 2 workers, HOCVUSO_OUTBOX_RATES=telegram=`--rate`; a push of `--push` rows queued
  straight into the database; once it is going out, `--talkers` learners each send their next word every
  `--gap` seconds for `--seconds`; per update, the time from the webhook's 200 to the first message the
  fake Telegram accepted for that learner; and the push's rate over the same window.
Outbox side: every process is the real `OutboxWorker` with the real `TelegramChannel`
(tests/outbox/sender.py), sending to a fake Bot API server in this process (tests/outbox/fleet.py).
- replies: `--replies` answer rows (priority 0, one per chat), queued before the processes start;
- push: `--push` rows at `--outbox-rate`/s with 4 processes, answers queued every 0.2 s meanwhile;
  measured for `--seconds`.
PostgreSQL 15 is a throw-away cluster (tests/postgres.py), SQLite a file. Nothing here asserts: it prints
the figures and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import cluster_presses
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


def label(kind: str, count: int, webs: int = 0) -> str:
    if kind == "sqlite":
        return "SQLite, 1 run process"
    return f"PostgreSQL, {webs} web + {count} worker{'s' if count > 1 else ''}"


async def presses(args: argparse.Namespace, server_url: str | None) -> None:
    print(
        f"presses: {args.learners} learners on Telegram typing their journeys (registration, a lesson, its"
        " quiz) in bursts through the webhooks; updates/s from the first POST to every lesson completed\n"
    )
    print(f"{'run':<34} {'updates':>7} {'posted s':>9} {'handled s':>10} {'updates/s':>10} {'ratio':>6}")

    def line(name: str, run: cluster_presses.Presses, ratio: float) -> None:
        print(
            f"{name:<34} {run.updates:>7} {run.posted:>9.1f} {run.handled:>10.1f} {run.rate:>10.1f}"
            f" {ratio:>6.2f}   (load {run.load:.1f})",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as tmp:
        single = await cluster_presses.presses_single(Path(tmp), args.learners)
    line(label("sqlite", 1), single, 1.0)
    if server_url is None:
        return
    for workers in (1, 2, 4):
        url = await fresh_database(server_url)
        with tempfile.TemporaryDirectory() as tmp:
            run = await cluster_presses.presses_cluster(url, Path(tmp), args.learners, args.webs, workers)
        line(label("postgres", workers, args.webs), run, run.rate / single.rate)
    print(
        "posted s: first POST to the last 200; handled s: to every lesson completed. One learner's updates"
        " are handled one at a time, each until its replies are delivered (Telegram's ~1 message/s per"
        " chat after a burst of 3), so one journey takes some 13 s whatever the processes: few learners"
        " measure that pace, not the processes.",
        flush=True,
    )


async def latency(args: argparse.Namespace, server_url: str) -> None:
    url = await fresh_database(server_url)
    with tempfile.TemporaryDirectory() as tmp:
        result = await cluster_presses.latency_during_push(
            url, Path(tmp), args.push, args.rate, args.seconds, args.talkers, args.gap
        )
    print(
        f"\nreplies during a push: 1 web + 2 workers on PostgreSQL, a push of {args.push} rows at"
        f" HOCVUSO_OUTBOX_RATES=telegram={args.rate:g}; {args.talkers} learners each sending their next"
        f" word every {args.gap:g} s, measured for {result.window:.1f} s"
    )
    print(
        f"  replies: {result.replied} of {result.updates} updates answered within {args.gap:g} s;"
        f" from the 200 to the first reply: p50 {result.p50:.0f} ms, p95 {result.p95:.0f} ms,"
        f" worst {result.worst:.0f} ms"
    )
    print(
        f"  push meanwhile: {result.pushed} sent, {result.push_rate:.1f}/s"
        f" ({result.push_rate / args.rate:.0%} of the rate), at most {result.busiest} in any second",
        flush=True,
    )


async def outbox_side(args: argparse.Namespace, server_url: str | None) -> None:
    replies, rows, rate, seconds = args.replies, args.push, args.outbox_rate, args.seconds
    print(f"\noutbox alone: {replies} answers queued, one per chat; fake Telegram on 127.0.0.1\n")
    print(f"{'run':<28} {'messages/s':>11} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await replies_per_second(f"sqlite+aiosqlite:///{tmp}/bench.db", 1, replies)
    print(f"{'SQLite, 1 process':<28} {sqlite:>11.1f} {1.0:>7.2f}")
    if server_url is None:
        return
    for processes in (1, 2, 4):
        url = await fresh_database(server_url)
        rate_pg = await replies_per_second(url, processes, replies)
        name = f"PostgreSQL, {processes} process{'es' if processes > 1 else ''}"
        print(f"{name:<28} {rate_pg:>11.1f} {rate_pg / sqlite:>7.2f}", flush=True)
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


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the processes load the encoder from the local cache
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sections = set(args.only.split(","))
    started = time.monotonic()
    with postgres.postgres_server() as server_url:
        if "presses" in sections:
            await presses(args, server_url)
        if "latency" in sections:
            await latency(args, server_url)
        if "outbox" in sections:
            await outbox_side(args, server_url)
    elapsed = time.monotonic() - started
    print(f"\n{elapsed:.0f} s in all; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=150, help="learners in each presses run")
    parser.add_argument("--webs", type=int, default=1, help="web processes in each presses run")
    parser.add_argument("--push", type=int, default=10_000, help="rows of the push")
    parser.add_argument("--rate", type=float, default=25.0, help="HOCVUSO_OUTBOX_RATES for the latency run")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the pushes are measured")
    parser.add_argument("--talkers", type=int, default=40, help="learners talking during the push")
    parser.add_argument("--gap", type=float, default=4.0, help="seconds between a talker's updates")
    parser.add_argument("--replies", type=int, default=2000, help="answers queued (outbox alone)")
    parser.add_argument("--outbox-rate", type=float, default=30.0, help="bulk rate (outbox alone)")
    parser.add_argument("--only", default="presses,latency,outbox", help="sections to run, comma-separated")
    asyncio.run(main(parser.parse_args()))
