"""Putting diacritics back on a question typed without them, from the curriculum's own words.

The multilingual encoder understands "lỡ bấm vào link lạ" far better than "lo bam vao link la": stripped
Vietnamese is a different, much more ambiguous string to it. Every lesson card is written with full
diacritics, so the curriculum is a dictionary from folded phrases (up to three syllables) to their
most frequent written form.

A folded question is cut into known phrases: the cut with the fewest phrases, so that each syllable is
read in the widest context the curriculum knows, and among cuts with as many phrases, the one whose
phrases the curriculum uses most. Reading strictly left to right instead turns "nhu the nao" into
"như thẻ | nào" (the lessons often say "như thẻ ngân hàng"), where the better cut is "như | thế nào".
Unknown syllables stay as typed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.normalize import expand_shorthand, fold, has_diacritics, normalize

MAX_PHRASE = 3
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class _Cut:
    """The best reading of the first syllables of a question: its phrases and their cost."""

    phrases: int
    rarity: float  # sum of -log(count) of the phrases: lower means more often written so
    forms: tuple[tuple[int, str], ...]  # (first syllable, written form) of each phrase


class Restorer:
    """Maps folded phrases of 1–3 syllables to their most common written form in the given texts."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: dict[tuple[str, ...], Counter[str]] = {}
        for text in texts:
            words = _WORD.findall(normalize(text))
            folded = [fold(w) for w in words]
            for size in range(1, MAX_PHRASE + 1):
                for start in range(len(words) - size + 1):
                    key = tuple(folded[start : start + size])
                    counts.setdefault(key, Counter())[" ".join(words[start : start + size])] += 1
        self._forms = {key: counter.most_common(1)[0] for key, counter in counts.items()}

    def restore(self, question: str) -> str:
        """The question with shorthand expanded and diacritics restored where the curriculum knows the
        phrase. Words the learner typed with diacritics are kept as typed, and so is every word of a
        question that has any: whoever types "mấy giờ" writes "canh chua" plain because it is plain."""
        keep_plain = has_diacritics(question)
        typed: list[str | None] = []  # the written form a learner gave, or None for a word to restore
        folded: list[str] = []
        for word in _WORD.findall(normalize(question)):
            parts = expand_shorthand(fold(word))
            if parts == (fold(word),) and (keep_plain or has_diacritics(word)):
                typed.append(word)
                folded.append(fold(word))
            else:  # a plain word, or chat shorthand ("dc", "đc") spelled out as plain syllables
                for part in parts:
                    typed.append(None)
                    folded.append(part)
        out: list[str] = []
        for start, form in self._best_cut(folded).forms:
            for offset, word in enumerate(form.split()):
                out.append(typed[start + offset] or word)
        return " ".join(out)

    def _best_cut(self, folded: list[str]) -> _Cut:
        """The cut of the folded syllables into known phrases (or single unknown syllables) with the
        fewest phrases, then the most frequent ones; by dynamic programming over the end position."""
        best: list[_Cut] = [_Cut(0, 0.0, ())]
        for end in range(1, len(folded) + 1):
            options: list[_Cut] = []
            for size in range(1, min(MAX_PHRASE, end) + 1):
                start = end - size
                known = self._forms.get(tuple(folded[start:end]))
                if known is None and size > 1:
                    continue
                form, count = known if known is not None else (folded[start], 1)
                before = best[start]
                options.append(
                    _Cut(before.phrases + 1, before.rarity - math.log(count), (*before.forms, (start, form)))
                )
            best.append(min(options, key=lambda cut: (cut.phrases, cut.rarity)))
        return best[-1]
