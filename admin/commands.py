"""What `hocvuso admin create|unlock|disable|enable|reset-password`, `hocvuso mentors invite`,
`hocvuso report` and `hocvuso kb export|import` do (bot/cli.py wires them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from admin import store
from admin.reports import build_report, parse_period, to_csv, to_xlsx
from bot.settings import Settings
from data import knowledge as kb
from data.commune import Commune, CommuneConfig, load_commune_config
from data.db import AsyncSession, create_engine, migrate, session_factory
from lessons.loader import load_curriculum


class CommandError(Exception):
    """A mistake in the command's arguments; the message says what to do."""


def pick_commune(communes: CommuneConfig, commune_id: str | None) -> Commune:
    if commune_id is None:
        if len(communes.communes) > 1:
            ids = ", ".join(c.id for c in communes.communes)
            raise CommandError(f"several communes are configured; choose one with --commune ({ids})")
        return communes.communes[0]
    commune = communes.commune(commune_id)
    if commune is None:
        raise CommandError(f"no commune {commune_id!r} in {len(communes.communes)} configured")
    return commune


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    await asyncio.to_thread(migrate, settings.db_url)
    engine = create_engine(settings.db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def create_admin(
    settings: Settings,
    username: str,
    password: str,
    commune_id: str | None,
    super_admin: bool,
    village_id: str | None = None,
) -> str:
    """A commune admin, a super-admin, or (with `village_id`) a read-only village head."""
    communes = load_commune_config(settings.commune_file)
    if super_admin and village_id:
        raise CommandError("--super and --village exclude each other")
    commune = None if super_admin else pick_commune(communes, commune_id)
    if village_id and commune is not None and commune.village(village_id) is None:
        ids = ", ".join(v.id for v in commune.villages)
        raise CommandError(f"no village {village_id!r} in {commune.id} ({ids})")
    async with transaction(settings) as session:
        try:
            user = await store.create_admin(
                session,
                username,
                password,
                commune.id if commune else None,
                datetime.now(UTC),
                village_id=village_id or None,
            )
        except store.AccountError as error:
            raise CommandError(str(error)) from None
    if user.is_super:
        return f"{user.username} (super-admin)"
    if user.village_id:
        return f"{user.username} (village head of {user.village_id} in {user.commune_id}, read-only)"
    return f"{user.username} (admin of {user.commune_id})"


async def account_action(settings: Settings, action: str, username: str, password: str = "") -> str:
    """unlock | disable | enable | reset-password one dashboard account; returns what was done.
    A running dashboard sees the change at the account's next request (sessions live in the database)."""
    now = datetime.now(UTC)
    async with transaction(settings) as session:
        try:
            if action == "unlock":
                user = await store.unlock(session, username, now)
                return f"{user.username}: failed logins so far no longer lock the account"
            if action == "disable":
                ended = await store.disable(session, username, now)
                return f"{store.normal_username(username)}: disabled; {ended} session(s) ended"
            if action == "enable":
                user = await store.enable(session, username, now)
                return f"{user.username}: enabled"
            if action == "reset-password":
                ended = await store.reset_password(session, username, password, now)
                return f"{store.normal_username(username)}: new password set; {ended} session(s) ended"
        except store.AccountError as error:
            raise CommandError(str(error)) from None
    raise CommandError(f"unknown action {action!r}")


async def invite(settings: Settings, commune_id: str | None, count: int) -> list[str]:
    commune = pick_commune(load_commune_config(settings.commune_file), commune_id)
    async with transaction(settings) as session:
        return await store.issue_invites(session, commune.id, count, "cli", datetime.now(UTC))


async def report(
    settings: Settings, period_text: str, fmt: str, commune_id: str | None, output: Path | None
) -> Path:
    try:
        period = parse_period(period_text)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if fmt not in {"xlsx", "csv"}:
        raise CommandError("--format must be xlsx or csv")
    commune = pick_commune(load_commune_config(settings.commune_file), commune_id)
    curriculum = load_curriculum(settings.content_dir)
    async with transaction(settings) as session:
        built = await build_report(session, commune, curriculum, period, datetime.now(UTC))
    path = output or Path(f"{built.filename_stem}.{fmt}")
    if fmt == "xlsx":
        await asyncio.to_thread(path.write_bytes, to_xlsx(built))
    else:
        await asyncio.to_thread(path.write_text, to_csv(built), encoding="utf-8")
    return path


async def kb_export(settings: Settings, commune_id: str | None, path: Path) -> int:
    """Write the commune's knowledge base (every status) to a YAML file; returns how many entries."""
    commune = pick_commune(load_commune_config(settings.commune_file), commune_id)
    async with transaction(settings) as session:
        rows = await kb.entries(session, commune.id)
    text = kb.export_yaml(commune.id, rows, datetime.now(UTC))
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    return len(rows)


async def kb_import(settings: Settings, commune_id: str | None, path: Path, approve: bool) -> kb.ImportResult:
    """Create or update the commune's entries from a YAML file, all or nothing; drafts unless `approve`.
    A running assistant picks the change up within seconds (`retrieval.knowledge`)."""
    commune = pick_commune(load_commune_config(settings.commune_file), commune_id)
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    lessons = {lesson.id for lesson in load_curriculum(settings.content_dir).lessons}
    try:
        async with transaction(settings) as session:
            return await kb.import_yaml(
                session, commune.id, text, by="cli", now=datetime.now(UTC), approve=approve, lessons=lessons
            )
    except kb.EntryError as error:
        raise CommandError(f"{path}: {error}; nothing was imported") from None
