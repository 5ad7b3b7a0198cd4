"""The scam check: is a message a learner forwarded a scam? Offline and explainable, no generative model.

`check(text)` returns a `ScamCheck` (level, quoted signals, kind of scam, domains, lesson); `render(result)`
gives the learner's reply. Signals and weights are data (`safety/signals.yaml`), official domains too
(`safety/official_domains.yaml`, each with its source). This package never imports `bot`.
"""

from __future__ import annotations

from safety.check import VERDICTS, Level, ScamCheck, ScamChecker, ScamKind, Signal, check, default_checker
from safety.render import MAX_REPLY_CHARS, render

__all__ = [
    "MAX_REPLY_CHARS",
    "VERDICTS",
    "Level",
    "ScamCheck",
    "ScamChecker",
    "ScamKind",
    "Signal",
    "check",
    "default_checker",
    "render",
]
