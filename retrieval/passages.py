"""Passages: the pieces of the curriculum a question can be answered from, and the rows indexed for them.

Each lesson card is one passage, prefixed with its topic and lesson title so that a short card
("Lỡ đưa mã rồi thì làm gì") still carries what it is about; each glossary entry is another. Ids are
stable across restarts (`<lesson-id>#<card>`, `glossary#<term>`), so queued questions and evaluation
files can point back at them.

A passage is what an answer shows; a *row* is what the indexes hold. Every passage has one row of its
own, and one more row for each of its `asks:` lines (the questions the card answers, written the way
learners type them). A hit on an ask row counts for its passage: the retriever mixes a passage's own
score with its best ask's. The rows of a passage are contiguous, the passage's own row first, so the
best ask of each passage is one `numpy.maximum.reduceat` away.

Word matching (BM25 and the coverage behind the confidence) also reads the lesson's one-line summary
with every card row: it names the lesson's subject in other words than the cards do. The embedded text
does not carry it: the same sentence on every card of a lesson blurs what each card says (on the dev
questions, dense-only hit@1 fell by one to two points with it, while BM25-only rose by three).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lessons.models import Curriculum
from retrieval.normalize import fold

# Bump when the passage or row text recipe changes, so stored indexes are rebuilt.
PASSAGE_FORMAT = 2  # 2: asks rows (1: one row per passage)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Passage:
    """One card or glossary entry, with the text that is indexed for it."""

    passage_id: str
    text: str  # as written, with its context: "topic › lesson — card title. card text"
    lesson_id: str = ""
    card_number: int = 0
    term: str = ""
    summary: str = ""  # the lesson's summary, for word matching only
    asks: tuple[str, ...] = ()  # the questions it answers, as learners type them
    body: str = ""  # the card's own text, as shown to the learner (empty for glossary entries)
    title: str = ""  # the card's heading (empty for glossary entries)

    @property
    def words(self) -> str:
        """What word matching reads: the text and the lesson's summary."""
        return f"{self.text} {self.summary}" if self.summary else self.text


@dataclass(frozen=True)
class Row:
    """One indexed text: a passage itself, or one of its asks, pointing back at the passage."""

    passage: int  # index of the passage in the passages list
    passage_id: str
    text: str  # what is embedded
    words: str  # what word matching reads
    ask: bool = False


class Embeddable(Protocol):
    """What the dense index and the content hash read from a row (a `Passage` has it too)."""

    @property
    def passage_id(self) -> str: ...

    @property
    def text(self) -> str: ...


def term_id(term: str) -> str:
    """`glossary#<term>` from the term without its parenthesised gloss: "OTP (mã OTP)" -> glossary#otp."""
    return "glossary#" + _SLUG.sub("-", fold(term.split("(")[0])).strip("-")


def _asks(item: object) -> tuple[str, ...]:
    # `asks` arrived with issue 12; content models built before it have none
    found = getattr(item, "asks", ()) or ()
    return tuple(dict.fromkeys(a.strip() for a in found if a and a.strip()))


def build_passages(curriculum: Curriculum) -> list[Passage]:
    """Every card of every lesson (in curriculum order), then every glossary entry."""
    passages: list[Passage] = []
    for topic in curriculum.topics:
        for lesson in topic.lessons:
            for card in lesson.cards:
                text = f"{topic.title} › {lesson.title} — {card.title}. {card.text}"
                passages.append(
                    Passage(
                        f"{lesson.id}#{card.number}",
                        text,
                        lesson.id,
                        card.number,
                        summary=lesson.summary or "",
                        asks=_asks(card),
                        body=card.text,
                        title=card.title,
                    )
                )
    seen: set[str] = set()
    for entry in curriculum.glossary:
        pid = term_id(entry.term)
        if pid in seen:  # two spellings of one term fold to the same id; the first one wins
            continue
        seen.add(pid)
        passages.append(
            Passage(pid, f"Giải thích từ ngữ: {entry.term}. {entry.text}", term=entry.term, asks=_asks(entry))
        )
    return passages


def build_rows(passages: Sequence[Passage], restore: Callable[[str], str] | None = None) -> list[Row]:
    """The indexed rows: each passage's own, then one per ask, contiguous per passage.

    An ask is embedded the way a question is (`restore` puts the diacritics back from the curriculum's
    own phrases, as it does for every question), so a question typed like an ask lands on it.
    """
    rows: list[Row] = []
    for number, passage in enumerate(passages):
        rows.append(Row(number, passage.passage_id, passage.text, passage.words))
        for ask in passage.asks:
            embedded = restore(ask) if restore is not None else ask
            rows.append(Row(number, passage.passage_id, embedded, ask, ask=True))
    return rows


def content_hash(rows: Sequence[Embeddable]) -> str:
    """A fingerprint of what is embedded; any change to a card, title, ask or glossary entry changes it.
    (Summaries are left out: only the lexical index, rebuilt at every start, reads them.)"""
    payload = json.dumps(
        [PASSAGE_FORMAT, [[r.passage_id, bool(getattr(r, "ask", False)), r.text] for r in rows]],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
