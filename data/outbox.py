"""The persisted outbox: one row per recipient, written in the transaction that decided to send.

A row moves pending -> sending (committed before the channel is called) -> sent, or back to pending
after a failed try, or to failed after too many. A row found in "sending" at start-up was interrupted
between the call to the channel and the record of its result: it may or may not have arrived, so it
becomes "uncertain" and is never sent again — a learner never gets the same message twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import Broadcast, Learner, OutboxMessage

STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "cancelled")


async def enqueue(
    session: AsyncSession,
    broadcast: Broadcast,
    recipients: Sequence[Learner],
    reply: dict[str, Any],
    now: datetime,
) -> int:
    """Record the broadcast and one pending row per reachable recipient; returns how many."""
    reachable = [r for r in recipients if r.deleted_at is None and r.unreachable_at is None and r.chat_id]
    broadcast.recipients = len(reachable)
    session.add(broadcast)
    await session.flush()
    session.add_all(
        OutboxMessage(
            broadcast_id=broadcast.id,
            learner_id=r.id,
            channel=r.channel,
            chat_id=r.chat_id,
            reply=reply,
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        for r in reachable
    )
    await session.flush()
    return len(reachable)


async def enqueue_each(
    session: AsyncSession,
    broadcast: Broadcast,
    messages: Sequence[tuple[Learner, dict[str, Any]]],
    now: datetime,
) -> int:
    """Like `enqueue`, with a reply of its own for each recipient (an answer quoting what each one
    asked); one row per learner even if a learner is listed twice (the first reply counts)."""
    reachable: dict[int, tuple[Learner, dict[str, Any]]] = {}
    for learner, reply in messages:
        if learner.deleted_at is None and learner.unreachable_at is None and learner.chat_id:
            reachable.setdefault(learner.id, (learner, reply))
    broadcast.recipients = len(reachable)
    session.add(broadcast)
    await session.flush()
    session.add_all(
        OutboxMessage(
            broadcast_id=broadcast.id,
            learner_id=learner.id,
            channel=learner.channel,
            chat_id=learner.chat_id,
            reply=reply,
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        for learner, reply in reachable.values()
    )
    await session.flush()
    return len(reachable)


BULK_KINDS = ("reminder", "digest")  # sent behind answers, pushes and announcements


async def pending(session: AsyncSession, channels: Sequence[str], limit: int) -> list[OutboxMessage]:
    """The oldest pending rows for the given channels; reminders and digests after everything else."""
    bulk = case((Broadcast.kind.in_(BULK_KINDS), 1), else_=0)
    rows = await session.scalars(
        select(OutboxMessage)
        .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(OutboxMessage.status == "pending", OutboxMessage.channel.in_(list(channels)))
        .order_by(bulk, OutboxMessage.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim(session: AsyncSession, message_id: int, now: datetime) -> bool:
    """Mark one pending row as being sent; False when another worker took it first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=now)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def finish(
    session: AsyncSession, message_id: int, status: str, now: datetime, error: str | None = None
) -> None:
    """Record the outcome of a send: sent, failed, or pending again for a retry."""
    values: dict[str, Any] = {"status": status, "updated_at": now, "error": error[:200] if error else None}
    if status == "sent":
        values["sent_at"] = now
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


async def recover(session: AsyncSession, now: datetime) -> int:
    """After a crash: rows left in "sending" become "uncertain" (never resent). Returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending")
        .values(status="uncertain", updated_at=now, error="interrupted while sending")
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def cancel_for(session: AsyncSession, learner_id: int, now: datetime) -> None:
    """Drop a learner's unsent messages (their data is being deleted)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.learner_id == learner_id, OutboxMessage.status == "pending")
        .values(status="cancelled", updated_at=now, chat_id="")
    )
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.learner_id == learner_id).values(chat_id="")
    )


async def erase_texts_for(session: AsyncSession, learner_id: int, name: str | None) -> None:
    """Blank what a deleted learner's messages say, and their name in what was sent for them.

    Rows addressed to the learner lose their text (an answer quotes their question); the broadcasts of
    answers to them lose theirs too; a mentor's name is cut from the pushes they sent."""
    mine = select(OutboxMessage.broadcast_id).where(OutboxMessage.learner_id == learner_id)
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.learner_id == learner_id).values(reply={"text": ""})
    )
    await session.execute(
        update(Broadcast).where(Broadcast.kind == "answer", Broadcast.id.in_(mine)).values(text="")
    )
    if not name:
        return
    sent = (await session.scalars(select(Broadcast).where(Broadcast.mentor_id == learner_id))).all()
    for broadcast in sent:
        broadcast.text = broadcast.text.replace(name, ERASED_NAME)
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast.id))
        for row in rows:
            text = str(row.reply.get("text", ""))
            if name in text:
                row.reply = {**row.reply, "text": text.replace(name, ERASED_NAME)}


ERASED_NAME = "(đã xóa)"


async def progress(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many of a broadcast's rows are in each status (every status present, zero if none)."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts
