"""Reminders and spaced review in the database: learners' settings, the reminders queued, review items,
mentors' weekly digests and the dashboard's monthly figures.

Plain ids, times and values in; rows and small frozen values out. The wording, the choice of what a
reminder says and when the scheduler runs live in `bot.reminders`; `data` never imports `bot`. Nothing
here commits: the caller's transaction is the unit of work. Times are stored and compared in UTC.

The schedule, in one place:
- a learner's rhythm is "off" (the default, and what "tắt nhắc" sets), "3d" (every three days) or
  "weekly"; `due_at` is the earliest moment of their next reminder and NULL while none may go;
- after `SLOW_AFTER` reminders without a reply the interval doubles; the `STOP_AFTER`-th one pauses
  them until the learner writes again (`on_activity`);
- a review item climbs `REVIEW_DAYS` (1, 3, 7, 21 days) on right answers and falls back to 1 day on a
  wrong one; right at the last step, it is learned and never asked again unless missed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    DateTime,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from data.commune import VIETNAM_TIME
from data.models import (
    Broadcast,
    Completion,
    ConversationState,
    Learner,
    LessonProgress,
    MentorDigest,
    OutboxMessage,
    Reminder,
    ReminderSetting,
    ReviewItem,
)
from data.outbox import ERASED_NAME, Recipient, add_rows
from data.stats import utc

RHYTHM_DAYS: dict[str, int] = {"3d": 3, "weekly": 7}
RHYTHMS = ("off", *RHYTHM_DAYS)
ON = "on"  # "bật nhắc": back to the rhythm chosen before (weekly if none)
SLOW_AFTER = 2  # reminders without a reply after which the interval doubles
STOP_AFTER = 3  # ... after which reminders pause until the learner writes
REVIEW_DAYS = (1, 3, 7, 21)
REMINDER_KINDS = ("reminder", "digest")  # the broadcasts' kinds of what the scheduler queues


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


_TIME = DateTime(timezone=True)


class _Hot:
    """Statements run once per learner (on every event, or per reminder), built once with bound
    parameters and run on the session's connection: building them anew each time cost more than
    running them (as in `data.repository`)."""

    def __init__(self) -> None:
        settings, reminders = cast(Table, ReminderSetting.__table__), cast(Table, Reminder.__table__)
        t = settings.c
        now = bindparam("now", type_=_TIME)
        self.activity = (
            update(settings)
            .where(t.learner_id == bindparam("lid"), or_(t.unanswered > 0, t.paused.is_(True)))
            .values(
                unanswered=0,
                paused=False,
                due_at=case(
                    *((t.rhythm == name, bindparam(f"due_{name}", type_=_TIME)) for name in RHYTHM_DAYS),
                    else_=null(),
                ),
                updated_at=now,
            )
        )
        r = reminders.c
        self.replied = (
            update(reminders)
            .where(r.learner_id == bindparam("lid"), r.replied_at.is_(None))
            .values(replied_at=now)
        )
        after = t.unanswered + 1
        self.claim = (
            update(settings)
            .where(
                t.learner_id == bindparam("lid"),
                t.sent == bindparam("old_sent"),
                t.rhythm == bindparam("old_rhythm"),
                t.paused.is_(False),
                t.due_at <= now,
            )
            .values(
                sent=t.sent + 1,
                unanswered=after,
                paused=after >= STOP_AFTER,
                due_at=case(
                    (after >= STOP_AFTER, null()),
                    (after >= SLOW_AFTER, bindparam("due_slow", type_=_TIME)),
                    else_=bindparam("due_base", type_=_TIME),
                ),
                stopped_at=case((after >= STOP_AFTER, now), else_=t.stopped_at),
                last_reminder_at=now,
                updated_at=now,
            )
        )


_HOT = _Hot()


async def _run(session: AsyncSession, statement: Any, parameters: dict[str, Any]) -> int:
    """A prebuilt statement on the session's connection, past the ORM; returns the rows it touched."""
    connection = await session.connection()
    return _rowcount(await connection.execute(statement, parameters))


def interval(rhythm: str, unanswered: int) -> timedelta | None:
    """Time between reminders for a rhythm, doubled after `SLOW_AFTER` without a reply; None when off."""
    days = RHYTHM_DAYS.get(rhythm)
    if days is None:
        return None
    return timedelta(days=days * (2 if unanswered >= SLOW_AFTER else 1))


# --- a learner's setting ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """A learner's reminder setting as /dulieu shows it."""

    rhythm: str  # off | 3d | weekly
    asked: bool  # they have chosen (the offer was answered, or reminders were set once)
    paused: bool  # stopped after reminders went unanswered; they restart when the learner writes
    unanswered: int
    last_reminder_at: datetime | None
    due_at: datetime | None

    @property
    def active(self) -> bool:
        return self.rhythm != "off" and not self.paused


def _setting(row: ReminderSetting | None) -> Setting:
    if row is None:
        return Setting("off", False, False, 0, None, None)
    return Setting(
        rhythm=row.rhythm,
        asked=True,
        paused=row.paused,
        unanswered=row.unanswered,
        last_reminder_at=utc(row.last_reminder_at) if row.last_reminder_at else None,
        due_at=utc(row.due_at) if row.due_at else None,
    )


async def get_setting(session: AsyncSession, learner_id: int) -> Setting:
    return _setting(await session.get(ReminderSetting, learner_id))


async def set_rhythm(session: AsyncSession, learner_id: int, rhythm: str, now: datetime) -> Setting:
    """Choose "off", "3d", "weekly", or "on" (the rhythm chosen before). Turning on starts afresh: no
    unanswered count, not paused, the first reminder one period from now."""
    if rhythm not in (*RHYTHMS, ON):
        raise ValueError(f"rhythm must be one of {(*RHYTHMS, ON)}, not {rhythm!r}")
    now = utc(now)
    row = await session.get(ReminderSetting, learner_id)
    if row is None:
        row = ReminderSetting(
            learner_id=learner_id,
            rhythm="off",
            preferred="weekly",
            unanswered=0,
            paused=False,
            sent=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    if rhythm == ON:
        rhythm = row.preferred
    if rhythm == "off":
        if row.rhythm != "off" and not row.paused:
            row.stopped_at = now
        row.rhythm = "off"
        row.due_at = None
    else:
        row.rhythm = row.preferred = rhythm
        row.stopped_at = None
        row.due_at = now + RHYTHM_DAYS[rhythm] * timedelta(days=1)
    row.unanswered = 0
    row.paused = False
    row.updated_at = now
    await session.flush()
    return _setting(row)


async def on_activity(session: AsyncSession, learner_id: int, now: datetime) -> bool:
    """The learner wrote: reminders without a reply count from zero again, paused ones restart (one
    period from now), and the reminders they had not answered are marked answered. One indexed update
    that matches nothing unless a reminder is outstanding, so it is cheap on every event. True when
    something changed."""
    now = utc(now)
    parameters: dict[str, Any] = {"lid": learner_id, "now": now}
    parameters.update({f"due_{name}": now + timedelta(days=days) for name, days in RHYTHM_DAYS.items()})
    if not await _run(session, _HOT.activity, parameters):
        return False
    await _run(session, _HOT.replied, {"lid": learner_id, "now": now})
    return True


# --- review items -------------------------------------------------------------------------------------
async def record_miss(
    session: AsyncSession, learner_id: int, lesson_id: str, question_id: str, now: datetime
) -> None:
    """A quiz question answered wrongly: review it tomorrow (again from the first interval)."""
    now = utc(now)
    due = now + timedelta(days=REVIEW_DAYS[0])
    statement = _insert(session, ReviewItem.__table__).values(
        learner_id=learner_id,
        lesson_id=lesson_id,
        question_id=question_id,
        step=0,
        due_at=due,
        reviews=0,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["learner_id", "lesson_id", "question_id"],
            set_={"step": 0, "due_at": due, "updated_at": now},
        )
    )


@dataclass(frozen=True)
class ReviewOutcome:
    """What one review answer did to its item."""

    counted: bool  # False: this asking was answered before (a second tap), nothing moved
    next_in_days: int | None  # when it is asked again; None: learned


async def review_answer(
    session: AsyncSession, learner_id: int, lesson_id: str, question_id: str, correct: bool, now: datetime
) -> ReviewOutcome:
    """Move a review item: one interval further out on a right answer (learned after the last), back
    to the first on a wrong one. An item counts one answer per asking, so a second tap on the same
    reminder's buttons changes nothing."""
    now = utc(now)
    item = await session.scalar(
        select(ReviewItem).where(
            ReviewItem.learner_id == learner_id,
            ReviewItem.lesson_id == lesson_id,
            ReviewItem.question_id == question_id,
        )
    )
    if item is None:  # a review button whose item is gone (data deleted since): start one
        item = ReviewItem(
            learner_id=learner_id,
            lesson_id=lesson_id,
            question_id=question_id,
            step=0,
            reviews=0,
            asked_at=now,
            created_at=now,
        )
        session.add(item)
    elif item.asked_at is None:
        left = (utc(item.due_at) - now) if item.due_at else None
        return ReviewOutcome(False, max(1, round(left / timedelta(days=1))) if left else None)
    item.reviews = (item.reviews or 0) + 1
    if item.right_first_try is None:
        item.right_first_try = correct
    if correct:
        if item.first_right_at is None:
            item.first_right_at = now
        item.step = (item.step or 0) + 1
    else:
        item.step = 0
    days = REVIEW_DAYS[item.step] if item.step < len(REVIEW_DAYS) else None
    item.due_at = now + timedelta(days=days) if days is not None else None
    item.asked_at = None
    item.updated_at = now
    await session.flush()
    return ReviewOutcome(True, days)


# --- the scheduler's reads ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A learner whose reminder is due, with what deciding and addressing it takes."""

    learner_id: int
    rhythm: str
    unanswered: int
    sent: int
    due_at: datetime
    last_active_at: datetime
    name: str | None
    commune_id: str | None
    channel: str
    chat_id: str


def commune_filter(allowed: Collection[str], known: Collection[str], others_allowed: bool) -> Any:
    """Learners of the communes outside quiet hours now; `others_allowed` adds learners of no commune
    or of one no longer in the file (they follow the default quiet hours). None: nobody."""
    parts: list[Any] = []
    if allowed:
        parts.append(Learner.commune_id.in_(list(allowed)))
    if others_allowed:
        parts.append(Learner.commune_id.is_(None))
        if known:
            parts.append(Learner.commune_id.not_in(list(known)))
        else:
            parts.append(Learner.commune_id.is_not(None))
    return or_(*parts) if parts else None


def _reachable(channels: Collection[str] | None) -> list[Any]:
    conditions: list[Any] = [
        Learner.deleted_at.is_(None),
        Learner.unreachable_at.is_(None),
        Learner.chat_id != "",
    ]
    if channels is not None:
        conditions.append(Learner.channel.in_(list(channels)))
    return conditions


async def due(
    session: AsyncSession,
    now: datetime,
    where_commune: Any,
    channels: Collection[str] | None,
    limit: int,
    exclude: Collection[int] = (),
) -> list[Candidate]:
    """Reachable learners whose next reminder is due, the longest waiting first."""
    query = (
        select(
            ReminderSetting.learner_id,
            ReminderSetting.rhythm,
            ReminderSetting.unanswered,
            ReminderSetting.sent,
            ReminderSetting.due_at,
            Learner.last_active_at,
            Learner.name,
            Learner.commune_id,
            Learner.channel,
            Learner.chat_id,
        )
        .join(Learner, Learner.id == ReminderSetting.learner_id)
        .where(ReminderSetting.due_at <= utc(now), where_commune, *_reachable(channels))
        .order_by(ReminderSetting.due_at)
        .limit(limit)
    )
    if exclude:
        query = query.where(ReminderSetting.learner_id.not_in(list(exclude)))
    rows = await session.execute(query)
    return [
        Candidate(
            learner_id=r.learner_id,
            rhythm=r.rhythm,
            unanswered=r.unanswered,
            sent=r.sent,
            due_at=utc(r.due_at),
            last_active_at=utc(r.last_active_at),
            name=r.name,
            commune_id=r.commune_id,
            channel=r.channel,
            chat_id=r.chat_id,
        )
        for r in rows
    ]


@dataclass
class LearnerContext:
    """What a reminder's content depends on, read for a whole batch of learners at once."""

    open_lesson: str | None = None  # the lesson left open in the conversation
    started: list[str] = field(default_factory=list)  # lessons with progress, the latest first
    done: dict[str, datetime] = field(default_factory=dict)  # completed lessons and when
    reviews: dict[tuple[str, str], datetime | None] = field(default_factory=dict)  # item -> due


async def contexts(session: AsyncSession, learner_ids: Sequence[int]) -> dict[int, LearnerContext]:
    found: dict[int, LearnerContext] = {i: LearnerContext() for i in learner_ids}
    if not learner_ids:
        return found
    ids = list(learner_ids)
    for learner_id, state in await session.execute(
        select(ConversationState.learner_id, ConversationState.state).where(
            ConversationState.learner_id.in_(ids)
        )
    ):
        opened = (state or {}).get("open")
        found[learner_id].open_lesson = str(opened) if opened else None
    for learner_id, lesson_id in await session.execute(
        select(LessonProgress.learner_id, LessonProgress.lesson_id)
        .where(LessonProgress.learner_id.in_(ids))
        .order_by(LessonProgress.updated_at.desc())
    ):
        found[learner_id].started.append(lesson_id)
    for learner_id, lesson_id, completed_at in await session.execute(
        select(Completion.learner_id, Completion.lesson_id, Completion.completed_at).where(
            Completion.learner_id.in_(ids)
        )
    ):
        found[learner_id].done[lesson_id] = utc(completed_at)
    for learner_id, lesson_id, question_id, due_at in await session.execute(
        select(ReviewItem.learner_id, ReviewItem.lesson_id, ReviewItem.question_id, ReviewItem.due_at).where(
            ReviewItem.learner_id.in_(ids)
        )
    ):
        found[learner_id].reviews[(lesson_id, question_id)] = utc(due_at) if due_at else None
    return found


async def postpone(session: AsyncSession, moves: Iterable[tuple[int, datetime]]) -> int:
    """Move learners' next reminder later (they were active, or there is nothing to say yet)."""
    params = [{"learner_id": learner_id, "due_at": utc(when)} for learner_id, when in moves]
    if params:  # the ORM's bulk update by primary key: one executemany
        await session.execute(update(ReminderSetting), params)
    return len(params)


# --- the scheduler's writes ---------------------------------------------------------------------------
async def claim(session: AsyncSession, candidate: Candidate, now: datetime) -> bool:
    """Count one more reminder for the learner and move their schedule on, provided nobody else did
    since `candidate` was read (the `sent` guard: another process, or a rhythm changed meanwhile).
    The third without a reply pauses them; from the second the next one comes at double the interval."""
    now = utc(now)
    base = interval(candidate.rhythm, 0)
    if base is None:
        return False
    parameters = {
        "lid": candidate.learner_id,
        "old_sent": candidate.sent,
        "old_rhythm": candidate.rhythm,
        "now": now,
        "due_slow": now + 2 * base,
        "due_base": now + base,
    }
    return await _run(session, _HOT.claim, parameters) == 1


@dataclass(frozen=True)
class Queued:
    """A claimed reminder ready to be written with its outbox row."""

    candidate: Candidate
    kind: str  # lesson | review
    lesson_id: str | None
    question_id: str | None
    reply: dict[str, Any]


async def write_reminders(session: AsyncSession, queued: Sequence[Queued], now: datetime) -> list[Queued]:
    """One broadcast ("reminder") for the batch, one reminder row and one pending outbox row per learner,
    and review items marked as asked. Returns those queued (all, unless one was queued before)."""
    if not queued:
        return []
    now = utc(now)
    broadcast = Broadcast(kind="reminder", text="", created_at=now, recipients=len(queued))
    session.add(broadcast)
    await session.flush()
    reminders = _insert(session, Reminder.__table__).on_conflict_do_nothing()
    written: list[Queued] = []
    for item in queued:
        parameters = {
            "learner_id": item.candidate.learner_id,
            "seq": item.candidate.sent + 1,
            "kind": item.kind,
            "lesson_id": item.lesson_id,
            "question_id": item.question_id,
            "broadcast_id": broadcast.id,
            "created_at": now,
            "replied_at": None,
        }
        if await _run(session, reminders, parameters):
            written.append(item)
    if not written:
        await session.delete(broadcast)
        return []
    await add_rows(
        session,
        broadcast,
        (
            Recipient(q.candidate.learner_id, q.candidate.channel, q.candidate.chat_id, q.reply)
            for q in written
        ),
        now,
    )
    asked = [q for q in written if q.kind == "review" and q.lesson_id and q.question_id]
    if asked:
        statement = _insert(session, ReviewItem.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=["learner_id", "lesson_id", "question_id"],
            set_={"asked_at": statement.excluded.asked_at, "updated_at": statement.excluded.updated_at},
        )
        await session.execute(
            statement,
            [
                {
                    "learner_id": q.candidate.learner_id,
                    "lesson_id": q.lesson_id,
                    "question_id": q.question_id,
                    "step": 0,
                    "due_at": now,
                    "asked_at": now,
                    "reviews": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for q in asked
            ],
        )
    return written


async def expire_pending(
    session: AsyncSession,
    created_before: datetime,
    now: datetime,
    retry_after: timedelta = timedelta(hours=1),
) -> int:
    """Cancel reminders and digests still waiting in the outbox since before `created_before`: sent
    later they could land in quiet hours. A cancelled reminder is given back (one less without reply,
    unpaused, due again after `retry_after`, so a channel that is down is not flooded with new tries),
    and a cancelled digest goes again. Returns how many were cancelled."""
    now = utc(now)
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.learner_id, Broadcast.kind)
            .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
            .where(
                OutboxMessage.status == "pending",
                Broadcast.kind.in_(REMINDER_KINDS),
                OutboxMessage.created_at < utc(created_before),
            )
        )
    ).all()
    if not rows:
        return 0
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in rows]), OutboxMessage.status == "pending")
        .values(status="cancelled", updated_at=now, error="expired: quiet hours near")
        .execution_options(synchronize_session=False)
    )
    given_back = [r.learner_id for r in rows if r.kind == "reminder" and r.learner_id is not None]
    if given_back:
        t = ReminderSetting
        await session.execute(
            update(t)
            .where(t.learner_id.in_(given_back))
            .values(
                unanswered=case((t.unanswered > 0, t.unanswered - 1), else_=0),
                paused=False,
                due_at=case((t.rhythm != "off", now + retry_after), else_=None),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    digests = [r.learner_id for r in rows if r.kind == "digest" and r.learner_id is not None]
    if digests:  # the week's digest goes again at the next allowed time
        await session.execute(
            delete(MentorDigest).where(
                MentorDigest.mentor_id.in_(digests),
                MentorDigest.broadcast_id.in_(
                    select(OutboxMessage.broadcast_id).where(OutboxMessage.id.in_([r.id for r in rows]))
                ),
            )
        )
    return len(rows)


# --- mentors' weekly digest ---------------------------------------------------------------------------
def week_of(moment: datetime) -> str:
    """The ISO week of a moment in Vietnam time, "2026-W45"."""
    year, week, _ = moment.astimezone(VIETNAM_TIME).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class MentorRow:
    """A mentor to write a digest to."""

    mentor_id: int
    name: str | None
    commune_id: str | None
    channel: str
    chat_id: str


async def mentors_without_digest(
    session: AsyncSession, week: str, where_commune: Any, channels: Collection[str] | None, limit: int
) -> list[MentorRow]:
    """Reachable mentors with at least one learner and no digest for `week` yet."""
    mentee = Learner.__table__.alias("mentee")
    rows = await session.execute(
        select(Learner.id, Learner.name, Learner.commune_id, Learner.channel, Learner.chat_id)
        .where(
            Learner.role == "mentor",
            where_commune,
            *_reachable(channels),
            select(mentee.c.id)
            .where(mentee.c.mentor_id == Learner.id, mentee.c.deleted_at.is_(None))
            .exists(),
            ~select(MentorDigest.mentor_id)
            .where(MentorDigest.mentor_id == Learner.id, MentorDigest.week == week)
            .exists(),
        )
        .order_by(Learner.id)
        .limit(limit)
    )
    return [MentorRow(r.id, r.name, r.commune_id, r.channel, r.chat_id) for r in rows]


@dataclass
class MenteeFacts:
    """One of a mentor's learners, as the digest needs them."""

    learner_id: int
    name: str | None
    last_active_at: datetime
    core_done: int = 0
    finished: list[str] = field(default_factory=list)  # lessons completed since the digest's start
    stopped: str | None = None  # "off" (turned off) or "paused" (no reply), since the digest's start


async def mentee_facts(
    session: AsyncSession, mentor_ids: Sequence[int], since: datetime, core_ids: Collection[str]
) -> dict[int, list[MenteeFacts]]:
    """Each mentor's learners with what they finished and whether they stopped reminders since `since`."""
    by_mentor: dict[int, list[MenteeFacts]] = defaultdict(list)
    facts: dict[int, MenteeFacts] = {}
    if not mentor_ids:
        return by_mentor
    for learner_id, name, mentor_id, last_active_at in await session.execute(
        select(Learner.id, Learner.name, Learner.mentor_id, Learner.last_active_at)
        .where(Learner.mentor_id.in_(list(mentor_ids)), Learner.deleted_at.is_(None))
        .order_by(Learner.name, Learner.id)
    ):
        facts[learner_id] = MenteeFacts(learner_id, name, utc(last_active_at))
        by_mentor[cast(int, mentor_id)].append(facts[learner_id])
    if not facts:
        return by_mentor
    since = utc(since)
    # joined through the mentor rather than by a list of every mentee's id: one index range per mentor
    mine = and_(Learner.mentor_id.in_(list(mentor_ids)), Learner.deleted_at.is_(None))
    for learner_id, lesson_id in await session.execute(
        select(Completion.learner_id, Completion.lesson_id)
        .join(Learner, Learner.id == Completion.learner_id)
        .where(mine, Completion.completed_at >= since)
        .order_by(Completion.completed_at)
    ):
        facts[learner_id].finished.append(lesson_id)
    if core_ids:
        for learner_id, count in await session.execute(
            select(Completion.learner_id, func.count())
            .join(Learner, Learner.id == Completion.learner_id)
            .where(mine, Completion.lesson_id.in_(list(core_ids)))
            .group_by(Completion.learner_id)
        ):
            facts[learner_id].core_done = int(count)
    for learner_id, rhythm in await session.execute(
        select(ReminderSetting.learner_id, ReminderSetting.rhythm)
        .join(Learner, Learner.id == ReminderSetting.learner_id)
        .where(
            mine,
            ReminderSetting.stopped_at >= since,
            or_(ReminderSetting.rhythm == "off", ReminderSetting.paused.is_(True)),
        )
    ):
        facts[learner_id].stopped = "off" if rhythm == "off" else "paused"
    return by_mentor


async def claim_digest(session: AsyncSession, mentor_id: int, week: str, now: datetime) -> bool:
    """Record the mentor's digest of `week`; False when it was recorded before (sent or skipped)."""
    result = await session.execute(
        _insert(session, MentorDigest.__table__)
        .values(mentor_id=mentor_id, week=week, created_at=utc(now))
        .on_conflict_do_nothing()
    )
    return bool(_rowcount(result))


async def write_digest(
    session: AsyncSession, mentor: MentorRow, week: str, reply: dict[str, Any], now: datetime
) -> None:
    """Queue a claimed digest: a "digest" broadcast with its one outbox row."""
    now = utc(now)
    broadcast = Broadcast(
        kind="digest",
        commune_id=mentor.commune_id,
        mentor_id=mentor.mentor_id,
        text="",
        created_at=now,
        recipients=1,
    )
    await add_rows(
        session, broadcast, [Recipient(mentor.mentor_id, mentor.channel, mentor.chat_id, reply)], now
    )
    await session.execute(
        update(MentorDigest)
        .where(MentorDigest.mentor_id == mentor.mentor_id, MentorDigest.week == week)
        .values(broadcast_id=broadcast.id)
        .execution_options(synchronize_session=False)
    )
    await session.flush()


# --- personal data ------------------------------------------------------------------------------------
async def erase(session: AsyncSession, learner_id: int, name: str | None, mentor_id: int | None) -> None:
    """A learner deletes their data: their setting and review items go; the reminder rows stay (times
    only, for the commune's anonymous counts); their name is cut from their mentor's digests."""
    await session.execute(delete(ReminderSetting).where(ReminderSetting.learner_id == learner_id))
    await session.execute(delete(ReviewItem).where(ReviewItem.learner_id == learner_id))
    if not name or mentor_id is None:
        return
    rows = await session.scalars(
        select(OutboxMessage)
        .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(Broadcast.kind == "digest", Broadcast.mentor_id == mentor_id)
    )
    for row in rows:
        text = str(row.reply.get("text", ""))
        buttons = row.reply.get("buttons", [])
        if name in text or any(name in str(label) for label, _ in buttons):
            row.reply = {
                **row.reply,
                "text": text.replace(name, ERASED_NAME),
                "buttons": [[str(label).replace(name, ERASED_NAME), payload] for label, payload in buttons],
            }


# --- the dashboard's figures --------------------------------------------------------------------------
@dataclass(frozen=True)
class ReminderStats:
    """One month of reminders in a commune."""

    month: str  # "2026-11"
    reminders_sent: int
    learners_reminded: int
    learners_back_48h: int  # reminded learners who wrote within 48 hours of a reminder
    review_right_first_try: int  # review questions answered right the first time they were asked
    review_right_later: int  # ... right only after one or more wrong answers

    @property
    def share_back_48h(self) -> float:
        return self.learners_back_48h / self.learners_reminded if self.learners_reminded else 0.0


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """A month "2026-11" in Vietnam time, as [start, end) in UTC."""
    year_s, _, month_s = month.strip().partition("-")
    if not (year_s.isdigit() and len(year_s) == 4 and month_s.isdigit() and 1 <= int(month_s) <= 12):
        raise ValueError(f"month must look like 2026-11, not {month!r}")
    year, number = int(year_s), int(month_s)
    start = datetime(year, number, 1, tzinfo=VIETNAM_TIME)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=VIETNAM_TIME)
    return utc(start), utc(end)


BACK_WITHIN = timedelta(hours=48)


async def reminder_stats(session: AsyncSession, commune_id: str, month: str) -> ReminderStats:
    """Reminders delivered in a month to the commune's learners, the learners who came back within 48
    hours of one, and review questions first answered right that month, on the first try or later."""
    start, end = month_bounds(month)
    rows = (
        await session.execute(
            select(Reminder.learner_id, Reminder.created_at, Reminder.replied_at)
            .join(Learner, Learner.id == Reminder.learner_id)
            .join(
                OutboxMessage,
                and_(
                    OutboxMessage.broadcast_id == Reminder.broadcast_id,
                    OutboxMessage.learner_id == Reminder.learner_id,
                ),
            )
            .where(
                Learner.commune_id == commune_id,
                OutboxMessage.status == "sent",
                Reminder.created_at >= start,
                Reminder.created_at < end,
            )
        )
    ).all()
    reminded = {r.learner_id for r in rows}
    back = {
        r.learner_id
        for r in rows
        if r.replied_at is not None and utc(r.replied_at) - utc(r.created_at) <= BACK_WITHIN
    }
    reviews = dict(
        (
            await session.execute(
                select(ReviewItem.right_first_try, func.count())
                .join(Learner, Learner.id == ReviewItem.learner_id)
                .where(
                    Learner.commune_id == commune_id,
                    ReviewItem.first_right_at >= start,
                    ReviewItem.first_right_at < end,
                )
                .group_by(ReviewItem.right_first_try)
            )
        ).all()
    )
    return ReminderStats(
        month=month.strip(),
        reminders_sent=len(rows),
        learners_reminded=len(reminded),
        learners_back_48h=len(back),
        review_right_first_try=int(reviews.get(True, 0)),
        review_right_later=int(reviews.get(False, 0)),
    )
