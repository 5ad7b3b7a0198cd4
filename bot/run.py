"""`hocvuso run`: every configured channel, the outbox worker, the reminders' scheduler and one web app,
until SIGINT or SIGTERM. The cluster mode's roles run from here too: `hocvuso web` (webhooks into the
job queue, the dashboard, media, /healthz; no handling) and `hocvuso worker` (handles the queued
updates, sends the outbox, runs the reminders; /healthz only) — see `bot.cluster`.

Start-up: settings -> the assistant (`bot.app.build_app`) -> Telegram and/or Zalo, each polling or on a
webhook -> the web app (webhooks, /healthz, the dashboard when HOCVUSO_ADMIN_SECRET is set).
Every update is stored before it is acknowledged (`bot.inbox`); at start, updates stored but never
handled (a crash) are handled first. Shutdown is graceful: the web server stops taking requests, polling
stops, every event already received is handled and its replies delivered, the outbox worker finishes its
message, then the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import uvicorn
from sqlalchemy import text

from admin.web import AdminContext
from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.cluster import ClusterError
from bot.inbox import LocalInbox
from bot.notices import Notices
from bot.outbox import OutboxWorker
from bot.reminders import Scheduler
from bot.settings import Settings
from bot.web import MediaLinks, WebParts, certificate_redraw, create_web_app

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker"]

NO_CHANNEL = """\
No chat channel is configured, so there is nobody to talk to yet.

  Telegram: create a bot with @BotFather, then   export TELEGRAM_BOT_TOKEN=...
  Zalo:     create a bot in "Zalo Bot Manager", then   export ZALO_BOT_TOKEN=...
  (or put them in a .env file; .env.example lists every setting)

To try the assistant right now, without any token:   hocvuso chat
"""


class ConfigurationError(Exception):
    """A combination of settings that cannot run; the message says what to set."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run` owns SIGINT/SIGTERM and stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Running:
    """The parts of a running assistant, for the shutdown sequence."""

    app: App
    channels: list[TelegramChannel | ZaloChannel] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    webhooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # registered once listening
    inbox: LocalInbox | None = None  # the embedded default's stored updates
    queue: procrastinate.App | None = None  # the cluster's job queue (web and worker roles)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def plan(settings: Settings, role: Role = "all") -> list[str]:
    """What `run` will start, as lines for the start-up message; raises ConfigurationError."""
    if role == "all" and settings.cluster:
        raise ConfigurationError(
            "HOCVUSO_CLUSTER=1: run `hocvuso migrate` once, then `hocvuso web` and `hocvuso worker` "
            "processes (as many of each as needed) instead of `hocvuso run`"
        )
    if role != "all":
        if not settings.cluster:
            raise ConfigurationError(
                f"`hocvuso {role}` is a role of the cluster mode: set HOCVUSO_CLUSTER=1 with a PostgreSQL "
                "HOCVUSO_DATABASE_URL (one machine: `hocvuso run`)"
            )
        from bot.cluster import check

        try:
            check(settings)
        except ClusterError as error:
            raise ConfigurationError(str(error)) from None
    if role == "worker":
        return [f"worker: up to {settings.worker_concurrency} updates at a time, the outbox, the reminders"]
    lines = []
    for name, token in (("telegram", settings.telegram_bot_token), ("zalo", settings.zalo_bot_token)):
        if token is None:
            continue
        mode = settings.mode(name)
        if mode == "webhook" and not settings.public_url:
            raise ConfigurationError(
                f"{name.upper()}_MODE=webhook needs HOCVUSO_PUBLIC_URL, the https address "
                f"{name.capitalize()} calls (or use {name.upper()}_MODE=polling)"
            )
        if name == "zalo" and mode == "webhook" and settings.zalo_webhook_secret is None:
            raise ConfigurationError(
                "the Zalo webhook needs ZALO_WEBHOOK_SECRET (16 or more characters of your choice)"
            )
        where = f"{settings.public_url}/webhooks/{name}" if mode == "webhook" else "long polling"
        lines.append(f"{name}: {mode} ({where})")
    if settings.admin_secret is not None:
        lines.append(f"dashboard: http://{settings.host}:{settings.port}/admin/")
    return lines


def settle_heap() -> None:
    """Hand everything built at start-up (curriculum, question index, aiogram's and SQLAlchemy's
    schemas) to the garbage collector's permanent generation. A full collection otherwise walks all of
    it, 130-200 ms on this 2-core machine, during which no chat is answered (bench/bench_telegram.py
    measures with the same treatment). The price: whatever is alive at this moment and later becomes
    cyclic garbage is never freed; start-up objects are few and live as long as the process anyway."""
    gc.collect()
    gc.freeze()


async def _check_schema(settings: Settings) -> None:
    """Cluster processes never migrate: they refuse an old schema (ConfigurationError)."""
    from bot.cluster import schema_problem
    from data.db import create_engine

    engine = create_engine(settings.db_url)
    try:
        problem = await schema_problem(engine, settings.db_url)
    except Exception as error:  # unreachable database, wrong password: the type, never the URL
        raise ConfigurationError(f"the database could not be read ({type(error).__name__})") from None
    finally:
        await engine.dispose()
    if problem is not None:
        raise ConfigurationError(problem)


async def run(
    settings: Settings, *, on_ready: Callable[[list[str]], None] | None = None, role: Role = "all"
) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code."""
    lines = plan(settings, role)
    if settings.telegram_bot_token is None and settings.zalo_bot_token is None:
        print(NO_CHANNEL, flush=True)
        if settings.admin_secret is None or role == "worker":
            return 1
    if role != "all":
        await _check_schema(settings)
    application = await build_app(
        settings,
        migrate_schema=role == "all",
        # a web process answers no question: the index only serves the dashboard's knowledge base
        with_retrieval=role != "web" or settings.admin_secret is not None,
    )
    running = Running(application)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        parts = await _start_channels(settings, running, stop, role)
        if running.inbox is not None:  # acknowledged before a crash, never handled: first in line
            await running.inbox.replay()
        server = _Server(
            uvicorn.Config(
                create_web_app(parts),
                host=settings.host,
                port=settings.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.05)
        if serving.done():  # could not listen (port in use): uvicorn has said why
            await serving
            return 1
        for register in running.webhooks:  # now that the server answers, tell the platforms where it is
            try:
                await register()
            except Exception as error:  # the type only: a message could carry a URL with the token
                print(
                    f"Could not register a webhook ({type(error).__name__}): check the bot token, "
                    "HOCVUSO_PUBLIC_URL (reachable over https from the internet) and the network.",
                    flush=True,
                )
                server.should_exit = True
                await serving
                return 1
        lines.append(f"health: http://{settings.host}:{settings.port}/healthz")
        settle_heap()
        print("hocvuso is running:\n  " + "\n  ".join(lines), flush=True)
        if on_ready is not None:
            on_ready(lines)
        await stop.wait()
        print("Stopping: finishing the messages in hand…", flush=True)
        server.should_exit = True
        await serving
    except SystemExit:
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stop.set()
        await _shutdown(running)
    print("Stopped.", flush=True)
    return 0


def _report_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("%s stopped: %s (check the token and API address)", task.get_name(), type(error).__name__)


def _background(running: Running, work: Awaitable[Any], name: str) -> None:
    task = asyncio.ensure_future(work)
    task.set_name(name)
    task.add_done_callback(_report_failure)
    running.tasks.append(task)


async def _start_channels(
    settings: Settings, running: Running, stop: asyncio.Event, role: Role = "all"
) -> WebParts:
    application = running.app
    assistant = application.assistant
    parts = WebParts(health=lambda: _health(running))
    telegram_token = _secret(settings.telegram_bot_token)
    if telegram_token:
        telegram = TelegramChannel(assistant, telegram_token, settings.telegram_api_base)
        running.channels.append(telegram)
        if role == "worker":
            pass  # replies only: its updates come from the queue
        elif settings.mode("telegram") == "webhook":
            secret = _secret(settings.telegram_webhook_secret)
            if secret is None:
                secret = secrets.token_urlsafe(32)
                log.warning(
                    "TELEGRAM_WEBHOOK_SECRET is not set: a random one is used for this run "
                    "(set it when several processes share the webhook)"
                )
            parts.telegram, parts.telegram_secret = telegram, secret
            running.webhooks.append(
                lambda: telegram.set_webhook(f"{settings.public_url}/webhooks/telegram", secret)
            )
        else:
            _background(running, telegram.run_polling(stop), "telegram-polling")
    zalo_token = _secret(settings.zalo_bot_token)
    if zalo_token:
        media = None
        if settings.public_url:
            media = MediaLinks(
                settings.public_url,
                _secret(settings.media_key) or secrets.token_urlsafe(32),  # one key for a whole cluster
                [settings.data_dir / "certificates", settings.content_dir],
                # a certificate drawn by another process of a cluster is drawn here again from its row
                redraw=certificate_redraw(
                    assistant.sessions, application.communes, settings.data_dir / "certificates"
                ),
            )
            parts.media = media
        zalo = ZaloChannel(
            assistant, zalo_token, settings.zalo_api_base, public_media=media.url if media else None
        )
        running.channels.append(zalo)
        if role == "worker":
            pass
        elif settings.mode("zalo") == "webhook":
            zalo_secret = _secret(settings.zalo_webhook_secret) or ""
            parts.zalo, parts.zalo_secret = zalo, zalo_secret
            running.webhooks.append(
                lambda: zalo.set_webhook(f"{settings.public_url}/webhooks/zalo", zalo_secret)
            )
        else:
            _background(running, zalo.run_polling(stop), "zalo-polling")
    await _start_intake(settings, running, parts, stop, role)
    if running.channels and role != "web":
        worker = OutboxWorker(
            assistant.sessions,
            {c.name: c for c in running.channels},
            assistant.clock,
            rates=settings.rates(),
            sender_lease=settings.outbox_sender_lease,
        )
        _background(running, worker.run_forever(stop), "outbox")
        # reminders and mentors' digests, queued into the outbox for the channels this process serves
        scheduler = Scheduler(
            assistant.sessions,
            application.curriculum,
            application.communes,
            assistant.clock,
            channels=[c.name for c in running.channels],
            stuck_days=settings.mentor_stuck_days,
        )
        _background(running, scheduler.run_forever(stop), "reminders")
        # scheduled announcements when due, and mentors told of their learners' waiting questions
        notices = Notices(assistant.sessions, application.communes, assistant.clock)
        _background(running, notices.run_forever(stop), "notices")
    admin_secret = _secret(settings.admin_secret)
    if admin_secret and role != "worker":
        parts.admin = AdminContext(
            sessions=application.dashboard_sessions,
            communes=application.communes,
            curriculum=application.curriculum,
            clock=assistant.clock,
            secret=admin_secret,
            cookie_secure=not (settings.public_url or "").startswith("http://"),
            stuck_days=settings.mentor_stuck_days,
            scam_wave_threshold=settings.scam_wave_threshold,
            encoder=application.knowledge.encoder if application.knowledge else None,
            knowledge=application.knowledge,
        )
    if application.knowledge is not None:  # embed the communes' reviewed answers in the background
        _background(running, application.knowledge.warm(), "knowledge-warm")
    if role == "worker":  # no webhooks, no dashboard: /healthz only
        return WebParts(health=parts.health)
    return parts


async def _start_intake(
    settings: Settings, running: Running, parts: WebParts, stop: asyncio.Event, role: Role
) -> None:
    """Where updates are stored before they are acknowledged, and who handles them from there."""
    assistant = running.app.assistant
    channels = {c.name: c for c in running.channels}
    if role == "all":
        inbox = LocalInbox(assistant.sessions, channels, settings.event_key(), assistant.clock)
        running.inbox, parts.intake = inbox, inbox.receive
        for channel in running.channels:
            channel.intake = inbox.intake(channel.name)  # polling: stored before the offset moves
        return
    from bot.cluster import create_queue, enqueue, register_handler, run_worker

    pool = min(settings.worker_concurrency // 4 + 2, 10) if role == "worker" else 8
    queue = create_queue(settings, pool_size=pool)
    await queue.open_async()
    running.queue = queue
    if role == "web":
        key = settings.event_key()

        async def intake(channel: str, body: dict[str, Any]) -> None:
            await enqueue(queue, key, channel, body)

        parts.intake = intake
        return
    register_handler(queue, channels)
    _background(running, run_worker(queue, assistant.sessions, settings, stop), "updates")


async def _health(running: Running) -> dict[str, Any]:
    database = "ok"
    try:
        async with running.app.assistant.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # reported, not raised: a health check must answer
        database = f"error: {type(error).__name__}"
    failed = [t.get_name() for t in running.tasks if t.done() and not t.cancelled() and t.exception()]
    problems = {c.name: c.problem for c in running.channels if c.problem}
    status = "ok" if database == "ok" and not failed and not problems else "degraded"
    return {
        "status": status,
        "database": database,
        "channels": [c.name for c in running.channels],
        "channel_problems": problems,
        "failed_tasks": failed,
        "events_in_hand": sum(c.executor.pending for c in running.channels),
        # updates read only in part (answered without the unreadable part) or not at all (skipped);
        # counted, not a failure: one odd update must not mark the service down
        "unreadable_updates": {c.name: c.unreadable.as_dict() for c in running.channels},
    }


async def _shutdown(running: Running) -> None:
    """Polling and the outbox stop (they watch the stop event); then channels drain and close."""
    done: Awaitable[Any] = asyncio.gather(*running.tasks, return_exceptions=True)
    try:
        results = await asyncio.wait_for(done, timeout=40)
    except TimeoutError:
        log.warning("shutdown: background tasks did not stop within 40 s")
        results = []
    for task, result in zip(running.tasks, results, strict=False):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log.error("%s stopped with %s", task.get_name(), type(result).__name__)
    await asyncio.gather(*(channel.close(grace=20) for channel in running.channels))
    if running.inbox is not None:
        await running.inbox.close()
    if running.queue is not None:
        with contextlib.suppress(Exception):
            await running.queue.close_async()
    await running.app.close()
