"""Reading a question's shape before it is scored, and how cards lead into one another.

Elderly learners wrap a question in greetings, thanks, address forms and particles ("chào cháu, cho
bác hỏi … với ạ, cảm ơn cháu nhé"). Those words match nothing useful and dilute both the embedding and
the share of the question's words a card contains, so they are removed first (`retrieval/fillers.yaml`).
A long run-on story ("sáng nay có đứa gọi … bác đọc rồi, giờ bác phải làm gì") asks in one clause: the
last clause with a question word, with the clause before it when it is too short to say what it is
about. The retriever weighs that clause a second time.

The *shape* of a question says what kind of card answers it (`retrieval/shapes.yaml`): `problem` (it
already happened: what now), `what` (what is it), `howto` (how do I). A card's shape comes from its
`asks:` lines, else from its title, else from a numbered list in its text.

Every pattern is matched on accent-folded syllables with chat shorthand expanded, so a pattern file
lists each phrase once, without diacritics.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from retrieval.normalize import expand_shorthand, fold, has_diacritics, normalize, syllables

FILLERS_FILE = Path(__file__).with_name("fillers.yaml")
SHAPES_FILE = Path(__file__).with_name("shapes.yaml")
LONG_QUESTION = 16  # syllables (fillers removed) from which a question is a story whose asking clause counts
SHORT_CLAUSE = 4  # an asking clause with fewer syllables takes the clause before it along
_CLAUSE_BREAK = re.compile(r"[.?!;,:\n…]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_FIRST_NUMBER = re.compile(r"^\s*(\d+)[.)]", re.MULTILINE)

Phrase = tuple[str, ...]


class Shape(StrEnum):
    """What a question asks for, and what a card answers."""

    PROBLEM = "problem"  # it already happened: what to do now
    WHAT = "what"  # what a thing is
    HOWTO = "howto"  # how to do something


def _phrase(text: str) -> Phrase:
    return tuple(syllables(text))


def _find(words: Sequence[str], phrase: Phrase, start: int = 0) -> int:
    """Position of the first occurrence of `phrase` in `words` at or after `start`, else -1."""
    size = len(phrase)
    for i in range(start, len(words) - size + 1):
        if tuple(words[i : i + size]) == phrase:
            return i
    return -1


@dataclass(frozen=True)
class Pattern:
    """All of its groups occur, each by any one of its phrases: "lo | da + roi" (see shapes.yaml)."""

    groups: tuple[tuple[Phrase, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        groups = tuple(tuple(_phrase(option) for option in group.split("|")) for group in text.split("+"))
        if not all(phrase for group in groups for phrase in group):
            raise ValueError(f"empty phrase in pattern {text!r}")
        return cls(groups)

    def matches(self, words: Sequence[str] | str) -> bool:
        """Whether the folded words (a list, or `_padded` text) hold a phrase of every group."""
        text = words if isinstance(words, str) else _padded(words)
        return all(any(f" {' '.join(phrase)} " in text for phrase in group) for group in self.groups)


def _padded(words: Sequence[str]) -> str:
    # " a b c ": a phrase is in the words exactly when " phrase " is a substring, which is far
    # faster than comparing syllable by syllable at every position
    return f" {' '.join(words)} "


def patterns(texts: Iterable[str]) -> tuple[Pattern, ...]:
    return tuple(Pattern.parse(str(t)) for t in texts)


def any_match(found: Sequence[Pattern], words: Sequence[str]) -> bool:
    text = _padded(words)
    return any(p.matches(text) for p in found)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


def _phrases(items: Iterable[Any]) -> tuple[Phrase, ...]:
    # longest first, so "cam on chau" is removed whole before "cam on" could leave "chau" behind
    found = {p for p in (_phrase(str(item)) for item in items) if p}
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


@dataclass(frozen=True)
class Syllable:
    """One syllable of a filler entry: its folded form, and its written form when the entry has one."""

    folded: str
    written: str | None  # None: the entry was written without diacritics, any typing matches
    strict: bool  # the entry ends in "!": a syllable typed without diacritics never matches

    def matches(self, folded: str, written: str | None) -> bool:
        if folded != self.folded:
            return False
        if written is None:
            return not self.strict
        return self.written is None or self.written == written


Entry = tuple[Syllable, ...]


def _typed(word: str) -> list[tuple[str, str | None]]:
    """(folded, written) syllables of one typed word; `written` only when it carries diacritics."""
    folded = fold(word)
    parts = expand_shorthand(folded)
    if parts == (folded,):
        return [(folded, normalize(word) if has_diacritics(word) else None)] if folded else []
    return [(part, None) for part in parts]


def _entries(items: Iterable[Any]) -> tuple[Entry, ...]:
    """Filler entries, longest first, so "cảm ơn cháu" is removed whole before "cảm ơn" leaves "cháu"."""
    found: set[Entry] = set()
    for item in items:
        text = str(item).strip()
        strict = text.endswith("!")
        syllables_ = [
            Syllable(folded, written, strict)
            for word in _WORD.findall(text.rstrip("!"))
            for folded, written in _typed(word)
        ]
        if syllables_:
            found.add(tuple(syllables_))
    return tuple(sorted(found, key=lambda e: (-len(e), [s.folded for s in e])))


def _by_syllable(entries: Sequence[Entry], *, first: bool) -> dict[str, tuple[Entry, ...]]:
    found: dict[str, list[Entry]] = {}
    for entry in entries:  # already longest first
        found.setdefault(entry[0 if first else -1].folded, []).append(entry)
    return {key: tuple(value) for key, value in found.items()}


@dataclass(frozen=True)
class Question:
    """A question as the retriever scores it."""

    text: str  # the words as typed, greetings, thanks and particles removed
    focus: str  # in a long story, the clause that asks (words as typed); else ""
    shape: Shape | None


@dataclass
class _Clause:
    words: list[str]  # as typed
    parts: list[tuple[int, str, str | None]]  # (word index, folded syllable, written syllable or None)
    removed: set[int]  # indexes into parts
    kept: set[int]  # indexes into parts inside a `keep` phrase

    @property
    def folded(self) -> list[str]:
        return [f for _, f, _ in self.parts]

    def kept_parts(self) -> list[str]:
        return [f for i, (_, f, _) in enumerate(self.parts) if i not in self.removed]

    def kept_words(self) -> list[str]:
        covered: dict[int, bool] = {}
        for i, (word, _, _) in enumerate(self.parts):
            covered[word] = covered.get(word, True) and i in self.removed
        return [w for n, w in enumerate(self.words) if not covered.get(n, False)]

    def matches(self, entry: Entry, at: Sequence[int]) -> bool:
        """Whether the parts at these positions are the entry's syllables."""
        return len(at) == len(entry) and all(
            syllable.matches(self.parts[i][1], self.parts[i][2])
            for syllable, i in zip(entry, at, strict=True)
        )


def _clause(text: str) -> _Clause:
    words = _WORD.findall(text)
    parts = [(n, folded, written) for n, word in enumerate(words) for folded, written in _typed(word)]
    return _Clause(words, parts, set(), set())


class Reader:
    """Fillers, question words, shapes and card continuations, from the two data files."""

    def __init__(self, fillers: Path = FILLERS_FILE, shapes: Path = SHAPES_FILE) -> None:
        data = _load(fillers)
        self.anywhere = _entries(data.get("anywhere") or ())
        self.start = _entries(data.get("start") or ())
        self.end = _entries(data.get("end") or ())
        self.keep = _entries(data.get("keep") or ())
        # each list by the syllable a match must begin (or, for `end`, finish) with, longest first
        self._anywhere = _by_syllable(self.anywhere, first=True)
        self._start = _by_syllable(self.start, first=True)
        self._end = _by_syllable(self.end, first=False)
        self._keep = _by_syllable(self.keep, first=True)
        self.question_words = _phrases(data.get("question_words") or ())
        self.clause_starts = _phrases(data.get("clause_starts") or ())
        shape_data = _load(shapes)
        self.shapes = tuple(
            (Shape(name), patterns(items)) for name, items in (shape_data.get("shapes") or {}).items()
        )
        self.leads = _phrases(shape_data.get("leads_on") or ())
        self.follows = _phrases(shape_data.get("follows_on") or ())

    # --- questions -------------------------------------------------------------------------------------

    def _split(self, text: str) -> list[_Clause]:
        clauses: list[_Clause] = []
        for piece in _CLAUSE_BREAK.split(text):
            clause = _clause(piece)
            if not clause.parts:
                continue
            clauses.extend(self._split_run_on(clause))
        return clauses

    def _split_run_on(self, clause: _Clause) -> list[_Clause]:
        """Voice typing leaves no punctuation: a long clause is cut before words that start a new one."""
        if len(clause.parts) < 2 * SHORT_CLAUSE + 2:
            return [clause]
        folded = clause.folded
        cuts: set[int] = set()
        for phrase in self.clause_starts:
            at = _find(folded, phrase)
            while at >= 0:
                # each side keeps a few syllables, and a cut falls between words
                between_words = clause.parts[at - 1][0] != clause.parts[at][0]
                if at >= SHORT_CLAUSE and len(folded) - at >= 2 and between_words:
                    cuts.add(clause.parts[at][0])
                at = _find(folded, phrase, at + 1)
        if not cuts:
            return [clause]
        edges = [0, *sorted(cuts), len(clause.words)]
        return [_clause(" ".join(clause.words[a:b])) for a, b in itertools.pairwise(edges) if b > a]

    def _strip(self, clause: _Clause) -> None:
        size = len(clause.parts)
        folded = clause.folded
        for at in range(size):
            for entry in self._keep.get(folded[at], ()):
                span = range(at, at + len(entry))
                if at + len(entry) <= size and clause.matches(entry, span):
                    clause.kept.update(span)

        def remove(span: Sequence[int]) -> None:
            clause.removed.update(i for i in span if i not in clause.kept)

        at = 0
        while at < size:  # the longest entry starting here wins; the scan goes on after it
            for entry in self._anywhere.get(folded[at], ()):
                span = range(at, at + len(entry))
                if (
                    at + len(entry) <= size
                    and not clause.removed.intersection(span)
                    and clause.matches(entry, span)
                ):
                    remove(span)
                    at += len(entry) - 1
                    break
            at += 1
        changed = True
        while changed:
            changed = False
            for index, from_start in ((self._start, True), (self._end, False)):
                left = [i for i in range(size) if i not in clause.removed]
                if not left:
                    return
                edge_syllable = folded[left[0]] if from_start else folded[left[-1]]
                for entry in index.get(edge_syllable, ()):
                    edge = left[: len(entry)] if from_start else left[len(left) - len(entry) :]
                    if (
                        len(entry) <= len(left)
                        and clause.matches(entry, edge)
                        and not clause.kept.intersection(edge)
                    ):
                        remove(edge)
                        changed = True
                        break

    def strip(self, question: str) -> str:
        """The question without greetings, thanks, address forms and particles (words as typed)."""
        return self.read(question).text

    def _asks(self, clause: _Clause) -> bool:
        folded = clause.kept_parts()
        return any(_find(folded, phrase) >= 0 for phrase in self.question_words)

    def read(self, question: str) -> Question:
        clauses = self._split(question)
        # the shape reads every word: "đã" typed plain is stripped as a "dạ", yet it still says "already"
        shape = self.shape_of([f for c in clauses for f in c.folded])
        for clause in clauses:
            self._strip(clause)
        clauses = [c for c in clauses if c.kept_parts()]
        words = [w for c in clauses for w in c.kept_words()]
        text = " ".join(words)
        folded = [f for c in clauses for f in c.kept_parts()]
        focus = ""
        if len(folded) >= LONG_QUESTION and len(clauses) > 1:
            asking = [n for n, c in enumerate(clauses) if self._asks(c)]
            if asking:
                last = asking[-1]
                first = last
                while (
                    first > 0
                    and sum(len(clauses[n].kept_parts()) for n in range(first, last + 1)) < SHORT_CLAUSE
                ):
                    first -= 1
                chosen = [w for c in clauses[first : last + 1] for w in c.kept_words()]
                if len(chosen) < len(words):
                    focus = " ".join(chosen)
        return Question(text, focus, shape)

    def shape_of(self, words: Sequence[str]) -> Shape | None:
        """The first shape (in file order) with a pattern among the folded words."""
        return next((shape for shape, found in self.shapes if any_match(found, words)), None)

    def shape(self, text: str) -> Shape | None:
        return self.shape_of(syllables(text))

    # --- cards -----------------------------------------------------------------------------------------

    def card_shape(self, title: str, body: str, asks: Sequence[str]) -> Shape | None:
        """What a card answers: the most common shape of its asks, else its title's, else `howto` when
        its text is a numbered list."""
        votes = Counter(s for s in (self.shape(a) for a in asks) if s is not None)
        if votes:
            order = [shape for shape, _ in self.shapes]
            return max(votes, key=lambda s: (votes[s], -order.index(s)))
        titled = self.shape(title)
        if titled is not None:
            return titled
        return Shape.HOWTO if _FIRST_NUMBER.search(body) else None

    def leads_on(self, body: str) -> bool:
        """Whether a card ends by announcing what the next card says."""
        lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
        if not lines:
            return False
        if lines[-1].endswith(":"):
            return True
        last = syllables(lines[-1])
        return any(_find(last, phrase) >= 0 for phrase in self.leads)

    def follows_on(self, body: str) -> bool:
        """Whether a card only makes sense after the one before it."""
        first = syllables(body.strip().split("\n", 1)[0])
        if any(tuple(first[: len(phrase)]) == phrase for phrase in self.follows):
            return True
        number = _FIRST_NUMBER.search(body)
        return number is not None and int(number.group(1)) > 1


@cache
def default_reader() -> Reader:
    """The reader over the bundled data files, loaded once per process."""
    return Reader()
