"""`hocvuso` command line: chat, run, lessons check, index build, ask, eval, report, admin."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

app = typer.Typer(help="Trợ lý Bình dân học vụ số — hocvuso.", no_args_is_help=True, add_completion=False)
lessons_app = typer.Typer(help="Check and inspect the curriculum.", no_args_is_help=True)
app.add_typer(lessons_app, name="lessons")
console = Console()


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as error:  # pydantic's ValidationError lists each bad variable
        console.print(f"[red]Configuration error:[/red] {error}")
        raise typer.Exit(2) from None


@contextmanager
def _startup_errors() -> Iterator[None]:
    """Turn content and commune-file problems into a clear message instead of a traceback."""
    from data.commune import CommuneConfigError
    from lessons.loader import ContentError

    try:
        yield
    except ContentError as error:
        console.print("[red]The lessons have problems; run `hocvuso lessons check`:[/red]")
        print(error, file=sys.stderr)
        raise typer.Exit(2) from None
    except CommuneConfigError as error:
        console.print("[red]The commune file (HOCVUSO_COMMUNE_FILE) is invalid:[/red]")
        print(error, file=sys.stderr)
        raise typer.Exit(2) from None


@app.command()
def chat(
    user: Annotated[
        str, typer.Option("--user", "-u", help="Who is chatting; progress is kept per user.")
    ] = "ban",
    no_retrieval: Annotated[bool, typer.Option(help="Skip loading the question-answering index.")] = False,
) -> None:
    """Chat with the assistant in this terminal (no tokens, no network)."""
    from bot.app import build_app, configure_logging
    from bot.channels.console import chat as run_chat

    settings = _settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))

    async def main() -> None:
        application = await build_app(settings, with_retrieval=not no_retrieval)
        try:
            await run_chat(application.assistant, user.strip() or "ban")
        finally:
            await application.close()

    with _startup_errors():
        asyncio.run(main())


@lessons_app.command("check")
def lessons_check(
    content: Annotated[
        Path | None, typer.Option(help="Content folder (default: the bundled curriculum).")
    ] = None,
) -> None:
    """Validate every lesson and print counts per topic; exit 1 on any problem."""
    from lessons.loader import check_curriculum

    root = content or _settings().content_dir
    curriculum, problems = check_curriculum(root)
    table = Table(title=f"Curriculum in {root}")
    for column in ("topic", "lessons", "core", "cards", "questions"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    totals = [0, 0, 0, 0]
    for topic in curriculum.topics:
        row = [
            len(topic.lessons),
            sum(le.core for le in topic.lessons),
            sum(len(le.cards) for le in topic.lessons),
            sum(len(le.quiz.questions) for le in topic.lessons),
        ]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        table.add_row(f"{topic.icon} {topic.title} ({topic.id})", *map(str, row))
    table.add_row("total", *map(str, totals), style="bold")
    console.print(table)
    console.print(f"glossary: {len(curriculum.glossary)} terms")
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        console.print(f"[red]{len(problems)} problem(s) found.[/red]")
        raise typer.Exit(1)
    console.print("[green]All lessons are valid.[/green]")


def main() -> None:
    app()
