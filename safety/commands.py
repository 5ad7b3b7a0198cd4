"""What `hocvuso scam check` and `hocvuso eval --scam` print (the CLI in `bot/cli.py` only parses options)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from safety.check import Level, default_checker
from safety.evaluation import DEFAULT_MESSAGES, evaluate_scam
from safety.render import render


def print_check(console: Console, text: str, *, as_json: bool = False) -> None:
    """Check one message and print the signals, the verdict and the reply (or one JSON object)."""
    result = default_checker().check(text)
    reply = render(result)
    if as_json:
        # plain print: machine-readable, no wrapping or colour codes
        print(json.dumps({**result.as_dict(), "reply": reply}, ensure_ascii=False))
        return
    table = Table(title=f"{result.verdict} (điểm {result.score})")
    table.add_column("dấu hiệu")
    table.add_column("trích", overflow="fold")
    table.add_column("giải thích", overflow="fold")
    table.add_column("trọng số", justify="right")
    for signal in result.signals:
        table.add_row(signal.kind, signal.fragment, signal.explanation, str(signal.weight))
    console.print(table)
    console.print(
        f"loại: {result.kind or '—'} · tên miền: {', '.join(result.domains) or '—'} · "
        f"bài học: {result.lesson_id or '—'}"
    )
    console.print(reply, markup=False, highlight=False)


def print_scam_report(
    console: Console, path: Path | None, *, as_json: bool = False, misses: int = 10
) -> None:
    """Measure the check on a labelled message set: recall per kind, false alarms, confusion table."""
    source = path or DEFAULT_MESSAGES
    report = evaluate_scam(source)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    kinds = Table(title=f"{source.name}: scams flagged (either warning level) per kind")
    kinds.add_column("kind")
    kinds.add_column("n", justify="right")
    kinds.add_column("flagged", justify="right")
    kinds.add_column("recall", justify="right")
    for kind, (flagged, n) in sorted(report.per_kind.items()):
        kinds.add_row(kind, str(n), str(flagged), f"{flagged / n:.3f}")
    console.print(kinds)
    confusion = Table(title=f"{source.name}: label × level")
    confusion.add_column("label")
    for level in Level:
        confusion.add_column(str(level), justify="right")
    for label in ("scam", "legit"):
        confusion.add_row(label, *(str(report.count(label, level)) for level in Level))
    console.print(confusion)
    for miss in report.misses[:misses]:
        console.print(
            f"miss: {miss['label']}/{miss['kind']} -> {miss['level']} ({miss['score']})", highlight=False
        )
    console.print(
        f"[bold]{source.name}: scams flagged {report.scams_flagged}/{report.scams} ({report.recall:.3f}); "
        f"legitimate called “Rất có thể là lừa đảo” {report.legit_very_likely}/{report.legit} "
        f"({report.false_alarm_rate:.3f}); legitimate given any warning {report.legit_warned_rate:.3f}; "
        f"kind of flagged scams right {report.kind_accuracy:.3f}[/bold]"
    )
