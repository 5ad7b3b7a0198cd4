"""Splitting a long message into pieces a channel accepts (Telegram 4096, Zalo 2000 characters).

Pieces break at a paragraph if one fits, else at the end of a sentence, else at a space, and only as a
last resort inside a word, so a learner never reads half a sentence at the end of one message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE_END = re.compile(r"[.!?…:;](?=\s)|\n")


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """Pieces of `text`, each at most `limit` long by `length`, none empty, nothing lost but the
    whitespace at the breaks."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    pieces: list[str] = []
    while text:
        if length(text) <= limit:
            pieces.append(text)
            break
        cut = _longest_prefix(text, limit, length)
        head = text[:cut]
        at = _break_point(head)
        piece = (head[:at] if at else head).rstrip()
        if not piece:  # only whitespace before the break: take the hard cut instead
            piece = head
        pieces.append(piece)
        text = text[len(piece) :].lstrip()
    return pieces


def _longest_prefix(text: str, limit: int, length: Callable[[str], int]) -> int:
    """The largest n with length(text[:n]) <= limit (binary search; `length` grows with n)."""
    low, high = 1, min(len(text), limit)
    if length(text[:high]) <= limit:
        return high
    while low < high:
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return max(low, 1)


def _break_point(head: str) -> int:
    """Where to end a piece inside `head`: after the last paragraph, sentence or word; 0 for none.

    A break is taken only in the second half of the piece, so pieces stay reasonably full.
    """
    floor = len(head) // 2
    paragraph = head.rfind("\n\n")
    if paragraph >= floor:
        return paragraph
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() >= floor]
    if sentence_ends:
        return sentence_ends[-1]
    space = head.rfind(" ")
    if space >= floor:
        return space
    return 0
