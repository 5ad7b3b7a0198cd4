"""Pass rules and the review of missed questions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from quizzes.models import Quiz

# Ratios are written by hand in lesson files ("0.67" for two thirds); a small tolerance keeps
# 0.67 x 3 questions at 2 needed, not 3.
_TOLERANCE = 0.02


def needed_to_pass(quiz: Quiz) -> int:
    """How many right answers pass the quiz."""
    total = len(quiz.questions)
    return max(1, min(total, math.ceil(quiz.pass_ratio * total - _TOLERANCE)))


@dataclass(frozen=True)
class QuizResult:
    """The outcome of one attempt."""

    correct: int
    total: int
    needed: int
    missed_question_ids: tuple[str, ...]
    review_cards: tuple[int, ...]

    @property
    def passed(self) -> bool:
        return self.correct >= self.needed


def grade(quiz: Quiz, answers: Mapping[str, int]) -> QuizResult:
    """Grade answers (question id -> 0-based chosen option); unanswered questions count as missed.

    The review cards are the 1-based cards that teach the missed questions, in card order, once each.
    """
    missed = [q for q in quiz.questions if answers.get(q.id) != q.correct_index]
    return QuizResult(
        correct=len(quiz.questions) - len(missed),
        total=len(quiz.questions),
        needed=needed_to_pass(quiz),
        missed_question_ids=tuple(q.id for q in missed),
        review_cards=tuple(sorted({q.card for q in missed})),
    )
