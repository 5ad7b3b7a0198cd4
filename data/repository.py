"""The engine's store over one SQLAlchemy session: reads and writes, never commits.

The service layer (`bot.service`) opens one transaction per incoming event and commits it; every write
here is therefore part of that single unit of work.
"""

from __future__ import annotations

import functools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from data import outbox
from data import reminders as reminder_store
from data.models import (
    Broadcast,
    Certificate,
    Completion,
    ConversationState,
    Learner,
    LessonProgress,
    MentorCode,
    MentorInvite,
    OutboxMessage,
    ProcessedEvent,
    QuizAnswer,
    QuizAttempt,
    UnansweredQuestion,
)

ACTIVITY_RESOLUTION = timedelta(minutes=10)
MAX_OPEN_QUESTIONS = 5  # a learner's questions waiting for people at once; more are not queued


def _insert_for(dialect: str, table: Any) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


@functools.cache
def _hot_statements(dialect: str) -> _Hot:
    return _Hot(dialect)


class _Hot:
    """The statements of every button press, built once per dialect with bound parameters: building
    them anew for each event (and their upserts' `excluded` columns) cost more than running them."""

    def __init__(self, dialect: str) -> None:
        claim = _insert_for(dialect, ProcessedEvent.__table__)
        self.claim_event = claim.on_conflict_do_nothing()
        state = _insert_for(dialect, ConversationState.__table__)
        self.save_state = state.on_conflict_do_update(
            index_elements=["learner_id"],
            set_={"state": state.excluded.state, "updated_at": state.excluded.updated_at},
        )
        progress = _insert_for(dialect, LessonProgress.__table__)
        table = LessonProgress.__table__
        self.reach_card = progress.on_conflict_do_update(
            index_elements=["learner_id", "lesson_id"],
            set_={"card_number": progress.excluded.card_number, "updated_at": progress.excluded.updated_at},
            where=progress.excluded.card_number > table.c.card_number,
        )
        self.state = select(ConversationState.state).where(
            ConversationState.learner_id == bindparam("learner_id")
        )
        self.card_reached = select(LessonProgress.card_number).where(
            LessonProgress.learner_id == bindparam("learner_id"),
            LessonProgress.lesson_id == bindparam("lesson_id"),
        )
        # the learner with their conversation state: every event reads both, one statement instead of two
        self.learner = (
            select(Learner, ConversationState.state)
            .outerjoin(ConversationState, ConversationState.learner_id == Learner.id)
            .where(Learner.channel == bindparam("channel"), Learner.channel_user_id == bindparam("user_id"))
        )


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every time we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SqlStore:
    """Implements `bot.ports.Store` on a session; `now` is the time of the event being handled."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self._connection: AsyncConnection | None = None
        self._dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        self._hot = _hot_statements(self._dialect)
        self._states_read: dict[int, Any] = {}  # read with the learner, handed out once by `state`
        self.nothing_to_keep = False  # set for a person who has not consented: the event leaves no trace
        # someone's data was erased in this event, or its replies quote what a learner forwarded (the scam
        # check): its replies are not kept for a crash (`Assistant.keep_replies`)
        self.replies_private = False

    async def _core(self, statement: Any, parameters: dict[str, Any]) -> CursorResult[Any]:
        """A plain statement on the session's connection, past the ORM's bookkeeping (no entities are
        involved: these tables are only ever written by such statements); several times cheaper."""
        if self._connection is None:
            self._connection = await self.session.connection()
        result: CursorResult[Any] = await self._connection.execute(statement, parameters)
        return result

    def _insert(self, table: Any) -> Any:
        return _insert_for(self._dialect, table)

    # --- events --------------------------------------------------------------------------------
    async def claim_event(self, channel: str, event_id: str) -> bool:
        """Record the event as processed; False when it was processed before (a redelivery)."""
        result = await self._core(
            self._hot.claim_event, {"channel": channel, "event_id": event_id, "processed_at": self.now}
        )
        return bool(result.rowcount)

    async def keep_replies(self, channel: str, event_id: str, replies: list[dict[str, Any]]) -> None:
        """Keep an event's replies with its id, to send them again if a crash swallows them."""
        await self.session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id)
            .values(replies=replies)
        )

    async def kept_replies(self, channel: str, event_id: str) -> list[dict[str, Any]] | None:
        """The replies kept for an event already handled (None: none kept, or cleared since)."""
        query = select(ProcessedEvent.replies).where(
            ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
        )
        return cast("list[dict[str, Any]] | None", await self.session.scalar(query))

    async def forget_replies(self, before: datetime) -> int:
        """Clear the replies kept for events processed before `before` (found by a partial index)."""
        result = await self.session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.replies.is_not(None), ProcessedEvent.processed_at < before)
            .values(replies=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def keep_nothing(self) -> None:
        """This event leaves no trace: the person has not consented (see Assistant._apply)."""
        self.nothing_to_keep = True

    async def unclaim_event(self, channel: str, event_id: str) -> None:
        await self.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
            )
        )

    async def purge_events(self, before: datetime) -> int:
        """Forget the ids of events processed before `before` (redeliveries come within minutes)."""
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < before)
        )
        from data import scams  # the scam-check counts (issue 16) are kept as long as event ids

        await scams.purge(self.session, before)
        return int(getattr(result, "rowcount", 0) or 0)

    # --- learners ------------------------------------------------------------------------------
    async def learner(self, channel: str, user_id: str) -> Learner | None:
        row = (
            await self.session.execute(self._hot.learner, {"channel": channel, "user_id": user_id})
        ).first()
        if row is None:
            return None
        learner: Learner = row[0]
        self._states_read[learner.id] = row[1]
        if self.now - _aware(learner.last_active_at) > ACTIVITY_RESOLUTION:
            learner.last_active_at = self.now  # minutes are enough for "active in the last 7 days"
        if learner.unreachable_at is not None:
            learner.unreachable_at = None  # they wrote to us: the chat is open again
        return learner

    async def create_learner(self, channel: str, user_id: str, chat_id: str, display_name: str) -> Learner:
        learner = Learner(
            channel=channel,
            channel_user_id=user_id,
            chat_id=chat_id,
            display_name=display_name or None,
            role="learner",
            consent_at=self.now,
            created_at=self.now,
            last_active_at=self.now,
        )
        self.session.add(learner)
        await self.session.flush()
        return learner

    async def state(self, learner_id: int) -> dict[str, Any]:
        if learner_id in self._states_read:
            saved = self._states_read.pop(learner_id)
        else:
            saved = (await self._core(self._hot.state, {"learner_id": learner_id})).scalar()
        return dict(saved) if saved else {}

    async def save_state(self, learner_id: int, state: dict[str, Any]) -> None:
        """One upsert; plain statements rather than the ORM's unit of work, on every event's hot path."""
        self._states_read.pop(learner_id, None)
        await self._core(
            self._hot.save_state, {"learner_id": learner_id, "state": dict(state), "updated_at": self.now}
        )

    # --- lesson progress -----------------------------------------------------------------------
    async def card_reached(self, learner_id: int, lesson_id: str) -> int | None:
        result = await self._core(self._hot.card_reached, {"learner_id": learner_id, "lesson_id": lesson_id})
        card: int | None = result.scalar()
        return card

    async def reach_card(self, learner_id: int, lesson_id: str, card_number: int) -> None:
        """Record that the learner reached this card: one upsert that only ever moves forward, so going
        back to read a card again keeps the furthest card for "continue where you left off"."""
        await self._core(
            self._hot.reach_card,
            {
                "learner_id": learner_id,
                "lesson_id": lesson_id,
                "card_number": card_number,
                "started_at": self.now,
                "updated_at": self.now,
            },
        )

    async def lessons_in_progress(self, learner_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(LessonProgress.lesson_id, LessonProgress.card_number)
            .where(LessonProgress.learner_id == learner_id)
            .order_by(LessonProgress.updated_at.desc())
        )
        done = await self.completed(learner_id)
        return {lesson_id: card for lesson_id, card in rows.all() if lesson_id not in done}

    async def completed(self, learner_id: int) -> set[str]:
        rows = await self.session.scalars(
            select(Completion.lesson_id).where(Completion.learner_id == learner_id)
        )
        return set(rows.all())

    # --- quizzes -------------------------------------------------------------------------------
    async def start_attempt(self, learner_id: int, lesson_id: str, total: int) -> int:
        attempt = QuizAttempt(learner_id=learner_id, lesson_id=lesson_id, started_at=self.now, total=total)
        self.session.add(attempt)
        await self.session.flush()
        return attempt.id

    async def open_attempt(self, learner_id: int, lesson_id: str, total: int) -> int | None:
        """The learner's latest try at this lesson's quiz that was left before the end (and has as many
        questions as the quiz has now), to go on with instead of starting over."""
        attempt: int | None = await self.session.scalar(
            select(QuizAttempt.id)
            .where(
                QuizAttempt.learner_id == learner_id,
                QuizAttempt.lesson_id == lesson_id,
                QuizAttempt.finished_at.is_(None),
                QuizAttempt.total == total,
            )
            .order_by(QuizAttempt.id.desc())
            .limit(1)
        )
        return attempt

    async def attempt_answers(self, attempt_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(QuizAnswer.question_id, QuizAnswer.chosen).where(QuizAnswer.attempt_id == attempt_id)
        )
        return {question_id: chosen for question_id, chosen in rows.all()}

    async def record_answer(
        self, attempt_id: int, lesson_id: str, question_id: str, chosen: int, is_correct: bool
    ) -> bool:
        result = await self.session.execute(
            self._insert(QuizAnswer)
            .values(
                attempt_id=attempt_id,
                lesson_id=lesson_id,
                question_id=question_id,
                chosen=chosen,
                is_correct=is_correct,
                answered_at=self.now,
            )
            .on_conflict_do_nothing()
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    async def finish_attempt(self, attempt_id: int, correct: int, passed: bool) -> None:
        attempt = await self.session.get(QuizAttempt, attempt_id)
        if attempt is not None and attempt.finished_at is None:
            attempt.finished_at = self.now
            attempt.correct = correct
            attempt.passed = passed

    async def record_completion(
        self, learner_id: int, lesson_id: str, attempt_id: int, correct: int, total: int
    ) -> bool:
        result = await self.session.execute(
            self._insert(Completion)
            .values(
                learner_id=learner_id,
                lesson_id=lesson_id,
                attempt_id=attempt_id,
                correct=correct,
                total=total,
                completed_at=self.now,
            )
            .on_conflict_do_nothing()
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    # --- questions -----------------------------------------------------------------------------
    async def queue_question(self, learner_id: int, text: str, candidates: list[dict[str, Any]]) -> bool:
        """Queue a question for people to answer, unless the learner already has `MAX_OPEN_QUESTIONS`
        waiting or the same text is waiting already: one person cannot fill the commune's queue."""
        waiting = (
            await self.session.scalars(
                select(UnansweredQuestion.text)
                .where(UnansweredQuestion.learner_id == learner_id, UnansweredQuestion.status == "open")
                .limit(MAX_OPEN_QUESTIONS)
            )
        ).all()
        same = " ".join(text.casefold().split())
        if len(waiting) >= MAX_OPEN_QUESTIONS or any(" ".join(w.casefold().split()) == same for w in waiting):
            return False
        self.session.add(
            UnansweredQuestion(
                learner_id=learner_id,
                text=text,
                asked_at=self.now,
                candidates={"top": candidates},
                status="open",
            )
        )
        return True

    async def count_completions(self, lesson_id: str | None = None) -> int:
        query = select(func.count()).select_from(Completion)
        if lesson_id is not None:
            query = query.where(Completion.lesson_id == lesson_id)
        return int(await self.session.scalar(query) or 0)

    # --- mentoring (see bot.mentoring) ----------------------------------------------------------
    async def mentor_code(self, mentor_id: int) -> str:
        """The mentor's personal code, created on first use."""
        row = await self.session.get(MentorCode, mentor_id)
        if row is not None:
            return row.code
        code = await self._unused_code(MentorCode, 6)
        self.session.add(MentorCode(mentor_id=mentor_id, code=code, created_at=self.now))
        await self.session.flush()
        return code

    async def _unused_code(self, model: type[MentorCode] | type[MentorInvite], length: int) -> str:
        while True:
            code = new_code(length)
            if await self.session.scalar(select(func.count()).where(model.code == code)) == 0:
                return code

    async def mentor_by_code(self, code: str) -> Learner | None:
        return await self.session.scalar(
            select(Learner)
            .join(MentorCode, MentorCode.mentor_id == Learner.id)
            .where(MentorCode.code == code.upper(), Learner.role == "mentor", Learner.deleted_at.is_(None))
        )

    async def redeem_invite(self, code: str, learner: Learner) -> MentorInvite | None:
        """Make `learner` a mentor with an unused invite of their commune; None when the code is not one."""
        invite = await self.session.scalar(
            select(MentorInvite).where(
                MentorInvite.code == code.upper(),
                MentorInvite.used_by.is_(None),
                MentorInvite.revoked_at.is_(None),  # taken back on the dashboard
            )
        )
        if invite is None or invite.commune_id != learner.commune_id:
            return None
        invite.used_by = learner.id
        invite.used_at = self.now
        learner.role = "mentor"
        learner.mentor_id = None
        return invite

    async def mentees(self, mentor_id: int) -> list[tuple[Learner, int]]:
        """A mentor's learners with how many lessons each has completed, by name."""
        rows = await self.session.execute(
            select(Learner, func.count(Completion.id))
            .outerjoin(Completion, Completion.learner_id == Learner.id)
            .where(Learner.mentor_id == mentor_id, Learner.deleted_at.is_(None))
            .group_by(Learner.id)
            .order_by(Learner.name, Learner.id)
        )
        return [(learner, int(done)) for learner, done in rows]

    async def mentee(self, mentor_id: int, learner_id: int) -> Learner | None:
        """One of the mentor's own learners; None for anybody else (a mentor sees only their learners)."""
        return await self.session.scalar(
            select(Learner).where(
                Learner.id == learner_id, Learner.mentor_id == mentor_id, Learner.deleted_at.is_(None)
            )
        )

    async def learner_by_id(self, learner_id: int) -> Learner | None:
        return await self.session.get(Learner, learner_id)

    async def mentor_questions(self, mentor_id: int) -> list[tuple[UnansweredQuestion, Learner]]:
        """Open questions the assistant could not answer, asked by the mentor's own learners."""
        rows = await self.session.execute(
            select(UnansweredQuestion, Learner)
            .join(Learner, Learner.id == UnansweredQuestion.learner_id)
            .where(Learner.mentor_id == mentor_id, UnansweredQuestion.status == "open")
            .order_by(UnansweredQuestion.asked_at)
        )
        return [(q, learner) for q, learner in rows]

    async def mentor_question(
        self, mentor_id: int, question_id: int
    ) -> tuple[UnansweredQuestion, Learner] | None:
        """One open question of the mentor's own learners; None for any other id."""
        row = (
            await self.session.execute(
                select(UnansweredQuestion, Learner)
                .join(Learner, Learner.id == UnansweredQuestion.learner_id)
                .where(
                    UnansweredQuestion.id == question_id,
                    Learner.mentor_id == mentor_id,
                    UnansweredQuestion.status == "open",
                )
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def answer_question(
        self, question: UnansweredQuestion, learner: Learner, text: str, by: str, reply: dict[str, Any]
    ) -> int:
        """Record the answer and queue it for the learner; returns the outbox broadcast id."""
        question.status = "answered"
        question.answer_text = text
        question.answered_at = self.now
        question.answered_by = by[:100]
        broadcast = Broadcast(
            kind="answer",
            commune_id=learner.commune_id,
            village_id=learner.village_id,
            mentor_id=learner.mentor_id if by.startswith("mentor:") else None,
            admin_username=by.removeprefix("admin:") if by.startswith("admin:") else None,
            text=text,
            created_at=self.now,
        )
        await outbox.enqueue(self.session, broadcast, [learner], reply, self.now)
        return broadcast.id

    async def push_progress(self, broadcast_id: int) -> dict[str, int]:
        """How many of a push's messages are in each status."""
        return await outbox.progress(self.session, broadcast_id)

    async def push_recipients(self, broadcast_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(OutboxMessage.learner_id).where(
                OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.learner_id.is_not(None)
            )
        )
        return [int(i) for i in rows if i is not None]

    async def push(
        self,
        mentor: Learner,
        recipients: list[Learner],
        lesson_id: str | None,
        text: str,
        reply: dict[str, Any],
    ) -> Broadcast:
        """Record a mentor's push of a lesson (or a nudge: no lesson) and queue one message per learner."""
        broadcast = Broadcast(
            kind="push",
            commune_id=mentor.commune_id,
            mentor_id=mentor.id,
            lesson_id=lesson_id,
            text=text,
            created_at=self.now,
        )
        await outbox.enqueue(self.session, broadcast, recipients, reply, self.now)
        return broadcast

    # --- certificates (see bot.certificate) -----------------------------------------------------
    async def certificate(self, learner_id: int) -> Certificate | None:
        return await self.session.scalar(select(Certificate).where(Certificate.learner_id == learner_id))

    async def add_certificate(self, learner: Learner, path: str, code: str) -> Certificate:
        certificate = Certificate(
            code=code,
            learner_id=learner.id,
            name=learner.name,
            commune_id=learner.commune_id,
            issued_at=self.now,
            path=path,
        )
        self.session.add(certificate)
        await self.session.flush()
        return certificate

    async def code_taken(self, code: str) -> bool:
        return bool(await self.session.scalar(select(func.count()).where(Certificate.code == code)))

    # --- reachability (see bot.channels.reachability) -------------------------------------------
    async def mark_unreachable(self, channel: str, chat_id: str) -> int:
        """The channel refused this chat for good (the learner blocked the bot, the account is gone):
        pushes skip the learner and the messages still waiting for the chat are given up, not retried.
        Returns how many learners were marked (0 when already marked or unknown)."""
        result = await self.session.execute(
            update(Learner)
            .where(
                Learner.channel == channel,
                Learner.chat_id == chat_id,
                Learner.deleted_at.is_(None),
                Learner.unreachable_at.is_(None),
            )
            .values(unreachable_at=self.now)
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == "pending",
            )
            .values(status="failed", updated_at=self.now, error="unreachable")
        )
        return int(cast(CursorResult[Any], result).rowcount or 0)

    async def mark_reachable(self, channel: str, chat_id: str) -> int:
        """The chat is open again (the learner unblocked the bot); returns how many learners."""
        result = await self.session.execute(
            update(Learner)
            .where(
                Learner.channel == channel,
                Learner.chat_id == chat_id,
                Learner.unreachable_at.is_not(None),
            )
            .values(unreachable_at=None)
        )
        return int(cast(CursorResult[Any], result).rowcount or 0)

    # --- personal data (see bot.privacy) --------------------------------------------------------
    async def personal_data(self, learner: Learner) -> dict[str, Any]:
        """What is stored about a learner, for showing it to them."""
        mentor = await self.session.get(Learner, learner.mentor_id) if learner.mentor_id else None
        asked = (
            await self.session.scalars(
                select(UnansweredQuestion.text)
                .where(UnansweredQuestion.learner_id == learner.id)
                .order_by(UnansweredQuestion.id)
            )
        ).all()
        return {
            "completed": len(await self.completed(learner.id)),
            "questions": len(asked),
            "asked": list(asked),
            "mentor": mentor.name if mentor is not None else None,
        }

    async def erase_learner(self, learner: Learner) -> None:
        """Delete a learner's personal data while anonymous counts stay right.

        The row stays (village, completions and quiz results still count in the statistics) but loses
        name, channel ids, display name and age group; their questions, conversation state, unsent
        messages, mentor code and the name on any certificate are removed, and their own learners
        are released. The next message from the same account starts afresh with the consent question.
        Every reply kept for a crash (`Assistant.keep_replies`) goes too, whoever it was for: a reply to
        a mentor may name this learner, and kept replies are not linked to anyone.
        """
        self.replies_private = True
        await self.session.execute(
            update(ProcessedEvent).where(ProcessedEvent.replies.is_not(None)).values(replies=None)
        )
        await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.learner_id == learner.id)
        )
        self._states_read.pop(learner.id, None)
        await self.session.execute(
            delete(ConversationState).where(ConversationState.learner_id == learner.id)
        )
        await self.session.execute(delete(MentorCode).where(MentorCode.mentor_id == learner.id))
        await self.session.execute(
            update(Learner).where(Learner.mentor_id == learner.id).values(mentor_id=None)
        )
        await self.session.execute(
            update(Certificate).where(Certificate.learner_id == learner.id).values(name=None)
        )
        await outbox.cancel_for(self.session, learner.id, self.now)
        await outbox.erase_texts_for(self.session, learner.id, learner.name)
        await reminder_store.erase(self.session, learner.id, learner.name, learner.mentor_id)
        learner.name = None
        learner.display_name = None
        learner.age_group = None
        learner.channel_user_id = f"deleted-{learner.id}"
        learner.chat_id = ""
        learner.mentor_id = None
        learner.consent_at = None
        learner.deleted_at = self.now


_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_DIGITS = "23456789"


def new_code(length: int) -> str:
    """A random code easy to read aloud and type (no 0/O, 1/I/L); always holds a digit, so typed
    words are never mistaken for a code."""
    chars = [secrets.choice(_CODE_ALPHABET + _CODE_DIGITS) for _ in range(length - 1)]
    chars.insert(secrets.randbelow(length), secrets.choice(_CODE_DIGITS))
    return "".join(chars)
