"""What keeps the dashboard's login from being turned against the server or its staff.

- `LoginPolicy`: the numbers (how many password checks an address gets, when an account locks).
- `SlidingWindow`: counts what each key did within the last window, in this process's memory, so a
  flood is refused before it costs a database query or a password hash.
- `PasswordChecks`: argon2 runs in two dedicated threads of lowered CPU priority, at most
  `checks_at_once` at a time with a short queue; the event loop that answers learners never computes a
  hash, and a flood of logins cannot take the processor from the chats.
- `OnceTokens`: login-form tokens that work once.
- `address_key`: the address a throttle counts by (an IPv6 /64, which one subscriber usually holds whole).
- `SecurityHeaders`: an ASGI middleware that puts the security headers on every response, errors too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import os
import random
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Verify = Callable[[str, str], bool]
"""(stored hash, password) -> whether they match; blocking, run in a worker thread."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class LoginPolicy:
    """The login's limits. Every count is over `window` and sliding (no fixed reset time to wait for)."""

    window: timedelta = timedelta(minutes=15)
    # password checks one address may ask for in a window (all usernames together), then 429
    per_address: int = 30
    # login pages one address may load in a window (each carries a fresh one-time token), then 429
    forms_per_address: int = 60
    # failed passwords for one username from one address: then that address is refused for this
    # username until `window` after the last counted failure; refused attempts are not counted
    failures_per_address: int = 5
    # failed passwords for one username from every address together: then the account is refused to
    # every address it has never logged in from (its staff's usual addresses still get in)
    failures_per_account: int = 30
    # password checks computed at the same time, and how many more may wait for one
    checks_at_once: int = 2
    checks_waiting: int = 8
    # compute them only with processor time nothing else wants (see `_lower_priority`)
    checks_when_idle: bool = True
    # a refused (429) login answers after this pause: a client that waits for the answer before trying
    # again is slowed to one try per pause, at the cost of one sleeping coroutine
    tarpit_seconds: float = 1.0
    tarpit_at_once: int = 256
    form_minutes: int = 15  # a login page must be sent within this time
    session_hours: int = 8


class SlidingWindow:
    """At most `limit` events per key within `window`, kept in memory for at most `max_keys` keys (the
    least recently used are forgotten first, so a flood of made-up keys cannot fill the memory)."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until `key` may act again; 0 when it may now."""
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil((events[len(events) - self.limit] + self.window - now).total_seconds()))

    def hit(self, key: str, now: datetime) -> int:
        """Count one event for `key` if it is within the limit (returns 0); otherwise count nothing and
        return the seconds to wait: refused events never extend the wait."""
        wait = self.retry_after(key, now)
        if wait:
            return wait
        events = self._events.setdefault(key, deque())
        events.append(now)
        self._events.move_to_end(key)
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return 0


class OnceTokens:
    """Tokens that can be used once: remembered from first use until they would have expired anyway."""

    def __init__(self, lifetime: timedelta, max_kept: int = 200_000) -> None:
        self.lifetime = lifetime
        self.max_kept = max_kept
        self._used: OrderedDict[str, datetime] = OrderedDict()

    def use(self, token: str, now: datetime) -> bool:
        """True the first time a token is used, False after."""
        while self._used and next(iter(self._used.values())) <= now - self.lifetime:
            self._used.popitem(last=False)
        if token in self._used:
            return False
        self._used[token] = now
        while len(self._used) > self.max_kept:
            self._used.popitem(last=False)
        return True


def _lower_priority() -> None:
    """Run this worker thread (and the threads argon2 starts from it) only when the processor has
    nothing else to do: on Linux each thread has its own scheduling policy and nice value, so the event
    loop's thread takes the processor back at once when a learner's message arrives. SCHED_IDLE needs
    no privilege; nice 19 is the fallback. The price: on a machine kept busy, logins wait."""
    # on another system, or when not allowed, the concurrency limits still hold
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread


class PasswordChecks:
    """Password hashes computed off the event loop, a few at a time, with a bounded queue."""

    def __init__(self, verify: Verify, at_once: int, waiting: int, when_idle: bool = True) -> None:
        self.verify = verify
        self.at_once = at_once
        self.waiting = waiting
        self.when_idle = when_idle
        self._slots = asyncio.Semaphore(at_once)
        self._queued = 0
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.at_once,
                thread_name_prefix="password-check",
                initializer=_lower_priority if self.when_idle else None,
            )
        return self._pool

    async def check(self, password_hash: str, password: str) -> bool | None:
        """Whether the password matches; None when too many checks are already waiting."""
        if self._queued >= self.at_once + self.waiting:
            return None
        self._queued += 1
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._executor(), self.verify, password_hash, password)
        finally:
            self._queued -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class Tarpit:
    """Refusals that answer after a pause (between half and one and a half times `seconds`, so that
    clients refused together do not come back together), at most `at_once` pausing at a time."""

    def __init__(self, seconds: float, at_once: int) -> None:
        self.seconds = seconds
        self.at_once = at_once
        self._sleeping = 0

    async def wait(self) -> None:
        if self.seconds <= 0 or self._sleeping >= self.at_once:
            return
        self._sleeping += 1
        try:
            await asyncio.sleep(self.seconds * (0.5 + random.random()))
        finally:
            self._sleeping -= 1


def address_key(host: str | None) -> str:
    """What throttles count by: the IPv4 address, or the /64 network of an IPv6 address (a subscriber
    gets a whole /64, so counting single IPv6 addresses would count nothing)."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:60]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets `SECURITY_HEADERS` unless it set its own value, so
    errors raised anywhere (404 of an unknown path, 405, 500) carry them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in SECURITY_HEADERS.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend((name, value) for name, value in self._headers if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
