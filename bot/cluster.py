"""Cluster mode: many `hocvuso web` and `hocvuso worker` processes on one PostgreSQL database.

Web processes store each update as a Procrastinate job before answering 200; the job's `lock` is the
learner key (a keyed hash of the sender), so workers handle one learner's updates one at a time, in
arrival order (Procrastinate never starts a job while an earlier job of the same lock waits or runs),
while different learners go in parallel on every worker. The job row is the durable inbox: a web
process killed after its commit loses nothing, and a worker killed mid-update leaves its job "doing"
until the worker's heartbeat is older than HOCVUSO_WORKER_STALLED_SECONDS; then one live worker (the
one holding an advisory lock for the pass) hands it back to the queue. Handling it again has no second
effect: the processed-event dedup (`Assistant`) ignores an update already committed. Jobs are deleted
when they end, whatever the outcome, so no finished job keeps what a learner wrote; Procrastinate's
own log lines (which print job arguments) are kept below WARNING.

Why Procrastinate and not pgqueuer: pgqueuer (asyncpg, fast batch dequeue) orders and serialises per
entrypoint, not per key, so one learner's updates could run side by side on two workers; Procrastinate
has the per-key order we need (`lock`), recovers a dead worker's jobs through heartbeats, and LISTEN/
NOTIFY wakes workers at once. Its price: psycopg 3 next to asyncpg, one schema of its own (applied by
`hocvuso migrate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.inbox import Channel, handle_update, learner_key, use_inbox
from bot.settings import Settings
from data.db import alembic_config, create_engine, migrate

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

TASK = "hocvuso.handle_update"
QUEUE = "updates"
_RETRY_LOCK = 0x686F6376  # advisory lock: one worker at a time hands stalled jobs back
_MIGRATE_LOCK = 0x686F6377  # advisory lock: one `hocvuso migrate` at a time
POLL_SECONDS = 0.2  # how often an idle worker asks for jobs


class ClusterError(Exception):
    """Cluster mode cannot start; the message says what to do."""


def problems(settings: Settings) -> list[str]:
    """What keeps this configuration from running as a cluster: one line per missing piece."""
    found = []
    if make_url(settings.db_url).get_backend_name() != "postgresql":
        found.append("HOCVUSO_DATABASE_URL must be a PostgreSQL URL (postgresql+asyncpg://…)")
    if settings.privacy_key is None:
        found.append("HOCVUSO_PRIVACY_KEY must be set (every process must hash event ids alike)")
    for name, token in (("telegram", settings.telegram_bot_token), ("zalo", settings.zalo_bot_token)):
        if token is None:
            continue
        if settings.mode(name) != "webhook" or not settings.public_url:
            found.append(
                f"{name}: cluster mode takes webhooks only: set HOCVUSO_PUBLIC_URL "
                f"(and not {name.upper()}_MODE=polling; polling would take the webhook off the whole fleet)"
            )
    if settings.telegram_bot_token is not None and settings.telegram_webhook_secret is None:
        found.append("TELEGRAM_WEBHOOK_SECRET must be set (the same in every process)")
    if settings.zalo_bot_token is not None and settings.zalo_webhook_secret is None:
        found.append("ZALO_WEBHOOK_SECRET must be set (the same in every process)")
    if settings.zalo_bot_token is not None and settings.media_key is None:
        found.append("HOCVUSO_MEDIA_KEY must be set (signs the image links Zalo fetches, from any process)")
    return found


def check(settings: Settings) -> None:
    found = problems(settings)
    if found:
        raise ClusterError("cluster mode needs:\n  - " + "\n  - ".join(found))


def conninfo(url: str) -> str:
    """libpq's form of the SQLAlchemy URL (Procrastinate talks psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_queue(settings: Settings, *, pool_size: int = 4) -> procrastinate.App:
    """The Procrastinate app (not opened). Its log lines name job arguments: kept below WARNING."""
    import procrastinate

    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.db_url), min_size=1, max_size=pool_size
    )
    return procrastinate.App(connector=connector)


async def enqueue(queue: procrastinate.App, secret: bytes, channel: str, payload: dict[str, Any]) -> None:
    """Store one update as a job of its learner (committed when this returns)."""
    key = learner_key(secret, channel, payload)
    task = queue.configure_task(TASK, queue=QUEUE, lock=None if key == "-" else key)
    await task.defer_async(channel=channel, payload=payload)


def register_handler(queue: procrastinate.App, channels: dict[str, Channel]) -> None:
    """The job: one update handled to the end by `bot.inbox.handle_update`."""
    for channel in channels.values():
        use_inbox(channel)

    async def handle(context: procrastinate.JobContext, channel: str, payload: dict[str, Any]) -> None:
        target = channels.get(channel)
        if target is None:
            log.warning("an update for %s, a channel this worker does not serve, was dropped", channel)
            return
        # a job handed back from a dead worker: if that worker had committed it, its replies go again
        again = context.job is not None and context.job.attempts > 0
        try:
            await handle_update(target, payload, again=again)
        except Exception as error:  # never raised into Procrastinate, whose log prints the arguments
            log.error("%s: an update was not handled (%s)", channel, type(error).__name__)

    queue.task(name=TASK, queue=QUEUE, pass_context=True)(handle)


async def retry_stalled(
    queue: procrastinate.App, sessions: async_sessionmaker[AsyncSession], seconds: float
) -> int:
    """Hand the jobs of workers silent for `seconds` back to the queue; how many. One worker at a
    time (an advisory lock), so two passes never hand back a job a live worker has just taken."""
    async with sessions() as session, session.begin():
        got = (
            await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RETRY_LOCK})
        ).scalar()
        if not got:
            return 0
        stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds, queue=QUEUE))
        for job in stalled:
            try:
                await queue.job_manager.retry_job(job)
            except Exception as error:  # finished meanwhile: nothing to hand back
                log.info("stalled job %s not retried (%s)", job.id, type(error).__name__)
    if stalled:
        log.warning(
            "%d update(s) of a worker that stopped answering were handed to the queue again", len(stalled)
        )
    return len(stalled)


async def run_worker(
    queue: procrastinate.App,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    """Handle updates until `stop`; then let the jobs in hand finish (up to 30 s)."""
    heartbeat = max(0.5, settings.worker_stalled_seconds / 5)
    worker = asyncio.create_task(
        queue.run_worker_async(
            queues=[QUEUE],
            concurrency=settings.worker_concurrency,
            delete_jobs="always",
            install_signal_handlers=False,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=settings.worker_stalled_seconds,
            # polled, not woken by NOTIFY: with a backlog (a burst of one learner's updates waits behind
            # their update in hand) every fetch scans the waiting jobs, and a fetch per insert per worker
            # kept PostgreSQL busy with fetches that found nothing (measured: 36 ms each at 2,000 jobs)
            listen_notify=False,
            fetch_job_polling_interval=POLL_SECONDS,
            shutdown_graceful_timeout=30.0,
            name="hocvuso",
        )
    )
    try:
        while not stop.is_set() and not worker.done():
            try:
                await retry_stalled(queue, sessions, settings.worker_stalled_seconds)
            except Exception as error:  # the database is away: the next pass tries again
                log.warning("stalled-job pass failed (%s)", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), heartbeat)
    finally:
        worker.cancel()  # Procrastinate stops fetching and waits for the jobs in hand
        with contextlib.suppress(asyncio.CancelledError):
            await worker


# --- the schema: migrated once by `hocvuso migrate`, checked at start by every cluster process ------
def _head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def schema_problem(engine: AsyncEngine, url: str) -> str | None:
    """Why this database cannot serve this version (None when it can)."""
    async with engine.connect() as connection:
        current = await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
        queue_table = (await connection.execute(text("SELECT to_regclass('procrastinate_jobs')"))).scalar()
    head = _head(url)
    if current != head:
        return (
            f"the database schema is at {current or 'nothing'} and this version needs {head}: "
            "run `hocvuso migrate` once (cluster processes never migrate on start)"
        )
    if queue_table is None:
        return "the job queue's tables are missing: run `hocvuso migrate` once"
    return None


async def migrate_all(settings: Settings) -> list[str]:
    """Bring the schema to the newest migration and, on PostgreSQL, create Procrastinate's tables;
    two `hocvuso migrate` at once wait for each other. What was done, as lines."""
    url = settings.db_url
    if make_url(url).get_backend_name() != "postgresql":
        await asyncio.to_thread(migrate, url)
        return [f"schema at {_head(url)}"]
    done: list[str] = []
    engine = create_engine(url)
    try:
        async with engine.connect() as lock:
            await lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
            await lock.commit()
            await asyncio.to_thread(migrate, url)
            done.append(f"schema at {_head(url)}")
            exists = (await lock.execute(text("SELECT to_regclass('procrastinate_jobs')"))).scalar()
            await lock.commit()
            if exists is None:
                try:
                    queue = create_queue(settings, pool_size=1)
                except ImportError:
                    done.append(
                        "job queue not created: install the postgres extra (pip install 'hocvuso[postgres]')"
                    )
                else:
                    async with queue.open_async():
                        await queue.schema_manager.apply_schema_async()
                    done.append("job queue tables created (Procrastinate)")
            else:
                done.append("job queue tables present")
            await lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK})
            await lock.commit()
    finally:
        await engine.dispose()
    return done
