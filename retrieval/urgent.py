"""Urgent questions: money or a code already gone, someone controlling the phone or account, a lost phone.

The situations, their patterns and their what-to-do-now cards are data (`retrieval/urgent.yaml`,
patterns as in `retrieval.shape`). Detection reads the whole question,
accent-folded, greetings included: "lỡ" or "rồi" in a polite wrapper still means it already happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from retrieval.normalize import syllables
from retrieval.shape import Pattern, any_match, patterns

URGENT_FILE = Path(__file__).with_name("urgent.yaml")


@dataclass(frozen=True)
class Situation:
    """One kind of emergency and the what-to-do-now cards that answer it."""

    name: str
    patterns: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    actions: tuple[str, ...]  # "lesson-id#N", or a lesson id for its what-to-do-now cards

    def matches(self, words: Sequence[str]) -> bool:
        return any_match(self.patterns, words) and not any_match(self.unless, words)


class Urgency:
    """Which urgent situations a question describes."""

    def __init__(self, path: Path = URGENT_FILE) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.situations = tuple(
            Situation(
                name=str(item["name"]),
                patterns=patterns(item.get("patterns") or ()),
                unless=patterns(item.get("unless") or ()),
                actions=tuple(str(action) for action in item.get("actions") or ()),
            )
            for item in data.get("situations") or ()
        )

    def detect(self, question: str) -> tuple[Situation, ...]:
        words = syllables(question)
        return tuple(s for s in self.situations if s.matches(words))

    def is_urgent(self, question: str) -> bool:
        return bool(self.detect(question))

    def lessons(self, question: str) -> tuple[str, ...]:
        """The lessons of the action cards, in file order without repeats; none when not urgent."""
        return tuple(dict.fromkeys(action.split("#")[0] for action in self.actions(question)))

    def actions(self, question: str) -> tuple[str, ...]:
        """The action cards (or lessons) to answer from, in file order without repeats; none when not
        urgent."""
        return tuple(dict.fromkeys(action for s in self.detect(question) for action in s.actions))


@cache
def default_urgency() -> Urgency:
    return Urgency()
