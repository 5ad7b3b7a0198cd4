"""What `hocvuso index build`, `hocvuso ask` and `hocvuso eval` do; bot.cli only parses options."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lessons.models import Curriculum
from retrieval.answers import Outcome
from retrieval.encoders import load_encoder
from retrieval.evaluation import (
    THRESHOLDS_FILE,
    Report,
    calibrate,
    load_questions,
    report,
    run,
    save_thresholds,
)
from retrieval.retriever import Method, Thresholds
from retrieval.service import DEFAULT_METHOD, Opened, open_retriever

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yaml"
EVAL_METHODS = (Method.BM25, Method.DENSE, Method.WEIGHTED, Method.RRF)


def _open(console: Console, encoder: str, curriculum: Curriculum, data_dir: Path, *, force: bool) -> Opened:
    """Open the retriever, with a progress bar while passages are embedded (only when a build is due)."""
    with Progress(
        TextColumn("[bold]Embedding passages"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("embed", total=None, visible=False)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=True)

        return open_retriever(load_encoder(encoder), curriculum, data_dir, force=force, progress=progress)


def index_build(
    console: Console, encoder: str, curriculum: Curriculum, data_dir: Path, *, force: bool
) -> None:
    started = time.perf_counter()
    opened = _open(console, encoder, curriculum, data_dir, force=force)
    seconds = time.perf_counter() - started
    manifest = opened.manifest
    state = "built" if opened.built else "already current"
    console.print(
        f"Index {state}: {manifest.passages} passages, encoder "
        f"{manifest.encoder}, dimension {manifest.dimension}, content {manifest.content_hash[:12]}; "
        f"{seconds:.1f} s in all."
    )


def ask(
    console: Console, encoder: str, curriculum: Curriculum, data_dir: Path, question: str, *, as_json: bool
) -> None:
    opened = _open(console, encoder, curriculum, data_dir, force=False)
    retriever = opened.retriever
    started = time.perf_counter()
    ranking = retriever.rank(question)
    outcome = retriever.decide(ranking)
    candidates = retriever.candidates(ranking)
    elapsed_ms = (time.perf_counter() - started) * 1000
    best = candidates[0] if candidates else None
    answer_text = ""
    if best is not None and best.lesson_id:
        lesson = curriculum.lesson(best.lesson_id)
        if lesson is not None:
            card = lesson.card(best.card_number)
            answer_text = f"{lesson.title} — {card.title}\n{card.text}"
    elif best is not None:
        entry = next((g for g in curriculum.glossary if g.term == best.term), None)
        answer_text = f"{entry.term}\n{entry.text}" if entry else ""
    limits = retriever.thresholds.get(retriever.method)
    if as_json:
        print(
            json.dumps(
                {
                    "question": question,
                    "method": str(retriever.method),
                    "outcome": str(outcome),
                    "confidence": round(ranking.confidence, 4),
                    "cosine": round(ranking.cosine, 4),
                    "coverage": round(ranking.coverage, 4),
                    "thresholds": limits.__dict__ if limits else None,
                    "answer": answer_text if outcome is not Outcome.UNKNOWN else "",
                    "candidates": [{**c.__dict__, "score": round(c.score, 4)} for c in candidates],
                    "ms": round(elapsed_ms, 1),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    console.print(
        f"[bold]Decision:[/bold] {outcome}  (confidence {ranking.confidence:.3f}; "
        f"thresholds {limits.__dict__ if limits else 'not calibrated'}; {elapsed_ms:.0f} ms)"
    )
    if outcome is Outcome.UNKNOWN:
        console.print("[bold]Answer:[/bold] chưa có câu trả lời — the question would be queued for a mentor.")
    else:
        console.print(f"[bold]Answer:[/bold] {answer_text}")
    table = Table(title="Top candidates")
    for column in ("#", "passage", "score"):
        table.add_column(column, justify="right" if column != "passage" else "left")
    for number, candidate in enumerate(candidates, start=1):
        table.add_row(str(number), candidate.passage_id, f"{candidate.score:.4f}")
    console.print(table)


def eval_table(reports: list[Report], chosen: Method, source: str = "the dev questions") -> Table:
    table = Table(title=f"Retrieval on {source}")
    columns = (
        "method",
        "hit@1",
        "hit@3",
        "MRR",
        "hit@1 no-diacritics",
        "OOS rejected",
        "in-scope rejected",
        "confident precision",
        "p50 ms",
        "p95 ms",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in reports:
        name = f"{r.method}{' (chosen)' if r.method is chosen else ''}"
        table.add_row(
            name,
            f"{r.hit1:.2f}",
            f"{r.hit3:.2f}",
            f"{r.mrr:.2f}",
            f"{r.hit1_plain:.2f}",
            f"{r.oos_rejected:.2f}",
            f"{r.false_rejected:.2f}",
            f"{r.confident_precision:.2f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
        )
    return table


def evaluate(
    console: Console,
    encoder: str,
    curriculum: Curriculum,
    data_dir: Path,
    questions_path: Path,
    *,
    do_calibrate: bool,
    as_json: bool,
) -> list[Report]:
    questions = load_questions(questions_path)
    opened = _open(console, encoder, curriculum, data_dir, force=False)
    retriever = opened.retriever
    retriever.encoder.queries(["khởi động"])  # the first call pays one-off set-up; keep it out of latency
    inside = sum(q.in_scope for q in questions)
    if do_calibrate:
        chosen: dict[Method, Thresholds] = {m: calibrate(run(retriever, questions, m)) for m in EVAL_METHODS}
        save_thresholds(
            retriever.encoder.name,
            chosen,
            {
                "questions": len(questions),
                "in_scope": inside,
                "passages": len(retriever.passages),
                "content_hash": opened.manifest.content_hash,
            },
        )
        retriever.thresholds = chosen
        console.print(
            f"Calibrated on {len(questions)} questions ({inside} in scope), written to {THRESHOLDS_FILE}:"
        )
        for method, limits in chosen.items():
            console.print(
                f"  {method:9s} unknown < {limits.unknown:.4f} <= borderline < {limits.confident:.4f} "
                f"<= confident"
            )
    reports = [report(m, run(retriever, questions, m)) for m in EVAL_METHODS]
    if as_json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        console.print(
            f"{len(questions)} questions ({inside} in scope, {len(questions) - inside} out of scope; "
            f"{reports[0].plain} in-scope typed without diacritics); {len(retriever.passages)} "
            f"passages; encoder {retriever.encoder.name}"
        )
        # the table is read in logs and the README too, so it is never squeezed to a narrow terminal
        table = eval_table(reports, DEFAULT_METHOD, questions_path.name)
        Console(width=max(console.width, 140)).print(table)
    return reports
