"""Telegram adapter benchmark: updates per second and update-to-reply latency on lesson navigation,
side by side with a bare aiogram echo bot on the same fake Bot API server, in the same run.

Run: `.venv/bin/python bench/bench_telegram.py [--learners 40] [--presses 25]`

Both bots long-poll the fake server in tests/channels/fake_telegram.py on 127.0.0.1. The same closed-loop
client drives both: each simulated learner presses a button, waits for the reply, presses the next.
- echo: aiogram's Dispatcher, a callback handler that answers the query and edits the message to echo it
  (the framework's floor: no database, no engine);
- hocvuso: `TelegramChannel` on the real assistant (SQLite file, the real curriculum), learners already
  registered and inside a lesson, pressing "Tiếp ▶" / "◀ Lại"; every press is one database transaction
  (event id claimed, card progress and conversation state saved).
The outgoing rate limiter is switched off for both, since it models Telegram's limits rather than our cost.
Nothing here asserts: it prints the figures and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_app
from bot.channels.ratelimit import UNLIMITED
from bot.channels.telegram import TelegramChannel
from bot.messages import Incoming, Kind
from bot.service import text_event
from bot.settings import Settings
from tests.channels.fake_telegram import FakeTelegram

LESSON = "an-toan-so-ma-otp"


class Replies:
    """Wakes the client of a chat when the bot sends or edits a message there."""

    def __init__(self, server: FakeTelegram) -> None:
        self.events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        server.on_reply = lambda chat_id: self.events[chat_id].set()


async def drive(
    server: FakeTelegram,
    replies: Replies,
    learners: list[int],
    presses: int,
    payload: Callable[[int, int], str],
) -> tuple[float, list[float]]:
    """Each learner presses `presses` buttons one after another; returns wall time and latencies (ms)."""
    latencies: list[float] = []

    async def one(user: int) -> None:
        message_id = next(iter(server.messages[str(user)]))
        for press in range(presses):
            event = replies.events[str(user)]
            event.clear()
            started = time.perf_counter()
            await server.send_update(server.callback_update(user, message_id, payload(user, press)))
            await asyncio.wait_for(event.wait(), 30)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user in learners))
    return time.perf_counter() - started, latencies


def seed_messages(server: FakeTelegram, learners: list[int], text: str) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Tiếp ▶", "callback_data": "x"}]]}
    for user in learners:
        server._store(str(user), {"text": text, "reply_markup": keyboard})


async def echo_bot(server: FakeTelegram, learners: list[int], presses: int) -> tuple[float, list[float]]:
    router = Router()

    @router.callback_query()
    async def echo(query: CallbackQuery) -> None:
        await query.answer()
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Tiếp ▶", callback_data=query.data or "x")]]
        )
        if query.message is not None:
            await query.bot.edit_message_text(  # type: ignore[union-attr]
                text=f"echo {query.data}", chat_id=query.message.chat.id,
                message_id=query.message.message_id, reply_markup=markup,
            )  # fmt: skip

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base)))
    seed_messages(server, learners, "echo")
    replies = Replies(server)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=5, handle_signals=False, close_bot_session=True)
    )
    await asyncio.sleep(0.3)
    try:
        return await drive(server, replies, learners, presses, lambda user, press: f"p{press}")
    finally:
        await dispatcher.stop_polling()
        await polling


async def hocvuso_bot(
    server: FakeTelegram, learners: list[int], presses: int, data_dir: Path
) -> tuple[float, list[float]]:
    settings = Settings(data_dir=data_dir)
    application = await build_app(settings, with_retrieval=False)
    assistant = application.assistant
    lesson = application.curriculum.lesson(LESSON)
    assert lesson is not None and len(lesson.cards) >= 2
    for user in learners:  # registered and reading card 1, as a learner in the middle of a lesson
        uid = str(user)
        for step, text in enumerate(["xin chào", "1", f"Học viên {user}", "1", "Bỏ qua"]):
            await assistant.handle(text_event("telegram", uid, f"seed-{user}-{step}", text))
        await assistant.handle(
            Incoming("telegram", uid, f"seed-{user}-open", Kind.BUTTON, payload=f"lesson:{LESSON}")
        )
    seed_messages(server, learners, "card 1")
    replies = Replies(server)
    channel = TelegramChannel(assistant, server.token, server.base, limits=UNLIMITED)
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.run_polling(stop, polling_timeout=5))
    await asyncio.sleep(0.3)

    def payload(user: int, press: int) -> str:  # card 1 -> 2 -> 1 -> 2 ...
        return f"next:{LESSON}:1" if press % 2 == 0 else f"prev:{LESSON}:2"

    try:
        return await drive(server, replies, learners, presses, payload)
    finally:
        stop.set()
        await polling
        await channel.close()
        await application.close()


def summary(name: str, wall: float, latencies: list[float]) -> tuple[float, float]:
    rate = len(latencies) / wall
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"{name:<22} {len(latencies):>7} {rate:>12.1f} {p50:>9.1f} {p95:>9.1f}")
    return rate, p95


async def main(learner_count: int, presses: int) -> None:
    learners = list(range(10_001, 10_001 + learner_count))
    print(f"{learner_count} learners x {presses} presses each, closed loop, one process, 2 cores\n")
    print(f"{'bot':<22} {'updates':>7} {'updates/s':>12} {'p50 ms':>9} {'p95 ms':>9}")
    results: dict[str, tuple[float, float]] = {}
    runs: list[tuple[str, Callable[[FakeTelegram], Awaitable[tuple[float, list[float]]]]]] = [
        ("aiogram echo (floor)", lambda server: echo_bot(server, learners, presses)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(("hocvuso navigation", lambda server: hocvuso_bot(server, learners, presses, Path(tmp))))
        for name, run in runs:
            server = FakeTelegram()
            await server.start()
            try:
                results[name] = summary(name, *(await run(server)))
            finally:
                await server.stop()
    (echo_rate, echo_p95), (our_rate, our_p95) = results.values()
    print(f"\nthroughput ratio hocvuso/echo: {our_rate / echo_rate:.2f}  (aim: at least 0.50)")
    print(f"p95 latency ratio hocvuso/echo: {our_p95 / echo_p95:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--presses", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(main(args.learners, args.presses))
