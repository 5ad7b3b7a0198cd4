"""The dashboard's "Nhắc học" page (issue 17): per month, the reminders the commune's learners received,
how many of those learners came back within 48 hours of one, and the review questions answered right on
the first try versus only later. Counts only: no learner is named here."""

# No `from __future__ import annotations`: FastAPI reads the route's signature at run time, and its
# dependency (`tools.current`) is local to `create_router`, where a string annotation cannot be resolved.
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from admin import formatting
from admin.web import Session, Tools
from data.reminders import ReminderStats, reminder_stats

MONTHS_SHOWN = 6


@dataclass(frozen=True)
class MonthRow:
    """One month as the page shows it, already written the Vietnamese way."""

    label: str  # "Tháng 11/2026"
    stats: ReminderStats
    back: str  # "42,0 %" or "–" when nobody was reminded
    first_try: str  # share of review questions right on the first try


def recent_months(now: datetime, count: int = MONTHS_SHOWN) -> list[str]:
    """The current month and the `count - 1` before it, newest first, as "YYYY-MM" (Vietnam's calendar)."""
    local = now.astimezone(formatting.VIETNAM) if now.tzinfo else now
    year, month = local.year, local.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def month_row(stats: ReminderStats) -> MonthRow:
    year, month = stats.month.split("-")
    reviews = stats.review_right_first_try + stats.review_right_later
    return MonthRow(
        label=f"Tháng {int(month)}/{year}",
        stats=stats,
        back=formatting.percent(stats.share_back_48h) if stats.learners_reminded else "–",
        first_try=formatting.percent(stats.review_right_first_try / reviews) if reviews else "–",
    )


def create_router(tools: Tools) -> APIRouter:
    router = APIRouter(route_class=tools.route_class)

    @router.get("/c/{commune_id}/reminders", name="reminders")
    async def reminders_page(
        request: Request, auth: Annotated[Session, Depends(tools.current)], commune_id: str
    ) -> Response:
        commune = tools.commune_for(auth, commune_id)
        async with tools.ctx.sessions() as session:
            rows = [
                month_row(await reminder_stats(session, commune.id, month))
                for month in recent_months(tools.ctx.clock.now())
            ]
        return tools.page(request, "reminders.html", {**tools.base(auth, commune, "reminders"), "rows": rows})

    return router
