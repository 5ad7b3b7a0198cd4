"""The lexical index: BM25 (bm25s) over accent-folded syllables, optionally with syllable pairs.

Vietnamese words are mostly two syllables ("điện thoại", "tài khoản"), so adjacent pairs give BM25
word-level matches on top of single syllables. A pair is written as its two syllables run together
("dienthoai"), which is also how people type a few words that the lessons spell apart: "wifi" for
"Wi-Fi", "chplay" for "CH Play". Folding makes "ma otp" and "mã OTP" the same tokens. Query tokens
unknown to the index get one chance at a telex-typo repair ("caif" -> "cai").
The index is small and builds in milliseconds, so it is rebuilt at start-up rather than stored.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Protocol

import bm25s
import numpy as np
import numpy.typing as npt

from retrieval.normalize import repair_telex, syllables

# bm25s sets its own logger to DEBUG when imported, which would print a line for every index build
logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokens(text: str, *, pairs: bool, known: frozenset[str] = frozenset()) -> list[str]:
    """Folded syllables (telex typos repaired into `known` words), then adjacent pairs run together."""
    words = syllables(text)
    if known:
        words = [repair_telex(word, known) for word in words]
    if pairs:
        return words + [a + b for a, b in itertools.pairwise(words)]
    return words


class Worded(Protocol):
    """What the lexical index reads of a passage or row."""

    @property
    def words(self) -> str: ...


class LexicalIndex:
    """BM25 scores of a question against every row (or passage), in order."""

    def __init__(self, passages: Sequence[Worded], *, pairs: bool = True) -> None:
        self.pairs = pairs
        corpus = [tokens(p.words, pairs=pairs) for p in passages]
        self.size = len(passages)
        self._bm25 = bm25s.BM25()
        # single syllables only: what a telex typo may be repaired into
        self.vocabulary: frozenset[str] = frozenset(w for p in passages for w in syllables(p.words))
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._known: frozenset[str] = frozenset(self._bm25.vocab_dict) if corpus else frozenset()

    def query_tokens(self, question: str) -> list[str]:
        return tokens(question, pairs=self.pairs, known=self.vocabulary)

    def scores(self, question: str, extra: Sequence[str] = ()) -> npt.NDArray[np.float32]:
        """BM25 of the question's tokens, plus `extra` tokens (a repeated token weighs twice)."""
        words = [w for w in [*self.query_tokens(question), *extra] if w in self._known]
        if not words or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(words), dtype=np.float32)
