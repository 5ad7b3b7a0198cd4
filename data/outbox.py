"""The persisted outbox: one row per recipient, written in the transaction that decided to send.

A row moves pending -> sending (committed before the channel is called) -> sent, or back to pending
after a failed try, or to failed after too many. Any number of processes send from it:
- a row is claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer and ignores it), so
  two processes never take the same row, and the claim carries a lease (`claimed_by`, `lease_until`);
- a row still "sending" after its lease ran out was interrupted between the call to the channel and the
  record of its result: it may or may not have arrived, so it becomes "uncertain" and is never sent
  again (a learner never gets the same message twice). This is decided row by row on the lease, never
  by a start-up sweep over rows that live processes are sending;
- replies to learners (priority 0) are claimed before pushes and announcements (1), which go before
  reminders and digests (2);
- `outbox_senders` holds one row per bot: the process that sends its bulk rows (one at a time, so the
  platform's rate holds across the fleet) and until when a 429 pauses every process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import Broadcast, Learner, OutboxMessage, OutboxSender

STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "cancelled")

REPLY, PUSH, BULK = 0, 1, 2  # priorities: lower is claimed first
REPLY_KINDS = ("answer", "reply")  # answers to what a learner asked: never behind a push
BULK_KINDS = ("reminder", "digest")  # sent behind answers, pushes and announcements


def priority_of(kind: str) -> int:
    """The priority of a broadcast's rows, by its kind."""
    if kind in REPLY_KINDS:
        return REPLY
    return BULK if kind in BULK_KINDS else PUSH


@dataclass(frozen=True)
class Recipient:
    """One row to write: who gets what."""

    learner_id: int
    channel: str
    chat_id: str
    reply: dict[str, Any]


def reachable(learner: Learner) -> bool:
    """Whether a learner can be written to: not deleted, not marked unreachable, with a chat."""
    return learner.deleted_at is None and learner.unreachable_at is None and bool(learner.chat_id)


async def add_rows(
    session: AsyncSession, broadcast: Broadcast, recipients: Iterable[Recipient], now: datetime
) -> int:
    """The one way rows enter the outbox: the broadcast (flushed for its id) and one pending row per
    recipient, at the broadcast's priority; a learner listed twice gets one row (the first counts).
    Sets and returns `broadcast.recipients`."""
    unique: dict[int, Recipient] = {}
    for recipient in recipients:
        unique.setdefault(recipient.learner_id, recipient)
    broadcast.recipients = len(unique)
    session.add(broadcast)
    await session.flush()
    if unique:
        priority = priority_of(broadcast.kind)
        await session.execute(
            _OUTBOX.insert(),
            [
                {
                    "broadcast_id": broadcast.id,
                    "learner_id": r.learner_id,
                    "channel": r.channel,
                    "chat_id": r.chat_id,
                    "reply": r.reply,
                    "status": "pending",
                    "attempts": 0,
                    "priority": priority,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in unique.values()
            ],
        )
    return len(unique)


async def enqueue(
    session: AsyncSession,
    broadcast: Broadcast,
    recipients: Sequence[Learner],
    reply: dict[str, Any],
    now: datetime,
) -> int:
    """Record the broadcast and one pending row per reachable recipient; returns how many."""
    return await enqueue_each(session, broadcast, [(r, reply) for r in recipients], now)


async def enqueue_each(
    session: AsyncSession,
    broadcast: Broadcast,
    messages: Sequence[tuple[Learner, dict[str, Any]]],
    now: datetime,
) -> int:
    """Like `enqueue`, with a reply of its own for each recipient (an answer quoting what each one
    asked); one row per learner even if a learner is listed twice (the first reply counts)."""
    rows = (
        Recipient(learner.id, learner.channel, learner.chat_id, reply)
        for learner, reply in messages
        if reachable(learner)
    )
    return await add_rows(session, broadcast, rows, now)


async def pending(session: AsyncSession, channels: Sequence[str], limit: int) -> list[OutboxMessage]:
    """The oldest pending rows for the given channels, replies first, reminders and digests last."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.channel.in_(list(channels)))
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending: what the sender needs, without the ORM's weight."""

    id: int
    chat_id: str
    reply: dict[str, Any]
    attempts: int  # counting this one


_OUTBOX = cast(Table, OutboxMessage.__table__)
_PICKS: dict[tuple[bool, bool, int], Any] = {}  # built once per shape: claims run for every message
_MARK = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.status == "pending")
    .values(
        status="sending",
        attempts=_OUTBOX.c.attempts + 1,
        claimed_by=bindparam("holder", type_=_OUTBOX.c.claimed_by.type),
        lease_until=bindparam("lease", type_=_OUTBOX.c.lease_until.type),
        updated_at=bindparam("now", type_=_OUTBOX.c.updated_at.type),
    )
    .returning(_OUTBOX.c.id, _OUTBOX.c.chat_id, _OUTBOX.c.reply, _OUTBOX.c.attempts)
)


def _pick_statement(skip_ids: bool, skip_chats: bool, limit: int) -> Any:
    """SELECT id … ORDER BY priority, id LIMIT n FOR UPDATE SKIP LOCKED (SQLite ignores the FOR
    UPDATE: it has one writer at a time). Run on its own, not as a subquery of the UPDATE: PostgreSQL
    may plan `id IN (subquery … LIMIT n FOR UPDATE)` as a loop that runs the subquery again for
    every row, locking rows it then does not claim (with it, 4 processes sent 2 pushes a second in
    bench/bench_cluster.py; as two statements, 28.5 of 30)."""
    statement = _PICKS.get((skip_ids, skip_chats, limit))
    if statement is not None:
        return statement
    c = _OUTBOX.c
    statement = (
        select(c.id)
        .where(
            c.status == "pending",
            c.channel == bindparam("b_channel"),
            c.priority.between(bindparam("low"), bindparam("high")),
        )
        .order_by(c.priority, c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip_ids:
        statement = statement.where(c.id.not_in(bindparam("skip", expanding=True)))
    if skip_chats:
        statement = statement.where(c.chat_id.not_in(bindparam("chats", expanding=True)))
    _PICKS[(skip_ids, skip_chats, limit)] = statement
    return statement


async def claim_next(
    session: AsyncSession,
    channel: str,
    priorities: tuple[int, int],
    holder: str,
    now: datetime,
    lease_until: datetime,
    *,
    limit: int = 1,
    skip_ids: Iterable[int] = (),
    skip_chats: Iterable[str] = (),
) -> list[Claimed]:
    """Claim up to `limit` of the channel's pending rows with a priority in `priorities` (low, high),
    lowest priority then oldest first, as "sending" under a lease; returned oldest first. Rows another
    process is claiming are skipped, not waited for (PostgreSQL); `skip_ids` are rows this worker
    already tried in this pass, `skip_chats` chats it is writing to right now (one message at a time
    per chat keeps their order). Commit right after, and send them at once."""
    skip, chats = list(skip_ids), list(skip_chats)
    parameters: dict[str, Any] = {"b_channel": channel, "low": priorities[0], "high": priorities[1]}
    if skip:
        parameters["skip"] = skip
    if chats:
        parameters["chats"] = chats
    picked = await session.scalars(_pick_statement(bool(skip), bool(chats), max(1, limit)), parameters)
    ids = list(picked)
    if not ids:
        return []
    result = await session.execute(_MARK, {"ids": ids, "holder": holder, "lease": lease_until, "now": now})
    return sorted((Claimed(row[0], row[1], row[2], row[3]) for row in result), key=lambda row: row.id)


async def claim(session: AsyncSession, message_id: int, now: datetime) -> bool:
    """Mark one pending row as being sent; False when another worker took it first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=now)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def _update_own(
    session: AsyncSession, message_ids: Sequence[int], holder: str, values: dict[str, Any]
) -> None:
    """Update rows this worker claimed and is still sending."""
    if message_ids:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(message_ids)),
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_by == holder,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def unclaim(session: AsyncSession, message_ids: Sequence[int], holder: str) -> None:
    """Give back rows this worker claimed and never tried to send (it stops, or lost the bot's
    lease): pending again, the claim's attempt not counted."""
    values = {
        "status": "pending",
        "claimed_by": None,
        "lease_until": None,
        "attempts": OutboxMessage.attempts - 1,
    }
    await _update_own(session, message_ids, holder, values)


async def renew(
    session: AsyncSession, message_ids: Sequence[int], holder: str, lease_until: datetime
) -> None:
    """Extend the lease of rows this worker is still sending (a send waiting out a 429)."""
    await _update_own(session, message_ids, holder, {"lease_until": lease_until})


async def finish_sent(session: AsyncSession, message_ids: Sequence[int], now: datetime) -> None:
    """Record rows as sent, many at once (`finish` for each, in one statement)."""
    if message_ids:
        await session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(list(message_ids)))
            .values(status="sent", updated_at=now, sent_at=now, error=None, lease_until=None)
        )


async def finish(
    session: AsyncSession, message_id: int, status: str, now: datetime, error: str | None = None
) -> None:
    """Record the outcome of a send: sent, failed, or pending again for a retry. A row another
    process already marked "uncertain" (its lease ran out while the send hung) gets its true outcome."""
    values: dict[str, Any] = {
        "status": status,
        "updated_at": now,
        "error": error[:200] if error else None,
        "lease_until": None,
    }
    if status == "sent":
        values["sent_at"] = now
    if status == "pending":
        values["claimed_by"] = None
    await session.execute(update(_OUTBOX).where(_OUTBOX.c.id == message_id).values(**values))


async def expire(session: AsyncSession, now: datetime) -> int:
    """Rows whose sender's lease ran out while "sending" become "uncertain" (never resent): the
    process died between the call to the channel and the record of its result. Returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .values(status="uncertain", updated_at=now, error="interrupted while sending", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def recover(session: AsyncSession, now: datetime) -> int:
    """After a crash of the only process (SQLite: one process): every row left in "sending" becomes
    "uncertain" at once (never resent), and the bots' leases are free again. Returns how many rows.
    Never call it when other processes send."""
    await session.execute(update(OutboxSender).values(holder=None, lease_until=None))
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending")
        .values(status="uncertain", updated_at=now, error="interrupted while sending", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


# --- one sender per bot -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SenderState:
    """Who sends a bot's bulk rows until when, and until when a 429 pauses every process."""

    holder: str | None
    lease_until: datetime | None
    paused_until: datetime | None


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(cast(Table, OutboxSender.__table__))


async def _ensure(session: AsyncSession, sender: str) -> None:
    await session.execute(_insert(session).values(sender=sender).on_conflict_do_nothing())


async def hold(
    session: AsyncSession, sender: str, holder: str, now: datetime, lease_until: datetime
) -> SenderState | None:
    """Take or extend the bot's sending lease for `holder`: granted when free, expired, or already
    theirs. Returns the bot's state when granted, None when another process holds it."""
    await _ensure(session, sender)
    result = await session.execute(
        update(OutboxSender)
        .where(
            OutboxSender.sender == sender,
            or_(
                OutboxSender.holder == holder,
                OutboxSender.holder.is_(None),
                OutboxSender.lease_until.is_(None),
                OutboxSender.lease_until < now,
            ),
        )
        .values(holder=holder, lease_until=lease_until)
        .returning(OutboxSender.holder, OutboxSender.lease_until, OutboxSender.paused_until)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    return SenderState(row[0], row[1], row[2]) if row is not None else None


async def release(session: AsyncSession, sender: str, holder: str) -> None:
    """Give the lease up (shutting down): another process may send the bot's bulk rows at once."""
    await session.execute(
        update(OutboxSender)
        .where(OutboxSender.sender == sender, OutboxSender.holder == holder)
        .values(holder=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def senders(session: AsyncSession, names: Sequence[str]) -> dict[str, SenderState]:
    """The state of the given bots (those never seen are absent)."""
    rows = await session.execute(
        select(
            OutboxSender.sender, OutboxSender.holder, OutboxSender.lease_until, OutboxSender.paused_until
        ).where(OutboxSender.sender.in_(list(names)))
    )
    return {name: SenderState(holder, lease, paused) for name, holder, lease, paused in rows}


async def pause(session: AsyncSession, sender: str, until: datetime) -> None:
    """The platform answered 429: every process holds the bot's sends until `until`."""
    await _ensure(session, sender)
    await session.execute(
        update(OutboxSender)
        .where(
            OutboxSender.sender == sender,
            or_(OutboxSender.paused_until.is_(None), OutboxSender.paused_until < until),
        )
        .values(paused_until=until)
        .execution_options(synchronize_session=False)
    )


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
