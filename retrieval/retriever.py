"""The answerer: rank passages for a question, then decide confident / borderline / unknown.

The dense query is the question with chat shorthand expanded and diacritics restored from the
curriculum's own phrases (`retrieval.restore`); BM25 sees the accent-folded syllables. Glossary entries
compete only when the question asks what something means ("... là gì", or a bare term): otherwise a
two-line definition of "đường link" would beat the card on what to do after tapping one.

Ranking uses one of four methods (BM25 only, dense only, weighted fusion, RRF) so evaluation can compare
them on the same indexes. The decision needs a score whose level means the same for every question —
fusion scores are scaled within each query, so they cannot say "nothing fits". The confidence is
therefore computed from absolute signals of the best-ranked passage:
- dense: its cosine similarity to the question;
- lexical: the share of the question's informative words it contains (IDF-weighted coverage, 0–1);
- fusion: `c·cosine + (1−c)·coverage`, with `c` = `CONFIDENCE_WEIGHT` (see there why 0.88).
Thresholds on that confidence are calibrated on the dev questions (`hocvuso eval --calibrate`). Tried
and not kept, because they separated out-of-scope questions worse on the dev set: the score gap
between the two best lessons, whether BM25 and dense agree on the best lesson, and the cosine's lift
over the average passage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from retrieval import fusion
from retrieval.answers import Answer, Candidate, Outcome
from retrieval.dense import DenseIndex
from retrieval.encoders import Encoder
from retrieval.lexical import LexicalIndex
from retrieval.normalize import asks_definition, has_words, syllables
from retrieval.passages import Passage
from retrieval.restore import Restorer

TOP = 5  # candidates kept in an answer (and in the queue of unanswered questions)
# Share of the cosine in a fused ranking's confidence (the rest is the lexical coverage). It is not the
# fusion weight: that one mixes two scores already scaled to 0–1 within a query, while this one mixes
# raw signals. The cosine of an e5 model varies little from question to question (standard deviation
# about 0.03 over the dev questions' best passages) and coverage a lot (about 0.2), so for each to
# have the same say, the weights go inversely with those spreads: 0.2 / (0.2 + 0.03) ≈ 0.88.
CONFIDENCE_WEIGHT = 0.88


class Method(StrEnum):
    """How passages are ranked."""

    BM25 = "bm25"
    DENSE = "dense"
    WEIGHTED = "weighted"
    RRF = "rrf"


@dataclass(frozen=True)
class Thresholds:
    """Confidence below `unknown` -> unknown; at or above `confident` -> confident; between -> borderline."""

    unknown: float
    confident: float


@dataclass(frozen=True)
class Ranking:
    """Passages best first with the fused score, plus the confidence signal of the best one."""

    order: tuple[int, ...]
    scores: tuple[float, ...]
    confidence: float
    cosine: float
    coverage: float


class Retriever:
    """Ranks passages and turns the ranking into an `Answer`; one instance serves every learner."""

    def __init__(
        self,
        passages: list[Passage],
        encoder: Encoder,
        dense: DenseIndex,
        lexical: LexicalIndex,
        *,
        method: Method = Method.WEIGHTED,
        weight: float = fusion.DEFAULT_WEIGHT,
        confidence_weight: float = CONFIDENCE_WEIGHT,
        thresholds: dict[Method, Thresholds] | None = None,
    ) -> None:
        self.passages = passages
        self.encoder = encoder
        self.dense = dense
        self.lexical = lexical
        self.method = method
        self.weight = weight
        self.confidence_weight = confidence_weight
        self.thresholds = thresholds or {}
        self.restorer = Restorer(p.text for p in passages)
        self._glossary = np.array([bool(p.term) for p in passages], dtype=bool)
        # a bare term ("deepfake", "ma qr") asks for its meaning too; "OTP (mã OTP)" answers to both names
        self._terms = {
            " ".join(syllables(name))
            for p in passages
            if p.term
            for name in p.term.replace(")", "").split("(")
        }
        # document frequency of each folded syllable, for the IDF-weighted coverage
        self._passage_words = [set(lexical.query_tokens(p.words)) for p in passages]
        df: dict[str, int] = {}
        for words in self._passage_words:
            for word in words:
                df[word] = df.get(word, 0) + 1
        total = max(len(passages), 1)
        self._idf = {word: math.log(1 + total / n) for word, n in df.items()}
        self._unseen_idf = math.log(1 + total)  # a word in no passage weighs like the rarest one

    def asks_definition(self, question: str) -> bool:
        return asks_definition(question) or " ".join(syllables(question)) in self._terms

    def names_a_term(self, question: str) -> bool:
        """Whether the question is just a glossary term ("otp", "wifi" for "Wi-Fi")."""
        squashed = "".join(syllables(question))
        return any(squashed == term.replace(" ", "") for term in self._terms)

    def coverage(self, question: str, passage: int) -> float:
        """IDF-weighted share of the question's words (and word pairs) found in one passage."""
        words = set(self.lexical.query_tokens(question))
        if not words:
            return 0.0
        weights = {w: self._idf.get(w, self._unseen_idf) for w in words}
        found = sum(weight for w, weight in weights.items() if w in self._passage_words[passage])
        return float(found / sum(weights.values()))

    def rank(self, question: str, method: Method | None = None) -> Ranking:
        method = method or self.method
        if not self.passages or not has_words(question):
            return Ranking((), (), 0.0, 0.0, 0.0)
        if len(syllables(question)) == 1 and not self.names_a_term(question):
            # one word that names nothing ("là", "gì", "bác", a typo): no question to answer, however
            # many passages contain it
            return Ranking((), (), 0.0, 0.0, 0.0)
        lexical = self.lexical.scores(question) if method is not Method.DENSE else None
        dense = None
        if method is not Method.BM25:
            dense = self.dense.scores(self.encoder.queries([self.restorer.restore(question)])[0])
        if method is Method.BM25:
            assert lexical is not None
            fused = lexical
        elif method is Method.DENSE:
            assert dense is not None
            fused = dense
        elif method is Method.WEIGHTED:
            assert dense is not None and lexical is not None
            fused = fusion.weighted(dense, lexical, self.weight)
        else:
            assert dense is not None and lexical is not None
            fused = fusion.rrf(dense, lexical)
        if self._glossary.any() and not self.asks_definition(question):
            fused = fused.copy()
            fused[self._glossary] = float(fused.min()) - 1.0  # after every card, kept only as a last resort
        order = np.argsort(-fused, kind="stable")[: max(TOP, 10)]
        best = int(order[0])
        coverage = self.coverage(question, best)
        cosine = float(dense[best]) if dense is not None else 0.0
        if method is Method.BM25:
            confidence = coverage
        elif method is Method.DENSE:
            confidence = cosine
        else:
            confidence = self.confidence_weight * cosine + (1.0 - self.confidence_weight) * coverage
        return Ranking(
            tuple(int(i) for i in order), tuple(float(fused[i]) for i in order), confidence, cosine, coverage
        )

    def decide(self, ranking: Ranking, method: Method | None = None) -> Outcome:
        method = method or self.method
        if not ranking.order:
            return Outcome.UNKNOWN
        limits = self.thresholds.get(method)
        if limits is None:
            return Outcome.BORDERLINE  # uncalibrated: never claim certainty, never hide the candidates
        if ranking.confidence < limits.unknown:
            return Outcome.UNKNOWN
        if ranking.confidence >= limits.confident:
            return Outcome.CONFIDENT
        return Outcome.BORDERLINE

    def candidates(self, ranking: Ranking) -> tuple[Candidate, ...]:
        out = []
        for index, score in list(zip(ranking.order, ranking.scores, strict=True))[:TOP]:
            passage = self.passages[index]
            out.append(
                Candidate(
                    passage_id=passage.passage_id,
                    score=score,
                    lesson_id=passage.lesson_id,
                    card_number=passage.card_number,
                    term=passage.term,
                )
            )
        return tuple(out)

    def answer(self, question: str, method: Method | None = None) -> Answer:
        ranking = self.rank(question, method)
        return Answer(self.decide(ranking, method), self.candidates(ranking))
