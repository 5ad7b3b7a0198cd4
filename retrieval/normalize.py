"""Text normalisation for Vietnamese typed with or without diacritics.

`fold` gives the accent-folded form used by BM25, by the diacritic restorer,
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


# Chat shorthand elderly learners (and their grandchildren) type, expanded so BM25 can match lesson words.
# Only unambiguous, widely used forms: "hong" (hỏng/không) or "e" (em/anh) are left alone on purpose.
_SHORTHAND: dict[str, tuple[str, ...]] = {
    "k": ("khong",),
    "ko": ("khong",),
    "kg": ("khong",),
    "khg": ("khong",),
    "hok": ("khong",),
    "dc": ("duoc",),
    "dk": ("duoc",),
    "j": ("gi",),
    "dt": ("dien", "thoai"),
    "sdt": ("so", "dien", "thoai"),
    "ntn": ("nhu", "the", "nao"),
    "bn": ("bao", "nhieu"),
    "mk": ("mat", "khau"),
    "tk": ("tai", "khoan"),
    "ck": ("chuyen", "khoan"),
    "ng": ("nguoi",),
    "vs": ("voi",),
    "r": ("roi",),
    "bt": ("biet",),
    "fb": ("facebook",),
    "zl": ("zalo",),
    "ad": ("admin",),
}
# A telex tone key left at the end of a syllable ("caif" for "cài") when the keyboard's Vietnamese
# mode was off; repaired only when the stripped form is a known word.
_TELEX_TONES = frozenset("sfrxj")


def expand_shorthand(folded_word: str) -> tuple[str, ...]:
    """The syllables a folded chat-shorthand word stands for ("dc" -> duoc), else the word itself."""
    return _SHORTHAND.get(folded_word, (folded_word,))


def syllables(text: str) -> list[str]:
    """Accent-folded syllables with chat shorthand expanded ("ko dc" -> khong duoc)."""
    return [part for token in fold(text).split() for part in expand_shorthand(token)]


def repair_telex(token: str, known: set[str] | frozenset[str]) -> str:
    """The known word a telex-typo token stands for ("caif" -> "cai"), or the token unchanged."""
    if token in known or len(token) < 3:
        return token
    candidate = token
    if candidate[-1] in _TELEX_TONES and candidate[:-1] in known:
        return candidate[:-1]
    # doubled letters and w are telex for â ê ô đ ă ơ ư: "ddoongf" -> "dong"
    squashed = candidate.replace("dd", "d").replace("aa", "a").replace("ee", "e").replace("oo", "o")
    squashed = squashed.replace("aw", "a").replace("ow", "o").replace("uw", "u").replace("w", "u")
    for form in (squashed, squashed[:-1] if squashed[-1:] in _TELEX_TONES else ""):
        if form and form in known:
            return form
    return token


# "X là gì", "nghĩa là gì", "X là ai": the learner asks what a word (or a role, such as "Đại sứ số")
# means, which is what the glossary answers.
_DEFINITION_PATTERNS = (
    ("la", "gi"),
    ("la", "ai"),
    ("la", "cai", "gi"),
    ("la", "con", "gi"),
    ("nghia", "la"),
    ("nghia", "gi"),
    ("giai", "thich"),
)


def asks_definition(text: str) -> bool:
    """Whether the question asks what a term means ("otp la j", "deepfake là gì", "nghĩa là gì")."""
    words = syllables(text)
    return any(tuple(words[i : i + len(p)]) == p for p in _DEFINITION_PATTERNS for i in range(len(words)))
