"""The commune configuration: communes, their villages with adult population, and campaign targets.

Loaded from YAML at start and validated; a bad file stops the assistant with a clear list of errors.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SAMPLE_COMMUNE_FILE = Path(__file__).parent / "sample_commune.yaml"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"


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
