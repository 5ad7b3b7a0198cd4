"""Outgoing rate limits of a channel: an overall rate and a per-chat rate, each a token bucket.

Telegram documents about 30 messages a second overall and about one a second in one chat (short bursts
are tolerated); Zalo publishes no figure. A channel's replies to learners are paced per chat only: the
overall budget belongs to the outbox (`bot.outbox`), which sends pushes at the bulk rate from one process
per bot, so replies never queue behind a push and one process is not held to ~28 replies a second.
Going over the platform's limit makes it answer 429: the adapters then wait the `retry_after` it names,
and the listeners (the outbox worker) pass the pause on to every process of the fleet.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Messages per second and burst size, overall and per chat; a rate of 0 means no limit."""

    overall_rate: float
    overall_burst: int
    chat_rate: float
    chat_burst: int


# replies: per chat only (the bulk rate is the outbox's, see the module's docstring)
TELEGRAM_LIMITS = Limits(overall_rate=0.0, overall_burst=1, chat_rate=1.0, chat_burst=3)
ZALO_LIMITS = Limits(overall_rate=0.0, overall_burst=1, chat_rate=1.0, chat_burst=3)
UNLIMITED = Limits(overall_rate=0.0, overall_burst=1, chat_rate=0.0, chat_burst=1)


def bot_key(channel: str, token: str) -> str:
    """How the outbox names a bot in the database: its channel and a short hash of its token (never the
    token), so processes with the same token share one bulk sender and one pause, and two bots do not."""
    return f"{channel}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


class TokenBucket:
    """`burst` sends at once, then one every 1/`rate` seconds."""

    def __init__(self, rate: float, burst: int, monotonic: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.monotonic = monotonic
        self.tokens = float(self.burst)
        self.stamp = monotonic()

    def delay(self) -> float:
        """Take a token; how long to wait before using it (0 when one was available)."""
        if self.rate <= 0:
            return 0.0
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self) -> bool:
        return self.rate <= 0 or self.tokens + (self.monotonic() - self.stamp) * self.rate >= self.burst


class RateLimiter:
    """Waits before each send as long as both the overall and the chat's bucket require."""

    MAX_CHATS = 10_000  # buckets of chats that are idle again are dropped beyond this many

    def __init__(
        self,
        limits: Limits,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self.sleep = sleep
        self.overall = TokenBucket(limits.overall_rate, limits.overall_burst, monotonic)
        self.chats: dict[str, TokenBucket] = {}
        self.paused_until = 0.0
        # told of each pause the platform asked for (the outbox shares it with the other processes)
        self.listeners: list[Callable[[float], None]] = []

    async def acquire(self, chat_id: str) -> None:
        chat_wait = 0.0
        if self.limits.chat_rate > 0:  # no bucket per chat (and none kept) when chats are not limited
            bucket = self.chats.get(chat_id)
            if bucket is None:
                if len(self.chats) >= self.MAX_CHATS:
                    self.chats = {k: b for k, b in self.chats.items() if not b.idle()}
                bucket = self.chats[chat_id] = TokenBucket(
                    self.limits.chat_rate, self.limits.chat_burst, self.monotonic
                )
            chat_wait = bucket.delay()
        wait = max(chat_wait, self.overall.delay(), self.paused_until - self.monotonic())
        if wait > 0:
            await self.sleep(wait)

    def pause(self, seconds: float, *, tell: bool = True) -> None:
        """The platform said "too many requests, retry after N s": hold every send that long; `tell`
        the listeners unless the pause came from them (another process was told)."""
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)
        if tell:
            for listener in self.listeners:
                listener(seconds)
