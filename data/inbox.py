"""The inbox table: updates stored before they are acknowledged, until they are handled.

Repository functions only; the caller owns the transaction (`bot.inbox` commits). Rows hold what the
learner wrote, so handled rows are deleted at once, in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import InboxUpdate


@dataclass(frozen=True)
class Stored:
    """One update waiting in the inbox."""

    id: int
    channel: str
    learner_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Arriving:
    """One update to store: its channel, its learner's keyed hash and the body as received."""

    channel: str
    learner_key: str
    payload: dict[str, Any]


async def add(session: AsyncSession, updates: Sequence[Arriving], now: datetime) -> list[int]:
    """Insert the updates in order; their ids (ascending, so `id` order is arrival order)."""
    rows = [
        InboxUpdate(channel=u.channel, learner_key=u.learner_key, received_at=now, payload=u.payload)
        for u in updates
    ]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def remove(session: AsyncSession, ids: Sequence[int]) -> int:
    """Delete handled updates (their payload holds message texts)."""
    if not ids:
        return 0
    result = await session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(list(ids))))
    return int(getattr(result, "rowcount", 0) or 0)


async def waiting(session: AsyncSession) -> list[Stored]:
    """Every update still in the inbox, oldest first."""
    rows = (await session.execute(select(InboxUpdate).order_by(InboxUpdate.id))).scalars()
    return [Stored(r.id, r.channel, r.learner_key, dict(r.payload)) for r in rows]


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(InboxUpdate))).scalar_one())
