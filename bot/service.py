"""The service layer: one incoming event -> one unit of work in the database -> replies.

Events of one learner are handled one at a time and in order; an event id seen before has no second
effect; an error we cause is logged with context (never the message text or a token) and the learner
gets an apology with a way back to the menu, while everything the event did is rolled back. On SQLite,
events of different learners that arrive together share a transaction (`Assistant.group_commit`); an
event's effects still commit together or not at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import OrderedDict, defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.dialogue import MAX_TEXT, Dialogue
from bot.messages import Button, Incoming, Kind, Reply, reply_from_json, reply_to_json
from bot.ports import Clock
from data.repository import SqlStore

log = logging.getLogger(__name__)
_SURROGATES = re.compile(r"[\ud800-\udfff]")


class _KeyedLocks:
    """An asyncio lock per learner, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: defaultdict[tuple[str, str], int] = defaultdict(int)

    def lock(self, key: tuple[str, str]) -> _Held:
        return _Held(self, key)


class _Held:
    def __init__(self, owner: _KeyedLocks, key: tuple[str, str]) -> None:
        self.owner = owner
        self.key = key

    async def __aenter__(self) -> None:
        self.owner._users[self.key] += 1
        lock = self.owner._locks.setdefault(self.key, asyncio.Lock())
        await lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.owner._locks[self.key].release()
        self.owner._users[self.key] -= 1
        if self.owner._users[self.key] == 0:
            del self.owner._users[self.key]
            del self.owner._locks[self.key]


@dataclass
class _Waiting:
    """An event queued for the next group, and where its replies go."""

    event: Incoming
    done: asyncio.Future[list[Reply]]
    again: bool = False  # handled again after a crash (`HANDLED_AGAIN` of its caller)


UNSTORED_EVENTS = 10_000  # ids of recent events kept in memory only (no consent yet)

# True while an update is handled again after a crash (a cluster job handed back from a dead worker, an
# update stored before a restart): if it was handled before, its kept replies are sent again
HANDLED_AGAIN: ContextVar[bool] = ContextVar("hocvuso_handled_again", default=False)


class Assistant:
    """Handles events from any channel; the one entry point every adapter calls.

    `keep_replies` (on in `build_app`): each event's replies are kept with its processed-event id for
    `REPLIES_KEPT`, then cleared. A worker killed after the commit but before the replies went out would
    otherwise leave the learner unanswered: the update, handed to another worker, has no second effect;
    handled again (`HANDLED_AGAIN`), it now sends the kept replies. At least once, then: a worker killed
    after sending but before its job was closed makes the learner see the same reply twice.

    `group_commit` (SQLite): events of different learners that arrive while a transaction is running
    are handled together in the next one, each after the other, and committed at once. SQLite takes one
    writer at a time anyway; what is saved is each transaction's own cost (session, connection, commit).
    The price is that a group's replies go out when the whole group has committed, so a group stops
    taking events after `GROUP_SECONDS` of work: a slow event (a question, a certificate) holds the
    others back by about that much at most. If any event of a group fails, the group is rolled back
    whole and each of its events is handled again alone, so one learner's error never costs another
    learner their step and nothing counts twice. PostgreSQL runs transactions side by side, so there
    every event keeps its own.
    """

    MAX_GROUP = 32
    GROUP_SECONDS = 0.02

    PURGE_EVERY = timedelta(hours=1)
    REPLIES_KEPT = timedelta(minutes=10)  # far longer than a dead worker's jobs take to be handed back
    FORGET_REPLIES_EVERY = timedelta(minutes=2)

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialogue: Dialogue,
        clock: Clock,
        *,
        group_commit: bool = False,
        event_key: bytes = b"",
        event_retention: timedelta = timedelta(days=30),
        keep_replies: bool = False,
    ) -> None:
        self.sessions = sessions
        self.dialogue = dialogue
        self.clock = clock
        # processed event ids are kept as keyed hashes (a raw id holds the chat id), then purged
        self.event_key = event_key or secrets.token_bytes(32)
        self.event_retention = event_retention
        self._purged_at: datetime | None = None
        self._purging: asyncio.Task[int] | None = None
        self.keep_replies = keep_replies
        self._replies_forgotten_at: datetime | None = None
        self._forgetting: asyncio.Task[int] | None = None
        # events of people who have not consented are not stored; a redelivery is still recognised here
        self._unstored: OrderedDict[str, None] = OrderedDict()
        self._locks = _KeyedLocks()
        self.group_commit = group_commit
        self._waiting: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None

    async def handle(self, event: Incoming) -> list[Reply]:
        text = _SURROGATES.sub("\ufffd", event.text[:MAX_TEXT])  # half an emoji cannot be stored
        payload = _SURROGATES.sub("\ufffd", event.payload)
        name = _SURROGATES.sub("", event.display_name)
        if (text, payload, name) != (event.text, event.payload, event.display_name):
            event = replace(event, text=text, payload=payload, display_name=name)
        # one event of a learner at a time: a group never holds two events of the same learner
        async with self._locks.lock((event.channel, event.user_id)):
            if not self.group_commit:
                return await self._alone(event, HANDLED_AGAIN.get())
            loop = asyncio.get_running_loop()
            waiting = _Waiting(event, loop.create_future(), HANDLED_AGAIN.get())
            self._waiting.append(waiting)
            committer = self._committer
            if committer is None or committer.done() or committer.get_loop() is not loop:
                # (a committer left on another, closed event loop would never answer)
                self._waiting = [w for w in self._waiting if w.done.get_loop() is loop]
                self._committer = loop.create_task(self._commit_groups())
            try:
                return await waiting.done
            except asyncio.CancelledError:
                # not started yet: drop it, since the learner's lock is about to be released
                self._waiting = [w for w in self._waiting if w is not waiting]
                raise

    async def close(self) -> None:
        """Let the events already queued finish (shutdown, before the database engine is closed)."""
        if self._committer is not None and not self._committer.done():
            await self._committer
        for chore in (self._purging, self._forgetting):
            if chore is not None and not chore.done():
                await chore

    async def _commit_groups(self) -> None:
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting[: self.MAX_GROUP], self._waiting[self.MAX_GROUP :]
                if len(group) == 1:
                    results = [await self._alone(group[0].event, group[0].again)]
                else:
                    try:
                        results = await self._together([(w.event, w.again) for w in group])
                    except Exception:  # one of them failed: all rolled back; each again on its own
                        log.info("a group of %d events failed; handling each alone", len(group))
                        results = [await self._alone(w.event, w.again) for w in group]
                    if len(results) < len(group):  # out of time: the rest go first in the next group
                        self._waiting[:0] = group[len(results) :]
                        group = group[: len(results)]
                for waiting, replies in zip(group, results, strict=True):
                    if not waiting.done.done():  # its caller may have been cancelled meanwhile
                        waiting.done.set_result(replies)
                group = []
        finally:  # cancelled (the loop is closing): nobody may wait for an answer that will not come
            for waiting in group + self._waiting:
                waiting.done.cancel()
            self._waiting = []

    async def _together(self, events: list[tuple[Incoming, bool]]) -> list[list[Reply]]:
        """Handle events in one transaction, in order, until they are done or time is up; the replies
        of those handled (a prefix of `events`)."""
        started = time.monotonic()
        results: list[list[Reply]] = []
        async with self.sessions() as session, session.begin():
            for event, again in events:
                results.append(await self._apply(session, event, again))
                if time.monotonic() - started > self.GROUP_SECONDS:
                    break
        return results

    def event_ref(self, event: Incoming) -> str:
        """The event's id as stored and logged: a keyed hash, since a raw id carries the chat id."""
        digest = hmac.new(self.event_key, f"{event.channel}:{event.event_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:40]

    CONFLICT_TRIES = 3

    async def _alone(self, event: Incoming, again: bool = False) -> list[Reply]:
        for attempt in range(1, self.CONFLICT_TRIES + 1):
            try:
                async with self.sessions() as session, session.begin():
                    return await self._apply(session, event, again)
            except IntegrityError as error:
                if is_event_conflict(error):
                    # the same event committed concurrently by another worker: it already had its effect
                    log.info("duplicate event %s/%s ignored", event.channel, self.event_ref(event))
                    return []
                if attempt < self.CONFLICT_TRIES:
                    # another process wrote the same row first (two creating the same learner, say):
                    # everything was rolled back; the next try reads what it wrote
                    log.info(
                        "event %s/%s met a concurrent write (%s); trying again",
                        event.channel,
                        self.event_ref(event),
                        constraint_of(error),
                    )
                    continue
                log.error(
                    "event %s/%s kept conflicting (%s)",
                    event.channel,
                    self.event_ref(event),
                    constraint_of(error),
                )
            except Exception:
                log.exception(
                    "error handling %s event %s/%s", event.kind, event.channel, self.event_ref(event)
                )
            break
        return [Reply(texts.INTERNAL_ERROR, (Button(texts.BTN_MENU, "menu"),))]

    async def _apply(self, session: AsyncSession, event: Incoming, again: bool = False) -> list[Reply]:
        now = self.clock.now()
        store = SqlStore(session, now)
        ref = self.event_ref(event) if event.event_id else ""
        if ref and (ref in self._unstored or not await store.claim_event(event.channel, ref)):
            kept = None
            if self.keep_replies and again and ref not in self._unstored:
                kept = await store.kept_replies(event.channel, ref)
            if kept:
                log.warning(
                    "event %s/%s was handled before a crash: its replies go again", event.channel, ref
                )
                return [reply_from_json(reply) for reply in kept]
            log.info("redelivered event %s/%s ignored", event.channel, ref)
            return []
        replies = await self.dialogue.handle(store, event)
        if ref and store.nothing_to_keep:  # no consent (yet): not even the event's id is kept
            await store.unclaim_event(event.channel, ref)
            self._unstored[ref] = None
            while len(self._unstored) > UNSTORED_EVENTS:
                self._unstored.popitem(last=False)
        elif ref and replies and self.keep_replies and not store.replies_private:
            await store.keep_replies(event.channel, ref, [reply_to_json(reply) for reply in replies])
        self._maybe_purge(now)
        return replies

    def _maybe_purge(self, now: datetime) -> None:
        """Now and then, forget processed event ids older than the retention, and kept replies older
        than `REPLIES_KEPT` (each in its own transaction)."""
        forget_due = self._replies_forgotten_at is None or (
            now - self._replies_forgotten_at >= self.FORGET_REPLIES_EVERY
        )
        if self.keep_replies and forget_due and (self._forgetting is None or self._forgetting.done()):
            self._replies_forgotten_at = now
            self._forgetting = asyncio.get_running_loop().create_task(
                self.forget_replies(now - self.REPLIES_KEPT)
            )
        if self._purged_at is None:  # the first purge runs at start-up (bot.app.build_app)
            self._purged_at = now
            return
        if now - self._purged_at < self.PURGE_EVERY:
            return
        if self._purging is not None and not self._purging.done():
            return
        self._purged_at = now
        self._purging = asyncio.get_running_loop().create_task(self.purge_events(now - self.event_retention))

    async def purge_events(self, before: datetime) -> int:
        async with self.sessions() as session, session.begin():
            removed = await SqlStore(session, before).purge_events(before)
        if removed:
            log.info("forgot %d processed event ids older than %s", removed, before.date())
        return removed

    async def forget_replies(self, before: datetime) -> int:
        try:
            async with self.sessions() as session, session.begin():
                return await SqlStore(session, before).forget_replies(before)
        except Exception as error:  # the next pass clears them
            log.warning("kept replies not cleared (%s)", type(error).__name__)
            return 0


def constraint_of(error: IntegrityError) -> str:
    """The constraint (or table and columns) an IntegrityError names, for logs and the decision
    below: asyncpg says `constraint_name`; SQLite's message says "UNIQUE constraint failed: t.a, t.b".
    Never the values (the engines hide parameters)."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)
    if isinstance(name, str) and name:
        return name
    message = str(error.orig)
    _, _, detail = message.partition("constraint failed: ")
    return detail.strip()[:120] or "unknown constraint"


def is_event_conflict(error: IntegrityError) -> bool:
    """Only the processed-event id's own conflict means "this event was handled already"."""
    return constraint_of(error).startswith(("processed_events", "pk_processed_events"))


def text_event(channel: str, user_id: str, event_id: str, text: str, display_name: str = "") -> Incoming:
    """Translate a typed message: "/cmd arg" becomes a command, anything else text."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        name, _, arg = stripped[1:].partition(" ")
        name = name.split("@", 1)[0]
        return Incoming(
            channel=channel,
            user_id=user_id,
            event_id=event_id,
            kind=Kind.COMMAND,
            text=name.lower(),
            payload=arg.strip(),
            display_name=display_name,
        )
    return Incoming(
        channel=channel,
        user_id=user_id,
        event_id=event_id,
        kind=Kind.TEXT,
        text=text,
        display_name=display_name,
    )
