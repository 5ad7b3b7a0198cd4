"""The engine's store over one SQLAlchemy session: reads and writes, never commits.

The service layer (`bot.service`) opens one transaction per incoming event and commits it; every write
here is therefore part of that single unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import (
    Completion,
    ConversationState,
    Learner,
    LessonProgress,
    ProcessedEvent,
    QuizAnswer,
    QuizAttempt,
    UnansweredQuestion,
)


class SqlStore:
    """Implements `bot.ports.Store` on a session; `now` is the time of the event being handled."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now

    def _insert(self, table: Any) -> Any:
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    # --- events --------------------------------------------------------------------------------
    async def claim_event(self, channel: str, event_id: str) -> bool:
        """Record the event as processed; False when it was processed before (a redelivery)."""
        result = await self.session.execute(
            self._insert(ProcessedEvent)
            .values(channel=channel, event_id=event_id, processed_at=self.now)
            .on_conflict_do_nothing()
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    # --- learners ------------------------------------------------------------------------------
    async def learner(self, channel: str, user_id: str) -> Learner | None:
        learner = await self.session.scalar(
            select(Learner).where(Learner.channel == channel, Learner.channel_user_id == user_id)
        )
        if learner is not None:
            learner.last_active_at = self.now
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
        row = await self.session.get(ConversationState, learner_id)
        return dict(row.state) if row is not None else {}

    async def save_state(self, learner_id: int, state: dict[str, Any]) -> None:
        row = await self.session.get(ConversationState, learner_id)
        if row is None:
            self.session.add(ConversationState(learner_id=learner_id, state=dict(state), updated_at=self.now))
        else:
            row.state = dict(state)
            row.updated_at = self.now

    # --- lesson progress -----------------------------------------------------------------------
    async def card_reached(self, learner_id: int, lesson_id: str) -> int | None:
        return await self.session.scalar(
            select(LessonProgress.card_number).where(
                LessonProgress.learner_id == learner_id, LessonProgress.lesson_id == lesson_id
            )
        )

    async def set_card(self, learner_id: int, lesson_id: str, card_number: int) -> None:
        row = await self.session.scalar(
            select(LessonProgress).where(
                LessonProgress.learner_id == learner_id, LessonProgress.lesson_id == lesson_id
            )
        )
        if row is None:
            self.session.add(
                LessonProgress(
                    learner_id=learner_id,
                    lesson_id=lesson_id,
                    card_number=card_number,
                    started_at=self.now,
                    updated_at=self.now,
                )
            )
        else:
            row.card_number = card_number
            row.updated_at = self.now

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
    async def queue_question(self, learner_id: int, text: str, candidates: list[dict[str, Any]]) -> None:
        self.session.add(
            UnansweredQuestion(
                learner_id=learner_id,
                text=text,
                asked_at=self.now,
                candidates={"top": candidates},
                status="open",
            )
        )

    async def count_completions(self, lesson_id: str | None = None) -> int:
        query = select(func.count()).select_from(Completion)
        if lesson_id is not None:
            query = query.where(Completion.lesson_id == lesson_id)
        return int(await self.session.scalar(query) or 0)
