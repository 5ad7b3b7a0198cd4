"""SQLAlchemy models: learners, conversation state, progress, quiz attempts, completions, questions,
mentoring, dashboard users, the outbox, certificates and the communes' knowledge-base entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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
    # set when the channel said this chat can no longer be written to (the learner blocked the bot, or
    # the account is gone); pushes skip the learner; cleared when they write or unblock again
    unreachable_at: Mapped[datetime | None]


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

    __table_args__ = (
        Index(
            "ix_processed_events_kept_replies",
            "processed_at",
            postgresql_where=text("replies IS NOT NULL"),
            sqlite_where=text("replies IS NOT NULL"),
        ),
    )

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[datetime]
    # cluster mode: the event's replies, kept a few minutes so that a worker killed between the commit
    # and the sending does not swallow them (`Assistant.keep_replies`); NULL otherwise
    replies: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True), default=None)


class InboxUpdate(Base):
    """An update as the channel sent it, stored (and committed) before the webhook answers 200 or the
    polling offset moves past it; handled from this row, then deleted (its payload holds what the
    learner wrote). Rows still here at start-up were acknowledged but not handled: they are handled
    then, in `id` order (`bot.inbox`). `learner_key` is a keyed hash of the sender, never the raw id."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    learner_key: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class UnansweredQuestion(Base):
    """A learner's question the assistant could not answer, queued for a mentor or the commune."""

    __tablename__ = "unanswered_questions"
    # the dashboard's history tabs: one status, latest answered first (`admin.workflow.questions_page`)
    __table_args__ = (Index("ix_unanswered_questions_status_answered_at", "status", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime]
    candidates: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(100))
    # the learner's mentor was told in the chat that it waits (once per question; `bot.notices`)
    mentor_notified_at: Mapped[datetime | None]


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
    # taken back from the dashboard before anyone used it: it can no longer be redeemed
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))


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
    # a village head ("trưởng thôn"): read-only, sees only this village of the commune (admin.learners)
    village_id: Mapped[str | None] = mapped_column(String(60))
    is_super: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # `hocvuso admin disable`: no login, every session ended (until `hocvuso admin enable`)
    disabled_at: Mapped[datetime | None]
    # `hocvuso admin unlock` (or a password reset): failed logins before this moment no longer lock
    unlocked_at: Mapped[datetime | None]
    # when this account last opened the question inbox: questions asked after it are marked "new"
    questions_seen_at: Mapped[datetime | None]


class AdminSession(Base):
    """A dashboard login, kept on the server so logout, a password reset or `hocvuso admin disable`
    ends it at once. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


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
    # an announcement's confirmation (issued with its preview): a second submit of the same
    # confirmation finds this row instead of sending again
    confirm_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # a scheduled announcement: queued into the outbox once `send_at` has passed (`bot.notices`), with
    # the message kept in `reply` until then; `released_at` says it was queued, `cancelled_at` that
    # staff called it off before
    send_at: Mapped[datetime | None] = mapped_column(index=True)
    released_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reply: Mapped[dict[str, Any] | None]
    # a resend to the recipients another announcement could not reach
    resend_of: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))


class OutboxMessage(Base):
    """One message to one recipient, persisted before sending so a restart neither loses nor repeats it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "learner_id"),
        Index("ix_outbox_status_channel", "status", "channel", "id"),
        Index("ix_outbox_claim", "status", "channel", "priority", "id"),
        Index("ix_outbox_lease", "status", "lease_until"),
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
    # 0 a reply to a learner, 1 a push or announcement, 2 a reminder or digest: lower goes first
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # the process that claimed the row and until when its claim holds: a row still "sending" after
    # its lease was interrupted mid-send and becomes "uncertain" (never resent)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]


class OutboxSender(Base):
    """One bot (a channel and a hash of its token): the process that sends its bulk rows until
    `lease_until`, so its rate holds across processes, and until when a 429 pauses every process."""

    __tablename__ = "outbox_senders"

    sender: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]


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


class AnswerTemplate(Base):
    """A reusable answer of a commune's staff: picked in the question inbox to fill the answer box."""

    __tablename__ = "answer_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


# --- the communes' knowledge base (issue 12) ----------------------------------------------------------
class KnowledgeEntry(Base):
    """A question and its answer reviewed by a commune's staff, usually made from an answered queued
    question. Only `approved` entries are ever answered to learners (`retrieval.knowledge`); `draft`
    ones wait for review and `retired` ones are kept for the record. `revision` grows by one on every
    change, so readers in any process notice a change by comparing sums (`data.knowledge.versions`)."""

    __tablename__ = "kb_entries"
    __table_args__ = (Index("ix_kb_entries_commune_status", "commune_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[str] = mapped_column(String(60))
    question: Mapped[str] = mapped_column(Text)
    # other ways learners ask the same thing, one per item: matched like the question itself
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    lesson_id: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | approved | retired
    # the queued questions (unanswered_questions.id) it was made from; ids only, never their text
    source_question_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


# --- reminders and spaced review (issue 17; see data.reminders and bot.reminders) ---------------------
class ReminderSetting(Base):
    """A learner's choice of reminders and where their schedule stands. No row: never asked, no reminders.

    `due_at` is the earliest moment of the next reminder, NULL while reminders are off or paused, so the
    scheduler's query is one index range."""

    __tablename__ = "reminder_settings"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    rhythm: Mapped[str] = mapped_column(String(10), default="off")  # off | 3d | weekly
    # the last rhythm other than "off", which "bật nhắc" (turn on again) comes back to
    preferred: Mapped[str] = mapped_column(String(10), default="weekly")
    unanswered: Mapped[int] = mapped_column(Integer, default=0)  # reminders since the learner last wrote
    paused: Mapped[bool] = mapped_column(default=False)  # stopped after silence, until the learner writes
    sent: Mapped[int] = mapped_column(Integer, default=0)  # reminders ever; every second is a review
    last_reminder_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    stopped_at: Mapped[datetime | None]  # turned off or paused: the mentor's digest says so that week
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Reminder(Base):
    """One reminder enqueued for a learner; `seq` (their n-th) is unique per learner, so a second
    scheduler (another process, or the same after a restart) can never queue the same one again."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("learner_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # lesson | review
    lesson_id: Mapped[str | None] = mapped_column(String(60))
    question_id: Mapped[str | None] = mapped_column(String(40))
    # with learner_id, names its outbox row (unique per broadcast and learner): sent or not
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    replied_at: Mapped[datetime | None]  # the learner's first message after it


class ReviewItem(Base):
    """One quiz question a learner reviews at growing intervals (1, 3, 7, 21 days): one they missed, or
    one from a lesson finished long ago."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("learner_id", "lesson_id", "question_id"),
        Index("ix_review_items_learner_due", "learner_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(60))
    question_id: Mapped[str] = mapped_column(String(40))
    step: Mapped[int] = mapped_column(Integer, default=0)  # index into the intervals
    due_at: Mapped[datetime | None]  # NULL: learned (right at the last interval)
    asked_at: Mapped[datetime | None]  # asked in a reminder and not answered yet: an answer counts once
    reviews: Mapped[int] = mapped_column(Integer, default=0)  # answers given in review
    right_first_try: Mapped[bool | None]  # the first answer in review was right; NULL before any
    first_right_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MentorDigest(Base):
    """A mentor's weekly digest, one per mentor and week (Vietnam time, "2026-W45"), sent or skipped."""

    __tablename__ = "mentor_digests"

    mentor_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[str] = mapped_column(String(10), primary_key=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ScamReport(Base):
    """One message a learner had checked, for the commune's counts (issue 16): the day, the village, the
    kind of scam ("none" when no clear sign), the verdict and the registrable domains of its links.
    Never the text, the sender or the learner; `reporter` is a keyed hash for counting the same learner's
    same report once a day, cleared when the day is over (see `data.scams`)."""

    __tablename__ = "scam_reports"
    __table_args__ = (
        Index("ix_scam_reports_commune_day", "commune_id", "day"),
        Index("ix_scam_reports_day", "day"),
        Index("ix_scam_reports_reporter", "reporter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # ISO date in Vietnam time: sorts and compares as text
    commune_id: Mapped[str | None] = mapped_column(String(60))
    village_id: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    domains: Mapped[list[str]] = mapped_column(JSON)
    reporter: Mapped[str | None] = mapped_column(String(32))
