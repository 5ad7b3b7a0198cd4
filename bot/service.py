"""The service layer: one incoming event -> one database transaction -> replies.

Events of one learner are handled one at a time and in order; an event id seen before has no second
effect; an error we cause is logged with context (never the message text or a token) and the learner
gets an apology with a way back to the menu, while the transaction is rolled back whole.
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
    """Handles events from any channel; the one entry point every adapter calls."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialogue: Dialogue,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.dialogue = dialogue
        self.clock = clock
        self._locks = _KeyedLocks()

    async def handle(self, event: Incoming) -> list[Reply]:
        if len(event.text) > MAX_TEXT:
            event = Incoming(**{**event.__dict__, "text": event.text[:MAX_TEXT]})
        async with self._locks.lock((event.channel, event.user_id)):
            try:
                return await self._handle(event)
            except IntegrityError:
                # the same event committed concurrently by another worker: it already had its effect
                log.info("duplicate event %s/%s ignored", event.channel, event.event_id)
                return []
            except Exception:
                log.exception("error handling %s event %s/%s", event.kind, event.channel, event.event_id)
                return [Reply(texts.INTERNAL_ERROR, (Button(texts.BTN_MENU, "menu"),))]

    async def _handle(self, event: Incoming) -> list[Reply]:
        async with self.sessions() as session, session.begin():
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
