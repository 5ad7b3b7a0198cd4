"""Phrase patterns over folded syllables that report where they matched, so a signal can quote it.

Written as in `safety/signals.yaml`: " | " separates alternatives within a group; " + " joins groups that
must follow one another, each starting within `window` words of the previous one's end; " & " joins
groups that may occur anywhere in the message, in any order. Phrases are matched accent-folded with chat
shorthand expanded (`retrieval.normalize.syllables`), so most are written once, without diacritics.

A syllable written *with* diacritics ("tải", "đòi") only matches the same syllable typed with those
diacritics, or typed without any: folding merges words the scam check must tell apart ("tải ứng dụng",
download, against "tài khoản", account; "đòi mật khẩu", demand, against "đổi mật khẩu", change). A
syllable written "=ngay" matches only when typed without diacritics ("ngay", at once; not "ngày", day).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from retrieval.normalize import fold, has_diacritics, normalize, syllables

Phrase = tuple[str, ...]
Span = tuple[int, int]  # word indexes, end exclusive
NUMBER = "<so>"  # in a pattern, stands for any number ("<so> trieu" matches "5 triệu", "5tr")
UNMARKED = ""  # the mark of a "=word" token: the message must have it without diacritics


@dataclass(frozen=True)
class Match:
    """Where a pattern matched: its span and where each of its groups starts (for negation checks)."""

    start: int
    end: int
    starts: tuple[int, ...]

    @property
    def span(self) -> Span:
        return self.start, self.end


@dataclass(frozen=True)
class Option:
    """One alternative phrase: folded syllables, and the written form of those given with diacritics."""

    words: Phrase
    marks: tuple[str | None, ...]

    @classmethod
    def parse(cls, text: str) -> Option:
        words: list[str] = []
        marks: list[str | None] = []
        for token in text.split():
            if token == NUMBER:
                words.append(NUMBER)
                marks.append(None)
                continue
            if token.startswith("="):  # "=ngay": typed without diacritics only ("ngay", not "ngày")
                words.extend(syllables(token[1:]))
                marks.append(UNMARKED)
                continue
            folded = syllables(token)
            written = normalize(token) if has_diacritics(token) and len(folded) == 1 else None
            words.extend(folded)
            marks.extend([written] * len(folded) if written else [None] * len(folded))
        return cls(tuple(words), tuple(marks))


def phrase(text: str) -> Phrase:
    return tuple(syllables(text))


class Index:
    """Where each phrase occurs in one message's words; built once per message, shared by all patterns.

    `written` holds each word as typed (lowercase, NFC) when it carried diacritics, else None.
    """

    def __init__(self, words: Sequence[str], written: Sequence[str | None] | None = None) -> None:
        self.words = list(words)
        self.written = list(written) if written is not None else [None] * len(self.words)
        self._by_word: dict[str, list[int]] = {}
        for i, word in enumerate(self.words):
            self._by_word.setdefault(word, []).append(i)
            if word.isdigit():
                self._by_word.setdefault(NUMBER, []).append(i)
        self._cache: dict[Phrase, list[int]] = {}
        self.present = frozenset(self._by_word)

    def _same(self, i: int, found: Phrase) -> bool:
        if i + len(found) > len(self.words):
            return False
        return all(
            word == self.words[i + k] or (word == NUMBER and self.words[i + k].isdigit())
            for k, word in enumerate(found)
        )

    def starts(self, found: Phrase) -> list[int]:
        """Positions where the folded phrase starts."""
        cached = self._cache.get(found)
        if cached is None:
            cached = [i for i in self._by_word.get(found[0], ()) if self._same(i, found)]
            self._cache[found] = cached
        return cached

    def option_starts(self, option: Option) -> list[int]:
        """Positions where an option occurs, its diacritics respected where the message has them."""
        if option.words[0] not in self.present:
            return []
        found = self.starts(option.words)
        if all(mark is None for mark in option.marks):
            return found
        return [
            i
            for i in found
            if all(
                mark is None
                or self.written[i + k] is None
                or (mark != UNMARKED and self.written[i + k] == mark)
                for k, mark in enumerate(option.marks)
            )
        ]

    def has(self, found: Phrase) -> bool:
        return bool(self.starts(found))


@dataclass(frozen=True)
class Pattern:
    """Groups of alternative phrases, ordered within a window (" + ") or anywhere (" & ")."""

    groups: tuple[tuple[Option, ...], ...]
    ordered: bool = True
    window: int = 6
    source: str = field(default="", compare=False)
    negative: tuple[bool, ...] = ()  # per group: "!" before it, "not followed right away by"

    @classmethod
    def parse(cls, text: str, window: int = 6) -> Pattern:
        source = text
        if text.startswith("{") and "}" in text:  # "{2} a + b": this pattern's own window
            window, text = int(text[1 : text.index("}")]), text[text.index("}") + 1 :]
        ordered = "&" not in text
        if "&" in text and "+" in text:
            raise ValueError(f"pattern {text!r} mixes '+' and '&'")
        parts = text.split("+" if ordered else "&")
        negative = tuple(part.strip().startswith("!") for part in parts)
        if negative[0] or (negative[-1] and len(parts) == 1) or (any(negative) and not ordered):
            raise ValueError(f"pattern {text!r}: '!' only marks a later group of an ordered pattern")
        groups = tuple(
            tuple(Option.parse(option) for option in part.strip().lstrip("!").split("|")) for part in parts
        )
        if not all(option.words for group in groups for option in group):
            raise ValueError(f"empty phrase in pattern {text!r}")
        return cls(groups, ordered, window, source, negative)

    @property
    def first_words(self) -> tuple[frozenset[str], ...]:
        """Per group, the words its options start with (a message lacking them all cannot match)."""
        cached: tuple[frozenset[str], ...] | None = self.__dict__.get("_first_words")
        if cached is None:
            cached = tuple(frozenset(option.words[0] for option in group) for group in self.groups)
            object.__setattr__(self, "_first_words", cached)
        return cached

    def vocabulary(self) -> set[str]:
        return {
            fold(word) for group in self.groups for option in group for word in option.words if word != NUMBER
        }

    def find(self, index: Index) -> Span | None:
        """The first span where the pattern matches, or None."""
        match = next(self.find_all(index), None)
        return match.span if match is not None else None

    def find_all(self, index: Index) -> Iterator[Match]:
        """Every match, one per start of its first group, in order."""
        firsts = self.first_words
        if any(
            words.isdisjoint(index.present)
            for negative, words in zip(self._negatives(), firsts, strict=True)
            if not negative
        ):
            return
        if not self.ordered:
            match = self._anywhere(index)
            if match is not None:
                yield match
            return
        starts = sorted({(s, len(o.words)) for o in self.groups[0] for s in index.option_starts(o)})
        for start, size in starts:
            rest = self._rest(index, 1, start + size)
            if rest is not None:
                end, later = rest
                yield Match(start, end, (start, *later))

    def _anywhere(self, index: Index) -> Match | None:
        spans: list[Span] = []
        for group in self.groups:
            best = min(((s, s + len(o.words)) for o in group for s in index.option_starts(o)), default=None)
            if best is None:
                return None
            spans.append(best)
        return Match(min(s for s, _ in spans), max(e for _, e in spans), tuple(s for s, _ in spans))

    def _negatives(self) -> tuple[bool, ...]:
        return self.negative or (False,) * len(self.groups)

    def _rest(self, index: Index, group: int, after: int) -> tuple[int, tuple[int, ...]] | None:
        """End of the match of groups `group`.. starting within the window after `after`, and their starts."""
        if group == len(self.groups):
            return after, ()
        if self.negative and self.negative[group]:
            # "nộp … trước" but not "trước ngày 31/10": the next word may not start this group
            if any(after in index.option_starts(option) for option in self.groups[group]):
                return None
            return self._rest(index, group + 1, after)
        for option in self.groups[group]:
            for start in index.option_starts(option):
                if after <= start <= after + self.window:
                    rest = self._rest(index, group + 1, start + len(option.words))
                    if rest is not None:
                        return rest[0], (start, *rest[1])
        return None


def patterns(texts: Iterable[object], window: int = 6) -> tuple[Pattern, ...]:
    return tuple(Pattern.parse(str(text), window) for text in texts)
