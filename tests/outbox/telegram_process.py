"""A `Recording` fake Telegram in a process of its own, for the cluster test and bench/bench_cluster.py.

In the test process, the fake servers share one event loop with hundreds of simulated learners; under
that load the loop lagged 0.3 s (median) to 0.8 s (p95), so the fake answered late, a push's sends waited
on it and their times were recorded late. Here it has a loop to itself, as the real platform would.

Run: `python -m tests.outbox.telegram_process <retry_after> <prefix> [<inject_at> ...]`; it prints
"ready <base>" and serves until SIGTERM. `GET <base>/_records` gives what it recorded (see `records`).
Monotonic times are the machine's (CLOCK_MONOTONIC), comparable with those of the test process.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.channels.fake_telegram import TOKEN, FakeTelegram
from tests.channels.local_server import Call
from tests.outbox.fleet import Recording, spawn


async def main(retry_after: int, prefix: str, inject_at: set[int]) -> None:
    server = Recording(retry_after=retry_after, inject_prefix=prefix, inject_at=inject_at)

    async def records(request: web.Request) -> web.Response:
        shown = [
            [call.method, str(call.params.get("chat_id")), server.rendered(call.params) or "", call.at]
            for call in server.calls
            if call.method in {"sendMessage", "editMessageText"}
        ]
        body = {
            "delivered": server.delivered,
            "limited_at": server.limited_at,
            "limited_chats": server.limited_chats,
            "calls": shown,
        }
        return web.Response(text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", server._handle)
    app.router.add_get("/_records", records)
    server.base = await server.server.serve(app)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready {server.base}", flush=True)
    await stop.wait()
    await server.server.close()


@dataclass
class TelegramProcess:
    """The parent's handle: the address, the token, updates made here (`updates`, never served),
    and what the process recorded, once `fetch`ed, in the attributes `Recording` has."""

    process: asyncio.subprocess.Process
    base: str
    token: str = TOKEN
    updates: FakeTelegram = field(default_factory=FakeTelegram)  # makes update bodies only
    delivered: list[tuple[float, str, str]] = field(default_factory=list)
    limited_at: list[float] = field(default_factory=list)
    limited_chats: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @classmethod
    async def start(
        cls, retry_after: int = 1, prefix: str = "", inject_at: set[int] = frozenset()
    ) -> TelegramProcess:  # type: ignore[assignment]
        limits = [str(n) for n in sorted(inject_at)]
        process, base = await spawn("tests.outbox.telegram_process", str(retry_after), prefix, *limits)
        return cls(process, base)

    def message_update(self, user_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        return self.updates.message_update(user_id, text, **extra)

    @staticmethod
    def rendered(params: dict[str, Any], key: str = "text") -> str | None:
        return str(params.get(key, ""))  # recorded as Telegram shows it already

    async def fetch(self) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            body = (await client.get(f"{self.base}/_records")).json()
        self.delivered = [(at, chat, text) for at, chat, text in body["delivered"]]
        self.limited_at = list(body["limited_at"])
        self.limited_chats = list(body["limited_chats"])
        self.calls = [
            Call(method, {"chat_id": chat, "text": text}, at) for method, chat, text, at in body["calls"]
        ]

    def of(self, prefix: str) -> list[tuple[float, str, str]]:
        return [d for d in self.delivered if d[2].startswith(prefix)]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], {int(n) for n in sys.argv[3:]}))
