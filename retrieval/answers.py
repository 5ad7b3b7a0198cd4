"""What the answerer decides for a question: the outcome and the passages it is based on."""

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
    """The decision and the ranked candidates behind it (best first)."""

    outcome: Outcome
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None
