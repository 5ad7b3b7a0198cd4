"""The outbox worker: sends persisted pushes, announcements and answers through the channels.

Rows are claimed (committed as "sending") before a channel is called and recorded as "sent" right after,
so a restart never repeats a message (see `data.outbox`). Each channel has its own pace — a minimum
interval between messages — so a large announcement neither trips Telegram's or Zalo's limits nor holds
back the other channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelSender, ChatUnreachable
from bot.channels.ratelimit import Limits, RateLimiter
from bot.messages import Button, Reply
from bot.ports import Clock
from data import outbox
from data.repository import SqlStore

log = logging.getLogger(__name__)

# Messages per second per channel. Telegram allows about 30 a second across chats; Zalo publishes no
# figure, so we stay well below it. Override per deployment with `rates=`.
DEFAULT_RATES: dict[str, float] = {"telegram": 25.0, "zalo": 10.0}
DEFAULT_RATE = 5.0


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as stored in an outbox row."""
    return {
        "text": reply.text,
        "buttons": [[b.label, b.payload] for b in reply.buttons],
        "image": reply.image,
        "audio": reply.audio,
    }


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    return Reply(
        text=str(data.get("text", "")),
        buttons=tuple(Button(str(label), str(payload)) for label, payload in data.get("buttons", [])),
        image=data.get("image"),
        audio=data.get("audio"),
    )


@dataclass
class Progress:
    """What one pass of the worker did, per status."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


class OutboxWorker:
    """Drains the outbox through the given channel senders; rows of other channels wait untouched."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, ChannelSender],
        clock: Clock,
        *,
        rates: Mapping[str, float] | None = None,
        max_attempts: int = 3,
        batch: int = 100,
        on_progress: Callable[[Progress], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch = batch
        self.on_progress = on_progress
        rates = {**DEFAULT_RATES, **(rates or {})}
        # one send at a time at the channel's rate, on top of the channel's own limits, so a large
        # announcement leaves room for the live conversations
        self.paces = {
            name: RateLimiter(Limits(rates.get(name, DEFAULT_RATE), 1, 0.0, 1), monotonic, sleep)
            for name in self.senders
        }
        self._stop = asyncio.Event()

    async def recover(self) -> int:
        """Call once at start: rows interrupted mid-send become "uncertain" and are not resent."""
        async with self.sessions() as session, session.begin():
            count = await outbox.recover(session, self.clock.now())
        if count:
            log.warning("outbox: %d message(s) were interrupted while sending and will not be resent", count)
        return count

    async def run_once(self) -> Progress:
        """Send everything pending now, each channel at its own pace; returns what happened."""
        progress = Progress()
        await asyncio.gather(*(self._drain(name, progress) for name in self.senders))
        return progress

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        self._stop = stop
        await self.recover()
        while not stop.is_set():
            progress = await self.run_once()
            if progress.sent or progress.failed:
                log.info("outbox: sent %d, failed %d", progress.sent, progress.failed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)

    async def _drain(self, channel: str, progress: Progress) -> None:
        sender = self.senders[channel]
        seen: set[int] = set()
        while True:
            async with self.sessions() as session:
                rows = [r for r in await outbox.pending(session, [channel], self.batch) if r.id not in seen]
            if not rows:
                return
            for row in rows:
                if self._stop.is_set():  # shutting down: the rest waits, pending, for the next start
                    return
                seen.add(row.id)  # a retried row waits for the next pass instead of looping here
                async with self.sessions() as session, session.begin():
                    if not await outbox.claim(session, row.id, self.clock.now()):
                        continue
                await self.paces[channel].acquire(row.chat_id)
                try:
                    await sender.send(row.chat_id, [reply_from_json(row.reply)])
                except ChatUnreachable as gone:  # blocked or gone: no retry, and pushes skip them now
                    log.info(
                        "outbox: %s message %d not sent, the chat is gone (%s)", channel, row.id, gone.reason
                    )
                    async with self.sessions() as session, session.begin():
                        await outbox.finish(session, row.id, "failed", self.clock.now(), "unreachable")
                        await SqlStore(session, self.clock.now()).mark_unreachable(channel, row.chat_id)
                    progress.failed += 1
                except Exception as error:  # the channel refused or failed: retry later, then give up
                    status = "failed" if row.attempts + 1 >= self.max_attempts else "pending"
                    log.warning("outbox: %s message %d not sent (%s)", channel, row.id, type(error).__name__)
                    async with self.sessions() as session, session.begin():
                        await outbox.finish(session, row.id, status, self.clock.now(), type(error).__name__)
                    if status == "failed":
                        progress.failed += 1
                    else:
                        progress.retried += 1
                else:
                    async with self.sessions() as session, session.begin():
                        await outbox.finish(session, row.id, "sent", self.clock.now())
                    progress.sent += 1
                    progress.by_channel[channel] = progress.by_channel.get(channel, 0) + 1
                if self.on_progress is not None:
                    self.on_progress(progress)
