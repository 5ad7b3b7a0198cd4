"""Fixtures: fake Telegram and Zalo servers on 127.0.0.1 and the real adapters polling them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.channels.ratelimit import Limits
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from data.models import Completion, Learner, QuizAnswer
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo

# the real limits, but with bursts large enough that a test journey never waits a second per message
FAST = Limits(overall_rate=30.0, overall_burst=30, chat_rate=1.0, chat_burst=20)


@pytest.fixture
async def telegram_server() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def zalo_server() -> AsyncIterator[FakeZalo]:
    server = FakeZalo()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram(app: App, telegram_server: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(app.assistant, telegram_server.token, telegram_server.base, limits=FAST)
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=2))
    yield channel
    stop.set()
    await polling
    await channel.close()


@pytest.fixture
async def zalo(app: App, zalo_server: FakeZalo) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(app.assistant, zalo_server.token, zalo_server.base, limits=FAST, retry_delay=0.05)
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=2))
    yield channel
    stop.set()
    await zalo_server.wake()
    await polling
    await channel.close()


async def count(app: App, model: type[Completion] | type[Learner] | type[QuizAnswer]) -> int:
    async with app.assistant.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
