"""Combining the dense and lexical scores of every passage into one ranking.

Two ways, both measured by `hocvuso eval`:
- weighted: each score list scaled to 0–1 within the query (min–max), then `w·dense + (1−w)·bm25`;
- RRF (reciprocal rank fusion): `Σ 1/(k + rank)`, which ignores score magnitudes entirely.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]

DEFAULT_WEIGHT = 0.7  # share of the dense score in weighted fusion
RRF_K = 60  # the constant from Cormack et al. (2009); dampens the top ranks' advantage


def minmax(scores: Scores) -> Scores:
    """Scores scaled to 0–1 within one query; all-equal scores (e.g. no word matched) become 0."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.zeros_like(scores)
    return ((scores - low) / (high - low)).astype(np.float32)


def weighted(dense: Scores, lexical: Scores, weight: float = DEFAULT_WEIGHT) -> Scores:
    return (weight * minmax(dense) + (1.0 - weight) * minmax(lexical)).astype(np.float32)


def ranks(scores: Scores) -> npt.NDArray[np.int64]:
    """1-based rank of each passage (ties broken by position, which is stable curriculum order)."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(scores.size, dtype=np.int64)
    out[order] = np.arange(1, scores.size + 1)
    return out


def rrf(dense: Scores, lexical: Scores, k: int = RRF_K) -> Scores:
    fused = 1.0 / (k + ranks(dense))
    # a query that matched no word gives BM25 no opinion, rather than an arbitrary order
    if float(lexical.max(initial=0.0)) > 0.0:
        fused = fused + 1.0 / (k + ranks(lexical))
    return fused.astype(np.float32)
