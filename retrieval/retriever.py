"""The answerer: rank passages for a question, pick the card that answers, then decide confident /
borderline / unknown.

A question is read first (`retrieval.shape`): greetings, thanks, address forms and particles are
removed, a long story's asking clause is found, and the question's shape (how / what / what now) is
noted. The dense query is the rest with chat shorthand expanded and diacritics restored from the
curriculum's own phrases (`retrieval.restore`); BM25 sees the accent-folded syllables. In a long story
the asking clause counts twice: its tokens are added to the BM25 query (its embedding can be averaged
with the whole question's too: `FOCUS_WEIGHT`, off by default). Glossary entries compete only when the
question asks what something means ("... là gì", or a bare term): otherwise a two-line definition of
"đường link" would beat the card on what to do after tapping one.

The indexes hold rows (`retrieval.passages.Row`): each passage, and each of its `asks:` lines. On each
side (dense and BM25), before fusion, a passage scores a mix of its own row and its best ask
(`ASK_WEIGHTS`), so a question typed like one of a card's asks is drawn to that card even when the
card's text says it in other words.

Ranking uses one of four methods (BM25 only, dense only, weighted fusion, RRF) so evaluation can compare
them on the same indexes. The best passage names the lesson; within that lesson the answering card is
the best-scored one, with `SHAPE_BONUS` for a card whose shape (from its asks) is the question's. When
the question is urgent (`retrieval.urgent`) the answering card is instead the best-scored of the
situation's what-to-do-now cards. The cards shown are the answering card and the card it leads into (or
follows on from) within `MAX_SHOWN_CHARS`; a card that cannot be shown whole that way gives way to the
next best card of the lesson, and when none can, the answer is offered, never stated.

The decision needs a score whose level means the same for every question — fusion scores are scaled
within each query, so they cannot say "nothing fits". The confidence is therefore computed from
absolute signals of the answering card:
- dense: its cosine similarity to the question (mixed with its best ask's, as in ranking);
- lexical: the share of the question's informative words it (text, lesson summary, asks) contains
  (IDF-weighted coverage, 0–1);
- fusion: `c·cosine + (1−c)·coverage`, with `c` = `CONFIDENCE_WEIGHT` (see there why 0.88).
Thresholds on that confidence are calibrated on the dev questions (`hocvuso eval --calibrate`). Tried
and not kept, because they separated out-of-scope questions worse on the dev set: the score gap
between the two best lessons, whether BM25 and dense agree on the best lesson, and the cosine's lift
over the average passage; with asks, a cosine taken from the best ask alone or from the better of card
and ask (out-of-scope declined fell from 0.97 to 0.94 on the card-labelled dev questions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from retrieval import fusion
from retrieval.answers import Answer, Candidate, Outcome
from retrieval.dense import DenseIndex
from retrieval.encoders import Encoder
from retrieval.lexical import LexicalIndex
from retrieval.normalize import asks_definition, has_words, syllables
from retrieval.passages import Passage, Row
from retrieval.restore import Restorer
from retrieval.shape import Question, Reader, Shape, default_reader
from retrieval.urgent import Urgency, default_urgency

TOP = 5  # candidates kept in an answer (and in the queue of unanswered questions)
# Share of the cosine in a fused ranking's confidence (the rest is the lexical coverage). It is not the
# fusion weight: that one mixes two scores already scaled to 0–1 within a query, while this one mixes
# raw signals. The cosine of an e5 model varies little from question to question (standard deviation
# about 0.03 over the dev questions' best passages) and coverage a lot (about 0.2), so for each to
# have the same say, the weights go inversely with those spreads: 0.2 / (0.2 + 0.03) ≈ 0.88.
CONFIDENCE_WEIGHT = 0.88
MAX_SHOWN_CHARS = 600  # card text shown for one answer: the answering card and its continuation
# Within the chosen lesson, added (times the spread of the fused scores) to a card whose shape is the
# question's. The asks already carry what a card answers: on the card-labelled dev questions, 0.05 /
# 0.1 / 0.2 changed card useful@1 by +1 / 0 / −1 question of 280, so no bonus is applied.
SHAPE_BONUS = 0.0
# Share of a long story's asking clause in its dense query (0: the clause is weighed by BM25 only).
# 0.0 to 0.7 changed card useful@1 on the dev questions by at most one question, while embedding the
# clause too costs a second encoder pass on exactly the long questions that make the p95 latency.
FOCUS_WEIGHT = 0.0
# Share of a passage's best ask in its score, (dense, lexical): `(1 − w)·own row + w·best ask`. Taking
# the better of the two instead (a plain max) lost 5 points of lesson hit@1 on the dev questions: a
# generic ask ("cach tai app") then beats a card that names the very thing asked about ("VssID").
# Among 0.2–0.5 on each side, 0.4 gave the most useful cards and the fewest wrong confident ones.
ASK_WEIGHTS = (0.4, 0.4)

Scores = npt.NDArray[np.float32]


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
    """Passages best first with the fused score, the answering card, and the confidence signal."""

    order: tuple[int, ...]
    scores: tuple[float, ...]
    confidence: float
    cosine: float
    coverage: float
    chosen: int = -1  # passage index of the answering card (or glossary entry); -1 when none
    shown: tuple[int, ...] = ()  # passage indexes to show, in reading order; () when none stands alone
    urgent: bool = False
    shape: Shape | None = None


EMPTY = Ranking((), (), 0.0, 0.0, 0.0)


def decision(
    confidence: float, limits: Thresholds | None, *, urgent: bool = False, showable: bool = True
) -> Outcome:
    """The outcome for a ranked question (one with at least one candidate)."""
    if urgent:
        return Outcome.CONFIDENT  # the action card is shown even below the usual confidence
    if limits is None:
        return Outcome.BORDERLINE  # uncalibrated: never claim certainty, never hide the candidates
    if confidence < limits.unknown:
        return Outcome.UNKNOWN
    if confidence >= limits.confident and showable:
        return Outcome.CONFIDENT
    return Outcome.BORDERLINE


class Retriever:
    """Ranks passages and turns the ranking into an `Answer`; one instance serves every learner."""

    def __init__(
        self,
        passages: list[Passage],
        encoder: Encoder,
        dense: DenseIndex,
        lexical: LexicalIndex,
        *,
        rows: list[Row] | None = None,
        method: Method = Method.WEIGHTED,
        weight: float = fusion.DEFAULT_WEIGHT,
        confidence_weight: float = CONFIDENCE_WEIGHT,
        thresholds: dict[Method, Thresholds] | None = None,
        restorer: Restorer | None = None,
        reader: Reader | None = None,
        urgency: Urgency | None = None,
        shape_bonus: float = SHAPE_BONUS,
        focus_weight: float = FOCUS_WEIGHT,
        ask_weights: tuple[float, float] = ASK_WEIGHTS,
    ) -> None:
        self.passages = passages
        self.rows = (
            rows
            if rows is not None
            else [Row(i, p.passage_id, p.text, p.words) for i, p in enumerate(passages)]
        )
        self.encoder = encoder
        self.dense = dense
        self.lexical = lexical
        self.method = method
        self.weight = weight
        self.confidence_weight = confidence_weight
        self.thresholds = thresholds or {}
        self.reader = reader or default_reader()
        self.urgency = urgency or default_urgency()
        self.shape_bonus = shape_bonus
        self.focus_weight = focus_weight
        self.ask_weights = ask_weights
        self.restorer = restorer or Restorer(p.text for p in passages)
        owners = [row.passage for row in self.rows]
        if owners != sorted(owners) or set(owners) != set(range(len(passages))):
            raise ValueError("every passage needs its rows, contiguous and in passage order")
        # first row of each passage: a passage scores the best of its rows (np.maximum.reduceat)
        self._starts = np.array(
            [i for i, o in enumerate(owners) if i == 0 or owners[i - 1] != o], dtype=np.intp
        )
        self._ask_rows = np.array([row.ask for row in self.rows], dtype=bool)
        self._has_asks = np.zeros(len(passages), dtype=bool)
        self._has_asks[[row.passage for row in self.rows if row.ask]] = True
        self._glossary = np.array([bool(p.term) for p in passages], dtype=bool)
        # a bare term ("deepfake", "ma qr") asks for its meaning too; "OTP (mã OTP)" answers to both names
        self._terms = {
            " ".join(syllables(name))
            for p in passages
            if p.term
            for name in p.term.replace(")", "").split("(")
        }
        # folded words of each passage and its asks, and their document frequency, for the coverage
        self._passage_words: list[set[str]] = [set() for _ in passages]
        for row in self.rows:
            self._passage_words[row.passage].update(lexical.query_tokens(row.words))
        df: dict[str, int] = {}
        for words in self._passage_words:
            for word in words:
                df[word] = df.get(word, 0) + 1
        total = max(len(passages), 1)
        self._idf = {word: math.log(1 + total / n) for word, n in df.items()}
        self._unseen_idf = math.log(1 + total)  # a word in no passage weighs like the rarest one
        # each lesson's cards in reading order, and what each card answers and whether it stands alone
        self._lessons: dict[str, list[int]] = {}
        for number, passage in enumerate(passages):
            if passage.lesson_id:
                self._lessons.setdefault(passage.lesson_id, []).append(number)
        for cards in self._lessons.values():
            cards.sort(key=lambda i: passages[i].card_number)
        self._ids = {p.passage_id: number for number, p in enumerate(passages)}
        self._shapes = [
            self.reader.card_shape(p.title, p.body, p.asks) if p.lesson_id else None for p in passages
        ]
        self._leads = [bool(p.body) and self.reader.leads_on(p.body) for p in passages]
        self._follows = [bool(p.body) and self.reader.follows_on(p.body) for p in passages]

    # --- reading the question ----------------------------------------------------------------------------

    def read(self, question: str) -> Question:
        return self.reader.read(question)

    def asks_definition(self, question: str) -> bool:
        return asks_definition(question) or " ".join(syllables(question)) in self._terms

    def names_a_term(self, question: str) -> bool:
        """Whether the question is just a glossary term ("otp", "wifi" for "Wi-Fi")."""
        squashed = "".join(syllables(question))
        return any(squashed == term.replace(" ", "") for term in self._terms)

    def card_shape(self, passage: int) -> Shape | None:
        return self._shapes[passage]

    def coverage(self, question: str, passage: int) -> float:
        """IDF-weighted share of the question's words (and word pairs) found in one passage or its asks."""
        words = set(self.lexical.query_tokens(question))
        if not words:
            return 0.0
        weights = {w: self._idf.get(w, self._unseen_idf) for w in words}
        found = sum(weight for w, weight in weights.items() if w in self._passage_words[passage])
        return float(found / sum(weights.values()))

    # --- ranking -----------------------------------------------------------------------------------------

    def _per_passage(self, row_scores: Scores, ask_weight: float) -> Scores:
        """Each passage's score from its rows: `(1 − w)·own row + w·best ask` (own row alone without asks)."""
        own = row_scores[self._starts]
        if not self._has_asks.any():
            return own.astype(np.float32)
        asks = np.where(self._ask_rows, row_scores, -np.inf).astype(np.float32)
        best_ask = np.maximum.reduceat(asks, self._starts)
        mixed = (1.0 - ask_weight) * own + ask_weight * np.where(self._has_asks, best_ask, own)
        return mixed.astype(np.float32)

    def _dense(self, question: Question) -> Scores:
        focus = bool(question.focus) and self.focus_weight > 0.0
        texts = [self.restorer.restore(question.text)]
        if focus:
            texts.append(self.restorer.restore(question.focus))
        vectors = self.encoder.queries(texts)
        query = vectors[0]
        if focus:
            mixed = (1.0 - self.focus_weight) * vectors[0] + self.focus_weight * vectors[1]
            query = (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).astype(np.float32)
        return self._per_passage(self.dense.scores(query), self.ask_weights[0])

    def _lexical(self, question: Question) -> Scores:
        extra = self.lexical.query_tokens(question.focus) if question.focus else []
        return self._per_passage(self.lexical.scores(question.text, extra), self.ask_weights[1])

    def rank(self, question: str, method: Method | None = None) -> Ranking:
        method = method or self.method
        read = self.reader.read(question)
        text = read.text
        if not self.passages or not has_words(text):
            return EMPTY
        if len(syllables(text)) == 1 and not self.names_a_term(text):
            # one word that names nothing ("là", "gì", "bác", a typo): no question to answer, however
            # many passages contain it
            return EMPTY
        lexical = self._lexical(read) if method is not Method.DENSE else None
        dense = self._dense(read) if method is not Method.BM25 else None
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
        if self._glossary.any() and not self.asks_definition(text):
            fused = fused.copy()
            fused[self._glossary] = float(fused.min()) - 1.0  # after every card, kept only as a last resort
        order = np.argsort(-fused, kind="stable")[: max(TOP, 10)]
        best = int(order[0])
        chosen, urgent = best, False
        action = self._action_card(self.urgency.actions(question), fused)
        if action >= 0:
            chosen, urgent = action, True
        elif self.passages[best].lesson_id:
            chosen = self._best_in_lesson(self.passages[best].lesson_id, fused, read.shape)
        shown, chosen = self._shown(chosen, fused, read.shape)
        coverage = self.coverage(text, chosen)
        cosine = float(dense[chosen]) if dense is not None else 0.0
        if method is Method.BM25:
            confidence = coverage
        elif method is Method.DENSE:
            confidence = cosine
        else:
            confidence = self.confidence_weight * cosine + (1.0 - self.confidence_weight) * coverage
        return Ranking(
            tuple(int(i) for i in order),
            tuple(float(fused[i]) for i in order),
            confidence,
            cosine,
            coverage,
            chosen=chosen,
            shown=shown,
            urgent=urgent,
            shape=read.shape,
        )

    def _in_lesson(self, lesson: str, fused: Scores, shape: Shape | None) -> list[int]:
        """The lesson's cards, best first for a question of this shape."""
        cards = self._lessons.get(lesson, [])
        scale = float(fused.max() - fused.min()) or 1.0
        bonus = self.shape_bonus * scale

        def score(i: int) -> float:
            matched = shape is not None and self._shapes[i] is shape
            return float(fused[i]) + (bonus if matched else 0.0)

        return sorted(cards, key=score, reverse=True)

    def _best_in_lesson(self, lesson: str, fused: Scores, shape: Shape | None) -> int:
        return self._in_lesson(lesson, fused, shape)[0]

    def _action_card(self, actions: tuple[str, ...], fused: Scores) -> int:
        """The best-scored of the urgent situation's action cards, or -1 (not urgent, or none known).
        A lesson id stands for its cards whose shape is `problem` (all its cards when none is)."""
        cards: list[int] = []
        for action in actions:
            if action in self._ids:
                cards.append(self._ids[action])
            elif action in self._lessons:
                lesson = self._lessons[action]
                cards.extend([i for i in lesson if self._shapes[i] is Shape.PROBLEM] or lesson)
        if not cards:
            return -1
        return max(cards, key=lambda i: float(fused[i]))

    def span(self, passage: int) -> tuple[int, ...] | None:
        """The cards to show for one answering card, in reading order: with the card before it while it
        follows on from that one, and the card after it while the last one leads on; None when that
        does not fit in `MAX_SHOWN_CHARS` or the lesson ends on a card that leads on."""
        lesson = self.passages[passage].lesson_id
        if not lesson:
            return (passage,)
        cards = self._lessons[lesson]
        first = last = cards.index(passage)
        total = len(self.passages[passage].body)
        while self._follows[cards[first]]:
            if first == 0:
                break  # a lesson's first card has nothing before it to lean on
            first -= 1
            total += len(self.passages[cards[first]].body)
        while self._leads[cards[last]]:
            if last + 1 == len(cards):
                return None
            last += 1
            total += len(self.passages[cards[last]].body)
        if total > MAX_SHOWN_CHARS:
            return None
        return tuple(cards[first : last + 1])

    def _shown(self, chosen: int, fused: Scores, shape: Shape | None) -> tuple[tuple[int, ...], int]:
        """The cards to show and the answering card: `chosen` when it can be shown, else the best card
        of its lesson that can; ((), chosen) when none can."""
        first = self.span(chosen)
        if first is not None:
            return first, chosen
        for other in self._in_lesson(self.passages[chosen].lesson_id, fused, shape):
            found = self.span(other)
            if found is not None:
                return found, other
        return (), chosen

    # --- deciding ----------------------------------------------------------------------------------------

    def decide(self, ranking: Ranking, method: Method | None = None) -> Outcome:
        method = method or self.method
        if not ranking.order:
            return Outcome.UNKNOWN
        return decision(
            ranking.confidence,
            self.thresholds.get(method),
            urgent=ranking.urgent,
            showable=bool(ranking.shown),
        )

    def candidates(self, ranking: Ranking) -> tuple[Candidate, ...]:
        """The answering card first, then the rest of the ranking."""
        scores = dict(zip(ranking.order, ranking.scores, strict=True))
        first = [ranking.chosen] if ranking.chosen >= 0 else []
        ordered = first + [i for i in ranking.order if i != ranking.chosen]
        out = []
        for index in ordered[:TOP]:
            passage = self.passages[index]
            out.append(
                Candidate(
                    passage_id=passage.passage_id,
                    score=scores.get(index, float("nan")),
                    lesson_id=passage.lesson_id,
                    card_number=passage.card_number,
                    term=passage.term,
                )
            )
        return tuple(out)

    def cards(self, ranking: Ranking) -> tuple[int, ...]:
        """The card numbers shown (empty for a glossary answer)."""
        return tuple(self.passages[i].card_number for i in ranking.shown if self.passages[i].lesson_id)

    def answer(self, question: str, method: Method | None = None) -> Answer:
        return self.answer_for(self.rank(question, method), method)

    def answer_for(self, ranking: Ranking, method: Method | None = None) -> Answer:
        """The answer a ranking gives (`rank` then this is `answer`, with the ranking's details kept)."""
        outcome = self.decide(ranking, method)
        return Answer(
            outcome,
            self.candidates(ranking),
            cards=self.cards(ranking) if outcome is not Outcome.UNKNOWN else (),
            urgent=ranking.urgent,
            confidence=ranking.confidence,
        )
