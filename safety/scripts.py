"""The scam scripts the lessons describe, found again in a forwarded message.

The scam lessons quote what scammers say ("Gửi nhầm mã vào máy bác, bác đọc lại giúp với", “phục vụ điều
tra”). A message that repeats such a line (most of its word pairs, in folded syllables) is flagged with the
lesson that teaches it. Separately, the message is compared with every card of those lessons: by lexical
cosine over folded syllables and syllable pairs (IDF from the whole curriculum) by default, or by the
retrieval encoder when one is given. The closest card names the lesson for a scam of no clearer kind, and
a close enough card is itself a signal.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lessons.models import Curriculum, Lesson
from retrieval.encoders import Encoder
from retrieval.normalize import syllables

_QUOTED = re.compile(r"[“\"]([^”\"]{6,160})[”\"]")
MIN_SCRIPT_WORDS = 3
SCRIPT_COVERAGE = 0.75  # share of a quoted line's word pairs the message must contain


@dataclass(frozen=True)
class Script:
    """A line a scammer says, quoted in a lesson."""

    lesson_id: str
    words: tuple[str, ...]
    pairs: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class ScriptMatch:
    """A quoted scam line found in a message: the lesson and the words of the message it covers."""

    lesson_id: str
    start: int
    end: int


@dataclass(frozen=True)
class CardMatch:
    """The scam-lesson card closest to a message."""

    lesson_id: str
    card_number: int
    score: float


def _pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    return list(itertools.pairwise(words))


def _features(words: Sequence[str]) -> Counter[str]:
    features: Counter[str] = Counter(words)
    features.update(f"{a} {b}" for a, b in _pairs(words))
    return features


def _quoted_lines(lesson: Lesson) -> list[str]:
    texts = [card.text for card in lesson.cards]
    texts += [question.text for question in lesson.quiz.questions]
    return [match.group(1) for text in texts for match in _QUOTED.finditer(text)]


class LessonScripts:
    """Quoted scam lines and cards of the scam lessons, ready to compare with messages."""

    def __init__(
        self,
        curriculum: Curriculum,
        lessons: Mapping[str, str | None],
        exclude: Sequence[str] = (),
        encoder: Encoder | None = None,
    ) -> None:
        self.lesson_kinds = dict(lessons)
        self.titles: dict[str, str] = {}
        excluded = {tuple(syllables(text)) for text in exclude}
        scripts: list[Script] = []
        cards: list[tuple[str, int, list[str]]] = []
        for lesson_id in lessons:
            lesson = curriculum.lesson(lesson_id)
            if lesson is None:
                continue
            self.titles[lesson_id] = lesson.title
            for line in _quoted_lines(lesson):
                words = tuple(syllables(line))
                if len(words) >= MIN_SCRIPT_WORDS and words not in excluded:
                    scripts.append(Script(lesson_id, words, frozenset(_pairs(words))))
            for card in lesson.cards:
                cards.append(
                    (lesson_id, card.number, syllables(" ".join((card.title, card.text, *card.asks))))
                )
        self.scripts = tuple({s.words: s for s in scripts}.values())
        self._cards = cards
        # IDF over every card of the curriculum, so words common to all lessons weigh little
        documents = [
            _features(syllables(" ".join((card.title, card.text, *card.asks))))
            for lesson in curriculum.lessons
            for card in lesson.cards
        ]
        frequency: Counter[str] = Counter()
        for document in documents:
            frequency.update(document.keys())
        total = len(documents) or 1
        self._idf = {term: math.log((1 + total) / (1 + count)) + 1.0 for term, count in frequency.items()}
        self._default_idf = math.log(1 + total) + 1.0
        card_vectors = [self._vector(_features(words)) for _, _, words in cards]
        self._terms = {term: i for i, term in enumerate(sorted({t for v in card_vectors for t in v}))}
        self._card_matrix = np.zeros((len(cards), len(self._terms)), dtype=np.float32)
        for row, vector in enumerate(card_vectors):
            for term, weight in vector.items():
                self._card_matrix[row, self._terms[term]] = weight
        self.encoder = encoder
        self._card_embeddings = (
            encoder.passages([" ".join(words) for _, _, words in cards])
            if encoder is not None and cards
            else None
        )

    @property
    def vocabulary(self) -> set[str]:
        return {word for script in self.scripts for word in script.words}

    def _vector(self, features: Counter[str]) -> dict[str, float]:
        vector = {
            term: (1 + math.log(count)) * self._idf.get(term, self._default_idf)
            for term, count in features.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {term: v / norm for term, v in vector.items()}

    def scripts_in(self, words: Sequence[str]) -> list[ScriptMatch]:
        """Quoted scam lines the message repeats (most of their word pairs), first occurrence each."""
        if len(words) < 2:
            return []
        positions: dict[tuple[str, str], list[int]] = {}
        for i, pair in enumerate(_pairs(words)):
            positions.setdefault(pair, []).append(i)
        found: list[ScriptMatch] = []
        for script in self.scripts:
            present = [positions[p][0] for p in script.pairs if p in positions]
            if present and len(present) >= SCRIPT_COVERAGE * len(script.pairs):
                found.append(ScriptMatch(script.lesson_id, min(present), max(present) + 2))
        return found

    def closest_card(self, words: Sequence[str], text: str = "") -> CardMatch | None:
        """The scam-lesson card most like the message (encoder cosine when an encoder was given)."""
        if not self._cards or not words:
            return None
        if self.encoder is not None and self._card_embeddings is not None:
            query = self.encoder.queries([text or " ".join(words)])
            scores = np.asarray(self._card_embeddings @ query[0], dtype=np.float64)
            best = int(np.argmax(scores))
            return CardMatch(self._cards[best][0], self._cards[best][1], float(scores[best]))
        query_vector = self._vector(_features(words))
        shared = [(self._terms[t], w) for t, w in query_vector.items() if t in self._terms]
        if not shared:
            return None
        columns = np.fromiter((c for c, _ in shared), dtype=np.int64, count=len(shared))
        weights = np.fromiter((w for _, w in shared), dtype=np.float32, count=len(shared))
        cosines = self._card_matrix[:, columns] @ weights
        best = int(np.argmax(cosines))
        lesson_id, number, _ = self._cards[best]
        return CardMatch(lesson_id, number, float(cosines[best]))
