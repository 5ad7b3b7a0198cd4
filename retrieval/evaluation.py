"""Evaluation and calibration on a question set (`tests/data/questions.yaml` by default).

A question lists what answers it (`expect`), each entry one of:
- `lesson-id#N`: card N of that lesson answers it — reading that card alone tells the learner what to do
  or what the thing is;
- `glossary#term`: that glossary entry answers it;
- `lesson-id`: the lesson answers it but no single card does (and the legacy, lesson-level labels):
  any card of the lesson counts.
An empty list marks a question outside the curriculum, which should be declined. `kind` (optional) is
one of `KINDS`; measures are reported for every kind as well as for the whole set.

Measures, for each ranking method (`Report`):
- card useful@1 (over in-scope questions): the answer is *confident* and the cards it shows
  (`Answer.cards`, or the glossary entry) include an expected card; or the answer is *borderline* and
  the first lesson it offers (the answering card's lesson, which the conversation puts first) contains
  an expected card (or is an expected lesson); an urgent answer counts as confident;
- lesson hit@1 / hit@3 / MRR: the rank of the first expected lesson (or glossary entry) among the
  ranking's distinct lessons, as before card labels existed (a card label counts for its lesson);
- wrong-confident (over all questions of the group, in scope or not): confident, and no shown card is
  expected — the harmful error, a wrong answer stated as an answer;
- in-scope declined, out-of-scope declined: the answer is unknown;
- p50/p95: milliseconds of a whole `answer()` call.

Calibration (`calibrate`) and its objective are documented there.
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
from retrieval.passages import term_id
from retrieval.retriever import Method, Ranking, Retriever, Thresholds, decision

THRESHOLDS_FILE = Path(__file__).parent / "thresholds.json"
KINDS = ("howto", "what", "problem", "urgent", "wrapped", "oos")
MAX_IN_SCOPE_DECLINED = 0.10  # at most this share of in-scope questions may be declined
# wrong-confident budgets on the dev set: half the limits (0.08 overall, 0.10 on how-to), kept as
# margin for questions never seen (on the held-out set the declines drifted by ten points before)
MAX_WRONG_CONFIDENT = 0.04
MAX_WRONG_CONFIDENT_HOWTO = 0.05


@dataclass(frozen=True)
class DevQuestion:
    """A question, what answers it (cards, glossary entries or whole lessons; none when out of scope),
    and its kind."""

    text: str
    expect: tuple[str, ...]
    kind: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.expect)

    @property
    def group(self) -> str:
        """The kind it is reported under; an unlabelled out-of-scope question is `oos`."""
        return self.kind or ("" if self.in_scope else "oos")

    @property
    def lessons(self) -> frozenset[str]:
        """Expected lessons (a card label counts for its lesson) and glossary entries."""
        return frozenset(key if key.startswith("glossary#") else key.split("#")[0] for key in self.expect)

    def accepts(self, passage_id: str, lesson_id: str) -> bool:
        """Whether showing this passage answers the question: it is expected itself, or its whole
        lesson is."""
        return passage_id in self.expect or (bool(lesson_id) and lesson_id in self.expect)


def _expected(key: str) -> str:
    """A label as passage ids write it: a glossary entry named by its term as the glossary prints it
    ("glossary#OTP (mã OTP)", as the separately written sets label) is its id (glossary#otp)."""
    return term_id(key.split("#", 1)[1]) if key.startswith("glossary#") else key


def load_questions(path: Path) -> list[DevQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    out = []
    for item in items:
        kind = str(item.get("kind") or "")
        if kind and kind not in KINDS:
            raise ValueError(f"{path}: unknown kind {kind!r} for {item['q']!r} (one of {', '.join(KINDS)})")
        expect = tuple(_expected(str(e)) for e in item.get("expect") or ())
        out.append(DevQuestion(str(item["q"]), expect, kind))
    return out


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
class Trial:
    """One question run through one method."""

    question: DevQuestion
    ranking: Ranking
    outcome: Outcome
    lessons: list[str]  # distinct lessons of the ranking, best first
    seconds: float
    shown_right: bool = False  # a shown card (or the glossary entry shown) answers the question
    offer_right: bool = False  # the first lesson offered contains an expected card

    @property
    def rank(self) -> int:
        """1-based rank of the first expected lesson, 0 when absent."""
        return next((i + 1 for i, key in enumerate(self.lessons) if key in self.question.lessons), 0)

    def outcome_with(self, limits: Thresholds | None) -> Outcome:
        """The outcome these thresholds would give (what calibration tries)."""
        if not self.ranking.order:
            return Outcome.UNKNOWN
        return decision(
            self.ranking.confidence, limits, urgent=self.ranking.urgent, showable=bool(self.ranking.shown)
        )

    def useful(self, outcome: Outcome | None = None) -> bool:
        """Card useful@1 for this question under `outcome` (the trial's own by default)."""
        outcome = outcome or self.outcome
        if outcome is Outcome.CONFIDENT:
            return self.shown_right
        return outcome is Outcome.BORDERLINE and self.offer_right

    def wrong_confident(self, outcome: Outcome | None = None) -> bool:
        return (outcome or self.outcome) is Outcome.CONFIDENT and not self.shown_right


def trial(
    retriever: Retriever, question: DevQuestion, ranking: Ranking, outcome: Outcome, seconds: float
) -> Trial:
    shown = [retriever.passages[i] for i in ranking.shown]
    shown_right = any(question.accepts(p.passage_id, p.lesson_id) for p in shown)
    offer_right = False
    if ranking.chosen >= 0:
        # the conversation offers lessons in candidate order: the answering card's lesson first
        first = retriever.passages[ranking.chosen].lesson_id
        if not first:
            first = next(
                (retriever.passages[i].lesson_id for i in ranking.order if retriever.passages[i].lesson_id),
                "",
            )
        offer_right = bool(first) and first in question.lessons
    return Trial(
        question,
        ranking,
        outcome,
        lessons(retriever, ranking),
        seconds,
        shown_right=shown_right,
        offer_right=offer_right,
    )


def run(retriever: Retriever, questions: Sequence[DevQuestion], method: Method) -> list[Trial]:
    trials = []
    for question in questions:
        started = time.perf_counter()
        ranking = retriever.rank(question.text, method)
        outcome = retriever.decide(ranking, method)
        retriever.candidates(ranking)
        retriever.cards(ranking)
        seconds = time.perf_counter() - started
        trials.append(trial(retriever, question, ranking, outcome, seconds))
    return trials


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


@dataclass(frozen=True)
class Report:
    """The measures of one method on one group of questions (`kind` "all" for the whole set)."""

    method: Method
    kind: str
    questions: int
    in_scope: int
    out_of_scope: int
    card_useful1: float
    lesson_hit1: float
    hit3: float
    mrr: float
    hit1_plain: float  # lesson hit@1 on in-scope questions typed without diacritics
    plain: int
    wrong_confident: float
    in_scope_declined: float
    oos_declined: float
    confident_share: float  # of all questions in the group
    urgent_share: float  # of all questions in the group
    p50_ms: float
    p95_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Method) else v) for k, v in self.__dict__.items()}


def report(method: Method, trials: list[Trial], kind: str = "all") -> Report:
    inside = [t for t in trials if t.question.in_scope]
    outside = [t for t in trials if not t.question.in_scope]
    plain = [t for t in inside if not has_diacritics(t.question.text)]
    latencies = np.array([t.seconds * 1000 for t in trials]) if trials else np.zeros(1)
    return Report(
        method=method,
        kind=kind,
        questions=len(trials),
        in_scope=len(inside),
        out_of_scope=len(outside),
        card_useful1=_share(t.useful() for t in inside),
        lesson_hit1=_share(t.rank == 1 for t in inside),
        hit3=_share(1 <= t.rank <= 3 for t in inside),
        mrr=float(np.mean([1 / t.rank if t.rank else 0.0 for t in inside])) if inside else 0.0,
        hit1_plain=_share(t.rank == 1 for t in plain),
        plain=len(plain),
        wrong_confident=_share(t.wrong_confident() for t in trials),
        in_scope_declined=_share(t.outcome is Outcome.UNKNOWN for t in inside),
        oos_declined=_share(t.outcome is Outcome.UNKNOWN for t in outside),
        confident_share=_share(t.outcome is Outcome.CONFIDENT for t in trials),
        urgent_share=_share(t.ranking.urgent for t in trials),
        p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)),
    )


def reports_by_kind(method: Method, trials: list[Trial]) -> list[Report]:
    """The whole set first, then each kind present, in `KINDS` order."""
    kinds = [k for k in KINDS if any(t.question.group == k for t in trials)]
    return [report(method, trials)] + [
        report(method, [t for t in trials if t.question.group == k], k) for k in kinds
    ]


def _cuts(values: Iterable[float]) -> list[float]:
    """Below all, between each two neighbours, above all (the edges keep clear of 4-decimal rounding)."""
    ordered = sorted(set(values))
    if not ordered:
        return [0.0]
    return [ordered[0] - 1e-3] + [(a + b) / 2 for a, b in itertools.pairwise(ordered)] + [ordered[-1] + 1e-3]


def calibrate(
    trials: list[Trial],
    max_declined: float = MAX_IN_SCOPE_DECLINED,
    max_wrong: float = MAX_WRONG_CONFIDENT,
    max_wrong_howto: float = MAX_WRONG_CONFIDENT_HOWTO,
) -> Thresholds:
    """Thresholds from one method's trials. The objective, in order:

    1. `unknown`: among the cuts on confidence that decline at most `max_declined` of the in-scope
       questions, the ones that decline the most out-of-scope questions; of those equally good cuts,
       the middle one, so that a new question near the edge keeps some margin either way. (A learner
       wrongly told "I don't know" loses the lesson that would have helped, so that error is capped
       first; then as much nonsense as possible is declined. Urgent questions are never declined.)
    2. `confident` (at or above `unknown`): the wrong-confident rate — confident answers whose shown
       cards do not answer, over all questions — must stay within `max_wrong` overall and within
       `max_wrong_howto` on how-to questions. Minimising it outright is degenerate: never being
       confident scores zero, and borderline offers count as useful too. So among the cuts within
       those budgets, the ones with the most right confident answers (each saves the learner a tap and
       a search through a lesson); of those, the ones with the fewest wrong confident answers; of
       those, the middle one. When no cut keeps the budget (only possible through urgent answers,
       which are confident at any threshold), the cut with the fewest wrong confident answers.
    """
    inside = [t for t in trials if t.question.in_scope and not t.ranking.urgent]
    outside = [t for t in trials if not t.question.in_scope and not t.ranking.urgent]
    cuts = _cuts(t.ranking.confidence for t in trials)
    allowed = [
        cut for cut in cuts if _share(t.ranking.confidence < cut for t in inside) <= max_declined + 1e-9
    ]
    if outside:
        most = max(_share(t.ranking.confidence < cut for t in outside) for cut in allowed)
        tied = [cut for cut in allowed if _share(t.ranking.confidence < cut for t in outside) >= most - 1e-9]
    else:  # nothing to decline: decline nothing
        tied = allowed[:1]
    unknown = (tied[0] + tied[-1]) / 2  # tied cuts are consecutive: more declined only as the cut rises

    howto = [t for t in trials if t.question.group == "howto"]
    options: list[tuple[float, int, int, bool]] = []  # (cut, right, wrong, within budget)
    for cut in [c for c in cuts if c >= unknown] + [float("inf")]:
        limits = Thresholds(unknown, cut)
        outcomes = [t.outcome_with(limits) for t in trials]
        wrong = sum(t.wrong_confident(o) for t, o in zip(trials, outcomes, strict=True))
        right = sum(o is Outcome.CONFIDENT and t.shown_right for t, o in zip(trials, outcomes, strict=True))
        wrong_howto = sum(t.wrong_confident(t.outcome_with(limits)) for t in howto)
        within = wrong <= max_wrong * len(trials) + 1e-9 and (
            not howto or wrong_howto <= max_wrong_howto * len(howto) + 1e-9
        )
        options.append((cut, right, wrong, within))
    feasible = [o for o in options if o[3]]
    if feasible:
        best_right = max(o[1] for o in feasible)
        kept = [o for o in feasible if o[1] == best_right]
        fewest = min(o[2] for o in kept)
        kept = [o for o in kept if o[2] == fewest]
    else:
        fewest = min(o[2] for o in options)
        kept = [o for o in options if o[2] == fewest]
    finite = [o[0] for o in kept if o[0] != float("inf")]
    confident = (min(finite) + max(finite)) / 2 if finite else 9.0
    return Thresholds(unknown=round(float(unknown), 4), confident=round(float(max(confident, unknown)), 4))


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
