"""Durable before acknowledged: every update is stored before its webhook answers 200 (or before the
polling offset moves past it), then handled from what was stored.

Two stores, one handler (`handle_update`):
- the embedded default (`LocalInbox`, SQLite or one PostgreSQL process): the `inbox` table. Inserts of
  updates arriving together share one transaction (as `Assistant.group_commit` does for handling);
  each stored update is handed to its learner's in-process queue and its row deleted once handled,
  deletes batched too. At start-up, rows still there (acknowledged, never handled: a crash, a kill -9)
  are handled first, in arrival order.
- the cluster mode (`bot.cluster`): Procrastinate's job table, the job's lock being the learner key.

A row handled whose delete was lost in a crash is handled again at start-up and has no second effect:
the processed-event dedup of `Assistant` ignores it (its replies are not sent again). An update of
someone who has not consented leaves no processed-event row (`Assistant._apply`), so that one
pre-consent step (the greeting, say) may be answered twice after such a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.serial import Job, SerialExecutor
from bot.ports import Clock
from bot.service import HANDLED_AGAIN
from data import inbox as store

if TYPE_CHECKING:  # not imported at run time: `hocvuso migrate` should not pay for aiogram's import
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel

log = logging.getLogger(__name__)

Channel: TypeAlias = "TelegramChannel | ZaloChannel"

# set while `handle_update` reads one update: the channel's handlers hand their job to it instead of
# queueing it, so the update is handled to the end (replies delivered) before `handle_update` returns
_COLLECTING: ContextVar[list[Job] | None] = ContextVar("hocvuso_inbox_collecting", default=None)


class InboxExecutor(SerialExecutor):
    """A channel's executor when its updates come from an inbox: jobs made while `handle_update` reads
    an update run inline, in that call; anything else is queued per key as by `SerialExecutor`."""

    def submit(self, key: str, job: Job) -> bool:
        collected = _COLLECTING.get()
        if collected is not None:
            collected.append(job)
            return True
        return super().submit(key, job)


def use_inbox(channel: Channel) -> None:
    """Give the channel an `InboxExecutor` (before any update reaches it)."""
    channel.executor = InboxExecutor()


def sender_id(channel: str, payload: Any) -> str | None:
    """The id of whoever sent the update, as the channel's handlers key it (None when unreadable)."""
    if not isinstance(payload, dict):
        return None
    if channel == "zalo":
        from bot.channels.zalo import unwrap

        event = unwrap(payload)
        message = event.get("message") if event else None
        sender = message.get("from") if isinstance(message, dict) else None
        value = sender.get("id") if isinstance(sender, dict) else None
        return str(value) if value not in (None, "") else None
    for kind, body in payload.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        sender = body.get("from")
        if isinstance(sender, dict) and sender.get("id") is not None:
            return str(sender["id"])
    return None


def learner_key(secret: bytes, channel: str, payload: Any) -> str:
    """The learner's queue key: a keyed hash of the sender (a raw id never reaches a queue table);
    "-" when the update names nobody (it will be skipped as unreadable, in any order)."""
    sender = sender_id(channel, payload)
    if sender is None:
        return "-"
    return hmac.new(secret, f"{channel}:{sender}".encode(), hashlib.sha256).hexdigest()[:32]


async def handle_update(channel: Channel, payload: Any, *, again: bool = False) -> None:
    """Read one stored update and handle it to the end: its effects committed, its replies delivered.
    The one handler of both inboxes. Never raises for an unreadable update (the channel logs it).
    `again`: the update may have been handled before a crash (`bot.service.HANDLED_AGAIN`)."""
    jobs: list[Job] = []
    token = _COLLECTING.set(jobs)
    try:
        if channel.name == "telegram":
            await cast("TelegramChannel", channel).take(payload)
        else:
            cast("ZaloChannel", channel).accept(payload)
    finally:
        _COLLECTING.reset(token)
    marked = HANDLED_AGAIN.set(again)
    try:
        for job in jobs:
            await job()
    finally:
        HANDLED_AGAIN.reset(marked)


@dataclass
class _Pending:
    update: store.Arriving
    stored: asyncio.Future[int]


class LocalInbox:
    """The `inbox` table and an in-process consumer (one process: the embedded default)."""

    MAX_BATCH = 500
    DELETE_DELAY = 0.05  # seconds: handled rows are deleted in batches, this soon

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        secret: bytes,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.secret = secret
        self.clock = clock
        self._arriving: list[_Pending] = []
        self._handled: list[int] = []
        self._writer: asyncio.Task[None] | None = None
        self._arrival = asyncio.Event()  # ends the writer's short wait for more handled rows
        self._replayed = asyncio.Event()  # new updates queue behind the ones stored before a restart
        self.replayed = 0  # updates found stored but unhandled at start-up
        for channel in self.channels.values():
            use_inbox(channel)

    async def receive(self, channel: str, payload: dict[str, Any]) -> None:
        """Store one update (committed when this returns), then queue it for its learner."""
        key = learner_key(self.secret, channel, payload)
        pending = _Pending(store.Arriving(channel, key, payload), asyncio.get_running_loop().create_future())
        self._arriving.append(pending)
        self._arrival.set()
        self._wake()
        row_id = await pending.stored
        await self._replayed.wait()
        self._queue(row_id, channel, key, payload)

    def intake(self, channel: str) -> Callable[[Any], Awaitable[None]]:
        """For the channel's polling loop: store each update before the offset moves past it."""

        async def take(payload: Any) -> None:
            if isinstance(payload, dict):
                await self.receive(channel, payload)
            else:  # nothing to store or answer: the channel logs and counts it
                await handle_update(self.channels[channel], payload)

        return take

    async def replay(self) -> int:
        """Queue every update stored but not handled (before any new one arrives); how many."""
        async with self.sessions() as session:
            rows = await store.waiting(session)
        for row in rows:
            self._queue(row.id, row.channel, row.learner_key, row.payload, again=True)
        self._replayed.set()
        self.replayed = len(rows)
        if rows:
            log.info("handling %d update(s) received before the restart", len(rows))
        return len(rows)

    def _queue(
        self, row_id: int, channel: str, key: str, payload: dict[str, Any], again: bool = False
    ) -> None:
        target = self.channels.get(channel)
        if target is None:  # a channel no longer configured: kept for when it is again
            return
        # queued behind the learner's earlier updates; refused once shutdown began: the row stays and
        # is handled at the next start
        target.executor.submit(f"inbox:{key}", lambda: self._handle(row_id, target, payload, again))

    async def _handle(self, row_id: int, channel: Channel, payload: dict[str, Any], again: bool) -> None:
        try:
            await handle_update(channel, payload, again=again)
        except Exception as error:  # a bug of ours: logged, and not retried forever at each start
            log.error("%s: a stored update failed (%s)", channel.name, type(error).__name__)
        # (cancelled at shutdown: the row stays and is handled at the next start)
        self._handled.append(row_id)
        self._wake(delay=self.DELETE_DELAY)

    # --- writing: inserts and deletes of updates arriving together share one transaction ----------
    def _wake(self, delay: float = 0.0) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write(delay))

    async def _write(self, delay: float) -> None:
        if delay and not self._arriving:
            self._arrival.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), delay)
        batch: list[_Pending] = []
        try:
            while self._arriving or self._handled:
                batch, self._arriving = self._arriving[: self.MAX_BATCH], self._arriving[self.MAX_BATCH :]
                handled, self._handled = self._handled, []
                try:
                    async with self.sessions() as session, session.begin():
                        ids = await store.add(session, [p.update for p in batch], self.clock.now())
                        await store.remove(session, handled)
                except Exception as error:  # not stored: the webhook answers 500 and is sent again
                    log.error(
                        "inbox: %d update(s) could not be stored (%s)", len(batch), type(error).__name__
                    )
                    for pending in batch:
                        if not pending.stored.done():
                            pending.stored.set_exception(error)
                    self._handled[:0] = handled  # deleted with the next batch (or handled again)
                    batch = []
                    if not self._arriving:
                        return
                    continue
                for pending, row_id in zip(batch, ids, strict=True):
                    if not pending.stored.done():
                        pending.stored.set_result(row_id)
                batch = []
        finally:  # cancelled: nobody may wait for a commit that will not come
            for pending in batch + self._arriving:
                if not pending.stored.done():
                    pending.stored.cancel()
            self._arriving = [p for p in self._arriving if not p.stored.done()]

    async def close(self) -> None:
        """After the channels have drained: delete the rows handled last."""
        if self._writer is not None and not self._writer.done():
            with contextlib.suppress(Exception):
                await self._writer
        if self._handled:
            handled, self._handled = self._handled, []
            try:
                async with self.sessions() as session, session.begin():
                    await store.remove(session, handled)
            except Exception as error:  # handled again at start-up, without a second effect
                log.warning("inbox: handled rows not deleted (%s)", type(error).__name__)
