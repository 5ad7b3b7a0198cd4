"""Dashboard accounts, login lock-out, mentor invites, announcements and the question queue's writes.

Functions take the session of the caller's transaction and never commit (the caller's unit of work does).
Passwords are hashed with argon2id; after `MAX_FAILURES` failed logins within `LOCKOUT` an account is
locked for the rest of that window, even for the right password, so guessing cannot go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.messages import Button, Reply
from bot.outbox import reply_to_json
from data import outbox
from data.models import AdminUser, Broadcast, Learner, LoginAttempt, MentorInvite, UnansweredQuestion
from data.repository import new_code
from data.stats import utc

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# verified against when the username does not exist, so a login takes as long either way
_DUMMY_HASH = _hasher.hash("not a real password, only for equal timing")


class AccountError(ValueError):
    """An account cannot be created as asked (the message says why)."""


async def create_admin(
    session: AsyncSession, username: str, password: str, commune_id: str | None, now: datetime
) -> AdminUser:
    """A commune admin (commune_id given) or a super-admin (None)."""
    username = username.strip().lower()
    if not username or len(username) > 60 or not username.replace(".", "").replace("_", "").isalnum():
        raise AccountError("username: letters, digits, '.' and '_' only, at most 60")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if await session.scalar(select(func.count()).where(AdminUser.username == username)):
        raise AccountError(f"username {username!r} is taken")
    user = AdminUser(
        username=username,
        password_hash=_hasher.hash(password),
        commune_id=commune_id,
        is_super=commune_id is None,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login: the user, or why not."""

    user: AdminUser | None
    locked: bool = False


async def authenticate(
    session: AsyncSession, username: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check a password, record the attempt, and refuse while the account is locked out."""
    username = username.strip().lower()[:60]
    failures = await session.scalar(
        select(func.count()).where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= utc(now) - LOCKOUT,
        )
    )
    if (failures or 0) >= MAX_FAILURES:
        session.add(LoginAttempt(username=username, ip=ip[:60], at=now, success=False))
        return LoginResult(None, locked=True)
    user = await session.scalar(select(AdminUser).where(AdminUser.username == username))
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    session.add(LoginAttempt(username=username, ip=ip[:60], at=now, success=ok))
    if not ok or user is None:
        return LoginResult(None, locked=(failures or 0) + 1 >= MAX_FAILURES)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return LoginResult(user)


async def issue_invites(
    session: AsyncSession, commune_id: str, count: int, by: str, now: datetime
) -> list[str]:
    """New one-time mentor invite codes for a commune."""
    codes: list[str] = []
    while len(codes) < count:
        code = new_code(8)
        if code in codes or await session.scalar(select(func.count()).where(MentorInvite.code == code)):
            continue
        codes.append(code)
        session.add(MentorInvite(code=code, commune_id=commune_id, created_at=now, created_by=by[:100]))
    await session.flush()
    return codes


async def invites(session: AsyncSession, commune_id: str) -> list[MentorInvite]:
    rows = await session.scalars(
        select(MentorInvite).where(MentorInvite.commune_id == commune_id).order_by(MentorInvite.id.desc())
    )
    return list(rows.all())


async def audience(session: AsyncSession, commune_id: str, village_id: str | None) -> list[Learner]:
    """Registered, not deleted learners of a commune (or one of its villages)."""
    query = select(Learner).where(
        Learner.commune_id == commune_id, Learner.registered_at.is_not(None), Learner.deleted_at.is_(None)
    )
    if village_id:
        query = query.where(Learner.village_id == village_id)
    return list((await session.scalars(query.order_by(Learner.id))).all())


async def announce(
    session: AsyncSession, commune_id: str, village_id: str | None, text: str, admin: str, now: datetime
) -> Broadcast:
    """Queue an announcement to every learner of the commune or village."""
    broadcast = Broadcast(
        kind="announcement",
        commune_id=commune_id,
        village_id=village_id or None,
        admin_username=admin,
        text=text,
        created_at=now,
    )
    reply = Reply(f"📢 {text}", (Button(texts.BTN_MENU, "menu"),))
    await outbox.enqueue(
        session, broadcast, await audience(session, commune_id, village_id), reply_to_json(reply), now
    )
    return broadcast


async def question_in_commune(
    session: AsyncSession, commune_id: str, question_id: int
) -> tuple[UnansweredQuestion, Learner] | None:
    """An open question of the commune's learners; None for any other id (no peeking across communes)."""
    row = (
        await session.execute(
            select(UnansweredQuestion, Learner)
            .join(Learner, Learner.id == UnansweredQuestion.learner_id)
            .where(
                UnansweredQuestion.id == question_id,
                Learner.commune_id == commune_id,
                UnansweredQuestion.status == "open",
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def answer_reply(question: str, answer: str, commune_name: str) -> Reply:
    """The message a learner receives when staff answer their question."""
    return Reply(
        texts.ANSWER_FROM_MENTOR.format(
            question=question, answer=answer, who=texts.ANSWER_FROM_COMMUNE.format(commune=commune_name)
        ),
        (Button(texts.BTN_MENU, "menu"),),
    )
