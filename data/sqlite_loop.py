"""SQLite run from the event loop: statements execute in place, every wait is an asyncio wait.

Why not aiosqlite: it hands each step of a statement (open a cursor, execute, fetch, close) to a worker
thread and waits for the answer, and a button press is six statements, so a press cost about twenty
thread hand-offs: on a two-core commune server those cost more than SQLite itself, which answers a
point query on an indexed table in microseconds. Here a statement runs directly in the event loop's
thread: about three times the presses per second through the engine alone (README, Benchmarks).

What could freeze the loop is turned into an asyncio wait instead:
- one writer at a time per engine: a transaction's first write waits on an asyncio lock that it holds
  until commit or rollback (SQLite takes one writer at a time anyway, and waiting in its busy handler
  would stop every other chat);
- another process writing (a `hocvuso` command run by an admin): SQLite answers "busy" at once
  (busy timeout 0) and the statement is tried again after an asyncio sleep, for up to `wait_seconds`.
Read queries run in the loop too, so long ones do not belong here: the dashboard, whose reports take
hundreds of milliseconds over 20,000 learners, has its own engine on aiosqlite's worker thread
(`data.db.create_engine(in_loop=False)`). A province-sized deployment uses PostgreSQL, where none of
this applies.

SQLAlchemy's aiosqlite dialect drives these connections (`create_async_engine(async_creator=...)`),
so SQL, types and errors are exactly those of sqlite3.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")

# statements that never write; anything else (INSERT, UPDATE, DELETE, REPLACE, WITH ..., DDL) is a write
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
_RETRY_FIRST, _RETRY_MAX = 0.002, 0.05  # seconds between tries while another process writes


class WriteGate:
    """One writer at a time among the connections of one engine."""

    def __init__(self, wait_seconds: float = 10.0) -> None:
        self.wait_seconds = wait_seconds
        self._lock = asyncio.Lock()

    async def enter(self) -> None:
        try:
            async with asyncio.timeout(self.wait_seconds):  # no extra task, unlike wait_for
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def leave(self) -> None:
        self._lock.release()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock: worth trying again. Not SQLITE_BUSY_SNAPSHOT, which means the
    transaction read a snapshot that is now stale, so the same statement can never succeed."""
    code: int = getattr(error, "sqlite_errorcode", 0)
    primary = code & 0xFF
    return primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and code != sqlite3.SQLITE_BUSY_SNAPSHOT


class Connection:
    """The part of aiosqlite's connection that SQLAlchemy's dialect uses."""

    def __init__(self, raw: sqlite3.Connection, gate: WriteGate) -> None:
        self._conn = raw
        self._connection: sqlite3.Connection | None = raw  # SQLAlchemy checks this before commit
        self._gate = gate
        self._writing = False

    # --- running statements -------------------------------------------------------------------
    async def run(self, sql: str, call: Callable[[], _T]) -> _T:
        if not self._writing and not sql.lstrip()[:7].upper().startswith(_READS):
            await self._gate.enter()
            self._writing = True
        return await self._call(call)

    async def _call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        return await self._retry_busy(call)

    async def _retry_busy(self, call: Callable[[], _T]) -> _T:
        """Another process holds the lock: try again after asyncio sleeps, up to the gate's wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._gate.wait_seconds
        delay = _RETRY_FIRST
        while True:
            if loop.time() + delay > deadline:
                raise sqlite3.OperationalError("database is locked")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._gate.leave()

    # --- the aiosqlite surface ----------------------------------------------------------------
    def cursor(self) -> Cursor:
        return Cursor(self, self._conn.cursor())

    async def commit(self) -> None:
        try:
            await self._call(self._conn.commit)
        except BaseException:
            # A commit that failed (a deferred constraint, a full disk, busy beyond the wait) may leave
            # SQLite's transaction open; SQLAlchemy will not roll it back. End it here, so its writes
            # can never ride along with the connection's next transaction and the gate is handed on.
            if self._conn.in_transaction:
                self._conn.rollback()
            raise
        finally:
            if not self._conn.in_transaction:
                self._done_writing()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._done_writing()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            try:
                self._conn.close()  # an open transaction is rolled back by SQLite
            finally:
                self._done_writing()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        # read by the dialect; setting it (execution_options(isolation_level=...)) is not supported
        return self._conn.isolation_level


class Cursor:
    """The part of aiosqlite's cursor that SQLAlchemy's dialect uses."""

    def __init__(self, connection: Connection, raw: sqlite3.Cursor) -> None:
        self._connection = connection
        self._raw = raw

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._raw.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await self._connection.run(sql, lambda: self._raw.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> Cursor:
        rows = list(rows)  # a retry after "busy" must see the same rows
        await self._connection.run(sql, lambda: self._raw.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._raw.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._raw.fetchmany(self._raw.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._raw.fetchall()

    async def close(self) -> None:
        self._raw.close()

    @property
    def description(self) -> Any:
        return self._raw.description

    @property
    def rowcount(self) -> int:
        return self._raw.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._raw.lastrowid

    @property
    def arraysize(self) -> int:
        return self._raw.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._raw.arraysize = value


def connector(database: str, gate: WriteGate) -> Callable[[], Awaitable[Connection]]:
    """The `async_creator` for one engine: every connection shares the engine's write gate."""

    async def connect() -> Connection:
        # timeout=0: never sleep inside SQLite's busy handler, `Connection.run` waits in asyncio instead
        raw = sqlite3.connect(database, timeout=0, check_same_thread=False)
        return Connection(raw, gate)

    return connect
