"""What the fake platforms share: serving an aiohttp app on 127.0.0.1 at a free port; a recorded call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Call:
    """One Bot API method a fake server was asked for: its name, parameters and when."""

    method: str
    params: dict[str, Any]
    at: float


class LocalServer:
    """One aiohttp app on 127.0.0.1; `base` is its address once started."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def serve(self, app: web.Application) -> str:
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
