"""Pass rules and the cards to review after a failed attempt."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quizzes.grading import grade, needed_to_pass
from quizzes.models import Question, Quiz


def quiz(count: int, ratio: float | None = None, cards: tuple[int, ...] = (1, 2, 3, 1)) -> Quiz:
    questions = [
        Question(
            id=f"q{n}", text="?", options=["a", "b", "c"], correct=1, explanation="vì thế", card=cards[n]
        )
        for n in range(count)
    ]
    return Quiz(questions=questions) if ratio is None else Quiz(questions=questions, pass_ratio=ratio)


@pytest.mark.parametrize(
    ("count", "ratio", "needed"),
    [
        (2, None, 2),
        (3, None, 2),
        (4, None, 3),
        (3, 0.67, 2),
        (4, 0.67, 3),
        (4, 0.5, 2),
        (3, 1.0, 3),
    ],
)
def test_needed_to_pass(count: int, ratio: float | None, needed: int) -> None:
    assert needed_to_pass(quiz(count, ratio)) == needed


def test_grade_lists_missed_questions_and_their_cards_once_in_order() -> None:
    result = grade(quiz(4), {"q0": 1, "q1": 0, "q2": 2})  # q3 unanswered
    assert (result.correct, result.total, result.passed) == (1, 4, False)
    assert result.missed_question_ids == ("q0", "q2", "q3")
    assert result.review_cards == (1, 3)


def test_two_thirds_passes() -> None:
    assert grade(quiz(3), {"q0": 0, "q1": 0, "q2": 1}).passed


def test_questions_need_exactly_one_valid_correct_option() -> None:
    with pytest.raises(ValidationError, match="exactly one of the 3 options"):
        Question(id="q1", text="?", options=["a", "b", "c"], correct=4, explanation="x", card=1)
    with pytest.raises(ValidationError, match="two options are the same"):
        Question(id="q1", text="?", options=["Có", "có"], correct=1, explanation="x", card=1)
