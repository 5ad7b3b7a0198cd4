"""Shared fixtures: a real SQLite database in tmp_path, the fixture curriculum, a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.settings import Settings
from tests.driver import ChatDriver, FakeAnswerer, FakeClock

FIXTURE_CURRICULUM = Path(__file__).parent / "data" / "curriculum"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", content_dir=FIXTURE_CURRICULUM)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def answerer() -> FakeAnswerer:
    return FakeAnswerer()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock, answerer: FakeAnswerer) -> AsyncIterator[App]:
    application = await build_app(settings, clock=clock, answerer=answerer)
    yield application
    await application.close()


@pytest.fixture
def chat(app: App) -> ChatDriver:
    return ChatDriver(app.assistant, "an")
