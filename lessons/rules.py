"""Writing rules the checker holds a card to: it stands alone, and listed jargon is explained at first use.

Retrieval answers a free question with ONE card, so a card that leans on its neighbours ("…bằng các
cách dưới đây." and nothing after it) leaves the learner stranded. And a term such as "OTP" or
"phong tỏa" means nothing to a first-time user unless the lesson explains it where it first appears;
the terms are listed in `lessons/terms.yaml` so editors can extend the list without touching code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_TERMS_FILE = Path(__file__).parent / "terms.yaml"

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]")
# NFD leaves đ/Đ whole (a letter of its own, not d with a mark), so it is mapped by hand
_D_MAP = str.maketrans({"đ": "d", "Đ": "d"})

# A card may not open by continuing another card; compared accent-folded, as the issue asks.
_OPENERS = ("sau đó", "tiếp theo", "tiếp đó", "như vậy")
# References to other cards, wherever they stand in the card. Compared with diacritics (case-folded):
# folded, "thẻ sau" would also hit "có thể sau này" and "thẻ trước" "có thể trước khi".
_REFERENCES = ("như trên", "ở trên", "thẻ trước", "thẻ sau", "bước trên")
# "kiểm tra hạn thẻ trước khi đi khám" speaks of a physical card, not of a lesson card
_NOT_A_REFERENCE = {"thẻ trước": r"(?!\s+khi\b)", "thẻ sau": r"(?!\s+khi\b)"}
# Announcements of something that follows; wrong only when nothing follows in the same card.
_ANNOUNCEMENTS = ("dưới đây", "sau đây", "như sau")
# What may stand between an announcement and the end of the card for it to still point at nothing.
_NOTHING_FOLLOWS = re.compile(r"[\s:.…]*\Z")

# A letter (not a digit: "32GB" still uses "GB"), and characters that make a word part of an
# address ("data.gov.vn", "e-KYC") rather than the term itself.
_NOT_BEFORE = r"(?<![^\W\d_])(?<![./@-])"
_NOT_AFTER = r"(?![^\W\d_])(?![./@-]\w)"
# How a first use may be explained, right after the term: up to three closing quotes, brackets or
# asterisks ("**OTP** (…)", "“VietQR”: …"), then "(", " là ", ", tức (là) ", ", nghĩa là " or ": ".
_EXPLAINED = re.compile(r"[^\w\s(]{0,3}(?:\s?\(|\s+là\s|\s*,\s*(?:tức|nghĩa\s+là)\s|\s*:\s)", re.IGNORECASE)
# ... or the term closes the explanation before it: "trả tiền khi nhận hàng (COD)"
_GLOSSED_BEFORE = re.compile(r"\s?\)")


def fold(text: str) -> str:
    """Lowercase, diacritics removed (đ -> d), punctuation dropped, whitespace collapsed.

    The same folding as `retrieval.normalize.fold`, kept here so `lessons` imports nothing above it
    (retrieval imports lessons).
    """
    lowered = unicodedata.normalize("NFC", text).lower().translate(_D_MAP)
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", stripped)).strip()


def _lower(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _phrase(words: str, after: str = "") -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in words.split())
    return re.compile(rf"(?<!\w){body}(?!\w){after}")


_OPENER_PATTERNS = [(phrase, _phrase(fold(phrase))) for phrase in _OPENERS]
_REFERENCE_PATTERNS = [(phrase, _phrase(phrase, _NOT_A_REFERENCE.get(phrase, ""))) for phrase in _REFERENCES]
_ANNOUNCEMENT_PATTERNS = [(phrase, _phrase(phrase)) for phrase in _ANNOUNCEMENTS]


@dataclass(frozen=True)
class Finding:
    """A rule broken at a line of the file."""

    line: int
    message: str


def _line_at(lines: Sequence[tuple[int, str]], offset: int) -> int:
    """The file line of a character offset into the lines joined by newlines."""
    for number, text in lines:
        if offset <= len(text):
            return number
        offset -= len(text) + 1
    return lines[-1][0]


def standalone_findings(card: int, lines: Sequence[tuple[int, str]]) -> list[Finding]:
    """Where a card's text leans on another card: the opener, references, dangling announcements, a final ':'.

    `lines` are the card's text lines (asks and media lines removed) with their file line numbers.
    """
    filled = [(number, text) for number, text in lines if text.strip()]
    if not filled:
        return []
    joined = _lower("\n".join(text for _, text in filled))
    findings: list[Finding] = []
    first_line, first_text = filled[0]
    for phrase, pattern in _OPENER_PATTERNS:
        if pattern.match(fold(first_text)):
            findings.append(
                Finding(first_line, f"card {card}: starts with '{phrase}', so it needs the card before it")
            )
    for phrase, pattern in _REFERENCE_PATTERNS:
        for match in pattern.finditer(joined):
            findings.append(
                Finding(
                    _line_at(filled, match.start()),
                    f"card {card}: '{phrase}' points at another card; say it again here",
                )
            )
    for phrase, pattern in _ANNOUNCEMENT_PATTERNS:
        for match in pattern.finditer(joined):
            if _NOTHING_FOLLOWS.match(joined, match.end()):
                findings.append(
                    Finding(
                        _line_at(filled, match.start()),
                        f"card {card}: '{phrase}' announces something this card does not show",
                    )
                )
    last_line, last_text = filled[-1]
    if last_text.rstrip().endswith(":"):
        findings.append(
            Finding(last_line, f"card {card}: ends with ':', so what it announces is in another card")
        )
    return findings


@dataclass(frozen=True)
class Term:
    """A word a learner may not know, with the spellings that count as using it."""

    term: str
    spellings: tuple[str, ...]
    pattern: re.Pattern[str]


def make_term(term: str, spellings: Sequence[str] = ()) -> Term:
    forms = sorted({_lower(term), *(_lower(s) for s in spellings)}, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(word) for word in form.split()) for form in forms)
    return Term(
        term=term, spellings=tuple(spellings), pattern=re.compile(rf"{_NOT_BEFORE}(?:{body}){_NOT_AFTER}")
    )


def load_terms(path: Path) -> tuple[list[Term], list[Finding]]:
    """Read terms.yaml: `terms:` a list of `{term: X, spellings: [Y, ...]}` (spellings optional)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return [], [Finding(1, f"cannot read the terms list: {error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return [], [
            Finding(mark.line + 1 if mark else 1, f"invalid YAML: {getattr(error, 'problem', error)}")
        ]
    items = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return [], [Finding(1, "the file must hold 'terms:', a non-empty list")]
    terms: list[Term] = []
    findings: list[Finding] = []
    for index, item in enumerate(items):
        term = item.get("term") if isinstance(item, dict) else None
        spellings = item.get("spellings", []) if isinstance(item, dict) else None
        if (
            not isinstance(term, str)
            or not term.strip()
            or not isinstance(spellings, list)
            or not all(isinstance(s, str) and s.strip() for s in spellings)
            or set(item) - {"term", "spellings"}
        ):
            findings.append(
                Finding(1, f"terms.{index}: each item is 'term: <word>' with optional 'spellings: [...]'")
            )
            continue
        terms.append(make_term(term.strip(), [s.strip() for s in spellings]))
    return terms, findings


def jargon_findings(
    cards: Sequence[tuple[int, Sequence[tuple[int, str]]]], terms: Sequence[Term]
) -> list[Finding]:
    """The listed terms whose first use in a lesson (cards in order) is not explained right there.

    `cards` pairs each card's number with its text lines (asks and media lines removed).
    """
    findings: list[Finding] = []
    for term in terms:
        for card, lines in cards:
            filled = [(number, text) for number, text in lines if text.strip()]
            joined = _lower("\n".join(text for _, text in filled))
            match = term.pattern.search(joined)
            if match is None:
                continue
            glossed_before = joined[: match.start()].endswith("(") and _GLOSSED_BEFORE.match(
                joined, match.end()
            )
            if not (_EXPLAINED.match(joined, match.end()) or glossed_before):
                findings.append(
                    Finding(
                        _line_at(filled, match.start()),
                        f"card {card}: '{term.term}' is used for the first time without an explanation; "
                        f"write '{term.term} (…)', '{term.term} là …', '{term.term}, tức là …' "
                        f"or '{term.term}: …'",
                    )
                )
            break
    return findings
