"""`hocvuso eval --scam`: how well the scam check separates scams from real messages of the same look.

A message set (`tests/data/scam_messages.yaml`, tuned on; its separately written twin
`tests/data/scam_messages_holdout.yaml`, never tuned on) labels each text `scam` or `legit` with a kind.
Reported: for scams, the share flagged at either warning level, per kind; for legitimate messages, the
share called "Rất có thể là lừa đảo" (the false alarm that matters) and the share given any warning; the
confusion table label x level; and how often the kind of a flagged scam is the labelled one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safety.check import Level, ScamChecker, default_checker

DEFAULT_MESSAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "scam_messages.yaml"
LABELS = ("scam", "legit")


@dataclass(frozen=True)
class LabelledMessage:
    """One message of an evaluation set."""

    text: str
    label: str  # "scam" or "legit"
    kind: str


@dataclass
class ScamReport:
    """Flag rates per kind, false alarms, the confusion table and the misses."""

    source: str
    per_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # flagged, n
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: {label: Counter() for label in LABELS})
    kind_right: int = 0
    kind_checked: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def count(self, label: str, level: Level | None = None) -> int:
        counts = self.confusion[label]
        return counts[str(level)] if level is not None else sum(counts.values())

    @property
    def scams(self) -> int:
        return self.count("scam")

    @property
    def legit(self) -> int:
        return self.count("legit")

    @property
    def scams_flagged(self) -> int:
        return self.scams - self.count("scam", Level.NO_CLEAR_SIGN)

    @property
    def recall(self) -> float:
        return self.scams_flagged / self.scams if self.scams else 0.0

    @property
    def legit_very_likely(self) -> int:
        return self.count("legit", Level.VERY_LIKELY)

    @property
    def false_alarm_rate(self) -> float:
        """Legitimate messages called "Rất có thể là lừa đảo"."""
        return self.legit_very_likely / self.legit if self.legit else 0.0

    @property
    def legit_warned_rate(self) -> float:
        """Legitimate messages given either warning level."""
        warned = self.legit - self.count("legit", Level.NO_CLEAR_SIGN)
        return warned / self.legit if self.legit else 0.0

    @property
    def kind_accuracy(self) -> float:
        return self.kind_right / self.kind_checked if self.kind_checked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "scams": self.scams,
            "legit": self.legit,
            "scams_flagged": self.scams_flagged,
            "recall": round(self.recall, 4),
            "recall_per_kind": {
                kind: {"flagged": flagged, "n": n, "recall": round(flagged / n, 4)}
                for kind, (flagged, n) in sorted(self.per_kind.items())
            },
            "legit_very_likely": self.legit_very_likely,
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "legit_warned_rate": round(self.legit_warned_rate, 4),
            "confusion": {
                label: {str(level): self.confusion[label][str(level)] for level in Level} for label in LABELS
            },
            "kind_accuracy": round(self.kind_accuracy, 4),
            "misses": self.misses,
        }


def load_messages(path: Path) -> list[LabelledMessage]:
    """Read a labelled set: a mapping with `messages`, or a bare list of {text, label, kind}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of messages")
    messages = []
    for index, item in enumerate(items):
        label = str(item.get("label", "")).strip().lower()
        if label not in LABELS or not str(item.get("text", "")).strip():
            raise ValueError(f"{path}: message {index} needs a text and a label scam|legit")
        messages.append(LabelledMessage(str(item["text"]), label, str(item.get("kind") or "unknown")))
    return messages


def evaluate_scam(path: Path = DEFAULT_MESSAGES, checker: ScamChecker | None = None) -> ScamReport:
    """Check every message of a set and tally the results."""
    checker = checker or default_checker()
    report = ScamReport(source=path.name)
    for message in load_messages(path):
        result = checker.check(message.text)
        report.confusion[message.label][str(result.level)] += 1
        wrong = False
        if message.label == "scam":
            tally = report.per_kind[message.kind]
            tally[1] += 1
            if result.flagged:
                tally[0] += 1
                report.kind_checked += 1
                report.kind_right += str(result.kind) == message.kind
            else:
                wrong = True
        elif result.level is Level.VERY_LIKELY:
            wrong = True
        if wrong:
            report.misses.append(
                {
                    "label": message.label,
                    "kind": message.kind,
                    "level": str(result.level),
                    "score": result.score,
                    "signals": [signal.kind for signal in result.signals],
                    "text": message.text,
                }
            )
    return report
