"""A fake Zalo Bot Platform server on 127.0.0.1 (aiohttp): the adapter talks real HTTP to it.

`getUpdates` hands out one update per call, or error 408 when none came during its timeout; every method
is recorded; sends can be told to fail with a given HTTP status and Zalo error code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.channels.local_server import Call, LocalServer

TOKEN = "7384994:ZALO-test-token-never-logged"


@dataclass
class FakeZalo:
    token: str = TOKEN
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failures: list[tuple[str, int, int]] = field(default_factory=list)  # (method, http status, error_code)
    inbox: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # chat -> texts received
    fetched: int = 0
    queued: int = 0
    last_activity: float = 0.0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.server = LocalServer()
        self.base = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.base = await self.server.serve(app)
        return self.base

    async def wake(self) -> None:
        """End the long polls waiting now (a test's teardown: polling stops without waiting them out)."""
        async with self._arrived:
            self._arrived.notify_all()

    async def stop(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()
        await self.server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        try:
            params = await request.json()
        except ValueError:
            params = {}
        if method != "getUpdates":
            self.calls.append(Call(method, params, time.monotonic()))
        if method in {"sendMessage", "sendPhoto"}:  # what a learner would see
            self.last_activity = time.monotonic()
        for index, (failing, status, code) in enumerate(self.failures):
            if failing == method:
                del self.failures[index]
                return web.json_response(
                    {"ok": False, "error_code": code, "description": "injected failure"}, status=status
                )
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "sendMessage":
            text = params.get("text")
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return web.json_response({"ok": False, "error_code": 400, "description": "text is invalid"})
            self.inbox[str(params.get("chat_id"))].append(text)
            return web.json_response({"ok": True, "result": {"message_id": f"b{len(self.calls)}"}})
        if method == "sendPhoto":
            caption = params.get("caption", "")
            self.inbox[str(params.get("chat_id"))].append(f"[photo {params.get('photo')}] {caption}")
            return web.json_response({"ok": True, "result": {"message_id": f"b{len(self.calls)}"}})
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": "bot1", "account_name": "bot.hocvuso"}})
        return web.json_response({"ok": True, "result": True})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        timeout = float(params.get("timeout") or 0)
        if not self.updates and timeout:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
        if not self.updates:
            return web.json_response({"ok": False, "error_code": 408, "description": "Request timeout"})
        update = self.updates.pop(0)
        self.fetched += 1
        return web.json_response({"ok": True, "result": update})

    # --- what a user does ---------------------------------------------------------------------
    def event(self, user_id: str, name: str = "message.text.received", **message: Any) -> dict[str, Any]:
        body = {
            "from": {"id": user_id, "display_name": "Bà Hoa", "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "message_id": f"m{next(self._ids):06d}",
            "date": int(time.time() * 1000),
            **message,
        }
        return {"event_name": name, "message": body}

    async def deliver(self, event: dict[str, Any]) -> None:
        """Queue an event for getUpdates (the same dict twice is a redelivery)."""
        self.updates.append(event)
        self.queued += 1
        async with self._arrived:
            self._arrived.notify_all()

    def sent(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def settle(self, quiet: float = 0.15, limit: float = 15.0) -> None:
        """Wait until every queued update was fetched, something was sent after, and then quiet."""
        deadline = time.monotonic() + limit
        start = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            if (
                self.fetched >= self.queued
                and self.last_activity > start
                and time.monotonic() - self.last_activity > quiet
            ):
                return
        raise AssertionError("the bot did not answer in time")
