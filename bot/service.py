"""The service layer: one incoming event -> one unit of work in the database -> replies.

Events of one learner are handled one at a time and in order; an event id seen before has no second
effect; an error we cause is logged with context (never the message text or a token) and the learner
gets an apology with a way back to the menu, while everything the event did is rolled back. On SQLite,
events of different learners that arrive together share a transaction (`Assistant.group_commit`); an
event's effects still commit together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.dialogue import MAX_TEXT, Dialogue
from bot.messages import Button, Incoming, Kind, Reply
from bot.ports import Clock
from data.repository import SqlStore

log = logging.getLogger(__name__)


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


class Assistant:
    """Handles events from any channel; the one entry point every adapter calls.

    `group_commit` (SQLite): events of different learners that arrive while a transaction is running
    are handled together in the next one, each after the other, and committed at once. SQLite takes one
    writer at a time anyway, so nothing runs later than it would have; what is saved is a transaction's
    own cost (session, connection, commit), which under load was a third of each event's. If any event
    of a group fails, the group is rolled back whole and each of its events is handled again alone, so
    one learner's error never costs another learner their step and nothing counts twice.
    PostgreSQL runs transactions side by side, so there every event keeps its own.
    """

    MAX_GROUP = 32

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialogue: Dialogue,
        clock: Clock,
        *,
        group_commit: bool = False,
    ) -> None:
        self.sessions = sessions
        self.dialogue = dialogue
        self.clock = clock
        self._locks = _KeyedLocks()
        self.group_commit = group_commit
        self._waiting: list[tuple[Incoming, asyncio.Future[list[Reply]]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def handle(self, event: Incoming) -> list[Reply]:
        if len(event.text) > MAX_TEXT:
            event = Incoming(**{**event.__dict__, "text": event.text[:MAX_TEXT]})
        # one event of a learner at a time: a group never holds two events of the same learner
        async with self._locks.lock((event.channel, event.user_id)):
            if not self.group_commit:
                return await self._alone(event)
            done: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()
            self._waiting.append((event, done))
            if self._committer is None or self._committer.done():
                self._committer = asyncio.create_task(self._commit_groups())
            return await done

    async def _commit_groups(self) -> None:
        group: list[tuple[Incoming, asyncio.Future[list[Reply]]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting[: self.MAX_GROUP], self._waiting[self.MAX_GROUP :]
                if len(group) == 1:
                    results = [await self._alone(group[0][0])]
                else:
                    try:
                        results = await self._together([event for event, _ in group])
                    except Exception:  # one of them failed: all rolled back; each again on its own
                        log.info("a group of %d events failed; handling each alone", len(group))
                        results = [await self._alone(event) for event, _ in group]
                for (_, done), replies in zip(group, results, strict=True):
                    if not done.done():  # its caller may have been cancelled (shutdown)
                        done.set_result(replies)
                group = []
        finally:  # cancelled (the loop is closing): nobody may wait for an answer that will not come
            for _, done in group + self._waiting:
                done.cancel()
            self._waiting = []

    async def _together(self, events: list[Incoming]) -> list[list[Reply]]:
        async with self.sessions() as session, session.begin():
            return [await self._apply(session, event) for event in events]

    async def _alone(self, event: Incoming) -> list[Reply]:
        try:
            async with self.sessions() as session, session.begin():
                return await self._apply(session, event)
        except IntegrityError:
            # the same event committed concurrently by another worker: it already had its effect
            log.info("duplicate event %s/%s ignored", event.channel, event.event_id)
            return []
        except Exception:
            log.exception("error handling %s event %s/%s", event.kind, event.channel, event.event_id)
            return [Reply(texts.INTERNAL_ERROR, (Button(texts.BTN_MENU, "menu"),))]

    async def _apply(self, session: AsyncSession, event: Incoming) -> list[Reply]:
        store = SqlStore(session, self.clock.now())
        if event.event_id and not await store.claim_event(event.channel, event.event_id):
            log.info("redelivered event %s/%s ignored", event.channel, event.event_id)
            return []
        return await self.dialogue.handle(store, event)


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
