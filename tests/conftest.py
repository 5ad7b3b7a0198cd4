"""Shared fixtures: a real SQLite database in tmp_path, the fixture curriculum, a fake clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.settings import Settings
from tests import postgres
from tests.driver import ChatDriver, FakeAnswerer, FakeClock

FIXTURE_CURRICULUM = Path(__file__).parent / "data" / "curriculum"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL server for the session; CI installs it (.ci/system-deps) and must not skip."""
    if not postgres.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (see .ci/system-deps)")
        pytest.skip("PostgreSQL server binaries not installed (run .ci/system-deps)")
    with postgres.postgres_server() as url:
        yield url


@pytest.fixture
async def fresh_postgres(postgres_url: str) -> str:
    """An empty database of its own for one test."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def database_url() -> str | None:
    """SQLite in tmp_path by default; modules that also run on PostgreSQL override this fixture."""
    return None


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "var", content_dir=FIXTURE_CURRICULUM, database_url=database_url)


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
