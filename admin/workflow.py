"""The queries and writes behind the dashboard's day-to-day pages (issue 18): the question inbox (counts
for the menu, tabs with history, answer templates), announcements (the commune's sender line, scheduling,
failed recipients and resending to them) and mentors (sorted by need, invite codes with who used them,
revocation).

Functions take the session of the caller's transaction and never commit (the caller's unit of work does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin import store
from bot import texts
from bot.messages import Button, Reply, reply_to_json
from data import outbox
from data.commune import Commune
from data.models import (
    AdminUser,
    AnswerTemplate,
    Broadcast,
    Learner,
    MentorInvite,
    OutboxMessage,
    UnansweredQuestion,
)
from data.stats import MentorRow, utc

Tab = Literal["open", "answered", "handled"]
TABS: tuple[Tab, ...] = ("open", "answered", "handled")
MAX_TEMPLATES = 50  # a commune's answer templates: "a few", bounded so the inbox stays light
MAX_TEMPLATE_TITLE = 80
MAX_TEMPLATE_TEXT = 1000
ACTIVE_DAYS = 7  # a mentor's learner who wrote within this counts as active ("Đạt", the activity column)


# --- the question inbox ---------------------------------------------------------------------------
async def inbox_counts(
    session: AsyncSession, commune_ids: Sequence[str], seen_at: datetime | None
) -> dict[str, tuple[int, int]]:
    """Per commune: questions waiting, and how many of them were asked after `seen_at` ("new"; all of
    them when the account never opened the inbox). One grouped query, for the menu of every page."""
    if not commune_ids:
        return {}
    new = (
        func.sum(case((UnansweredQuestion.asked_at > utc(seen_at), 1), else_=0))
        if seen_at is not None
        else func.count()
    )
    rows = await session.execute(
        select(Learner.commune_id, func.count(), new)
        .select_from(UnansweredQuestion)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(UnansweredQuestion.status == "open", Learner.commune_id.in_(list(commune_ids)))
        .group_by(Learner.commune_id)
    )
    return {str(commune): (int(total), int(fresh or 0)) for commune, total, fresh in rows}


async def mark_inbox_seen(session: AsyncSession, user_id: int, now: datetime) -> None:
    await session.execute(update(AdminUser).where(AdminUser.id == user_id).values(questions_seen_at=now))


async def questions_page(
    session: AsyncSession, commune_id: str, tab: str, page: int, size: int
) -> tuple[list[tuple[UnansweredQuestion, Learner]], int]:
    """One page of a tab: waiting questions oldest first; answered or handled ones latest first."""
    where = (Learner.commune_id == commune_id, UnansweredQuestion.status == tab)
    total = await session.scalar(
        select(func.count())
        .select_from(UnansweredQuestion)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(*where)
    )
    order = (
        (UnansweredQuestion.asked_at, UnansweredQuestion.id)
        if tab == "open"
        else (UnansweredQuestion.answered_at.desc(), UnansweredQuestion.id.desc())
    )
    rows = await session.execute(
        select(UnansweredQuestion, Learner)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(*where)
        .order_by(*order)
        .offset((page - 1) * size)
        .limit(size)
    )
    return [(q, learner) for q, learner in rows], int(total or 0)


async def tab_counts(session: AsyncSession, commune_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(UnansweredQuestion.status, func.count())
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(Learner.commune_id == commune_id)
        .group_by(UnansweredQuestion.status)
    )
    counts: dict[str, int] = dict.fromkeys(TABS, 0)
    counts.update({str(status): int(n) for status, n in rows if status in counts})
    return counts


async def answerer_names(session: AsyncSession, by: Sequence[str | None]) -> dict[str, str]:
    """Who answered, as staff read it: "cán bộ canbo" for an admin, "Đại sứ số <name>" for a mentor."""
    names: dict[str, str] = {}
    mentor_ids = {int(b.split(":", 1)[1]) for b in by if b and b.startswith("mentor:") and b[7:].isdecimal()}
    mentors = (
        dict(
            (await session.execute(select(Learner.id, Learner.name).where(Learner.id.in_(mentor_ids)))).all()
        )
        if mentor_ids
        else {}
    )
    for who in by:
        if not who or who in names:
            continue
        kind, _, rest = who.partition(":")
        if kind == "admin":
            names[who] = f"cán bộ {rest}"
        elif kind == "mentor" and rest.isdecimal():
            names[who] = f"Đại sứ số {mentors.get(int(rest)) or '(đã xóa)'}"
        else:
            names[who] = who
    return names


class TemplateError(ValueError):
    """An answer template cannot be saved as given (the message, in Vietnamese, says why)."""


def _check_template(title: str, text: str) -> tuple[str, str]:
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise TemplateError("Mẫu cần có tên và nội dung.")
    if len(title) > MAX_TEMPLATE_TITLE or len(text) > MAX_TEMPLATE_TEXT:
        raise TemplateError(
            f"Tên mẫu tối đa {MAX_TEMPLATE_TITLE} ký tự, nội dung tối đa {MAX_TEMPLATE_TEXT} ký tự."
        )
    return title, text


async def answer_templates(session: AsyncSession, commune_id: str) -> list[AnswerTemplate]:
    rows = await session.scalars(
        select(AnswerTemplate)
        .where(AnswerTemplate.commune_id == commune_id)
        .order_by(AnswerTemplate.title, AnswerTemplate.id)
    )
    return list(rows.all())


async def answer_template(session: AsyncSession, commune_id: str, template_id: int) -> AnswerTemplate | None:
    """A template of this commune; None for any other id."""
    return await session.scalar(
        select(AnswerTemplate).where(
            AnswerTemplate.id == template_id, AnswerTemplate.commune_id == commune_id
        )
    )


async def create_template(
    session: AsyncSession, commune_id: str, title: str, text: str, by: str, now: datetime
) -> AnswerTemplate:
    title, text = _check_template(title, text)
    count = await session.scalar(
        select(func.count()).select_from(AnswerTemplate).where(AnswerTemplate.commune_id == commune_id)
    )
    if int(count or 0) >= MAX_TEMPLATES:
        raise TemplateError(f"Xã đã có {MAX_TEMPLATES} mẫu; anh/chị xóa bớt mẫu cũ trước.")
    template = AnswerTemplate(
        commune_id=commune_id,
        title=title,
        text=text,
        created_at=now,
        created_by=by[:100],
        updated_at=now,
        updated_by=by[:100],
    )
    session.add(template)
    await session.flush()
    return template


def edit_template(template: AnswerTemplate, title: str, text: str, by: str, now: datetime) -> None:
    template.title, template.text = _check_template(title, text)
    template.updated_at, template.updated_by = now, by[:100]


# --- announcements ---------------------------------------------------------------------------------
def sender_line(commune: Commune) -> str:
    """The line that signs every announcement: "UBND xã Tân Học thông báo:", from the commune's name in
    the commune file ("Xã Tân Học" -> "UBND xã Tân Học"; "Phường 3" -> "UBND phường 3"). Our lessons teach
    learners to distrust unsigned messages, so the commune's own messages are signed."""
    name = commune.name.strip()
    for kind in ("Xã", "Phường", "Thị trấn"):
        if name.lower().startswith(kind.lower() + " "):
            name = kind.lower() + name[len(kind) :]
            break
    else:
        name = f"xã {name}"
    return texts.ANNOUNCEMENT_SENDER.format(authority=f"UBND {name}")


def announcement_text(commune: Commune, text: str) -> str:
    """What a learner reads: the sender line, then the staff's text."""
    return f"📢 {sender_line(commune)}\n{text.strip()}"


def announcement_reply(commune: Commune, text: str) -> dict[str, Any]:
    return reply_to_json(Reply(announcement_text(commune, text), (Button(texts.BTN_MENU, "menu"),)))


async def announce(
    session: AsyncSession,
    commune: Commune,
    village_id: str | None,
    text: str,
    admin: str,
    now: datetime,
    confirm_token: str,
    send_at: datetime | None = None,
) -> Broadcast:
    """Queue an announcement (signed with the commune's sender line) to every learner of the commune or
    village now, or keep it until `send_at` (then `release_due` queues it to whoever is registered at
    that moment). A second call with the same confirmation token returns the first announcement."""
    sent = await store.announcement_by_token(session, commune.id, confirm_token)
    if sent is not None:
        return sent
    broadcast = Broadcast(
        kind="announcement",
        commune_id=commune.id,
        village_id=village_id or None,
        admin_username=admin,
        text=text.strip(),
        created_at=now,
        confirm_token=confirm_token,
        reply=announcement_reply(commune, text),
    )
    if send_at is not None and utc(send_at) > utc(now):
        broadcast.send_at = send_at
        broadcast.recipients = 0
        session.add(broadcast)
        await session.flush()
        return broadcast
    broadcast.released_at = now
    assert broadcast.reply is not None
    await outbox.enqueue(
        session, broadcast, await store.audience(session, commune.id, village_id), broadcast.reply, now
    )
    return broadcast


async def release_due(session: AsyncSession, now: datetime, limit: int = 20) -> list[int]:
    """Queue the scheduled announcements whose moment has come (not cancelled, not queued yet) to their
    audience as it is now; returns their ids. Each is claimed by a conditional UPDATE, so two processes
    running this at once queue it once."""
    due = (
        await session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.send_at.is_not(None),
                Broadcast.send_at <= utc(now),
                Broadcast.released_at.is_(None),
                Broadcast.cancelled_at.is_(None),
            )
            .order_by(Broadcast.send_at, Broadcast.id)
            .limit(limit)
        )
    ).all()
    released: list[int] = []
    for broadcast_id in due:
        claimed = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.released_at.is_(None),
                Broadcast.cancelled_at.is_(None),
            )
            .values(released_at=now)
            .execution_options(synchronize_session=False)
        )
        if not cast(CursorResult[Any], claimed).rowcount:
            continue
        broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
        if broadcast is None or broadcast.commune_id is None or broadcast.reply is None:
            continue
        audience = await store.audience(session, broadcast.commune_id, broadcast.village_id)
        await outbox.enqueue(session, broadcast, audience, broadcast.reply, now)
        released.append(broadcast_id)
    return released


async def cancel_scheduled(session: AsyncSession, broadcast: Broadcast, now: datetime) -> bool:
    """Call off a scheduled announcement that has not been queued; False when it is too late."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast.id, Broadcast.released_at.is_(None), Broadcast.cancelled_at.is_(None)
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def announcements(session: AsyncSession, commune_id: str, limit: int = 20) -> list[Broadcast]:
    """The commune's latest announcements, scheduled ones included."""
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.kind == "announcement", Broadcast.commune_id == commune_id)
        .order_by(Broadcast.id.desc())
        .limit(limit)
    )
    return list(rows.all())


REASONS = {
    "unreachable": "Người học đã chặn trợ lý hoặc không còn tài khoản",
    "interrupted while sending": "Không rõ đã nhận chưa (hệ thống dừng giữa lúc gửi) — không gửi lại",
}
REASON_CHANNEL = "Kênh gửi báo lỗi sau 3 lần thử"


@dataclass(frozen=True)
class Failed:
    """A recipient an announcement did not reach, as staff read it."""

    learner_id: int | None
    name: str
    village_id: str | None
    reason: str
    # failed (not "uncertain": that one may have arrived, and is never sent twice) and writable again
    # (a learner who blocked the assistant is skipped until they write again)
    resendable: bool


async def failed_recipients(session: AsyncSession, broadcast_id: int) -> list[Failed]:
    rows = await session.execute(
        select(
            OutboxMessage.status,
            OutboxMessage.error,
            Learner.id,
            Learner.name,
            Learner.village_id,
            Learner.unreachable_at,
        )
        .outerjoin(Learner, Learner.id == OutboxMessage.learner_id)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status.in_(("failed", "uncertain")))
        .order_by(Learner.village_id, Learner.name, OutboxMessage.id)
    )
    return [
        Failed(
            learner_id=learner_id,
            name=name or "Người học",
            village_id=village_id,
            reason=REASONS.get(error or "", REASON_CHANNEL),
            resendable=status == "failed" and learner_id is not None and unreachable_at is None,
        )
        for status, error, learner_id, name, village_id, unreachable_at in rows
    ]


async def resend_failed(
    session: AsyncSession, commune: Commune, original: Broadcast, admin: str, now: datetime
) -> Broadcast | None:
    """A new announcement with the same message, to the recipients of `original` whose delivery failed
    (and who can be written to again); None when there is nobody. Keyed by the failed rows it covers, so
    a double submit resends once."""
    failed = await session.scalars(
        select(OutboxMessage.learner_id)
        .where(
            OutboxMessage.broadcast_id == original.id,
            OutboxMessage.status == "failed",
            OutboxMessage.learner_id.is_not(None),
        )
        .order_by(OutboxMessage.learner_id)
    )
    ids = [i for i in failed.all() if i is not None]
    learners = (
        (
            await session.scalars(
                select(Learner)
                .where(
                    Learner.id.in_(ids),
                    Learner.commune_id == commune.id,
                    Learner.deleted_at.is_(None),
                    Learner.unreachable_at.is_(None),
                )
                .order_by(Learner.id)
            )
        ).all()
        if ids
        else []
    )
    if not learners:
        return None
    token = "resend-" + hashlib.sha256(f"{original.id}:{[r.id for r in learners]}".encode()).hexdigest()[:40]
    again = await store.announcement_by_token(session, commune.id, token)
    if again is not None:
        return again
    reply = original.reply or announcement_reply(commune, original.text)
    broadcast = Broadcast(
        kind="announcement",
        commune_id=commune.id,
        village_id=original.village_id,
        admin_username=admin,
        text=original.text,
        created_at=now,
        released_at=now,
        confirm_token=token,
        reply=reply,
        resend_of=original.id,
    )
    await outbox.enqueue(session, broadcast, list(learners), reply, now)
    return broadcast


# --- mentors ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MentorNeed:
    """A mentor as the mentors page shows them: their numbers, whether they reach the target (counted in
    active learners), and how much help they need (0 most: below the target and no learner active)."""

    row: MentorRow
    reached: bool
    need: int


def by_need(rows: Sequence[MentorRow], target: int) -> list[MentorNeed]:
    """Mentors who need help first: fewer than `target` learners and none active in 7 days, then fewer
    than `target`, then none active; within each, fewer active learners first, then by name."""
    result = []
    for row in rows:
        few, idle = row.learners < target, row.active_7 == 0
        need = 0 if few and idle else 1 if few else 2 if idle else 3
        result.append(MentorNeed(row, row.active_7 >= target, need))
    return sorted(result, key=lambda m: (m.need, m.row.active_7, m.row.learners, m.row.name))


@dataclass(frozen=True)
class InviteRow:
    """An invite code with who redeemed it."""

    invite: MentorInvite
    used_by_name: str | None

    @property
    def state(self) -> str:
        if self.invite.used_at is not None:
            return "used"
        return "revoked" if self.invite.revoked_at is not None else "open"


async def invites(session: AsyncSession, commune_id: str, limit: int = 50) -> list[InviteRow]:
    rows = await session.execute(
        select(MentorInvite, Learner.name)
        .outerjoin(Learner, and_(Learner.id == MentorInvite.used_by, Learner.deleted_at.is_(None)))
        .where(MentorInvite.commune_id == commune_id)
        .order_by(MentorInvite.id.desc())
        .limit(limit)
    )
    return [InviteRow(invite, name) for invite, name in rows]


async def revoke_invite(
    session: AsyncSession, commune_id: str, invite_id: int, by: str, now: datetime
) -> bool:
    """Take back an unused code of the commune; False when there is no such unused, unrevoked code."""
    result = await session.execute(
        update(MentorInvite)
        .where(
            MentorInvite.id == invite_id,
            MentorInvite.commune_id == commune_id,
            MentorInvite.used_by.is_(None),
            MentorInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by=by[:100])
    )
    return bool(cast(CursorResult[Any], result).rowcount)


# --- telling mentors that a question of their learner waits --------------------------------------
async def questions_for_mentors(
    session: AsyncSession, now: datetime, limit: int = 200, max_age: timedelta = timedelta(days=7)
) -> list[tuple[UnansweredQuestion, Learner, Learner]]:
    """Waiting questions whose learner has a mentor who was not told yet: (question, learner, mentor).
    Questions older than `max_age` are skipped (a mentor made later is not told of old ones)."""
    mentor = Learner.__table__.alias("mentor")
    rows = await session.execute(
        select(UnansweredQuestion, Learner, mentor.c.id)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .join(mentor, mentor.c.id == Learner.mentor_id)
        .where(
            UnansweredQuestion.status == "open",
            UnansweredQuestion.mentor_notified_at.is_(None),
            UnansweredQuestion.asked_at >= utc(now) - max_age,
            Learner.deleted_at.is_(None),
            mentor.c.role == "mentor",
            mentor.c.deleted_at.is_(None),
        )
        .order_by(UnansweredQuestion.id)
        .limit(limit)
    )
    found = [(q, learner, int(mentor_id)) for q, learner, mentor_id in rows]
    mentors = {
        m.id: m
        for m in (
            await session.scalars(select(Learner).where(Learner.id.in_({m for _, _, m in found})))
        ).all()
    }
    return [(q, learner, mentors[m]) for q, learner, m in found if m in mentors]


async def claim_notice(session: AsyncSession, question_id: int, now: datetime) -> bool:
    """Mark a question's mentor as told; False when another process did it first."""
    result = await session.execute(
        update(UnansweredQuestion)
        .where(UnansweredQuestion.id == question_id, UnansweredQuestion.mentor_notified_at.is_(None))
        .values(mentor_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount)
