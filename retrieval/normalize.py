"""Text normalisation for Vietnamese typed with or without diacritics.

`fold` gives the accent-folded form used by BM25, by the dense index's stripped copy of each passage,
by option matching in chat, and to tell whether a query was typed without diacritics.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
# NFD leaves đ/Đ whole (they are letters, not a d with a mark), so they are mapped by hand.
_D_MAP = str.maketrans({"đ": "d", "Đ": "d"})


def normalize(text: str) -> str:
    """NFC, lowercase, single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).lower()).strip()


def fold(text: str) -> str:
    """Lowercase, accents removed (đ -> d), punctuation and emoji dropped, single spaces."""
    decomposed = unicodedata.normalize("NFD", normalize(text).translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", stripped)).strip()


def has_diacritics(text: str) -> bool:
    """Whether the text carries any Vietnamese diacritic (so it was not typed accent-free)."""
    nfc = normalize(text)
    return fold(nfc) != _SPACES.sub(" ", _NOT_WORD.sub(" ", nfc)).strip()


def has_words(text: str) -> bool:
    """Whether the text has at least one letter or digit (emoji-only and punctuation-only do not)."""
    return any(ch.isalnum() for ch in text)
