"""A forwarded message made ready for matching: links cut out, hidden characters removed, words folded.

Scam texts dodge spam filters with invisible characters, digits for letters ("B4m v4o", "t1en") and
letters split by dots ("O.T.P"). Each word keeps its position in the cleaned text, so a signal can quote
exactly what the learner received; the words themselves are accent-folded syllables with chat shorthand
expanded (`retrieval.normalize`), the form every pattern in `safety/signals.yaml` is written in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from retrieval.normalize import expand_shorthand, fold, has_diacritics, normalize
from safety.links import Link, find_links

# zero-width spaces and joiners, word joiner, invisible operators, BOM, soft hyphen, grapheme joiner
_HIDDEN = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")
_WORD = re.compile(r"\w+", re.UNICODE)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a"})
_SPLIT_GAP = re.compile(r"^[ .\-_*·,'’]{1,2}$")  # what may sit between letters split apart: "O.T.P", "o t p"
_JOIN_GAP = re.compile(r"^[.\-_*'’]$")  # one mark inside a word: "chuy.ển", "tai-khoan"
# "500k" -> 500 nghin, "2tr" -> 2 trieu, "24h" -> 24 gio, "30p" -> 30 phut, "000đ" -> 000 vnd
# (not "dong", which would read as "đóng", to pay)
_MONEY = re.compile(r"^(\d+)(k|tr|trieu|ty|h|g|gio|p|phut|d|dong|vnd)$")
_UNITS = {
    "k": "nghin", "tr": "trieu", "trieu": "trieu", "ty": "ty", "h": "gio", "g": "gio", "gio": "gio",
    "p": "phut", "phut": "phut", "d": "vnd", "dong": "vnd", "vnd": "vnd",
}  # fmt: skip
LINK_WORD = "link"  # every link stands as this one word, so "bấm vào <link>" reads "bam vao link"


@dataclass(frozen=True)
class Word:
    """One folded syllable and where it was in the cleaned text (`obfuscated`: it had to be repaired)."""

    text: str
    start: int
    end: int
    obfuscated: bool = False
    written: str | None = None  # as typed, lowercase, when it carried diacritics


@dataclass(frozen=True)
class Prepared:
    """The cleaned text (hidden characters removed), its words and its links."""

    text: str
    words: tuple[Word, ...]
    links: tuple[Link, ...]
    hidden_characters: int

    @property
    def folded(self) -> list[str]:
        return [word.text for word in self.words]

    @property
    def written(self) -> list[str | None]:
        return [word.written for word in self.words]

    def quote(self, start: int, end: int, limit: int = 60) -> str:
        """The cleaned text between two word indexes (end exclusive), shortened to `limit` characters."""
        if not self.words:
            return ""
        start = max(0, min(start, len(self.words) - 1))
        end = max(start + 1, min(end, len(self.words)))
        fragment = " ".join(self.text[self.words[start].start : self.words[end - 1].end].split())
        if len(fragment) > limit:
            fragment = fragment[: limit - 1].rstrip() + "…"
        return fragment


def _deleet(token: str, vocabulary: Collection[str]) -> str | None:
    """The known word a token spelled with digits stands for ("t1en" -> "tien"), else None."""
    # two letters at least: "7h30" is a time, "B4m", "0TP", "t1en" are words in disguise
    if not (any(ch.isdigit() for ch in token) and sum(ch.isalpha() for ch in token) >= 2):
        return None
    repaired = token.translate(_LEET)
    if len(repaired) >= 3 and repaired.isalpha() and repaired in vocabulary:
        return repaired
    return None


def prepare(text: str, vocabulary: Collection[str] = ()) -> Prepared:
    """Clean and fold a message; `vocabulary` holds the folded words obfuscated spellings may stand for."""
    nfc = unicodedata.normalize("NFC", text)
    hidden = len(_HIDDEN.findall(nfc))
    cleaned = _HIDDEN.sub("", nfc)
    links = find_links(cleaned)
    raw: list[tuple[str, int, int]] = []  # (token as written, start, end)
    position = 0
    for link in [*links, None]:
        stop = link.start if link is not None else len(cleaned)
        raw.extend(
            (m.group(), position + m.start(), position + m.end())
            for m in _WORD.finditer(cleaned[position:stop])
        )
        if link is not None:
            raw.append(("\0link", link.start, link.end))
            position = link.end
    return Prepared(cleaned, tuple(_words(cleaned, raw, vocabulary)), tuple(links), hidden)


def _words(text: str, raw: list[tuple[str, int, int]], vocabulary: Collection[str]) -> list[Word]:
    words: list[Word] = []
    i = 0
    while i < len(raw):
        token, start, end = raw[i]
        if token == "\0link":
            words.append(Word(LINK_WORD, start, end))
            i += 1
            continue
        folded = fold(token)
        # letters split by dots or spaces: "O.T.P", "c h u y e n"
        if len(folded) == 1:
            j = i + 1
            while (
                j < len(raw)
                and len(fold(raw[j][0])) == 1
                and _SPLIT_GAP.match(text[raw[j - 1][2] : raw[j][1]])
            ):
                j += 1
            if j - i >= 3:
                joined = "".join(fold(raw[k][0]) for k in range(i, j))
                repaired = joined if joined in vocabulary else _deleet(joined, vocabulary)
                if repaired is not None and repaired in vocabulary:
                    words.append(Word(repaired, start, raw[j - 1][2], obfuscated=True))
                    i = j
                    continue
        # one mark inside a word: "chuy.ển" -> "chuyen"
        if i + 1 < len(raw) and raw[i + 1][0] != "\0link" and _JOIN_GAP.match(text[end : raw[i + 1][1]]):
            second = fold(raw[i + 1][0])
            joined = folded + second
            if joined in vocabulary and not (folded in vocabulary and second in vocabulary):
                words.append(Word(joined, start, raw[i + 1][2], obfuscated=True))
                i += 2
                continue
        money = _MONEY.match(folded)
        if money:
            words += [Word(money.group(1), start, end), Word(_UNITS[money.group(2)], start, end)]
            i += 1
            continue
        repaired = _deleet(folded, vocabulary)
        if repaired is not None:
            words.append(Word(repaired, start, end, obfuscated=True))
        else:
            parts = expand_shorthand(folded)
            written = normalize(token) if len(parts) == 1 and has_diacritics(token) else None
            words.extend(Word(part, start, end, written=written) for part in parts if part)
        i += 1
    return words
