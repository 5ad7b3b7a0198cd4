"""The dashboard's learner-level queries: the filtered, paged list of a commune's learners ("Người học"),
one learner's record, who to call this week, and the village scope of a village head's requests.

A learner's status is one of four, decided from their completions, lesson progress and last activity:
- `not-started`: no lesson opened yet;
- `learning`: started, the core curriculum not finished, active within the last N days;
- `stuck`: started, the core curriculum not finished, idle N days or more (N chosen, default 7);
- `finished`: every core lesson passed.

Erased learners (`deleted_at` set) and people who never finished registering are never listed. Names are
matched accent-insensitively ("nguyen van" finds "Nguyễn Văn"), in Python: SQLite has no diacritic
folding, and a commune's names are a few tens of thousands at most.

Village scope: `scope_to_village` (called for each request of a village head) makes every ORM SELECT on
`learners` made in that task see only that village's rows (SQLAlchemy's `with_loader_criteria` in a
`do_orm_execute` hook), so the overview, the chart and the reports, whose queries join `learners`, count
only that village without each query knowing about village heads. Aliases of `learners` (a learner's
mentor) are not narrowed; a statement run with the execution option `ALL_VILLAGES` is not either.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, event, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from data.models import Completion, Learner, LessonProgress, UnansweredQuestion
from data.stats import Period, utc

Status = Literal["not-started", "learning", "stuck", "finished"]
STATUSES: tuple[Status, ...] = ("not-started", "learning", "stuck", "finished")
NO_MENTOR = 0  # the mentor filter's value for "no mentor"
NO_AGE = "none"  # the age-group filter's value for "not said"
ALL_VILLAGES = "hocvuso_all_villages"  # execution option: this statement ignores the village scope
MAX_EXPORT = 50_000  # rows of one export or print view (a commune has fewer learners)

_village_scope: ContextVar[str | None] = ContextVar("hocvuso_village_scope", default=None)


def scope_to_village(village_id: str | None) -> None:
    """From now on in this task (one request), SELECTs see only this village's learners (None: all).
    Set on every authenticated request, so a task serving several requests never keeps a stale scope."""
    _village_scope.set(village_id)


def current_village_scope() -> str | None:
    return _village_scope.get()


def _restrict_to_village(state: ORMExecuteState) -> None:
    village = _village_scope.get()
    if village is None or not state.is_select or state.execution_options.get(ALL_VILLAGES):
        return
    state.statement = state.statement.options(
        with_loader_criteria(Learner, Learner.village_id == village, include_aliases=False)
    )


def install_village_scope() -> None:
    """Hook the village scope into every ORM session (once; a no-op while no scope is set)."""
    if not event.contains(Session, "do_orm_execute", _restrict_to_village):
        event.listen(Session, "do_orm_execute", _restrict_to_village)


# --- names -------------------------------------------------------------------------------------------
def _fold_table() -> dict[int, str]:
    """Every precomposed Latin letter with marks (Vietnamese's among them) to its bare letter; đ to d."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0xC0, 0x2000):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case, without diacritics, single spaces: "  Nguyễn  Văn Đức" -> "nguyen van duc".
    (A table lookup per character: a commune's 20,000 names fold in a few milliseconds.)"""
    return " ".join(unicodedata.normalize("NFC", text).translate(_FOLD).lower().split())


# --- the list ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LearnerFilter:
    """What the list is narrowed to; every field optional."""

    search: str = ""
    village_id: str | None = None
    age_group: str | None = None  # an age group id, or NO_AGE
    mentor_id: int | None = None  # a mentor's learner id, or NO_MENTOR
    status: Status | None = None
    stuck_days: int = 7
    # registered in the period; with status "finished": finished the core curriculum in the period
    period: Period | None = None


@dataclass(frozen=True)
class LearnerRow:
    """One learner as the list shows them."""

    id: int
    name: str
    village_id: str | None
    age_group: str | None
    mentor_id: int | None
    registered_at: datetime | None
    last_active_at: datetime
    lessons_done: int
    core_done: int
    core_total: int
    core_finished_at: datetime | None  # when the last core lesson was passed (if all are)
    status: Status

    def idle_days(self, now: datetime) -> int:
        return max(0, (utc(now) - utc(self.last_active_at)).days)

    @property
    def core_share(self) -> float:
        return self.core_done / self.core_total if self.core_total else 0.0


def _base_filters(commune_id: str, flt: LearnerFilter) -> list[ColumnElement[bool]]:
    """What narrows the list without looking at anyone's progress."""
    where: list[ColumnElement[bool]] = [
        Learner.commune_id == commune_id,
        Learner.registered_at.is_not(None),
        Learner.deleted_at.is_(None),
    ]
    if flt.village_id:
        where.append(Learner.village_id == flt.village_id)
    if flt.age_group == NO_AGE:
        where.append(Learner.age_group.is_(None))
    elif flt.age_group:
        where.append(Learner.age_group == flt.age_group)
    if flt.mentor_id == NO_MENTOR:
        where.append(Learner.mentor_id.is_(None))
    elif flt.mentor_id is not None:
        where.append(Learner.mentor_id == flt.mentor_id)
    if flt.period is not None and flt.status != "finished":
        where += [Learner.registered_at >= flt.period.start, Learner.registered_at < flt.period.end]
    return where


def _rows_query(
    commune_id: str, core_ids: Sequence[str], flt: LearnerFilter, now: datetime, ids: list[int] | None
) -> Select[Any]:
    """The filtered list as one statement (unordered, unpaged); `ids`: only these learners.

    A learner's counts are correlated subqueries on the (learner_id, lesson_id) unique index of
    `completions`, which holds all they need: one short index range per learner, no table reads, and
    only for the learners the other filters kept."""
    core = list(dict.fromkeys(core_ids))
    done = (
        select(func.count())
        .select_from(Completion)
        .where(Completion.learner_id == Learner.id)
        .scalar_subquery()
    )
    core_done = (
        select(func.count())
        .select_from(Completion)
        .where(Completion.learner_id == Learner.id, Completion.lesson_id.in_(core))
        .scalar_subquery()
    )
    opened = select(LessonProgress.id).where(LessonProgress.learner_id == Learner.id).exists()
    started = or_(done > 0, opened)
    finished: ColumnElement[bool] = core_done >= len(core) if core else false()
    idle = Learner.last_active_at < utc(now) - timedelta(days=flt.stuck_days)
    where = _base_filters(commune_id, flt)
    if ids is not None:  # rendered inline: a long list of matches never meets a bound-parameter limit
        where.append(Learner.id.in_(bindparam("ids", ids, expanding=True, literal_execute=True)))
    if flt.status == "finished":
        where.append(finished)
    elif flt.status == "not-started":
        where.append(~started)
    elif flt.status == "stuck":
        where += [started, ~finished, idle]
    elif flt.status == "learning":
        where += [started, ~finished, ~idle]
    if flt.period is not None and flt.status == "finished":  # finished the core within the period
        core_at = (
            select(func.max(Completion.completed_at))
            .where(Completion.learner_id == Learner.id, Completion.lesson_id.in_(core))
            .scalar_subquery()
        )
        where += [core_at >= flt.period.start, core_at < flt.period.end]
    return select(
        Learner.id,
        Learner.name,
        Learner.village_id,
        Learner.age_group,
        Learner.mentor_id,
        Learner.registered_at,
        Learner.last_active_at,
        done.label("done"),
        core_done.label("core"),
        started.label("started"),
    ).where(*where)


def _row(values: Any, core_total: int, stuck_days: int, now: datetime) -> LearnerRow:
    core_done = int(values.core or 0)
    finished = bool(core_total) and core_done >= core_total
    status: Status
    if finished:
        status = "finished"
    elif not values.started:
        status = "not-started"
    elif utc(values.last_active_at) < utc(now) - timedelta(days=stuck_days):
        status = "stuck"
    else:
        status = "learning"
    return LearnerRow(
        id=values.id,
        name=values.name or "",
        village_id=values.village_id,
        age_group=values.age_group,
        mentor_id=values.mentor_id,
        registered_at=values.registered_at,
        last_active_at=values.last_active_at,
        lessons_done=int(values.done or 0),
        core_done=core_done,
        core_total=core_total,
        core_finished_at=getattr(values, "core_at", None) if finished else None,
        status=status,
    )


Order = Literal["name", "recently-idle"]


async def learners(
    session: AsyncSession,
    commune_id: str,
    core_ids: Sequence[str],
    flt: LearnerFilter,
    now: datetime,
    *,
    page: int = 1,
    size: int = 50,
    order: Order = "name",
) -> tuple[list[LearnerRow], int]:
    """One page of the commune's learners matching the filter, and how many match in all.
    `size=0`: every match (exports), at most `MAX_EXPORT`."""
    ids: list[int] | None = None
    needle = fold(flt.search)
    if needle:  # names matched in Python (see the module's docstring) among those the filters keep
        rows = await session.execute(select(Learner.id, Learner.name).where(*_base_filters(commune_id, flt)))
        ids = [i for i, name in rows if needle in fold(name or "")]
        if not ids:
            return [], 0
    query = _rows_query(commune_id, core_ids, flt, now, ids)
    if order == "recently-idle":  # who stopped most recently first: the easiest to bring back
        query = query.order_by(Learner.last_active_at.desc(), Learner.id)
    else:
        query = query.order_by(Learner.name, Learner.id)
    core_total = len(set(core_ids))
    # the total with the page, in one pass (a window over every match, computed before the limit)
    query = query.add_columns(func.count().over().label("total"))
    limited = query.limit(MAX_EXPORT) if size == 0 else query.offset((page - 1) * size).limit(size)
    chosen = list(await session.execute(limited))
    if chosen:
        total = int(chosen[0].total)
    else:  # a page past the end: the total alone
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return [_row(r, core_total, flt.stuck_days, now) for r in chosen], total


async def mentor_names(session: AsyncSession, commune_id: str, ids: Sequence[int]) -> dict[int, str]:
    """The names of these mentors of the commune (a learner's mentor may live in another village)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await session.execute(
        select(Learner.id, Learner.name)
        .where(Learner.id.in_(wanted), Learner.commune_id == commune_id, Learner.deleted_at.is_(None))
        .execution_options(**{ALL_VILLAGES: True})
    )
    return {i: name or "" for i, name in rows}


async def mentors_of_learners(session: AsyncSession, commune_id: str) -> dict[int, str]:
    """The mentors who have learners in scope (the filter's choices), by name."""
    ids = await session.scalars(
        select(Learner.mentor_id)
        .where(
            Learner.commune_id == commune_id,
            Learner.mentor_id.is_not(None),
            Learner.deleted_at.is_(None),
            Learner.registered_at.is_not(None),
        )
        .distinct()
    )
    names = await mentor_names(session, commune_id, [i for i in ids.all() if i is not None])
    return dict(sorted(names.items(), key=lambda item: fold(item[1])))


@dataclass(frozen=True)
class _Values:
    """One learner's figures in the shape of a list row, for `_row`."""

    id: int
    name: str | None
    village_id: str | None
    age_group: str | None
    mentor_id: int | None
    registered_at: datetime | None
    last_active_at: datetime
    done: int
    core: int
    core_at: datetime | None
    started: bool


# --- one learner -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LessonDone:
    lesson_id: str
    completed_at: datetime
    correct: int
    total: int


@dataclass(frozen=True)
class LessonOpen:
    lesson_id: str
    card_number: int
    updated_at: datetime


@dataclass(frozen=True)
class AskedQuestion:
    asked_at: datetime
    text: str
    status: str  # open | answered | handled
    answered_at: datetime | None


@dataclass(frozen=True)
class LearnerRecord:
    """One learner's page: the list's row, lessons done and open, and the questions they asked."""

    learner: Learner
    row: LearnerRow
    done: list[LessonDone]
    opened: list[LessonOpen]
    questions: list[AskedQuestion]


async def learner_in_commune(session: AsyncSession, commune_id: str, learner_id: int) -> Learner | None:
    """A registered, not erased learner of the commune, whatever the village scope (the caller checks the
    village, to answer 403 rather than 404)."""
    return await session.scalar(
        select(Learner)
        .where(
            Learner.id == learner_id,
            Learner.commune_id == commune_id,
            Learner.registered_at.is_not(None),
            Learner.deleted_at.is_(None),
        )
        .execution_options(**{ALL_VILLAGES: True})
    )


async def record(
    session: AsyncSession,
    learner: Learner,
    core_ids: Sequence[str],
    now: datetime,
    stuck_days: int = 7,
    max_questions: int = 100,
) -> LearnerRecord:
    done = [
        LessonDone(lesson_id, completed_at, correct, total)
        for lesson_id, completed_at, correct, total in await session.execute(
            select(Completion.lesson_id, Completion.completed_at, Completion.correct, Completion.total)
            .where(Completion.learner_id == learner.id)
            .order_by(Completion.completed_at, Completion.id)
        )
    ]
    finished_ids = {d.lesson_id for d in done}
    opened = [
        LessonOpen(lesson_id, card, updated_at)
        for lesson_id, card, updated_at in await session.execute(
            select(LessonProgress.lesson_id, LessonProgress.card_number, LessonProgress.updated_at)
            .where(LessonProgress.learner_id == learner.id)
            .order_by(LessonProgress.updated_at.desc())
        )
        if lesson_id not in finished_ids
    ]
    questions = [
        AskedQuestion(asked_at, text, status, answered_at)
        for asked_at, text, status, answered_at in await session.execute(
            select(
                UnansweredQuestion.asked_at,
                UnansweredQuestion.text,
                UnansweredQuestion.status,
                UnansweredQuestion.answered_at,
            )
            .where(UnansweredQuestion.learner_id == learner.id)
            .order_by(UnansweredQuestion.asked_at.desc(), UnansweredQuestion.id.desc())
            .limit(max_questions)
        )
    ]
    core = set(core_ids)
    core_finished = [d.completed_at for d in done if d.lesson_id in core]
    values = _Values(
        learner.id,
        learner.name,
        learner.village_id,
        learner.age_group,
        learner.mentor_id,
        learner.registered_at,
        learner.last_active_at,
        len(done),
        len(core_finished),
        max(core_finished) if core_finished else None,
        bool(done or opened),
    )
    return LearnerRecord(learner, _row(values, len(core), stuck_days, now), done, opened, questions)
