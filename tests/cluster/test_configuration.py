"""One configuration for the fleet: cluster mode refuses what would make processes disagree (polling,
random per-process secrets and keys, SQLite), and the roles are refused outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cluster import problems
from bot.run import ConfigurationError, plan
from bot.settings import Settings

PG = "postgresql+asyncpg://hocvuso@db.example/hocvuso"


def cluster(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": tmp_path,
        "database_url": PG,
        "cluster": True,
        "public_url": "https://hocvuso.example",
        "telegram_bot_token": "123:telegram-token",
        "zalo_bot_token": "456:zalo-token",
        "telegram_webhook_secret": "a-telegram-secret-long-enough",
        "zalo_webhook_secret": "a-zalo-secret-long-enough",
        "privacy_key": "a-privacy-key-long-enough",
        "media_key": "a-media-key-long-enough",
    }
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


def test_a_complete_cluster_configuration_has_no_problem(tmp_path: Path) -> None:
    settings = cluster(tmp_path)
    assert problems(settings) == []
    assert plan(settings, "web")[0].startswith("telegram: webhook")
    assert plan(settings, "worker")[0].startswith("worker:")


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ({"database_url": None}, "PostgreSQL"),
        ({"privacy_key": None}, "HOCVUSO_PRIVACY_KEY"),
        ({"media_key": None}, "HOCVUSO_MEDIA_KEY"),
        ({"telegram_webhook_secret": None}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"zalo_webhook_secret": None}, "ZALO_WEBHOOK_SECRET"),
        ({"telegram_mode": "polling"}, "webhooks only"),
        ({"public_url": None}, "webhooks only"),
    ],
)
def test_each_missing_piece_is_named(tmp_path: Path, missing: dict[str, object], said: str) -> None:
    settings = cluster(tmp_path, **missing)
    assert any(said in line for line in problems(settings))
    with pytest.raises(ConfigurationError, match=said):
        plan(settings, "web")


def test_roles_and_run_are_not_mixed_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="hocvuso web"):
        plan(cluster(tmp_path), "all")
    with pytest.raises(ConfigurationError, match="HOCVUSO_CLUSTER=1"):
        plan(cluster(tmp_path, cluster=False), "worker")
