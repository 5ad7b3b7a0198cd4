"""The outbox worker: sends persisted pushes, announcements, answers and reminders through the channels,
in one process or in many at once (cluster mode on PostgreSQL).

Rows are claimed (committed as "sending", under a lease) before a channel is called and recorded right
after, so no message is sent twice (see `data.outbox`). Per channel, two lanes run side by side:
- **replies** (answers to what a learner asked, priority 0): claimed by every process, several in
  flight, paced per chat by the channel's own limiter and never by the bulk rate, so a push of 10,000
  rows does not delay them;
- **bulk** (pushes, announcements, reminders, digests): sent only by the process holding the bot's
  lease in `outbox_senders`, one send started every 1/rate seconds, so the platform's rate (Telegram
  about 30 messages/s per bot) holds across the whole fleet. If that process dies, its lease runs out
  and another one goes on.
A 429 seen by any process is written to the bot's row (`paused_until`); every process reads it on its
next beat and holds every send of that bot, replies included, until then.
A row left "sending" by a process that died becomes "uncertain" once its lease has run out (any process
does this, row by row); on SQLite (one process) rows left "sending" at start become "uncertain" at once.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import logging
import math
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelSender, ChatUnreachable
from bot.channels.ratelimit import RateLimiter
from bot.messages import reply_from_json
from bot.ports import Clock
from data import outbox
from data.repository import SqlStore

log = logging.getLogger(__name__)

# Bulk messages per second per bot. Telegram allows about 30 a second across chats, replies included;
# Zalo publishes no figure, so we stay well below it. The gap to the platform's figure is what replies
# use while a push goes out. Override per deployment with `rates=` (HOCVUSO_OUTBOX_RATES).
DEFAULT_RATES: dict[str, float] = {"telegram": 25.0, "zalo": 10.0}
DEFAULT_RATE = 5.0
REPLY_CONCURRENCY = 8  # replies in flight per channel and process
# bulk rows are claimed this many seconds of sending ahead, in one transaction: one claim per send held
# a busy process (its event loop handling updates) to a third of the rate. The price: if the process
# dies, the rows claimed ahead (5 at 25/s) become "uncertain" with those in flight, and are not sent.
CLAIM_AHEAD = 0.2
BULK_ROUND_TRIP = 0.25  # seconds a platform may take to answer: enough sends in flight to hold the rate


def process_name() -> str:
    """This process among the fleet: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Progress:
    """What the worker did since it started (or in one pass of `run_once`), per status."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


@dataclass
class _Lane:
    """One channel's replies or bulk rows: what is in flight, and the rows that failed in this pass
    and wait, pending, for the next one."""

    channel: str
    priorities: tuple[int, int]
    limit: int
    tasks: dict[asyncio.Future[None], tuple[list[int], str]] = field(default_factory=dict)  # rows, chat
    tried: set[int] = field(default_factory=set)
    ready: deque[outbox.Claimed] = field(default_factory=deque)  # bulk: claimed ahead, to go next


class OutboxWorker:
    """Drains the outbox through the given channel senders; rows of other channels wait untouched.

    `holder` names this process in the rows it claims (default: host, pid, random); `shared` says
    whether other processes may send from the same database (default: any database but SQLite)."""

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
        holder: str | None = None,
        shared: bool | None = None,
        row_lease: float = 60.0,
        sender_lease: float = 10.0,
        beat: float = 1.0,
        reply_poll: float = 0.25,
        concurrency: int | None = None,
        window: float = 1.05,
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch = batch  # kept for callers: replies are claimed up to REPLY_CONCURRENCY at a time
        self.on_progress = on_progress
        self.monotonic = monotonic
        self.sleep = sleep
        self.holder = holder or process_name()
        self.shared = _shared(sessions) if shared is None else shared
        self.row_lease = timedelta(seconds=row_lease)
        self.sender_lease = sender_lease
        self.beat = beat
        self.reply_poll = reply_poll
        self.window = window
        rates = {**DEFAULT_RATES, **(rates or {})}
        self.rates = {name: rates.get(name, DEFAULT_RATE) for name in self.senders}
        self.keys = {name: str(getattr(s, "bot_key", name)) for name, s in self.senders.items()}
        # bulk sends in flight: enough for the rate when the platform takes BULK_ROUND_TRIP to answer;
        # one at a time when the rate is unlimited (tests, a local fake)
        self.concurrency = {
            name: concurrency or (min(16, max(1, math.ceil(rate * BULK_ROUND_TRIP))) if rate > 0 else 1)
            for name, rate in self.rates.items()
        }
        self.claim_ahead = {
            name: max(1, math.ceil(rate * CLAIM_AHEAD)) if rate > 0 else 1
            for name, rate in self.rates.items()
        }
        self.progress = Progress()
        # the bulk sender stops handing sends to the channel this long before its lease ends, and a new
        # holder starts a window and this long after taking the lease
        self._guard = min(1.0, sender_lease / 4)
        self._next_bulk = dict.fromkeys(self.senders, -math.inf)  # monotonic time of the next bulk send
        # when the recent bulk sends went out (sorted; those older than two windows are dropped)
        self._started: dict[str, list[float]] = {name: [] for name in self.senders}
        self._lease_until = dict.fromkeys(self.senders, -math.inf)  # monotonic end of our bot lease
        self._paused_until = dict.fromkeys(self.senders, -math.inf)  # monotonic end of a 429 pause
        self._in_flight: dict[int, str] = {}  # row id -> channel, for renewing their leases
        self._bulk_sending = dict.fromkeys(self.senders, 0)  # bulk sends handed to the channel, not back
        self._flying: dict[str, dict[int, float]] = {name: {} for name in self.senders}  # row -> when it went
        self._sent: list[int] = []  # rows sent, not recorded yet
        self._sent_writer: asyncio.Future[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        for name, sender in self.senders.items():  # a 429 seen by a channel pauses the fleet
            limiter = getattr(sender, "limiter", None)
            if isinstance(limiter, RateLimiter):
                limiter.listeners.append(functools.partial(self._platform_paused, name))

    # --- public -----------------------------------------------------------------------------------
    async def recover(self) -> int:
        """Call once at start. Alone on the database (SQLite), every row left "sending" by the previous
        run becomes "uncertain" at once; shared, only rows whose lease ran out do (another process may
        be sending the others right now). Either way they are never resent."""
        async with self.sessions() as session, session.begin():
            now = self.clock.now()
            count = await (outbox.expire(session, now) if self.shared else outbox.recover(session, now))
        if count:
            log.warning("outbox: %d message(s) were interrupted while sending and will not be resent", count)
        return count

    async def run_once(self) -> Progress:
        """Send everything pending now (bulk rows only if this process holds the bot's lease, or can
        take it), each channel at its own pace; returns what this pass did."""
        before = Progress(self.progress.sent, self.progress.failed, self.progress.retried)
        before.by_channel = dict(self.progress.by_channel)
        async with self.sessions() as session, session.begin():
            await outbox.expire(session, self.clock.now())
        await asyncio.gather(
            *(self._drain(self._reply_lane(name)) for name in self.senders),
            *(self._drain(self._bulk_lane(name)) for name in self.senders),
        )
        done = Progress(
            self.progress.sent - before.sent,
            self.progress.failed - before.failed,
            self.progress.retried - before.retried,
        )
        for name, count in self.progress.by_channel.items():
            if count > before.by_channel.get(name, 0):
                done.by_channel[name] = count - before.by_channel.get(name, 0)
        return done

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        """Until `stop`: each channel's reply and bulk lanes, and the beat that shares leases and
        pauses with the other processes. Stops claiming at `stop`, finishes what is in flight."""
        self._stop = stop
        await self.recover()
        loops = [self._beat_forever()]
        for name in self.senders:
            loops.append(self._lane_forever(self._reply_lane(name), min(poll_seconds, self.reply_poll)))
            loops.append(self._lane_forever(self._bulk_lane(name), poll_seconds))
        try:
            await asyncio.gather(*loops)
        finally:
            with contextlib.suppress(Exception):  # the others take over at once instead of at expiry
                async with self.sessions() as session, session.begin():
                    for name in self.senders:
                        await outbox.release(session, self.keys[name], self.holder)

    # --- lanes ------------------------------------------------------------------------------------
    def _reply_lane(self, channel: str) -> _Lane:
        return _Lane(channel, (outbox.REPLY, outbox.REPLY), REPLY_CONCURRENCY)

    def _bulk_lane(self, channel: str) -> _Lane:
        return _Lane(channel, (outbox.PUSH, outbox.BULK), self.concurrency[channel])

    async def _lane_forever(self, lane: _Lane, poll: float) -> None:
        while not self._stop.is_set():
            lane.tried.clear()  # a row retried in the last pass may go again
            try:
                await self._drain(lane)
            except Exception as error:  # the database went away: try again after a pause
                log.warning("outbox: %s lane failed (%s)", lane.channel, type(error).__name__)
            await self._wait(poll)

    async def _drain(self, lane: _Lane) -> None:
        """Claim and send rows of the lane until none is left (or the stop), then wait for those in
        flight. Replies are claimed several at a time (one task per chat, its rows in order); bulk
        rows are claimed `CLAIM_AHEAD` seconds ahead and go one by one at the pace. A send that dies
        (the task cancelled) stops the lane: the process is going down."""
        bulk = lane.priorities[0] > outbox.REPLY
        try:
            while not self._stop.is_set():
                await self._reap(lane, wait=len(lane.tasks) >= lane.limit)
                await self._wait_pause(lane.channel)
                if bulk and not await self._hold(lane.channel):
                    break  # another process sends this bot's bulk rows
                if bulk:
                    if not lane.ready:
                        lane.ready.extend(await self._claim(lane, self.claim_ahead[lane.channel]))
                        for row in lane.ready:  # their leases are renewed while they wait
                            self._in_flight[row.id] = lane.channel
                    if not lane.ready:
                        break
                    while lane.ready and lane.ready[0].chat_id in {chat for _, chat in lane.tasks.values()}:
                        await self._reap(lane, wait=True)  # one message at a time per chat
                    if not lane.ready:  # given up meanwhile (the chat is gone)
                        continue
                    await self._pace(lane.channel)
                    rows = [lane.ready.popleft()]
                else:
                    rows = await self._claim(lane, lane.limit - len(lane.tasks))
                    if not rows:
                        break
                by_chat: dict[str, list[outbox.Claimed]] = {}
                for row in rows:
                    by_chat.setdefault(row.chat_id, []).append(row)
                for chat, mine in by_chat.items():
                    task = asyncio.ensure_future(self._send_all(lane, mine, bulk))
                    lane.tasks[task] = ([row.id for row in mine], chat)
                    for row in mine:
                        self._in_flight[row.id] = lane.channel
        finally:
            while lane.tasks:
                await self._reap(lane, wait=True)
            await self._flush_sent()
            if lane.ready:  # stopping, or the bot's lease went to another process: never tried
                await self._unclaim(lane)

    async def _unclaim(self, lane: _Lane) -> None:
        ids = [row.id for row in lane.ready]
        lane.ready.clear()
        for row_id in ids:
            self._in_flight.pop(row_id, None)
        try:
            async with self.sessions() as session, session.begin():
                await outbox.unclaim(session, ids, self.holder)
        except Exception as error:  # their lease runs out: "uncertain", never sent twice
            log.warning("outbox: %d claimed row(s) not given back (%s)", len(ids), type(error).__name__)

    async def _reap(self, lane: _Lane, *, wait: bool) -> None:
        if wait and lane.tasks:
            await asyncio.wait(list(lane.tasks), return_when=asyncio.FIRST_COMPLETED)
        for task in [t for t in lane.tasks if t.done()]:
            row_ids, _ = lane.tasks.pop(task)
            for row_id in row_ids:
                self._in_flight.pop(row_id, None)
            task.result()  # re-raises a cancellation: the process is stopping

    async def _claim(self, lane: _Lane, limit: int) -> list[outbox.Claimed]:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            rows = await outbox.claim_next(
                session,
                lane.channel,
                lane.priorities,
                self.holder,
                now,
                now + self.row_lease,
                limit=limit,
                skip_ids=lane.tried,
                skip_chats=[chat for _, chat in lane.tasks.values()],  # one at a time per chat
            )
        return rows

    async def _pace(self, channel: str) -> None:
        """Bulk sends are handed out on a schedule of one every `window`/rate seconds (starts that
        came late do not push the next ones back, so the rate is kept); each then waits for its
        `_slot`: never more than `rate` of them within `window` seconds, counting each send when it
        really went out and each send a 429 held again at the pause's end. `window` is 1.05 s by
        default: the 5 % over a second leaves room for the jitter between a send here and its arrival
        at the platform, whose count must stay within the rate in every second."""
        rate = self.rates[channel]
        if rate <= 0:
            return
        interval = self.window / rate
        now = self.monotonic()
        at = self._next_bulk[channel]
        if now - at >= self.window:  # idle for a while: start now, nothing to catch up
            at = now
        # (late by less than that, as a busy event loop makes each wake-up: the schedule is kept, so
        # the next sends go at once until it is caught up, never more than `rate` in a window)
        at = max(at, self._window_free(channel, at), self._paused_until[channel])
        if at > now:
            await self.sleep(at - now)
        self._next_bulk[channel] = at + interval

    def _window_free(self, channel: str, at: float) -> float:
        """The earliest time from `at` on when fewer than `rate` recorded sends lie within the window
        before it (no send is recorded ahead of its time but a refused one, at its pause's end, and
        nothing is paced before that end)."""
        started, limit = self._started[channel], int(self.rates[channel])
        if limit <= 0:
            return at
        # sends still in the channel's hands since before the window may reach the platform now
        room = limit - sum(1 for went in self._flying[channel].values() if went <= at - self.window)
        if room <= 0:
            return at + 0.05  # until one comes back (checked again then)
        if len(started) < room:
            return at
        return max(at, started[-room] + self.window)

    async def _slot(self, channel: str) -> bool:
        """Until a bulk send may go out now: fewer than `rate` sends went out within the window, and
        no pause. Checked again after every wait (other sends may have gone meanwhile), then the send
        is recorded at once: the count is of sends as they really left, not as they were planned (a
        busy event loop starts a planned send tens of milliseconds late). False when this process
        no longer holds the bot's lease (another one sends now)."""
        while True:
            now = self.monotonic()
            if self.shared and self._lease_until[channel] - now <= self._guard:
                # too close to the lease's end to hand a send over: a starved event loop may put it on
                # the wire late, into the first second of the next holder (renewed meanwhile: goes on)
                if self._lease_until[channel] <= now:
                    return False
                await self.sleep(min(0.1, self._lease_until[channel] - now))
                continue
            free = max(self._window_free(channel, now), self._paused_until[channel])
            if free <= now:
                return True
            await self.sleep(free - now)

    def _came_back(self, channel: str, went: float) -> None:
        """A bulk send is back from the channel. It reached the platform between `went` and now; if
        that span is longer than the window's margin over a second, it may have left late (a starved
        event loop writes requests late, several together): it is counted from now instead, never
        less than before. (Moving every send by the same round trip changes no count.)"""
        back = self.monotonic()
        if back - went <= self.window - 1.0:
            return
        started = self._started[channel]
        index = bisect.bisect_left(started, went)
        if index < len(started) and started[index] == went:
            del started[index]
        self._went(channel, back)

    def _went(self, channel: str, at: float) -> None:
        """Record a bulk send going out at `at` (monotonic), in order; forget those long gone."""
        started = self._started[channel]
        bisect.insort(started, at)
        horizon = at - 2 * self.window
        if started[0] < horizon:
            del started[: bisect.bisect_left(started, horizon)]

    async def _send_all(self, lane: _Lane, rows: list[outbox.Claimed], bulk: bool) -> None:
        for row in rows:  # one chat's rows, in order
            await self._send(lane, row, bulk)

    async def _send(self, lane: _Lane, row: outbox.Claimed, bulk: bool) -> None:
        """Send one claimed row and record the outcome."""
        channel = lane.channel
        sender = self.senders[channel]
        if bulk:
            if not await self._slot(channel):  # never tried: back to pending, for the lease's holder
                self._in_flight.pop(row.id, None)
                async with self.sessions() as session, session.begin():
                    await outbox.unclaim(session, [row.id], self.holder)
                return
            went = self.monotonic()
            self._went(channel, went)  # (no await between the last check and the send)
            self._bulk_sending[channel] += 1
            self._flying[channel][row.id] = went
        try:
            try:
                await sender.send(row.chat_id, [reply_from_json(row.reply)])
            finally:
                if bulk:
                    self._bulk_sending[channel] -= 1
                    self._flying[channel].pop(row.id, None)
                    self._came_back(channel, went)
        except ChatUnreachable as gone:  # blocked or gone: no retry, and pushes skip them now
            log.info("outbox: %s message %d not sent, the chat is gone (%s)", channel, row.id, gone.reason)
            waiting = [r for r in lane.ready if r.chat_id == row.chat_id]  # claimed ahead: given up too
            for other in waiting:
                lane.ready.remove(other)
                self._in_flight.pop(other.id, None)
            async with self.sessions() as session, session.begin():
                await outbox.finish(session, row.id, "failed", self.clock.now(), "unreachable")
                await outbox.unclaim(session, [r.id for r in waiting], self.holder)
                await SqlStore(session, self.clock.now()).mark_unreachable(channel, row.chat_id)
            self.progress.failed += 1
        except Exception as error:  # the channel refused or failed: retry later, then give up
            status = "failed" if row.attempts >= self.max_attempts else "pending"
            if status == "pending":
                lane.tried.add(row.id)  # pending again, but not before the lane's next pass
            log.warning("outbox: %s message %d not sent (%s)", channel, row.id, type(error).__name__)
            async with self.sessions() as session, session.begin():
                await outbox.finish(session, row.id, status, self.clock.now(), type(error).__name__)
            if status == "failed":
                self.progress.failed += 1
            else:
                self.progress.retried += 1
        else:
            self._note_sent(row.id)
            self.progress.sent += 1
            self.progress.by_channel[channel] = self.progress.by_channel.get(channel, 0) + 1
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _note_sent(self, row_id: int) -> None:
        """Record a row as sent, with the others sent meanwhile: one write while the previous one
        runs, so a busy process does not hold a send's slot for a transaction of its own. (A process
        killed before the write leaves these rows "sending": "uncertain" once their lease ran out.)"""
        self._sent.append(row_id)
        if self._sent_writer is None or self._sent_writer.done():
            self._sent_writer = asyncio.ensure_future(self._write_sent())

    async def _write_sent(self) -> None:
        failures = 0
        while self._sent:
            ids, self._sent = self._sent, []
            try:
                async with self.sessions() as session, session.begin():
                    await outbox.finish_sent(session, ids, self.clock.now())
            except Exception as error:  # the database is away: again in a moment
                failures += 1
                log.warning("outbox: %d sent row(s) not recorded yet (%s)", len(ids), type(error).__name__)
                self._sent[:0] = ids
                if failures >= 5:  # their lease runs out: "uncertain", never sent again
                    return
                await asyncio.sleep(1.0)

    async def _flush_sent(self) -> None:
        """Until every row sent so far is recorded (end of a pass, shutdown)."""
        while self._sent_writer is not None and not self._sent_writer.done():
            await self._sent_writer
        if self._sent:
            self._sent_writer = asyncio.ensure_future(self._write_sent())
            await self._sent_writer

    # --- what is shared with the other processes ---------------------------------------------------
    async def _hold(self, channel: str) -> bool:
        """Whether this process may send the bot's bulk rows now: it holds the lease with at least
        half of it left, or takes or renews it now."""
        now = self.monotonic()
        if self._lease_until[channel] - now > self.sender_lease / 2:
            return True
        wall = self.clock.now()
        async with self.sessions() as session, session.begin():
            state = await outbox.hold(
                session, self.keys[channel], self.holder, wall, wall + timedelta(seconds=self.sender_lease)
            )
        if state is None:
            self._lease_until[channel] = -math.inf
            return False
        if self.shared and self._lease_until[channel] <= now:
            # taken (not renewed): the process that held it may have sent up to the rate in the window
            # before its lease ran out, and this one has not seen those sends; it starts a window (and
            # the guard) later
            self._next_bulk[channel] = max(self._next_bulk[channel], now + self.window + self._guard)
        self._lease_until[channel] = now + self.sender_lease
        self._apply_pause(channel, state.paused_until)
        return True

    def _apply_pause(self, channel: str, paused_until: datetime | None) -> None:
        if paused_until is None:
            return
        if paused_until.tzinfo is None:  # SQLite gives back what it stored, in UTC, without the zone
            paused_until = paused_until.replace(tzinfo=UTC)
        remaining = (paused_until - self.clock.now()).total_seconds()
        if remaining <= 0:
            return
        self._hold_back(channel, self.monotonic() + remaining)
        limiter = getattr(self.senders[channel], "limiter", None)
        if isinstance(limiter, RateLimiter):  # the channel's own replies wait too
            limiter.pause(remaining, tell=False)

    def _platform_paused(self, channel: str, seconds: float) -> None:
        """A channel of this process was told 429: pause here, and tell the fleet through the bot's row.
        The refused send goes again when the pause ends (see `_hold_back`)."""
        self._hold_back(channel, self.monotonic() + seconds)
        until = self.clock.now() + timedelta(seconds=seconds)

        async def write() -> None:
            try:
                async with self.sessions() as session, session.begin():
                    await outbox.pause(session, self.keys[channel], until)
            except Exception as error:  # the local pause still holds
                log.warning("outbox: could not share a pause of %s (%s)", channel, type(error).__name__)

        task = asyncio.ensure_future(write())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _hold_back(self, channel: str, end: float) -> None:
        """Pause the lanes until `end`. Every bulk send in the channel's hands may be held there
        until then and go at `end`, with the send the platform refused: each counts among
        the sends of that second (one too many counted, never one too few: a send that had already
        reached the platform, or a refused reply, is counted as well)."""
        if end <= self._paused_until[channel] + 0.05:  # the same pause, read again from the database
            self._paused_until[channel] = max(self._paused_until[channel], end)
            return
        self._paused_until[channel] = end
        for _ in range(self._bulk_sending[channel] + 1):
            self._went(channel, end)

    async def _wait_pause(self, channel: str) -> None:
        wait = self._paused_until[channel] - self.monotonic()
        if wait > 0:
            await self._wait(wait)

    async def _beat_forever(self) -> None:
        """Every `beat`: read the bots' pauses, extend the leases of rows in flight, and mark rows
        whose lease ran out (their process died mid-send) "uncertain"."""
        while not self._stop.is_set():
            try:
                await self._beat()
            except Exception as error:  # the database went away: the next beat tries again
                log.warning("outbox: beat failed (%s)", type(error).__name__)
            await self._wait(self.beat)

    async def _beat(self) -> None:
        now, mono = self.clock.now(), self.monotonic()
        renewed: dict[str, bool] = {}
        async with self.sessions() as session, session.begin():
            # the bots' leases this process holds are kept alive here too: a lane waiting out a long 429
            # pause would otherwise let its lease run out, and another process would start sending while
            # this one's sends held by the pause went out at its end
            for name, key in self.keys.items():
                if self._lease_until[name] > mono:
                    until = now + timedelta(seconds=self.sender_lease)
                    renewed[name] = await outbox.hold(session, key, self.holder, now, until) is not None
            states = await outbox.senders(session, list(self.keys.values()))
            await outbox.renew(session, list(self._in_flight), self.holder, now + self.row_lease)
            expired = await outbox.expire(session, now)
        for name, kept in renewed.items():
            self._lease_until[name] = mono + self.sender_lease if kept else -math.inf
        for name, key in self.keys.items():
            if key in states:
                self._apply_pause(name, states[key].paused_until)
        if expired:
            log.warning(
                "outbox: %d message(s) were interrupted while sending and will not be resent", expired
            )

    async def _wait(self, seconds: float) -> None:
        """Sleep, cut short by the stop."""
        if self._stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)


def _shared(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether other processes may send from this database: any database but SQLite."""
    bind = sessions.kw.get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", "sqlite")
    return dialect != "sqlite"
