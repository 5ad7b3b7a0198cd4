"""Wiring: settings -> database -> content -> retrieval -> engine. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.certificate import Certificates
from bot.dialogue import Dialogue
from bot.ports import Answerer, Clock, SystemClock
from bot.screens.mentoring import Mentoring
from bot.service import Assistant
from bot.settings import Settings
from data.commune import CommuneConfig, load_commune_config
from data.db import create_engine, migrate, session_factory
from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.knowledge import KnowledgeBase


@dataclass
class App:
    """The running assistant's parts."""

    settings: Settings
    curriculum: Curriculum
    communes: CommuneConfig
    engine: AsyncEngine
    assistant: Assistant
    # the dashboard's engine: on SQLite its queries run in a worker thread, off the chats' event loop
    dashboard_engine: AsyncEngine
    # the commune's reviewed answers, matched with the answerer's encoder (None without retrieval)
    knowledge: KnowledgeBase | None = None

    @property
    def dashboard_sessions(self) -> async_sessionmaker[AsyncSession]:
        return session_factory(self.dashboard_engine)

    async def close(self) -> None:
        await self.assistant.close()
        await self.engine.dispose()
        if self.dashboard_engine is not self.engine:
            await self.dashboard_engine.dispose()


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs full request URLs, and Zalo/Telegram put the bot token in the URL path.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # start-up chatter that tells a commune's operator nothing
    for name in ("alembic", "faiss", "aiogram.event"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_answerer(settings: Settings, curriculum: Curriculum) -> Answerer | None:
    """The retrieval answerer over the curriculum (see `retrieval`)."""
    try:
        from retrieval.service import build_answerer as build
    except ImportError:
        return None
    answerer: Answerer = build(settings.encoder, curriculum, settings.data_dir)
    return answerer


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    answerer: Answerer | None = None,
    with_retrieval: bool = True,
    migrate_schema: bool = True,
) -> App:
    """Load and check everything, migrate the database (unless `migrate_schema` is False: cluster
    processes never migrate, `bot.cluster.schema_problem` checks instead), and assemble the engine."""
    curriculum = load_curriculum(settings.content_dir)
    communes = load_commune_config(settings.commune_file)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate_schema:
        await asyncio.to_thread(migrate, settings.db_url)
    engine = create_engine(settings.db_url)
    if answerer is None and with_retrieval:
        logging.getLogger(__name__).info(
            "loading the question index (built anew when the lessons change: about a minute)"
        )
        answerer = await asyncio.to_thread(build_answerer, settings, curriculum)
    clock = clock or SystemClock()
    encoder = getattr(answerer, "encoder", None)
    knowledge = KnowledgeBase.from_sessions(session_factory(engine), encoder) if encoder is not None else None
    link = f"https://t.me/{settings.telegram_bot_username}?start=" if settings.telegram_bot_username else None
    dialogue = Dialogue(
        curriculum,
        communes,
        answerer,
        clock,
        mentoring=Mentoring(
            curriculum,
            communes,
            clock,
            stuck_days=settings.mentor_stuck_days,
            telegram_link=link,
            qr_dir=settings.data_dir / "qr",
        ),
        certificates=Certificates(settings.data_dir / "certificates", communes, clock),
        knowledge=knowledge,
    )
    sqlite = engine.dialect.name == "sqlite"
    assistant = Assistant(
        session_factory(engine),
        dialogue,
        clock,
        group_commit=sqlite,
        event_key=settings.event_key(),
        event_retention=timedelta(days=settings.event_retention_days),
        keep_replies=True,  # a crash between commit and send never swallows a reply (bot.service)
    )
    await assistant.purge_events(clock.now() - timedelta(days=settings.event_retention_days))
    return App(
        settings=settings,
        curriculum=curriculum,
        communes=communes,
        engine=engine,
        assistant=assistant,
        dashboard_engine=create_engine(settings.db_url, in_loop=False) if sqlite else engine,
        knowledge=knowledge,
    )
