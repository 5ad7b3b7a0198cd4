"""What `hocvuso index build`, `hocvuso ask` and `hocvuso eval` do; bot.cli only parses options."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lessons.models import Curriculum
from retrieval.answers import Answer, Outcome
from retrieval.encoders import load_encoder
from retrieval.evaluation import (
    MAX_IN_SCOPE_DECLINED,
    MAX_WRONG_CONFIDENT,
    MAX_WRONG_CONFIDENT_HOWTO,
    THRESHOLDS_FILE,
    Report,
    calibrate,
    load_questions,
    reports_by_kind,
    run,
    save_thresholds,
)
from retrieval.retriever import Method, Retriever, Thresholds
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
        f"Index {state}: {manifest.passages - manifest.asks} passages and {manifest.asks} asks, encoder "
        f"{manifest.encoder}, dimension {manifest.dimension}, content {manifest.content_hash[:12]}; "
        f"{seconds:.1f} s in all."
    )


def _answer_text(curriculum: Curriculum, answer: Answer) -> str:
    """What the learner would read: the shown cards (title and text), or the glossary entry."""
    best = answer.best
    if best is None or answer.outcome is Outcome.UNKNOWN:
        return ""
    if best.lesson_id:
        lesson = curriculum.lesson(best.lesson_id)
        if lesson is None or not answer.cards:
            return ""
        cards = [lesson.card(n) for n in answer.cards]
        return f"{lesson.title}\n" + "\n\n".join(f"{card.title}\n{card.text}" for card in cards)
    entry = next((g for g in curriculum.glossary if g.term == best.term), None)
    return f"{entry.term}\n{entry.text}" if entry else ""


def answer_record(
    retriever: Retriever, question: str, *, with_text: Curriculum | None = None
) -> dict[str, Any]:
    """One question answered, as a JSON-ready record (what `hocvuso ask --json` prints)."""
    started = time.perf_counter()
    ranking = retriever.rank(question)
    answer = retriever.answer_for(ranking)
    outcome = answer.outcome
    elapsed_ms = (time.perf_counter() - started) * 1000
    best = answer.best
    record: dict[str, Any] = {
        "question": question,
        "method": str(retriever.method),
        "outcome": str(outcome),
        "urgent": answer.urgent,
        "lesson": answer.lesson_id if outcome is not Outcome.UNKNOWN else "",
        "cards": list(answer.cards),
        "glossary": best.term
        if best is not None and not best.lesson_id and outcome is not Outcome.UNKNOWN
        else "",
        "shape": str(ranking.shape) if ranking.shape else "",
        "confidence": round(ranking.confidence, 4),
        "cosine": round(ranking.cosine, 4),
        "coverage": round(ranking.coverage, 4),
        "candidates": [{**c.__dict__, "score": round(c.score, 4)} for c in answer.candidates],
        "ms": round(elapsed_ms, 1),
    }
    if with_text is not None:
        record["answer"] = _answer_text(with_text, answer)
    return record


def ask(
    console: Console,
    encoder: str,
    curriculum: Curriculum,
    data_dir: Path,
    questions: list[str],
    *,
    as_json: bool,
) -> None:
    """Answer each question in one process: one JSON object per line (`as_json`, several questions),
    a pretty JSON object (one question), or the decision, answer and candidates as text."""
    # with JSON out, the progress bar of a due index build goes to stderr so stdout stays parseable
    progress_console = Console(stderr=True) if as_json else console
    opened = _open(progress_console, encoder, curriculum, data_dir, force=False)
    retriever = opened.retriever
    retriever.encoder.queries(["khởi động"])  # one-off set-up, kept out of the first question's time
    limits = retriever.thresholds.get(retriever.method)
    for question in questions:
        record = answer_record(retriever, question, with_text=curriculum)
        if as_json:
            record["thresholds"] = limits.__dict__ if limits else None
            print(
                json.dumps(record, ensure_ascii=False, indent=2 if len(questions) == 1 else None), flush=True
            )
            continue
        console.print(f"[bold]Question:[/bold] {question}")
        console.print(
            f"[bold]Decision:[/bold] {record['outcome']}{' (URGENT)' if record['urgent'] else ''}  "
            f"(confidence {record['confidence']:.3f}; thresholds "
            f"{limits.__dict__ if limits else 'not calibrated'}; shape {record['shape'] or '-'}; "
            f"{record['ms']:.0f} ms)"
        )
        if record["outcome"] == str(Outcome.UNKNOWN):
            console.print(
                "[bold]Answer:[/bold] chưa có câu trả lời — the question would be queued for a mentor."
            )
        else:
            shown = f" (cards {', '.join(map(str, record['cards']))})" if record["cards"] else ""
            console.print(f"[bold]Answer{shown}:[/bold] {record['answer']}")
        table = Table(title="Top candidates")
        for column in ("#", "passage", "score"):
            table.add_column(column, justify="right" if column != "passage" else "left")
        for number, candidate in enumerate(record["candidates"], start=1):
            table.add_row(str(number), candidate["passage_id"], f"{candidate['score']:.4f}")
        console.print(table)


def read_questions_file(path: Path) -> list[str]:
    """One question per line; blank lines are skipped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def eval_table(reports: list[Report], chosen: Method, source: str = "the dev questions") -> Table:
    """One row per method on the whole set."""
    table = Table(title=f"Retrieval on {source}")
    columns = (
        "method",
        "card useful@1",
        "lesson hit@1",
        "hit@3",
        "MRR",
        "hit@1 no-diacritics",
        "wrong-confident",
        "in-scope declined",
        "OOS declined",
        "confident",
        "p50 ms",
        "p95 ms",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in reports:
        name = f"{r.method}{' (chosen)' if r.method is chosen else ''}"
        table.add_row(
            name,
            f"{r.card_useful1:.2f}",
            f"{r.lesson_hit1:.2f}",
            f"{r.hit3:.2f}",
            f"{r.mrr:.2f}",
            f"{r.hit1_plain:.2f}",
            f"{r.wrong_confident:.2f}",
            f"{r.in_scope_declined:.2f}",
            f"{r.oos_declined:.2f}",
            f"{r.confident_share:.2f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
        )
    return table


def kind_table(by_method: dict[Method, list[Report]], chosen: Method, source: str) -> Table:
    """One row per method and kind of question."""
    table = Table(title=f"By kind of question, {source}")
    columns = (
        "method",
        "kind",
        "questions",
        "card useful@1",
        "lesson hit@1",
        "wrong-confident",
        "in-scope declined",
        "OOS declined",
        "urgent",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in {"method", "kind"} else "right")
    for method, reports in by_method.items():
        for r in reports[1:]:
            dash = "—"
            table.add_row(
                f"{method}{' (chosen)' if method is chosen else ''}",
                r.kind,
                str(r.questions),
                f"{r.card_useful1:.2f}" if r.in_scope else dash,
                f"{r.lesson_hit1:.2f}" if r.in_scope else dash,
                f"{r.wrong_confident:.2f}",
                f"{r.in_scope_declined:.2f}" if r.in_scope else dash,
                f"{r.oos_declined:.2f}" if r.out_of_scope else dash,
                f"{r.urgent_share:.2f}",
            )
    return table


def evaluate(
    console: Console,
    encoder: str,
    curriculum: Curriculum,
    data_dir: Path,
    questions_paths: Path | list[Path],
    *,
    do_calibrate: bool,
    as_json: bool,
) -> list[Report]:
    """Every method on the question sets (together), on the whole and by kind; calibrate first if asked."""
    paths = [questions_paths] if isinstance(questions_paths, Path) else questions_paths
    questions = [q for path in paths for q in load_questions(path)]
    set_name = " + ".join(path.name for path in paths)
    opened = _open(Console(stderr=True) if as_json else console, encoder, curriculum, data_dir, force=False)
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
                "sets": [path.name for path in paths],
                "in_scope": inside,
                "passages": len(retriever.passages),
                "asks": len(retriever.rows) - len(retriever.passages),
                "content_hash": opened.manifest.content_hash,
                "objective": (
                    f"unknown: in-scope declined <= {MAX_IN_SCOPE_DECLINED}, then most out-of-scope "
                    f"declined; confident: wrong-confident <= {MAX_WRONG_CONFIDENT} "
                    f"(how-to <= {MAX_WRONG_CONFIDENT_HOWTO}), then most right confident answers, "
                    "then fewest wrong"
                ),
            },
        )
        retriever.thresholds = chosen
        if not as_json:
            console.print(
                f"Calibrated on {len(questions)} questions ({inside} in scope), written to {THRESHOLDS_FILE}:"
            )
            for method, limits in chosen.items():
                console.print(
                    f"  {method:9s} unknown < {limits.unknown:.4f} <= borderline < {limits.confident:.4f} "
                    f"<= confident"
                )
    by_method = {m: reports_by_kind(m, run(retriever, questions, m)) for m in EVAL_METHODS}
    reports = [rows[0] for rows in by_method.values()]
    if as_json:
        print(json.dumps([r.as_dict() for rows in by_method.values() for r in rows], indent=2))
        return reports
    console.print(
        f"{len(questions)} questions ({inside} in scope, {len(questions) - inside} out of scope; "
        f"{reports[0].plain} in-scope typed without diacritics; "
        f"{sum(any('#' in e and not e.startswith('glossary#') for e in q.expect) for q in questions)} "
        f"labelled with cards); {len(retriever.passages)} passages and "
        f"{len(retriever.rows) - len(retriever.passages)} asks; encoder {retriever.encoder.name}"
    )
    # the tables are read in logs and the README too, so they are never squeezed to a narrow terminal
    wide = Console(width=max(console.width, 190))
    wide.print(eval_table(reports, DEFAULT_METHOD, set_name))
    if any(len(rows) > 1 for rows in by_method.values()):
        wide.print(kind_table(by_method, DEFAULT_METHOD, set_name))
    return reports
