"""Telegram adapter benchmark: updates per second and update-to-reply latency on lesson navigation,
side by side with a bare aiogram echo bot on the same fake Bot API server, in the same run.

Run: `.venv/bin/python bench/bench_telegram.py [--learners 40] [--presses 50] [--rounds 3] [--stand-in]`

The fake Bot API server (tests/channels/fake_telegram.py) and the simulated learners run in a child
process on 127.0.0.1, as Telegram's servers would be elsewhere; the bot under test runs in this process.
The same closed-loop client drives both bots: each learner presses a button, waits for the reply (an
edited message), presses the next.
- echo: aiogram's Dispatcher with a callback handler that answers the query and edits the message to
  echo it (the framework's floor: no database, no engine), holding aiogram's response classes alive as
  the channel does (`response_types`), so the floor is aiogram at its fastest;
- hocvuso: `TelegramChannel` on the real assistant (SQLite file, the real curriculum), learners already
  registered and inside a lesson, pressing "Tiếp ▶" / "◀ Lại"; as in `hocvuso run`, every update is
  first stored in the inbox (committed before the polling offset moves past it) and deleted once
  handled, and every press is one database transaction (event id claimed, learner, state and card
  progress read and written); inserts, deletes and presses arriving together share transactions.
The outgoing rate limiter is off for both, since it models Telegram's limits rather than our cost.
Nothing here asserts: it prints the figures and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_app
from bot.channels.ratelimit import UNLIMITED
from bot.channels.telegram import TelegramChannel, response_types
from bot.inbox import LocalInbox
from bot.messages import Incoming, Kind, Reply
from bot.run import settle_heap
from bot.service import text_event
from bot.settings import Settings
from tests.channels.fake_telegram import TOKEN, FakeTelegram

LESSON = "an-toan-so-ma-otp"


# --- the child process: the fake server and the learners ---------------------------------------
async def platform(learner_count: int, presses: int, mode: str) -> None:
    """Serve the fake API, print its address, wait for "go", drive the learners, print the results."""
    server = FakeTelegram()
    await server.start()
    learners = list(range(10_001, 10_001 + learner_count))
    keyboard = {"inline_keyboard": [[{"text": "Tiếp ▶", "callback_data": "x"}]]}
    for user in learners:
        server._store(str(user), {"text": "card 1", "reply_markup": keyboard})
    replied: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
    server.on_reply = lambda chat_id: replied[chat_id].set()
    print(server.base, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"

    def payload(press: int) -> str:
        if mode == "echo":
            return f"p{press}"
        return f"next:{LESSON}:1" if press % 2 == 0 else f"prev:{LESSON}:2"  # card 1 -> 2 -> 1 ...

    latencies: list[float] = []

    async def one(user: int) -> None:
        message_id = next(iter(server.messages[str(user)]))
        for press in range(presses):
            event = replied[str(user)]
            event.clear()
            started = time.perf_counter()
            await server.send_update(server.callback_update(user, message_id, payload(press)))
            await asyncio.wait_for(event.wait(), 60)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user in learners))
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "latencies": latencies}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the bot has stopped
    await server.stop()


@asynccontextmanager
async def child(learners: int, presses: int, mode: str) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--platform", mode, "--learners", str(learners), "--presses", str(presses),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,  # the results line holds every latency
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


# --- this process: the bots -------------------------------------------------------------------
async def echo_bot(base: str, stop: asyncio.Event) -> None:
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
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    kept = response_types()  # as the channel does: the floor is aiogram at its fastest  # noqa: F841
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=5, handle_signals=False, close_bot_session=True)
    )
    await stop.wait()
    await dispatcher.stop_polling()
    await polling


class _Canned:
    """Stands in for the assistant: every event gets, at once, the reply of one real press (no database),
    which leaves the channel's own cost."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies

    async def handle(self, event: Incoming) -> list[Reply]:
        return self.replies


def hocvuso_bot(
    data_dir: Path, learners: list[int], stand_in: bool = False
) -> Callable[[str, asyncio.Event], Awaitable[None]]:
    async def run(base: str, stop: asyncio.Event) -> None:
        application = await build_app(Settings(data_dir=data_dir), with_retrieval=False)
        assistant = application.assistant
        for user in learners:  # registered and reading card 1, as a learner in the middle of a lesson
            uid = str(user)
            for step, text in enumerate(["xin chào", "1", f"Học viên {user}", "1", "Bỏ qua"]):
                await assistant.handle(text_event("telegram", uid, f"seed-{user}-{step}", text))
            await assistant.handle(
                Incoming("telegram", uid, f"seed-{user}-open", Kind.BUTTON, payload=f"lesson:{LESSON}")
            )
        target: Any = assistant
        if stand_in:
            press = Incoming("telegram", str(learners[0]), "probe", Kind.BUTTON, payload=f"next:{LESSON}:1")
            target = _Canned(await assistant.handle(press))
        channel = TelegramChannel(target, TOKEN, base, limits=UNLIMITED)
        # as `hocvuso run` does: each update stored in the inbox before the polling offset moves past
        # it, handled from there, its row deleted once handled (bot.inbox)
        inbox = LocalInbox(assistant.sessions, {"telegram": channel}, b"bench-event-key", assistant.clock)
        channel.intake = inbox.intake("telegram")
        await inbox.replay()
        try:
            await channel.run_polling(stop, polling_timeout=5)
        finally:
            await channel.close()
            await inbox.close()
            await application.close()

    return run


async def measure(
    name: str, mode: str, bot: Callable[[str, asyncio.Event], Awaitable[None]], learners: int, presses: int
) -> tuple[float, float]:
    async with child(learners, presses, mode) as process:
        assert process.stdout is not None and process.stdin is not None
        base = (await process.stdout.readline()).decode().strip()
        stop = asyncio.Event()
        running = asyncio.create_task(bot(base, stop))
        await asyncio.sleep(1.0 if mode == "echo" else 3.0)  # polling up (and learners seeded)
        settle_heap()  # as `hocvuso run` does once started: full collections do not walk the start-up heap
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        result = json.loads(await process.stdout.readline())
        gc.unfreeze()  # the next measurement settles its own heap
        stop.set()
        await running
        process.stdin.write(b"done\n")
        await process.stdin.drain()
    latencies = result["latencies"]
    rate = len(latencies) / result["wall"]
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"{name:<22} {len(latencies):>7} {rate:>12.1f} {p50:>9.1f} {p95:>9.1f}", flush=True)
    return rate, p95


async def main(learner_count: int, presses: int, rounds: int, stand_in: bool) -> None:
    """Rounds alternate the two bots, so a slow moment of the machine does not fall on one bot only."""
    learners = list(range(10_001, 10_001 + learner_count))
    print(
        f"{learner_count} learners x {presses} presses each, closed loop; fake Telegram in its own process;"
        f" {rounds} rounds\n"
    )
    print(f"{'bot':<22} {'updates':>7} {'updates/s':>12} {'p50 ms':>9} {'p95 ms':>9}")
    throughput: list[float] = []
    latency: list[float] = []
    for _ in range(rounds):
        echo_rate, echo_p95 = await measure("aiogram echo (floor)", "echo", echo_bot, learner_count, presses)
        with tempfile.TemporaryDirectory() as tmp:
            bot = hocvuso_bot(Path(tmp), learners)
            our_rate, our_p95 = await measure("hocvuso navigation", "hocvuso", bot, learner_count, presses)
        throughput.append(our_rate / echo_rate)
        latency.append(our_p95 / echo_p95)
        print(f"{'':<22} ratio {throughput[-1]:.2f}")
        if stand_in:
            with tempfile.TemporaryDirectory() as tmp:
                bot = hocvuso_bot(Path(tmp), learners, stand_in=True)
                canned, _ = await measure("channel, stand-in", "hocvuso", bot, learner_count, presses)
            print(f"{'':<22} ratio {canned / echo_rate:.2f} (the channel alone: no engine, no database)")
    print(f"\nthroughput ratio hocvuso/echo: {', '.join(f'{r:.2f}' for r in throughput)}")
    print(f"  median {statistics.median(throughput):.2f}  (aim: at least 0.50)")
    print(f"p95 latency ratio hocvuso/echo: median {statistics.median(latency):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--stand-in", action="store_true", help="also run the channel on a canned reply: its own cost"
    )
    parser.add_argument("--platform", choices=["echo", "hocvuso"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.platform:
        asyncio.run(platform(args.learners, args.presses, args.platform))
    else:
        asyncio.run(main(args.learners, args.presses, args.rounds, args.stand_in))
