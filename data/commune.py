"""The commune configuration: communes, their villages with adult population, campaign targets, and the
quiet hours in which the assistant never writes first.

Loaded from YAML at start and validated; a bad file stops the assistant with a clear list of errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SAMPLE_COMMUNE_FILE = Path(__file__).parent / "sample_commune.yaml"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")  # no daylight saving time in Vietnam
# When the assistant never writes first (reminders, digests), in Vietnam time: night, lunch, dinner.
DEFAULT_QUIET_HOURS: tuple[str, ...] = ("21:00-07:00", "11:00-13:00", "17:30-19:00")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_DAY = 24 * 3600


def _window_seconds(window: str) -> tuple[int, int]:
    match = _WINDOW.match(window)
    if match is None:
        raise ValueError(f"quiet hours {window!r} must look like 21:00-07:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    return (h1 * 60 + m1) * 60, (h2 * 60 + m2) * 60


def is_quiet_time(windows: Sequence[str], moment: datetime, margin: timedelta = timedelta(0)) -> bool:
    """Whether any moment from `moment` to `moment + margin` falls in one of the quiet windows
    ("HH:MM-HH:MM" in Vietnam time, start included, end excluded; "21:00-07:00" spans midnight).
    The margin leaves time for the outbox to deliver what is queued now before a window begins."""
    local = moment.astimezone(VIETNAM_TIME)
    start = local.hour * 3600 + local.minute * 60 + local.second
    end = start + int(min(margin.total_seconds(), _DAY - 1))
    checks = [(start, end)] if end < _DAY else [(start, _DAY - 1), (0, end - _DAY)]
    for window in windows:
        begin, finish = _window_seconds(window)
        spans = [(begin, finish)] if begin < finish else [(begin, _DAY), (0, finish)]
        if any(b <= hi and lo < f for b, f in spans for lo, hi in checks):
            return True
    return False


class Village(BaseModel):
    """A village (thôn) or residential group (tổ dân phố) and its adult population."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG, max_length=32)  # button payloads carry it: Telegram allows 64 bytes
    name: str = Field(min_length=1, max_length=60)
    adults: int = Field(ge=0)


class Target(BaseModel):
    """The share of adults with basic digital knowledge the commune must reach by the end of a year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=2024, le=2100)
    basic_skills_share: float = Field(gt=0, le=1)


class Commune(BaseModel):
    """One commune or ward served by the deployment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG, max_length=32)
    name: str = Field(min_length=2, max_length=80)
    province: str = Field(min_length=2, max_length=80)
    villages: list[Village] = Field(min_length=1)
    targets: list[Target] = Field(min_length=1)
    mentor_min_learners: int = Field(default=5, ge=1)
    # reminders and mentors' digests are never sent in these windows (Vietnam time, "HH:MM-HH:MM")
    quiet_hours: tuple[str, ...] = DEFAULT_QUIET_HOURS

    @field_validator("quiet_hours")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for window in value:
            begin, end = _window_seconds(window)
            if begin == end:
                raise ValueError(f"quiet hours {window!r} start and end at the same time")
        return value

    def is_quiet(self, moment: datetime, margin: timedelta = timedelta(0)) -> bool:
        """See `is_quiet_time`."""
        return is_quiet_time(self.quiet_hours, moment, margin)

    @model_validator(mode="after")
    def _unique(self) -> Commune:
        ids = [v.id for v in self.villages]
        if len(set(ids)) != len(ids):
            raise ValueError(f"commune '{self.id}': two villages share an id")
        years = [t.year for t in self.targets]
        if len(set(years)) != len(years):
            raise ValueError(f"commune '{self.id}': two targets for the same year")
        return self

    def village(self, village_id: str) -> Village | None:
        return next((v for v in self.villages if v.id == village_id), None)

    def target_for(self, year: int) -> Target:
        """The target of `year`, or the nearest earlier (else the first) one."""
        earlier = [t for t in self.targets if t.year <= year]
        if earlier:
            return max(earlier, key=lambda t: t.year)
        return min(self.targets, key=lambda t: t.year)

    @property
    def adults(self) -> int:
        return sum(v.adults for v in self.villages)


class CommuneConfig(BaseModel):
    """The whole file: one or more communes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    communes: list[Commune] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CommuneConfig:
        ids = [c.id for c in self.communes]
        if len(set(ids)) != len(ids):
            raise ValueError("two communes share an id")
        return self

    def commune(self, commune_id: str) -> Commune | None:
        return next((c for c in self.communes if c.id == commune_id), None)


class CommuneConfigError(Exception):
    """The commune file is missing or invalid; the message says where and why."""


def load_commune_config(path: Path = SAMPLE_COMMUNE_FILE) -> CommuneConfig:
    """Read and validate the commune file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommuneConfigError(f"{path}: commune file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise CommuneConfigError(f"{path}: invalid YAML: {error}") from None
    try:
        return CommuneConfig.model_validate(data)
    except ValidationError as error:
        lines = [
            f"{path}: {'.'.join(str(p) for p in item['loc']) or 'file'}: {item['msg']}"
            for item in error.errors()
        ]
        raise CommuneConfigError("\n".join(lines)) from None
