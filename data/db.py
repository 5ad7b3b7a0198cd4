"""Database engine, sessions and migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from data import sqlite_loop

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, *, wait_seconds: float = 10.0, in_loop: bool = True) -> AsyncEngine:
    """An async engine; SQLite gets WAL and foreign keys, and runs in the event loop (`sqlite_loop`).

    `hide_parameters`: a database error names the statement but never its values, which can be what a
    learner wrote or their name, so nothing personal reaches the logs through an error.
    `wait_seconds`: how long a SQLite write waits for another writer before "database is locked".
    `in_loop=False`: SQLite through aiosqlite's worker thread instead, for the dashboard's long read
    queries (a quarter's report over 20,000 learners takes a few hundred milliseconds), so that the chats
    served by the same process go on meanwhile."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    database = parsed.database or ":memory:"
    if in_loop:
        engine = create_async_engine(
            url,
            # the pool's rollback on return stays: in the loop it costs next to nothing, and it ends
            # whatever a failed commit left open before the connection is used again
            hide_parameters=True,
            async_creator=sqlite_loop.connector(database, sqlite_loop.WriteGate(wait_seconds)),
        )
    else:  # in its own thread, SQLite's busy handler may wait: it blocks nobody else
        engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": wait_seconds})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
