"""One outbox sender process for the fleet tests and bench/bench_cluster.py: the real `OutboxWorker`
and `TelegramChannel` on a shared database, sending to a fake Bot API server, until SIGTERM.

Run: `python -m tests.outbox.sender <database url> <api base> <bulk rate> [row lease s] [bot lease s]`.
It prints "ready <holder>" once running, so the parent knows which holder name is this process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any, cast

from bot.channels.telegram import TelegramChannel
from bot.outbox import OutboxWorker
from bot.ports import SystemClock
from bot.service import Assistant
from data.db import create_engine, session_factory
from tests.channels.fake_telegram import TOKEN


class _Sends:
    """Stands in for the assistant: a sender process handles no updates; the channel only needs the
    sessions and the clock (to mark a chat unreachable)."""

    def __init__(self, sessions: Any, clock: SystemClock) -> None:
        self.sessions = sessions
        self.clock = clock


async def main(url: str, base: str, rate: float, row_lease: float, bot_lease: float) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = SystemClock()
    channel = TelegramChannel(cast(Assistant, _Sends(sessions, clock)), TOKEN, base)
    worker = OutboxWorker(
        sessions,
        {"telegram": channel},
        clock,
        rates={"telegram": rate},
        row_lease=row_lease,
        sender_lease=bot_lease,
        beat=0.25,
        reply_poll=0.1,
        # the fake server counts a second from when requests arrive, a few ms after they start
        window=1.05,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready {worker.holder}", flush=True)
    try:
        await worker.run_forever(stop, poll_seconds=0.2)
    finally:
        await channel.close(grace=1)
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    args = sys.argv[1:]
    asyncio.run(
        main(
            args[0],
            args[1],
            float(args[2]),
            float(args[3]) if len(args) > 3 else 3.0,
            float(args[4]) if len(args) > 4 else 2.0,
        )
    )
