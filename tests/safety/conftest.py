"""Scam-check fixtures: one checker over the real curriculum per session (lesson ids are real)."""

from __future__ import annotations

import pytest

from lessons.loader import load_curriculum
from lessons.models import Curriculum
from safety.check import ScamChecker


@pytest.fixture(scope="session")
def curriculum() -> Curriculum:
    return load_curriculum()


@pytest.fixture(scope="session")
def checker(curriculum: Curriculum) -> ScamChecker:
    return ScamChecker(curriculum)
