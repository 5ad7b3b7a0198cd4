"""The quiz a lesson ends with: multiple-choice questions, each tied to the card that teaches it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_PASS_RATIO = 2 / 3


class Question(BaseModel):
    """One multiple-choice question; `correct` and `card` are 1-based as written in lesson files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(min_length=2, max_length=4)
    correct: int
    explanation: str = Field(min_length=1, max_length=300)
    card: int = Field(ge=1)

    @field_validator("options")
    @classmethod
    def _options_not_blank(cls, value: list[str]) -> list[str]:
        cleaned = [str(option).strip() for option in value]
        if any(not option for option in cleaned):
            raise ValueError("an option is empty")
        if len({option.casefold() for option in cleaned}) != len(cleaned):
            raise ValueError("two options are the same")
        if any(len(option) > 120 for option in cleaned):
            raise ValueError("an option is longer than 120 characters")
        return cleaned

    @model_validator(mode="after")
    def _one_correct_option(self) -> Question:
        if not 1 <= self.correct <= len(self.options):
            count = len(self.options)
            raise ValueError(
                f"'correct' must name exactly one of the {count} options (1..{count}), got {self.correct}"
            )
        return self

    @property
    def correct_index(self) -> int:
        """The 0-based index of the correct option."""
        return self.correct - 1


class Quiz(BaseModel):
    """The questions of one lesson and the share of right answers that passes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_ratio: float = Field(default=DEFAULT_PASS_RATIO, gt=0, le=1)
    questions: list[Question] = Field(min_length=2, max_length=4)

    @model_validator(mode="after")
    def _unique_question_ids(self) -> Quiz:
        ids = [question.id for question in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("two questions share an id")
        return self
