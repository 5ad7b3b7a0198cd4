"""What the dashboard leaves for later, done in the background of `hocvuso run` (issue 18):

- scheduled announcements are queued into the outbox when their moment comes (`admin.workflow.release_due`),
  to the learners registered at that moment, and the outbox worker sends them;
- a mentor is told in the chat, once per question, when a question of one of their learners waits (one
  message per pass however many arrived, naming neither the learner nor the question, which the mentor
  reads with the button; never in the quiet hours of the mentor's commune: the next pass after them).

Both go through the persisted outbox; a question or an announcement is claimed by a conditional UPDATE
in the same transaction that queues its message, so two processes (or a restart) never send it twice.
Logs hold counts only — never a question's text, a name or a chat id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import workflow
from bot import texts
from bot.messages import Button, Reply, reply_to_json
from bot.ports import Clock
from data import outbox
from data.commune import CommuneConfig
from data.models import Broadcast, Learner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticesReport:
    """What one pass did."""

    announcements: int  # scheduled announcements queued
    mentors_told: int  # questions whose mentor was told


class Notices:
    """The background pass: `await run_once(now)` in tests, `run_forever(stop)` in `hocvuso run`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        communes: CommuneConfig,
        clock: Clock,
        *,
        poll_seconds: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.communes = communes
        self.clock = clock
        self.poll_seconds = poll_seconds

    async def run_once(self, now: datetime | None = None) -> NoticesReport:
        now = now or self.clock.now()
        async with self.sessions() as session, session.begin():
            released = await workflow.release_due(session, now)
        told = 0
        async with self.sessions() as session, session.begin():
            # one message per mentor and pass, however many of their learners' questions arrived
            claimed: dict[int, tuple[Learner, int]] = {}
            for question, _, mentor in await workflow.questions_for_mentors(session, now):
                commune = self.communes.commune(mentor.commune_id or "")
                if commune is not None and commune.is_quiet(now):
                    continue  # told after the quiet hours, in a later pass
                if not await workflow.claim_notice(session, question.id, now):
                    continue
                claimed[mentor.id] = (mentor, claimed.get(mentor.id, (mentor, 0))[1] + 1)
                told += 1
            for mentor, count in claimed.values():
                reply = Reply(
                    texts.MENTOR_QUESTION_WAITING.format(count=count),
                    (Button(texts.BTN_MENTOR_SEE_QUESTIONS, "m:qs"),),
                )
                # neither what was asked nor who asked is copied: the mentor reads them in /cauhoi
                broadcast = Broadcast(kind="notice", commune_id=mentor.commune_id, text="", created_at=now)
                await outbox.enqueue(session, broadcast, [mentor], reply_to_json(reply), now)
        return NoticesReport(len(released), told)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.run_once()
            except Exception as error:  # a failed pass is tried again at the next one
                log.warning("notices: pass failed (%s)", type(error).__name__)
            else:
                if report.announcements or report.mentors_told:
                    log.info(
                        "notices: %d scheduled announcement(s) queued, %d mentor(s) told of a question",
                        report.announcements,
                        report.mentors_told,
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
