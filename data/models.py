"""SQLAlchemy models: learners, conversation state, progress, quiz attempts, completions, questions,
mentoring, dashboard users, the outbox and certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base; every table of the project hangs off it."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Learner(Base):
    """A person talking to the assistant on one channel; also mentors and admins who chat."""

    __tablename__ = "learners"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(60))
    commune_id: Mapped[str | None] = mapped_column(String(60), index=True)
    village_id: Mapped[str | None] = mapped_column(String(60))
    age_group: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default="learner")
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), index=True)
    consent_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_active_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class ConversationState(Base):
    """Where a learner is in the conversation, kept in the database so any process can continue it."""

    __tablename__ = "conversation_states"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class LessonProgress(Base):
    """The card a learner last reached in a lesson, for resuming."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("learner_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(60))
    card_number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class QuizAttempt(Base):
    """One try at a lesson's quiz."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (Index("ix_quiz_attempts_learner_lesson", "learner_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    correct: Mapped[int | None]
    total: Mapped[int]
    passed: Mapped[bool | None]


class QuizAnswer(Base):
    """One answer within an attempt; a question is answered at most once per attempt."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(60))
    question_id: Mapped[str] = mapped_column(String(40))
    chosen: Mapped[int]
    is_correct: Mapped[bool]
    answered_at: Mapped[datetime]


class Completion(Base):
    """A lesson finished by passing its quiz; one per learner and lesson, ever."""

    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("learner_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(60), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="SET NULL"))
    correct: Mapped[int]
    total: Mapped[int]
    completed_at: Mapped[datetime] = mapped_column(index=True)


class ProcessedEvent(Base):
    """A channel event already handled; a redelivered one is ignored."""

    __tablename__ = "processed_events"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[datetime]


class UnansweredQuestion(Base):
    """A learner's question the assistant could not answer, queued for a mentor or the commune."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime]
    candidates: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(100))


# --- mentors, admins, outbox and certificates (issue 6) ----------------------------------------------
class MentorInvite(Base):
    """A one-time code an admin issues; the learner who redeems it becomes a mentor ("Đại sứ số")."""

    __tablename__ = "mentor_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    commune_id: Mapped[str] = mapped_column(String(60), index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    used_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]


class MentorCode(Base):
    """A mentor's personal code; learners join the mentor with it (deep link `/start m_<code>`)."""

    __tablename__ = "mentor_codes"

    mentor_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime]


class AdminUser(Base):
    """A dashboard user: a commune admin (commune_id set) or a super-admin of the deployment."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[str | None] = mapped_column(String(60))
    is_super: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One dashboard login attempt, kept to lock an account out after repeated failures."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    ip: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime]
    success: Mapped[bool]


class Broadcast(Base):
    """Something sent to learners the assistant writes to first: a mentor's push, an announcement,
    or an answer to a queued question. Its outbox rows carry one recipient each."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # push | announcement | answer
    commune_id: Mapped[str | None] = mapped_column(String(60), index=True)
    village_id: Mapped[str | None] = mapped_column(String(60))
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), index=True)
    admin_username: Mapped[str | None] = mapped_column(String(60))
    lesson_id: Mapped[str | None] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """One message to one recipient, persisted before sending so a restart neither loses nor repeats it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "learner_id"),
        Index("ix_outbox_status_channel", "status", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    reply: Mapped[dict[str, Any]]
    # pending -> sending -> sent | failed; "uncertain" when a crash hit between send and record
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))


class Certificate(Base):
    """A certificate for finishing the core curriculum, verifiable by its code."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    learner_id: Mapped[int | None] = mapped_column(
        ForeignKey("learners.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(60))
    commune_id: Mapped[str | None] = mapped_column(String(60))
    issued_at: Mapped[datetime]
    path: Mapped[str] = mapped_column(String(400))
