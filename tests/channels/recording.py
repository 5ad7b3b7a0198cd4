"""Test helpers shared by the channel tests: an assistant that records what reached it, a polling
channel as a context, and waiting until Telegram has been told an update was read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.messages import Incoming, Reply
from bot.service import Assistant
from tests.channels.fake_telegram import FakeTelegram


class RecordingAssistant:
    """The real assistant, keeping every event it was handed: what the adapter made of an update."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.sessions = assistant.sessions
        self.clock = assistant.clock
        self.events: list[Incoming] = []

    async def handle(self, event: Incoming) -> list[Reply]:
        self.events.append(event)
        return await self.assistant.handle(event)

    def of(self, user_id: int | str) -> list[Incoming]:
        return [e for e in self.events if e.user_id == str(user_id)]


@contextlib.asynccontextmanager
async def polling(channel: TelegramChannel | ZaloChannel) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run_polling(stop, polling_timeout=1))
    try:
        yield
    finally:
        stop.set()
        await task


async def drain(server: FakeTelegram, channel: TelegramChannel, update_id: int, limit: float = 10.0) -> None:
    """Wait until Telegram was told (by the next getUpdates' offset) that `update_id` and everything
    before it were read, then until every event handed over was handled and its replies sent."""
    deadline = time.monotonic() + limit
    while not server.acknowledged(update_id):
        if time.monotonic() > deadline:
            raise AssertionError(f"update {update_id} was never acknowledged: polling is stuck")
        await asyncio.sleep(0.02)
    await channel.executor.wait_idle()


def logged(records: list[logging.LogRecord]) -> str:
    """Everything the log records would print: messages, arguments and tracebacks."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)
