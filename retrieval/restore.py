"""Putting diacritics back on a question typed without them, from the curriculum's own words.

The multilingual encoder understands "lỡ bấm vào link lạ" far better than "lo bam vao link la": stripped
Vietnamese is a different, much more ambiguous string to it. Every lesson card is written with full
diacritics, so the curriculum is a dictionary from folded phrases to their written form. A folded
question is rewritten left to right, each time taking the longest phrase (up to three syllables) the
curriculum knows and its most frequent written form; unknown syllables stay as typed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from retrieval.normalize import expand_shorthand, fold, has_diacritics, normalize

MAX_PHRASE = 3
_WORD = re.compile(r"\w+", re.UNICODE)


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
        self._forms = {key: counter.most_common(1)[0][0] for key, counter in counts.items()}

    def restore(self, question: str) -> str:
        """The question with shorthand expanded and diacritics restored where the curriculum knows the
        phrase; words the learner typed with diacritics are kept as typed."""
        typed: list[str | None] = []  # the written form a learner gave, or None for a plain word
        folded: list[str] = []
        for word in _WORD.findall(normalize(question)):
            if has_diacritics(word):
                typed.append(word)
                folded.append(fold(word))
            else:
                for part in expand_shorthand(fold(word)):
                    typed.append(None)
                    folded.append(part)
        out: list[str] = []
        position = 0
        while position < len(folded):
            size, form = 1, None
            for size in range(min(MAX_PHRASE, len(folded) - position), 0, -1):
                form = self._forms.get(tuple(folded[position : position + size]))
                if form is not None:
                    break
            written = form.split() if form is not None else folded[position : position + size]
            for offset, word in enumerate(written):
                out.append(typed[position + offset] or word)
            position += size
        return " ".join(out)
