"""Evaluation and calibration on the dev questions (`tests/data/questions.yaml`).

For each ranking method it measures hit@1 and hit@3 (by lesson: the first three distinct lessons or
glossary entries), MRR, hit@1 on the questions typed without diacritics, the share of out-of-scope
questions declined, the share of in-scope questions wrongly declined, and the latency of a whole
`answer()` call. Calibration picks the decision thresholds from the same questions and says how.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retrieval.answers import Outcome
from retrieval.normalize import has_diacritics
from retrieval.retriever import Method, Ranking, Retriever, Thresholds

THRESHOLDS_FILE = Path(__file__).parent / "thresholds.json"
TARGET_PRECISION = 0.95  # a confident answer should be the right lesson at least this often
MAX_FALSE_REJECTION = 0.05  # at most this share of in-scope questions may be declined


@dataclass(frozen=True)
class DevQuestion:
    """A question and the lessons (or glossary ids) that answer it; none when out of scope."""

    text: str
    expect: tuple[str, ...]

    @property
    def in_scope(self) -> bool:
        return bool(self.expect)


def load_questions(path: Path) -> list[DevQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    return [DevQuestion(str(item["q"]), tuple(item.get("expect") or ())) for item in items]


def lessons(retriever: Retriever, ranking: Ranking) -> list[str]:
    """Distinct lessons (glossary entries count on their own) in ranked order."""
    out: list[str] = []
    for index in ranking.order:
        passage = retriever.passages[index]
        key = passage.lesson_id or passage.passage_id
        if key not in out:
            out.append(key)
    return out


@dataclass(frozen=True)
class Report:
    """The measures of one method on the dev questions."""

    method: Method
    in_scope: int
    out_of_scope: int
    hit1: float
    hit3: float
    mrr: float
    hit1_plain: float  # hit@1 on questions typed without diacritics
    plain: int
    oos_rejected: float
    false_rejected: float
    confident_precision: float
    confident_share: float
    p50_ms: float
    p95_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Method) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Trial:
    """One question run through one method."""

    question: DevQuestion
    ranking: Ranking
    outcome: Outcome
    lessons: list[str]
    seconds: float

    @property
    def rank(self) -> int:
        """1-based rank of the first expected lesson, 0 when absent."""
        return next((i + 1 for i, key in enumerate(self.lessons) if key in self.question.expect), 0)


def run(retriever: Retriever, questions: Sequence[DevQuestion], method: Method) -> list[Trial]:
    trials = []
    for question in questions:
        started = time.perf_counter()
        ranking = retriever.rank(question.text, method)
        outcome = retriever.decide(ranking, method)
        retriever.candidates(ranking)
        seconds = time.perf_counter() - started
        trials.append(Trial(question, ranking, outcome, lessons(retriever, ranking), seconds))
    return trials


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def report(method: Method, trials: list[Trial]) -> Report:
    inside = [t for t in trials if t.question.in_scope]
    outside = [t for t in trials if not t.question.in_scope]
    plain = [t for t in inside if not has_diacritics(t.question.text)]
    confident = [t for t in trials if t.outcome is Outcome.CONFIDENT]
    latencies = np.array([t.seconds * 1000 for t in trials]) if trials else np.zeros(1)
    return Report(
        method=method,
        in_scope=len(inside),
        out_of_scope=len(outside),
        hit1=_share(t.rank == 1 for t in inside),
        hit3=_share(1 <= t.rank <= 3 for t in inside),
        mrr=float(np.mean([1 / t.rank if t.rank else 0.0 for t in inside])) if inside else 0.0,
        hit1_plain=_share(t.rank == 1 for t in plain),
        plain=len(plain),
        oos_rejected=_share(t.outcome is Outcome.UNKNOWN for t in outside),
        false_rejected=_share(t.outcome is Outcome.UNKNOWN for t in inside),
        confident_precision=_share(t.rank == 1 for t in confident),
        confident_share=_share(t.outcome is Outcome.CONFIDENT for t in inside),
        p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)),
    )


def calibrate(trials: list[Trial], max_false_rejection: float = MAX_FALSE_REJECTION) -> Thresholds:
    """Thresholds from one method's trials on the dev questions.

    `unknown`: among the cuts on confidence that decline at most `max_false_rejection` of the in-scope
    questions, the ones that decline the most out-of-scope questions; of those equally good cuts, the
    middle, so that both a new in-scope and a new out-of-scope question near the edge keep some
    margin. (A learner wrongly told "I don't know" loses the lesson that would have helped, so that
    error is capped first; then as much nonsense as possible is declined.) `confident`: the lowest cut
    above it at which the answers shown as certain are the right lesson at least `TARGET_PRECISION` of
    the time (out-of-scope questions above it count as wrong).
    """
    inside = sorted(t.ranking.confidence for t in trials if t.question.in_scope)
    outside = sorted(t.ranking.confidence for t in trials if not t.question.in_scope)
    values = sorted({*inside, *outside})
    # below all, between each two neighbours, above all (the edges keep clear of the 4-decimal rounding)
    cuts = [values[0] - 1e-3] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1e-3]
    # a cut declines every confidence below it; the lowest cut declines nothing, so one always qualifies
    allowed = [cut for cut in cuts if _share(c < cut for c in inside) <= max_false_rejection + 1e-9]
    if outside:
        most = max(_share(c < cut for c in outside) for cut in allowed)
        tied = [cut for cut in allowed if _share(c < cut for c in outside) >= most - 1e-9]
    else:  # nothing to decline: decline nothing
        tied = allowed[:1]
    unknown = (tied[0] + tied[-1]) / 2  # tied cuts are consecutive: more declined only as the cut rises

    ranked = sorted(
        ((t.ranking.confidence, t.question.in_scope and t.rank == 1) for t in trials), reverse=True
    )
    confident = float("inf")
    correct = 0
    for count, (value, right) in enumerate(ranked, start=1):
        correct += right
        if value < unknown:
            break
        if correct / count >= TARGET_PRECISION:
            confident = value
    return Thresholds(
        unknown=round(float(unknown), 4),
        confident=round(float(max(confident, unknown)), 4) if confident != float("inf") else 9.0,
    )


def load_thresholds(encoder: str, path: Path = THRESHOLDS_FILE) -> dict[Method, Thresholds]:
    """The calibrated thresholds for an encoder, or none (the answerer then never claims certainty)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entry = data.get("encoders", {}).get(encoder, {})
    return {Method(name): Thresholds(**values) for name, values in entry.get("methods", {}).items()}


def save_thresholds(
    encoder: str, chosen: dict[Method, Thresholds], note: dict[str, Any], path: Path = THRESHOLDS_FILE
) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.setdefault("encoders", {})[encoder] = {
        "methods": {str(m): t.__dict__ for m, t in chosen.items()},
        **note,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
