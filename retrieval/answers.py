"""What the answerer decides for a question: the outcome, the passages it is based on, and what to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """How sure the answerer is."""

    CONFIDENT = "confident"  # show the best card
    BORDERLINE = "borderline"  # offer the top lessons to choose from
    UNKNOWN = "unknown"  # say so honestly and queue the question


@dataclass(frozen=True)
class Candidate:
    """A passage that may answer the question: a lesson card, or a glossary entry (lesson_id empty)."""

    passage_id: str
    score: float
    lesson_id: str = ""
    card_number: int = 0
    term: str = ""


@dataclass(frozen=True)
class Answer:
    """The decision, the ranked candidates behind it, and which cards to show.

    - `candidates[0]` (`best`) is the card that answers: the best card of the best lesson for what the
      question asks (steps for "how", the definition for "what is", the what-to-do-now card for "I
      already did it"), or the urgent action card; the other candidates follow in ranking order.
    - `cards`: the card numbers of `best.lesson_id` to show, in reading order — the answering card,
      plus the card it leads into (or the one it follows on from) when it does not stand alone, all
      within 600 characters of card text. Never a card that ends pointing at something not shown: when
      no card of the lesson can be shown that way, `cards` is empty and the outcome is at most
      borderline. Empty for a glossary answer (show `best.term`) and for unknown.
    - `urgent`: the question says money or a code has already gone, someone controls the phone or
      account, or a phone or SIM is lost; `best` is then the what-to-do-now card, and the outcome is
      confident whatever the confidence.
    - `confidence`: the calibrated score behind the outcome (see `retrieval.retriever`).
    """

    outcome: Outcome
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    cards: tuple[int, ...] = ()
    urgent: bool = False
    confidence: float = 0.0

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def lesson_id(self) -> str:
        """The lesson the shown cards come from ("" for a glossary answer or none)."""
        return self.candidates[0].lesson_id if self.candidates else ""
