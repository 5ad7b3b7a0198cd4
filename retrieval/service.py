"""Assembling the answerer the assistant uses: encoder, passages, indexes, fusion and thresholds.

`build_answerer` is what `bot.app` calls at start-up. It is cheap when the stored dense index matches
the curriculum and the encoder (a file read); otherwise it embeds every passage and every ask once and
stores the new index for the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lessons.models import Curriculum
from retrieval.dense import Manifest, Progress, load_or_build
from retrieval.encoders import Encoder, load_encoder
from retrieval.evaluation import load_thresholds
from retrieval.lexical import LexicalIndex
from retrieval.passages import build_passages, build_rows
from retrieval.restore import Restorer
from retrieval.retriever import Method, Retriever

log = logging.getLogger(__name__)

# Chosen by `hocvuso eval` on the dev questions (see README): weighted fusion ranked best.
DEFAULT_METHOD = Method.WEIGHTED
DEFAULT_WEIGHT = 0.7


def index_dir(data_dir: Path) -> Path:
    return data_dir / "index"


@dataclass
class Opened:
    """A ready retriever and what its dense index was built from."""

    retriever: Retriever
    manifest: Manifest
    built: bool


def open_retriever(
    encoder: str | Encoder,
    curriculum: Curriculum,
    data_dir: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    method: Method = DEFAULT_METHOD,
) -> Opened:
    """Load (or build and store) the indexes and return the retriever with its calibrated thresholds."""
    model = load_encoder(encoder) if isinstance(encoder, str) else encoder
    passages = build_passages(curriculum)
    # diacritics come back from the cards' and glossary's own words, never from the asks (typed plain)
    restorer = Restorer(p.text for p in passages)
    rows = build_rows(passages, restorer.restore)
    dense, manifest, built = load_or_build(model, rows, index_dir(data_dir), force=force, progress=progress)
    if built:
        log.info(
            "dense index built: %d passages and %d asks with %s in %.1f s",
            len(passages),
            len(rows) - len(passages),
            model.name,
            manifest.build_seconds,
        )
    thresholds = load_thresholds(model.name)
    if not thresholds:
        log.warning(
            "no calibrated thresholds for encoder %s: answers are offered as choices, never as "
            "certain (run `hocvuso eval --calibrate`)",
            model.name,
        )
    retriever = Retriever(
        passages,
        model,
        dense,
        LexicalIndex(rows),
        rows=rows,
        restorer=restorer,
        method=method,
        weight=DEFAULT_WEIGHT,
        thresholds=thresholds,
    )
    return Opened(retriever, manifest, built)


def build_answerer(encoder: str, curriculum: Curriculum, data_dir: Path) -> Retriever:
    """The answerer for `bot.app`: `.answer(question) -> retrieval.answers.Answer`."""
    return open_retriever(encoder, curriculum, data_dir).retriever
