"""Statistics for commune staff: registrations, activity, completions and the core curriculum per village,
per lesson and per mentor, always scoped to one commune.

Every function takes plain ids (the core lesson ids, the commune) so `data` stays independent of the
engine. Times are compared in UTC, the way they are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from data.commune import Commune
from data.models import Broadcast, Completion, Learner, QuizAnswer, QuizAttempt, UnansweredQuestion

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving time in Vietnam


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value (as SQLite returns them) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """A reporting period: a quarter ("2026-Q4") or a year ("2026"), in Vietnam's time zone."""

    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC
    year: int

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip().upper()
        year_s, _, quarter_s = text.partition("-Q")
        if not year_s.isdigit() or len(year_s) != 4 or (quarter_s and quarter_s not in {"1", "2", "3", "4"}):
            raise ValueError(f"period must look like 2026-Q4 or 2026, not {text!r}")
        year = int(year_s)
        if quarter_s:
            first_month = 3 * (int(quarter_s) - 1) + 1
            start = datetime(year, first_month, 1, tzinfo=VIETNAM)
            end = (
                datetime(year + 1, 1, 1, tzinfo=VIETNAM)
                if first_month == 10
                else datetime(year, first_month + 3, 1, tzinfo=VIETNAM)
            )
            label = f"{year}-Q{quarter_s}"
        else:
            start, end, label = (
                datetime(year, 1, 1, tzinfo=VIETNAM),
                datetime(year + 1, 1, 1, tzinfo=VIETNAM),
                str(year),
            )
        return cls(label=label, start=start.astimezone(UTC), end=end.astimezone(UTC), year=year)

    @property
    def title(self) -> str:
        """The period as staff write it: "Quý IV/2026" or "Năm 2026"."""
        if "-Q" in self.label:
            return f"Quý {('I', 'II', 'III', 'IV')[int(self.label[-1]) - 1]}/{self.year}"
        return f"Năm {self.year}"


@dataclass(frozen=True)
class VillageRow:
    """One village's numbers against the commune's target."""

    village_id: str
    name: str
    adults: int
    registered: int
    finished_core: int
    finished_core_in_period: int
    target_share: float

    @property
    def share(self) -> float:
        """Share of the village's adults who finished the core curriculum."""
        return self.finished_core / self.adults if self.adults else 0.0

    @property
    def of_target(self) -> float:
        """How far the village is towards its target (1.0 = reached)."""
        return self.share / self.target_share if self.target_share else 0.0


@dataclass(frozen=True)
class Overview:
    """The dashboard's first page for one commune."""

    registered: int
    active_7: int
    active_30: int
    completions: int
    finished_core: int
    villages: list[VillageRow]
    target_share: float
    year: int


def _registered(commune_id: str) -> list[object]:
    return [Learner.commune_id == commune_id, Learner.registered_at.is_not(None)]


def _core_finishers(commune_id: str, core_ids: Sequence[str], until: datetime) -> Select[int, datetime]:
    """Learners of the commune who passed every core lesson before `until`, with when they finished."""
    return (
        select(Completion.learner_id, func.max(Completion.completed_at).label("finished_at"))
        .join(Learner, Learner.id == Completion.learner_id)
        .where(
            Learner.commune_id == commune_id,
            Completion.lesson_id.in_(list(core_ids)),
            Completion.completed_at < utc(until),
        )
        .group_by(Completion.learner_id)
        .having(func.count(func.distinct(Completion.lesson_id)) == len(set(core_ids)))
    )


async def villages(
    session: AsyncSession,
    commune: Commune,
    core_ids: Sequence[str],
    until: datetime,
    since: datetime | None = None,
) -> list[VillageRow]:
    """Registered and core-curriculum finishers per village, up to `until` (and how many since `since`)."""
    registered = dict(
        (
            await session.execute(
                select(Learner.village_id, func.count())
                .where(*_registered(commune.id), Learner.registered_at < utc(until))  # type: ignore[arg-type]
                .group_by(Learner.village_id)
            )
        ).all()
    )
    finished: dict[str | None, tuple[int, int]] = {}
    if core_ids:
        finishers = _core_finishers(commune.id, core_ids, until).subquery()
        since_utc = utc(since) if since is not None else None
        recent = (
            func.sum(case((finishers.c.finished_at >= since_utc, 1), else_=0))
            if since_utc is not None
            else func.count()
        )
        rows = await session.execute(
            select(Learner.village_id, func.count(), recent)
            .join(finishers, finishers.c.learner_id == Learner.id)
            .group_by(Learner.village_id)
        )
        finished = {village: (int(total), int(new or 0)) for village, total, new in rows}
    target = commune.target_for(utc(until).astimezone(VIETNAM).year).basic_skills_share
    return [
        VillageRow(
            village_id=v.id,
            name=v.name,
            adults=v.adults,
            registered=int(registered.get(v.id, 0)),
            finished_core=finished.get(v.id, (0, 0))[0],
            finished_core_in_period=finished.get(v.id, (0, 0))[1],
            target_share=target,
        )
        for v in commune.villages
    ]


async def overview(
    session: AsyncSession, commune: Commune, core_ids: Sequence[str], now: datetime
) -> Overview:
    """Registered, active in the last 7 and 30 days, completions, and core finishers per village."""
    now = utc(now)
    counts = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Learner.last_active_at >= now - timedelta(days=7), 1), else_=0)),
                func.sum(case((Learner.last_active_at >= now - timedelta(days=30), 1), else_=0)),
            ).where(*_registered(commune.id))  # type: ignore[arg-type]
        )
    ).one()
    completions = await session.scalar(
        select(func.count())
        .select_from(Completion)
        .join(Learner, Learner.id == Completion.learner_id)
        .where(Learner.commune_id == commune.id)
    )
    rows = await villages(session, commune, core_ids, now + timedelta(seconds=1))
    year = now.astimezone(VIETNAM).year
    return Overview(
        registered=int(counts[0] or 0),
        active_7=int(counts[1] or 0),
        active_30=int(counts[2] or 0),
        completions=int(completions or 0),
        finished_core=sum(r.finished_core for r in rows),
        villages=rows,
        target_share=commune.target_for(year).basic_skills_share,
        year=year,
    )


@dataclass(frozen=True)
class LessonRow:
    """Completions and quiz results of one lesson in a period."""

    lesson_id: str
    completions: int
    attempts: int
    passed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


async def lessons(
    session: AsyncSession, commune_id: str, start: datetime | None = None, end: datetime | None = None
) -> dict[str, LessonRow]:
    """Per lesson: completions, finished quiz attempts and passed attempts (optionally in a period)."""
    completion_filter = [Learner.commune_id == commune_id]
    attempt_filter = [Learner.commune_id == commune_id, QuizAttempt.finished_at.is_not(None)]
    if start is not None:
        completion_filter.append(Completion.completed_at >= utc(start))
        attempt_filter.append(QuizAttempt.finished_at >= utc(start))
    if end is not None:
        completion_filter.append(Completion.completed_at < utc(end))
        attempt_filter.append(QuizAttempt.finished_at < utc(end))
    done = dict(
        (
            await session.execute(
                select(Completion.lesson_id, func.count())
                .join(Learner, Learner.id == Completion.learner_id)
                .where(*completion_filter)
                .group_by(Completion.lesson_id)
            )
        ).all()
    )
    attempts = {
        lesson_id: (int(total), int(passed or 0))
        for lesson_id, total, passed in (
            await session.execute(
                select(
                    QuizAttempt.lesson_id,
                    func.count(),
                    func.sum(case((QuizAttempt.passed.is_(True), 1), else_=0)),
                )
                .join(Learner, Learner.id == QuizAttempt.learner_id)
                .where(*attempt_filter)
                .group_by(QuizAttempt.lesson_id)
            )
        )
    }
    return {
        lesson_id: LessonRow(
            lesson_id=lesson_id,
            completions=int(done.get(lesson_id, 0)),
            attempts=attempts.get(lesson_id, (0, 0))[0],
            passed=attempts.get(lesson_id, (0, 0))[1],
        )
        for lesson_id in set(done) | set(attempts)
    }


@dataclass(frozen=True)
class QuestionRow:
    """How often one quiz question was answered, and answered right."""

    lesson_id: str
    question_id: str
    answers: int
    correct: int

    @property
    def correct_rate(self) -> float:
        return self.correct / self.answers if self.answers else 0.0


async def hardest_questions(
    session: AsyncSession,
    commune_id: str,
    lesson_id: str | None = None,
    limit: int = 10,
    min_answers: int = 1,
) -> list[QuestionRow]:
    """Quiz questions with the lowest share of right answers (most answered first among equals)."""
    query = (
        select(
            QuizAnswer.lesson_id,
            QuizAnswer.question_id,
            func.count().label("answers"),
            func.sum(case((QuizAnswer.is_correct.is_(True), 1), else_=0)).label("correct"),
        )
        .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
        .join(Learner, Learner.id == QuizAttempt.learner_id)
        .where(Learner.commune_id == commune_id)
        .group_by(QuizAnswer.lesson_id, QuizAnswer.question_id)
        .having(func.count() >= min_answers)
    )
    if lesson_id is not None:
        query = query.where(QuizAnswer.lesson_id == lesson_id)
    rows = [
        QuestionRow(lesson, question, int(answers), int(correct or 0))
        for lesson, question, answers, correct in (await session.execute(query))
    ]
    rows.sort(key=lambda r: (r.correct_rate, -r.answers, r.lesson_id, r.question_id))
    return rows[:limit]


@dataclass(frozen=True)
class MentorRow:
    """One mentor and their learners."""

    mentor_id: int
    name: str
    village_id: str | None
    learners: int
    active_7: int
    finished_core: int
    pushes: int
    target: int

    @property
    def below_target(self) -> bool:
        return self.learners < self.target


async def mentors(
    session: AsyncSession,
    commune: Commune,
    core_ids: Sequence[str],
    now: datetime,
    start: datetime | None = None,
) -> list[MentorRow]:
    """Every mentor of the commune: learners, learners active this week, finishers, pushes (since `start`)."""
    now = utc(now)
    mentee = Learner.__table__.alias("mentee")
    finishers = (
        _core_finishers(commune.id, core_ids, now + timedelta(seconds=1)).subquery() if core_ids else None
    )
    columns = [
        Learner.id,
        Learner.name,
        Learner.village_id,
        func.count(mentee.c.id),
        func.sum(case((mentee.c.last_active_at >= now - timedelta(days=7), 1), else_=0)),
    ]
    query = (
        select(*columns)
        .outerjoin(mentee, and_(mentee.c.mentor_id == Learner.id, mentee.c.deleted_at.is_(None)))
        .where(Learner.commune_id == commune.id, Learner.role == "mentor", Learner.deleted_at.is_(None))
        .group_by(Learner.id, Learner.name, Learner.village_id)
        .order_by(Learner.name)
    )
    if finishers is not None:
        query = query.outerjoin(finishers, finishers.c.learner_id == mentee.c.id).add_columns(
            func.count(finishers.c.learner_id)
        )
    push_filter = [Broadcast.kind == "push", Broadcast.commune_id == commune.id]
    if start is not None:
        push_filter.append(Broadcast.created_at >= utc(start))
    pushes = dict(
        (
            await session.execute(
                select(Broadcast.mentor_id, func.count()).where(*push_filter).group_by(Broadcast.mentor_id)
            )
        ).all()
    )
    result = []
    for row in await session.execute(query):
        result.append(
            MentorRow(
                mentor_id=row[0],
                name=row[1] or "",
                village_id=row[2],
                learners=int(row[3]),
                active_7=int(row[4] or 0),
                finished_core=int(row[5]) if len(row) > 5 else 0,
                pushes=int(pushes.get(row[0], 0)),
                target=commune.mentor_min_learners,
            )
        )
    return result


async def open_questions(session: AsyncSession, commune_id: str) -> list[tuple[UnansweredQuestion, Learner]]:
    """The commune's queue of questions the assistant could not answer, oldest first."""
    rows = await session.execute(
        select(UnansweredQuestion, Learner)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(Learner.commune_id == commune_id, UnansweredQuestion.status == "open")
        .order_by(UnansweredQuestion.asked_at)
    )
    return [(q, learner) for q, learner in rows]
