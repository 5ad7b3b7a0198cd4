"""Passages: the pieces of the curriculum a question can be answered from.

Each lesson card is one passage, prefixed with its topic and lesson title so that a short card
("Lỡ đưa mã rồi thì làm gì") still carries what it is about; each glossary entry is another. Ids are
stable across restarts (`<lesson-id>#<card>`, `glossary#<term>`), so queued questions and evaluation
files can point back at them.

Word matching (BM25 and the coverage behind the confidence) also reads the lesson's one-line summary
with every card: it names the lesson's subject in other words than the cards do. The embedded text
does not carry it: the same sentence on every card of a lesson blurs what each card says (on the dev
questions, dense-only hit@1 fell by one to two points with it, while BM25-only rose by three).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from lessons.models import Curriculum
from retrieval.normalize import fold

# Bump when the passage text recipe changes, so stored indexes are rebuilt.
PASSAGE_FORMAT = 1
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

    @property
    def words(self) -> str:
        """What word matching reads: the text and the lesson's summary."""
        return f"{self.text} {self.summary}" if self.summary else self.text


def term_id(term: str) -> str:
    """`glossary#<term>` from the term without its parenthesised gloss: "OTP (mã OTP)" -> glossary#otp."""
    return "glossary#" + _SLUG.sub("-", fold(term.split("(")[0])).strip("-")


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
                    )
                )
    seen: set[str] = set()
    for entry in curriculum.glossary:
        pid = term_id(entry.term)
        if pid in seen:  # two spellings of one term fold to the same id; the first one wins
            continue
        seen.add(pid)
        passages.append(Passage(pid, f"Giải thích từ ngữ: {entry.term}. {entry.text}", term=entry.term))
    return passages


def content_hash(passages: list[Passage]) -> str:
    """A fingerprint of what is embedded; any change to a card, title or glossary entry changes it.
    (Summaries are left out: only the lexical index, rebuilt at every start, reads them.)"""
    payload = json.dumps([PASSAGE_FORMAT, [[p.passage_id, p.text] for p in passages]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
