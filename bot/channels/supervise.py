"""Keep a channel's polling loop alive: restart it with growing pauses after any failure, until stop.

A commune server that boots before its network is up, a token typed wrong and fixed later, an outage of
the platform: each makes one try fail, and the next try, a little later, must still be made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def supervise(
    name: str,
    run: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    *,
    first_pause: float = 1.0,
    longest_pause: float = 60.0,
    report: Callable[[str], None] | None = None,
) -> None:
    """Call `run(stop)` until `stop` is set; after a failure wait 1, 2, 4 … 60 s (or until stop).

    `report` hears the type of each failure (for /healthz); `run` clears it once it works again."""
    pause = first_pause
    while not stop.is_set():
        try:
            await run(stop)
            pause = first_pause
        except asyncio.CancelledError:
            raise
        except Exception as error:  # logged by type only: messages can carry URLs with the token
            log.error("%s failed (%s); trying again in %.0f s", name, type(error).__name__, pause)
            if report is not None:
                report(type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = min(pause * 2, longest_pause)
