"""Dashboard accounts and sessions, login lock-outs, mentor invites, announcements and the question
queue's writes (one question, or a group of near-duplicates answered once).

Functions take the session of the caller's transaction and never commit (the caller's unit of work does).
Passwords are hashed with argon2id; checking one is the caller's job, off the event loop
(`admin.security.PasswordChecks` runs `verify_password`). What happens before a password is checked is
decided here from the recorded attempts (`before_login`): failures of a username from one address lock
that address out for that username; failures from everywhere lock the account for addresses it never
logged in from. Refused attempts are not recorded, so trying while locked never prolongs a lock.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin.security import LoginPolicy
from bot import texts
from bot.messages import Button, Reply, reply_to_json
from data import outbox
from data.models import (
    AdminSession,
    AdminUser,
    Broadcast,
    Learner,
    LoginAttempt,
    MentorInvite,
    UnansweredQuestion,
)
from data.repository import new_code
from data.stats import utc

MIN_PASSWORD = 10
KNOWN_ADDRESS = timedelta(days=90)  # an address the account logged in from within this is "known"
_hasher = PasswordHasher()
# verified against when the username does not exist, so a login takes as long either way
DUMMY_HASH = _hasher.hash("not a real password, only for equal timing")


class AccountError(ValueError):
    """An account cannot be created or changed as asked (the message says why)."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")


def hash_password(password: str) -> str:
    """An argon2id hash (about 50 ms of CPU: not in the event loop)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (blocking; see `admin.security.PasswordChecks`)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def normal_username(username: str) -> str:
    return username.strip().lower()[:60]


async def create_admin(
    session: AsyncSession,
    username: str,
    password: str,
    commune_id: str | None,
    now: datetime,
    village_id: str | None = None,
    password_hash: str | None = None,
) -> AdminUser:
    """A commune admin (commune_id given), a super-admin (None), or with `village_id` a village head:
    read-only, that village of the commune only (`admin.learners`; the caller checks the village).
    `password_hash`: the password's hash computed by the caller off the event loop (the dashboard)."""
    if village_id is not None and commune_id is None:
        raise AccountError("a village head belongs to a commune: give the commune too")
    username = username.strip().lower()
    if not username or len(username) > 60 or not username.replace(".", "").replace("_", "").isalnum():
        raise AccountError("username: letters, digits, '.' and '_' only, at most 60")
    _check_password(password)
    if await session.scalar(select(func.count()).where(AdminUser.username == username)):
        raise AccountError(f"username {username!r} is taken")
    user = AdminUser(
        username=username,
        password_hash=password_hash or hash_password(password),
        commune_id=commune_id,
        village_id=village_id,
        is_super=commune_id is None,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


# --- logging in ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginCheck:
    """What is known before a password is checked: the account (None when there is no such enabled
    account; the caller still checks the password against `DUMMY_HASH`), and whether it is refused."""

    user: AdminUser | None
    retry_after: int = 0  # seconds; > 0: refused without checking the password
    failures_left: int = 0  # wrong passwords this address may still try for this username

    @property
    def password_hash(self) -> str:
        return self.user.password_hash if self.user is not None else DUMMY_HASH


async def _failures(
    session: AsyncSession, username: str, since: datetime, address: str | None, limit: int
) -> list[datetime]:
    """The most recent failed logins of a username since a moment (from one address, or all), newest
    first, at most `limit`."""
    query = select(LoginAttempt.at).where(
        LoginAttempt.username == username, LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    if address is not None:
        query = query.where(LoginAttempt.ip == address)
    rows = await session.scalars(query.order_by(LoginAttempt.at.desc()).limit(limit))
    return [utc(at) for at in rows.all()]


def _wait(failures: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until fewer than `limit` of these failures are within the window (0: not locked)."""
    if len(failures) < limit:
        return 0
    return max(1, math.ceil((failures[limit - 1] + window - utc(now)).total_seconds()))


async def before_login(
    session: AsyncSession, username: str, address: str, now: datetime, policy: LoginPolicy
) -> LoginCheck:
    """Read the account and decide whether this address may try a password for it now."""
    username = normal_username(username)
    user = await session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is not None and user.disabled_at is not None:
        user = None  # checked against the dummy hash, answered as a wrong password
    since = utc(now) - policy.window
    if user is not None and user.unlocked_at is not None:
        since = max(since, utc(user.unlocked_at))
    here = await _failures(session, username, since, address, policy.failures_per_address)
    wait = _wait(here, policy.failures_per_address, policy.window, now)
    if not wait:
        everywhere = await _failures(session, username, since, None, policy.failures_per_account)
        wait = _wait(everywhere, policy.failures_per_account, policy.window, now)
        if wait and await _known_address(session, username, address, now):
            wait = 0
    return LoginCheck(user, wait, max(0, policy.failures_per_address - len(here)))


async def _known_address(session: AsyncSession, username: str, address: str, now: datetime) -> bool:
    return bool(
        await session.scalar(
            select(func.count()).where(
                LoginAttempt.username == username,
                LoginAttempt.ip == address,
                LoginAttempt.success.is_(True),
                LoginAttempt.at >= utc(now) - KNOWN_ADDRESS,
            )
        )
    )


async def record_login(
    session: AsyncSession, username: str, address: str, now: datetime, user: AdminUser | None, ok: bool
) -> None:
    """Record a checked password (refused attempts are never recorded: they cannot extend a lock)."""
    session.add(LoginAttempt(username=normal_username(username), ip=address[:60], at=now, success=ok))
    if ok and user is not None:
        await session.execute(update(AdminUser).where(AdminUser.id == user.id).values(last_login_at=now))


async def set_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    """Store a fresh hash of the same password (argon2's parameters changed since it was made)."""
    await session.execute(
        update(AdminUser).where(AdminUser.id == user_id).values(password_hash=password_hash)
    )


# --- sessions --------------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, user: AdminUser, now: datetime, hours: int) -> str:
    """A new session for the user; returns the token for the cookie (only its hash is stored). Sessions
    expired over a day ago and login attempts older than `KNOWN_ADDRESS` are deleted on the way."""
    await session.execute(delete(AdminSession).where(AdminSession.expires_at < utc(now) - timedelta(days=1)))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < utc(now) - KNOWN_ADDRESS))
    token = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=utc(now) + timedelta(hours=hours),
        )
    )
    return token


async def session_user(session: AsyncSession, token: str, now: datetime) -> AdminUser | None:
    """The account of a live session: not revoked, not expired, account not disabled."""
    if not token or len(token) > 100:
        return None
    return await session.scalar(
        select(AdminUser)
        .join(AdminSession, AdminSession.user_id == AdminUser.id)
        .where(
            AdminSession.token_hash == token_hash(token),
            AdminSession.revoked_at.is_(None),
            AdminSession.expires_at > utc(now),
            AdminUser.disabled_at.is_(None),
        )
    )


async def revoke_session(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(
        update(AdminSession)
        .where(AdminSession.token_hash == token_hash(token), AdminSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all(session: AsyncSession, user_id: int, now: datetime) -> int:
    """End every session of an account still open; returns how many."""
    result = await session.execute(
        update(AdminSession)
        .where(AdminSession.user_id == user_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


# --- `hocvuso admin unlock | disable | enable | reset-password` ------------------------------------
async def account(session: AsyncSession, username: str) -> AdminUser:
    user = await session.scalar(select(AdminUser).where(AdminUser.username == normal_username(username)))
    if user is None:
        raise AccountError(f"no dashboard account {normal_username(username)!r}")
    return user


async def unlock(session: AsyncSession, username: str, now: datetime) -> AdminUser:
    """Failed logins so far no longer lock the account, from any address."""
    user = await account(session, username)
    user.unlocked_at = now
    return user


async def disable(session: AsyncSession, username: str, now: datetime) -> int:
    """No more logins; every session ends now. Returns how many sessions were ended."""
    user = await account(session, username)
    user.disabled_at = now
    return await revoke_all(session, user.id, now)


async def enable(session: AsyncSession, username: str, now: datetime) -> AdminUser:
    user = await account(session, username)
    user.disabled_at = None
    user.unlocked_at = now
    return user


async def reset_password(session: AsyncSession, username: str, password: str, now: datetime) -> int:
    """A new password; every session of the account ends and its locks are lifted. Returns how many
    sessions were ended."""
    _check_password(password)
    user = await account(session, username)
    user.password_hash = hash_password(password)
    user.unlocked_at = now
    return await revoke_all(session, user.id, now)


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
    session: AsyncSession,
    commune_id: str,
    village_id: str | None,
    text: str,
    admin: str,
    now: datetime,
    confirm_token: str | None = None,
) -> Broadcast:
    """Queue an announcement to every learner of the commune or village. With a `confirm_token` (one per
    preview), a second call with the same token returns the first announcement and sends nothing; two
    at the same moment cannot both insert (the token is unique), and the caller retries the lookup."""
    if confirm_token is not None:
        sent = await announcement_by_token(session, commune_id, confirm_token)
        if sent is not None:
            return sent
    broadcast = Broadcast(
        kind="announcement",
        commune_id=commune_id,
        village_id=village_id or None,
        admin_username=admin,
        text=text,
        created_at=now,
        confirm_token=confirm_token,
    )
    reply = Reply(f"📢 {text}", (Button(texts.BTN_MENU, "menu"),))
    await outbox.enqueue(
        session, broadcast, await audience(session, commune_id, village_id), reply_to_json(reply), now
    )
    return broadcast


async def announcement_by_token(session: AsyncSession, commune_id: str, token: str) -> Broadcast | None:
    return await session.scalar(
        select(Broadcast).where(
            Broadcast.confirm_token == token,
            Broadcast.commune_id == commune_id,
            Broadcast.kind == "announcement",
        )
    )


async def open_questions_page(
    session: AsyncSession, commune_id: str, page: int, size: int
) -> tuple[list[tuple[UnansweredQuestion, Learner]], int]:
    """One page of the commune's open questions, oldest first, and how many are open in all."""
    where = (Learner.commune_id == commune_id, UnansweredQuestion.status == "open")
    total = await session.scalar(
        select(func.count())
        .select_from(UnansweredQuestion)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(*where)
    )
    rows = await session.execute(
        select(UnansweredQuestion, Learner)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(*where)
        .order_by(UnansweredQuestion.asked_at, UnansweredQuestion.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return [(q, learner) for q, learner in rows], int(total or 0)


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


@dataclass(frozen=True)
class GroupAnswer:
    """What answering a group did: the questions this request answered (not those answered before, by
    a double submit or another admin) and how many learners get a message."""

    question_ids: tuple[int, ...]
    recipients: int
    broadcast_id: int | None


async def _claim(
    session: AsyncSession, commune_id: str, question_ids: Sequence[int], values: dict[str, Any]
) -> list[tuple[UnansweredQuestion, Learner]]:
    """Move the commune's still-open questions among `question_ids` out of "open", each by one
    conditional UPDATE: of two requests answering the same question (a double click, two admins), only
    the one whose UPDATE changed the row goes on to send. On PostgreSQL the second UPDATE waits for the
    first to commit and then finds the question no longer open; SQLite takes one writer at a time."""
    values = {**values, "answered_by": str(values["answered_by"])[:100]}
    learners = select(Learner.id).where(Learner.commune_id == commune_id)
    claimed: list[int] = []
    for question_id in dict.fromkeys(question_ids):
        result = await session.execute(
            update(UnansweredQuestion)
            .where(
                UnansweredQuestion.id == question_id,
                UnansweredQuestion.status == "open",
                UnansweredQuestion.learner_id.in_(learners),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], result).rowcount:
            claimed.append(question_id)
    if not claimed:
        return []
    rows = await session.execute(
        select(UnansweredQuestion, Learner)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(UnansweredQuestion.id.in_(claimed))
        .order_by(UnansweredQuestion.asked_at, UnansweredQuestion.id)
        .execution_options(populate_existing=True)
    )
    return [(q, learner) for q, learner in rows]


async def answer_group(
    session: AsyncSession,
    commune_id: str,
    commune_name: str,
    question_ids: Sequence[int],
    answer: str,
    admin: str,
    now: datetime,
) -> GroupAnswer:
    """Answer several queued questions of the commune at once: each still-open one is marked answered
    and each learner who asked gets the answer once, through the outbox, quoting what they asked (their
    first question of the group). Questions already answered or of another commune are skipped, so a
    second submit of the same form sends nothing."""
    rows = await _claim(
        session,
        commune_id,
        question_ids,
        {"status": "answered", "answer_text": answer, "answered_at": now, "answered_by": f"admin:{admin}"},
    )
    if not rows:
        return GroupAnswer((), 0, None)
    broadcast = Broadcast(
        kind="answer", commune_id=commune_id, admin_username=admin, text=answer, created_at=now
    )
    messages = [(learner, reply_to_json(answer_reply(q.text, answer, commune_name))) for q, learner in rows]
    recipients = await outbox.enqueue_each(session, broadcast, messages, now)
    return GroupAnswer(tuple(q.id for q, _ in rows), recipients, broadcast.id)


async def mark_handled(
    session: AsyncSession, commune_id: str, question_ids: Sequence[int], admin: str, now: datetime
) -> tuple[int, ...]:
    """Take the commune's still-open questions among these out of the queue without a message."""
    rows = await _claim(
        session,
        commune_id,
        question_ids,
        {"status": "handled", "answered_at": now, "answered_by": f"admin:{admin}"},
    )
    return tuple(q.id for q, _ in rows)


async def question_texts(session: AsyncSession, question_ids: Sequence[int]) -> list[str]:
    """What was asked in these queued questions, oldest first."""
    rows = await session.scalars(
        select(UnansweredQuestion.text)
        .where(UnansweredQuestion.id.in_(list(question_ids)))
        .order_by(UnansweredQuestion.asked_at, UnansweredQuestion.id)
    )
    return list(rows.all())
