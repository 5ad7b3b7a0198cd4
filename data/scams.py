"""Counts of the messages learners had checked for scams, for the commune's dashboard (issue 16).

A row (`ScamReport`) holds the day (Vietnam time), the learner's commune and village, the kind of scam
("none" when the check found no clear sign), the verdict and the registrable domains of the links —
never the text, the sender or the learner. The same learner having the same message (same kind, same
domains) checked again on the same day is counted once: the caller passes a keyed hash (`reporter`) whose
key lives in memory for that day only, and the hashes of past days are cleared. Rows are deleted after
the event-retention period (`purge`, called with the processed-event purge).

A *wave* is the same kind of scam, or the same non-official domain, reported at least `threshold` times
over yesterday and today: the dashboard shows it at the top with a draft warning for the commune.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import ScamReport
from data.stats import VIETNAM, utc

NONE = "none"  # the kind recorded when the check found no clear sign
WAVE_DAYS = 2  # a wave is counted over yesterday and today (rows keep the day, not the hour)


def vietnam_day(moment: datetime) -> date:
    """The calendar day in Vietnam at `moment`."""
    return utc(moment).astimezone(VIETNAM).date()


async def record(
    session: AsyncSession,
    *,
    day: date,
    commune_id: str | None,
    village_id: str | None,
    kind: str | None,
    level: str,
    domains: Sequence[str],
    reporter: str | None = None,
) -> bool:
    """Count one checked message; False when `reporter` already counted it today (not counted again)."""
    today = day.isoformat()
    # past days' hashes are not needed any more: after its day, nothing links a row to a learner
    await session.execute(
        update(ScamReport)
        .where(ScamReport.day < today, ScamReport.reporter.is_not(None))
        .values(reporter=None)
    )
    if reporter is not None:
        seen = await session.scalar(
            select(ScamReport.id).where(ScamReport.reporter == reporter, ScamReport.day == today).limit(1)
        )
        if seen is not None:
            return False
    session.add(
        ScamReport(
            day=today,
            commune_id=commune_id,
            village_id=village_id,
            kind=kind or NONE,
            level=level,
            domains=sorted(set(domains)),
            reporter=reporter,
        )
    )
    return True


async def purge(session: AsyncSession, before: datetime) -> int:
    """Delete the rows of days before `before` (the event-retention period)."""
    result = await session.execute(delete(ScamReport).where(ScamReport.day < vietnam_day(before).isoformat()))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Row:
    """What the dashboard reads of one report."""

    day: date
    village_id: str | None
    kind: str
    level: str
    domains: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.kind != NONE


async def reports(session: AsyncSession, commune_id: str, since: date) -> list[Row]:
    """The commune's reports from `since` (a day) on."""
    rows = await session.execute(
        select(
            ScamReport.day, ScamReport.village_id, ScamReport.kind, ScamReport.level, ScamReport.domains
        ).where(ScamReport.commune_id == commune_id, ScamReport.day >= since.isoformat())
    )
    return [
        Row(date.fromisoformat(day), village, kind, level, tuple(domains or ()))
        for day, village, kind, level, domains in rows
    ]


def per_village(rows: Iterable[Row], since: date) -> dict[str, Counter[str | None]]:
    """kind -> village -> count, for reports from `since` on (the dashboard's tables)."""
    table: dict[str, Counter[str | None]] = {}
    for row in rows:
        if row.day >= since:
            table.setdefault(row.kind, Counter())[row.village_id] += 1
    return table


@dataclass(frozen=True)
class DomainCount:
    """A domain seen in checked messages: in how many reports, how many of them flagged."""

    domain: str
    reports: int
    flagged: int


def top_domains(rows: Iterable[Row], since: date, limit: int = 10) -> list[DomainCount]:
    """The domains seen most from `since` on, flagged reports first on ties."""
    seen: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    for row in rows:
        if row.day < since:
            continue
        for domain in row.domains:
            seen[domain] += 1
            flagged[domain] += row.flagged
    ordered = sorted(seen, key=lambda d: (-seen[d], -flagged[d], d))
    return [DomainCount(d, seen[d], flagged[d]) for d in ordered[:limit]]


@dataclass(frozen=True)
class Wave:
    """The same kind of scam (`what` = "kind") or the same domain (`what` = "domain") reported at least the
    threshold's number of times over yesterday and today."""

    what: str
    value: str
    reports: int
    villages: tuple[str | None, ...] = field(default=())
    kind: str | None = None  # for a domain: the kind most of its reports were given


def waves(
    rows: Iterable[Row], today: date, threshold: int, official: Callable[[str], bool] = lambda _: False
) -> list[Wave]:
    """Kinds and domains reported by at least `threshold` reports (each learner's same report counted once
    a day) since yesterday; checked messages without a clear sign and official domains never make one."""
    since = today - timedelta(days=WAVE_DAYS - 1)
    recent = [row for row in rows if since <= row.day <= today and row.flagged]
    by_kind: dict[str, list[Row]] = {}
    by_domain: dict[str, list[Row]] = {}
    for row in recent:
        by_kind.setdefault(row.kind, []).append(row)
        for domain in row.domains:
            if not official(domain):
                by_domain.setdefault(domain, []).append(row)
    found: list[Wave] = []
    for what, groups in (("domain", by_domain), ("kind", by_kind)):
        for value, members in groups.items():
            if len(members) >= threshold:
                villages = tuple(sorted({m.village_id for m in members}, key=lambda v: v or ""))
                kind = Counter(m.kind for m in members).most_common(1)[0][0]
                found.append(Wave(what, value, len(members), villages, kind))
    return sorted(found, key=lambda w: (-w.reports, w.what, w.value))
