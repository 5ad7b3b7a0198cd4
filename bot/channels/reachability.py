"""Whether a learner's chat can still be written to, recorded as the channels learn it.

A channel says so in two ways: it refuses a message for good (Telegram 403 "bot was blocked by the
user" or 400 "chat not found"; the same kinds of answer from Zalo), or it tells us (Telegram's
`my_chat_member` update: "kicked" when the learner blocks the bot, "member" when they unblock it).
An unreachable learner is skipped by pushes and announcements, and their waiting outbox messages are
given up at once instead of being retried. Writing to the assistant again makes them reachable
(`data.repository.SqlStore.learner`).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ports import Clock
from data.repository import SqlStore

log = logging.getLogger(__name__)


class Reachability:
    """Marks a channel's chat unreachable or reachable again, each in its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def unreachable(self, channel: str, chat_id: str, reason: str) -> None:
        try:
            async with self.sessions() as session, session.begin():
                marked = await SqlStore(session, self.clock.now()).mark_unreachable(channel, chat_id)
        except Exception as error:  # a database hiccup: the next refusal marks them
            log.warning("%s: could not record an unreachable chat (%s)", channel, type(error).__name__)
            return
        if marked:
            log.info("%s: a learner can no longer be written to (%s); pushes skip them", channel, reason)

    async def reachable(self, channel: str, chat_id: str) -> None:
        try:
            async with self.sessions() as session, session.begin():
                marked = await SqlStore(session, self.clock.now()).mark_reachable(channel, chat_id)
        except Exception as error:
            log.warning("%s: could not record a reachable chat (%s)", channel, type(error).__name__)
            return
        if marked:
            log.info("%s: a learner can be written to again", channel)
