"""Login flood benchmark: learners' reply times while 16 clients flood the dashboard's login.

Run: `.venv/bin/python bench/bench_login_flood.py [--learners 12] [--messages 12] [--clients 16]`

The real `hocvuso run` process (uvicorn on 127.0.0.1, the bundled lessons, SQLite) serves a fake
Telegram Bot API server on 127.0.0.1 (tests/channels/fake_telegram.py) by long polling, and the dashboard.
Registered learners each type "menu" and wait for the reply, over and over (a pause of 1.3 s between
messages keeps them under Telegram's per-chat rate, which the process respects). A learner's reply time
is from the update being available to getUpdates to the bot's sendMessage arriving at the fake server.

Three phases, the same learners and messages in each:
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from tests.channels.fake_telegram import FakeTelegram
from tests.channels.users import TelegramUser, register

PASSWORD = "mat-khau-that-cua-can-bo"
SECRET = "bench-dashboard-secret-0123456789"
THINK = 1.3  # seconds between one learner's messages: Telegram allows about one a second per chat


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the child process: the flood --------------------------------------------------------------------
async def flood(base: str, clients: int, spread: bool) -> None:
    """Flood the login until stdin closes or says "stop"; then print the counts as one JSON line."""
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
                    data = {"username": username, "password": f"doan-sai-{number}", "csrf": match[1] if match else ""}
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
        for _ in range(1200):
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


async def learners_phase(
    server: FakeTelegram, users: list[int], messages: int, limit: float
) -> tuple[list[float], int]:
    """Each learner types "menu" `messages` times; returns the reply times (ms) and how many got none."""
    replied: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
    server.on_reply = lambda chat_id: replied[chat_id].set()
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

    try:
        await asyncio.wait_for(
            asyncio.gather(*(one(user, THINK * n / len(users)) for n, user in enumerate(users))), limit
        )
    except TimeoutError:
        pass
    server.on_reply = None
    return latencies, missed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


async def phase(
    name: str,
    server: FakeTelegram,
    users: list[int],
    args: argparse.Namespace,
    base: str,
    flooding: str | None,
    idle_p95: float | None,
) -> float:
    child = None
    if flooding is not None:
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--flood", base, "--clients", str(args.clients),
            *(["--spread"] if flooding == "many" else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await asyncio.sleep(3.0)  # the flood is under way before the learners start
    latencies, missed = await learners_phase(server, users, args.messages, args.phase_limit)
    flood_line = ""
    if child is not None:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"stop\n")
        await child.stdin.drain()
        result = json.loads((await asyncio.wait_for(child.stdout.readline(), 60)) or b"{}")
        await child.wait()
        statuses = result.get("statuses", {})
        fives = sum(count for key, count in statuses.items() if key.split()[-1].startswith("5"))
        rate = sum(statuses.values()) / result.get("seconds", 1)
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        flood_line = f"    flood: {rate:.0f} requests/s ({shown}); 5xx: {fives}"
    p50, high = statistics.median(latencies) if latencies else float("nan"), p95(latencies)
    ratio = f"{high / idle_p95:5.2f}x" if idle_p95 else "    -"
    print(f"{name:<28} {len(latencies):>5} {missed:>6} {p50:>9.1f} {high:>9.1f} {ratio:>8}", flush=True)
    if flood_line:
        print(flood_line, flush=True)
    return high


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
            await asyncio.gather(*(register(TelegramUser(server, user, quiet=1.2)) for user in users))
            await asyncio.sleep(2.0)  # the per-chat limits of the registration have passed
            print(
                f"{args.learners} learners x {args.messages} messages ('menu'), {args.clients} flooding clients",
                flush=True,
            )
            print(f"{'phase':<28} {'replies':>5} {'missed':>6} {'p50 ms':>9} {'p95 ms':>9} {'vs idle':>8}")
            idle = await phase("idle", server, users, args, base, None, None)
            await phase("flood, one address", server, users, args, base, "one", idle)
            await phase("flood, many addresses", server, users, args, base, "many", idle)
            await phase("idle again", server, users, args, base, None, idle)
            # a real admin from their own address still gets in after the floods
            async with httpx.AsyncClient(base_url=base) as admin:
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
    parser.add_argument("--phase-limit", type=float, default=90.0, help="seconds at most per phase")
    parser.add_argument("--flood", metavar="BASE", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--spread", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.flood:
        asyncio.run(flood(arguments.flood, arguments.clients, arguments.spread))
    else:
        asyncio.run(main(arguments))
