"""Login flood benchmark: learners' reply times while 16 clients flood the dashboard's login.

Run: `.venv/bin/python bench/bench_login_flood.py [--learners 12] [--messages 12] [--clients 16]`

The real `hocvuso run` process (uvicorn on 127.0.0.1, SQLite; the small test curriculum unless
`--content` names another, since the lessons do not matter here and their index builds faster) serves a fake
Telegram Bot API server on 127.0.0.1 (tests/channels/fake_telegram.py) by long polling, and the dashboard.
Registered learners each type "menu" and wait for the reply, over and over (a pause of 1.3 s between
messages keeps them under Telegram's per-chat rate, which the process respects). A learner's reply time
is from the update being available to getUpdates to the bot's sendMessage arriving at the fake server.

Three kinds of phase, the same learners and messages in each, repeated `--rounds` times interleaved
(this machine is shared: a busier minute then hits every kind) and pooled:
- idle: only the learners;
- flood, one address: 16 clients in a child process, each in a loop: load the login page, post a wrong
  password for the real admin's username, as fast as the answers come;
- flood, many addresses: the same, but every request claims another address (X-Forwarded-For, which
  uvicorn trusts from 127.0.0.1 as it would from a reverse proxy on the machine) and a new username, so
  no per-address budget or lock ever applies and every post costs a real argon2 check: the worst case.
It prints each phase's p50 and p95 reply time, the p95 ratio against idle (target: at most 2x), the
flood's requests by status and the count of 5xx answers (target: 0). It reports; it does not assert.
Bounded in time: each phase stops after its messages or `--phase-limit` seconds; everything is on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from tests.channels.fake_telegram import FakeTelegram
from tests.channels.users import TelegramUser, register
from tests.conftest import FIXTURE_CURRICULUM

PASSWORD = "mat-khau-that-cua-can-bo"
SECRET = "bench-dashboard-secret-0123456789"
THINK = 1.3  # seconds between one learner's messages: Telegram allows about one a second per chat


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the child process: the flood --------------------------------------------------------------------
async def flood(base: str, clients: int, spread: bool) -> None:
    """Flood the login until stdin closes or says "stop"; then print the counts as one JSON line.

    At the lowest CPU priority: an attacker's clients run on their own machines, and on this shared
    2-core machine they would otherwise take the processor from the assistant, which is not what is
    measured here (the server's cost of answering them is)."""
    os.nice(19)
    statuses: Counter[str] = Counter()
    stop = asyncio.Event()
    addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), range(256), range(1, 255)))

    async def one(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while not stop.is_set():
                headers = {"X-Forwarded-For": next(addresses)} if spread else {}
                username = f"khach{random.randrange(10**9)}" if spread else "canbo"
                try:
                    form = await client.get("/admin/login", headers=headers)
                    statuses[f"GET {form.status_code}"] += 1
                    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
                    data = {
                        "username": username,
                        "password": f"doan-sai-{number}",
                        "csrf": match[1] if match else "",
                    }
                    answer = await client.post("/admin/login", data=data, headers=headers)
                    statuses[f"POST {answer.status_code}"] += 1
                except httpx.HTTPError as error:
                    statuses[type(error).__name__] += 1

    async def wait_for_stop() -> None:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        stop.set()

    started = time.perf_counter()
    watcher = asyncio.create_task(wait_for_stop())
    await asyncio.gather(*(one(n) for n in range(clients)))
    await watcher
    seconds = time.perf_counter() - started
    print(json.dumps({"statuses": dict(statuses), "seconds": seconds}), flush=True)


# --- this process: the assistant, the learners, the measurements ----------------------------------------
class Hocvuso:
    """`hocvuso run` in a child process."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.output = ""
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        for _ in range(6000):  # the question index may be built first (a minute or more)
            if "hocvuso is running" in self.output or self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        if "hocvuso is running" not in self.output:
            raise RuntimeError(f"hocvuso run did not start:\n{self.output}")

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.output += line.decode(errors="replace")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader


class Learner(TelegramUser):
    """A learner whose turn ends when their own chat has been quiet for `quiet` seconds (the fake
    server's `settle` waits for every chat to be quiet, which many learners at once never are)."""

    last_reply: dict[str, float] = {}  # noqa: RUF012 - one table for all learners, fed by the server

    async def deliver(self, update: dict[str, Any]) -> list[str]:
        sent = time.monotonic()
        await self.server.send_update(update)
        while time.monotonic() < sent + 30:
            await asyncio.sleep(0.05)
            last = self.last_reply.get(str(self.user_id), 0.0)
            if last > sent and time.monotonic() - last > self.quiet:
                break
        return self._news()


async def learners_phase(
    server: FakeTelegram, users: list[int], messages: int, limit: float
) -> tuple[list[float], int]:
    """Each learner types "menu" `messages` times; returns the reply times (ms) and how many got none."""
    replied: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def on_reply(chat_id: str) -> None:
        Learner.last_reply[chat_id] = time.monotonic()
        replied[chat_id].set()

    server.on_reply = on_reply
    latencies: list[float] = []
    missed = 0

    async def one(user: int, offset: float) -> None:
        nonlocal missed
        await asyncio.sleep(offset)  # spread the learners over the pause
        for _ in range(messages):
            event = replied[str(user)]
            event.clear()
            started = time.perf_counter()
            await server.send_update(server.message_update(user, "menu"))
            try:
                await asyncio.wait_for(event.wait(), 15)
                latencies.append((time.perf_counter() - started) * 1000)
            except TimeoutError:
                missed += 1
            await asyncio.sleep(THINK)

    with contextlib.suppress(TimeoutError):  # the phase's time is up: what was measured counts
        await asyncio.wait_for(
            asyncio.gather(*(one(user, THINK * n / len(users)) for n, user in enumerate(users))), limit
        )
    server.on_reply = lambda chat_id: Learner.last_reply.__setitem__(chat_id, time.monotonic())
    return latencies, missed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


@dataclass
class Phase:
    """One kind of phase, its runs pooled."""

    name: str
    flooding: str | None  # None, "one" or "many" addresses
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    flood_seconds: float = 0.0

    @property
    def fives(self) -> int:
        return sum(count for key, count in self.statuses.items() if key.split()[-1].startswith("5"))


def row(name: str, latencies: list[float], missed: int, idle: float | None) -> str:
    p50 = statistics.median(latencies) if latencies else float("nan")
    high = p95(latencies)
    ratio = f"{high / idle:5.2f}x" if idle else "    -"
    return f"{name:<30} {len(latencies):>7} {missed:>6} {p50:>8.1f} {high:>8.1f} {ratio:>8}"


async def run_phase(
    kind: Phase, server: FakeTelegram, users: list[int], args: argparse.Namespace, base: str
) -> None:
    child = None
    if kind.flooding is not None:
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--flood", base, "--clients", str(args.clients),
            *(["--spread"] if kind.flooding == "many" else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await asyncio.sleep(3.0)  # the flood is under way before the learners start
    latencies, missed = await learners_phase(server, users, args.messages, args.phase_limit)
    kind.latencies.extend(latencies)
    kind.missed += missed
    line = ""
    if child is not None:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"stop\n")
        await child.stdin.drain()
        result = json.loads((await asyncio.wait_for(child.stdout.readline(), 120)) or b"{}")
        await child.wait()
        statuses = Counter(result.get("statuses", {}))
        kind.statuses.update(statuses)
        kind.flood_seconds += result.get("seconds", 0.0)
        rate = sum(statuses.values()) / max(result.get("seconds", 1.0), 1e-9)
        line = f"  ({rate:.0f} flood requests/s)"
    print(row(f"  {kind.name}", latencies, missed, None) + line, flush=True)


async def main(args: argparse.Namespace) -> None:
    server = FakeTelegram()
    await server.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCVUSO_", "TELEGRAM_", "ZALO_"))}
        env.update(
            HOCVUSO_DATA_DIR=str(Path(tmp) / "var"),
            HOCVUSO_PORT=str(port),
            HOCVUSO_CONTENT_DIR=str(args.content),
            HOCVUSO_ADMIN_SECRET=SECRET,
            HOCVUSO_PUBLIC_URL=base,  # http: the dashboard's cookies are not marked Secure, as on loopback
            TELEGRAM_BOT_TOKEN=server.token,
            TELEGRAM_API_BASE=server.base,
            TELEGRAM_MODE="polling",
            PYTHONUNBUFFERED="1",
        )
        create = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "admin", "create", "--username", "canbo", "--super",
            env={**env, "HOCVUSO_ADMIN_PASSWORD": PASSWORD}, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await create.wait()
        hocvuso = Hocvuso(env, port)
        await hocvuso.start()
        try:
            users = list(range(20_001, 20_001 + args.learners))
            server.on_reply = lambda chat_id: Learner.last_reply.__setitem__(chat_id, time.monotonic())
            await asyncio.gather(*(register(Learner(server, user, quiet=1.2)) for user in users))
            await asyncio.sleep(2.0)  # the per-chat limits of the registration have passed
            print(
                f"{args.learners} learners x {args.messages} messages ('menu'); "
                f"{args.clients} clients flooding the login",
                flush=True,
            )
            header = f"{'phase':<30} {'replies':>7} {'missed':>6} {'p50 ms':>8} {'p95 ms':>8} {'vs idle':>8}"
            print(header, flush=True)
            kinds = [
                Phase("idle", None),
                Phase("flood, one address", "one"),
                Phase("flood, many addresses", "many"),
            ]
            for number in range(args.rounds):  # interleaved and rotated: a busier minute hits every kind
                print(f"round {number + 1}", flush=True)
                for kind in kinds[number % 3 :] + kinds[: number % 3]:
                    await run_phase(kind, server, users, args, base)
            idle = p95(kinds[0].latencies)
            print("all rounds", flush=True)
            for kind in kinds:
                print(row(f"  {kind.name}", kind.latencies, kind.missed, idle if kind.flooding else None))
                if kind.flooding:
                    rate = sum(kind.statuses.values()) / max(kind.flood_seconds, 1e-9)
                    shown = ", ".join(f"{k}: {v}" for k, v in sorted(kind.statuses.items()))
                    print(f"      flood: {rate:.0f} requests/s ({shown}); 5xx: {kind.fives}", flush=True)
            # a real admin from their own address still gets in after the floods
            async with httpx.AsyncClient(base_url=base, timeout=60) as admin:
                headers = {"X-Forwarded-For": "192.0.2.10"}
                form = await admin.get("/admin/login", headers=headers)
                match = re.search(r'name="csrf" value="([^"]+)"', form.text)
                answer = await admin.post(
                    "/admin/login",
                    data={"username": "canbo", "password": PASSWORD, "csrf": match[1] if match else ""},
                    headers=headers,
                )
            print(f"the real admin from another address after the floods: {answer.status_code}", flush=True)
        finally:
            await hocvuso.stop()
            await server.stop()
    errors = [line for line in hocvuso.output.splitlines() if "Traceback" in line or " 500 " in line]
    print(f"tracebacks in hocvuso's output: {len(errors)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=12)
    parser.add_argument("--messages", type=int, default=12)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="idle / one address / many addresses, repeated")
    parser.add_argument(
        "--content",
        type=Path,
        default=FIXTURE_CURRICULUM,
        help="lessons (default: the small test curriculum)",
    )
    parser.add_argument("--phase-limit", type=float, default=90.0, help="seconds at most per phase")
    parser.add_argument("--flood", metavar="BASE", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--spread", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.flood:
        asyncio.run(flood(arguments.flood, arguments.clients, arguments.spread))
    else:
        asyncio.run(main(arguments))
