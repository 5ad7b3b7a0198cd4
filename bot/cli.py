"""`hocvuso` command line: chat, run, lessons check, index build, ask, eval, scam check, report, admin."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

if TYPE_CHECKING:
    from lessons.models import Curriculum

app = typer.Typer(help="Trợ lý Bình dân học vụ số — hocvuso.", no_args_is_help=True, add_completion=False)
lessons_app = typer.Typer(help="Check and inspect the curriculum.", no_args_is_help=True)
app.add_typer(lessons_app, name="lessons")
index_app = typer.Typer(help="The question-answering index over the lessons.", no_args_is_help=True)
app.add_typer(index_app, name="index")
admin_app = typer.Typer(help="Dashboard accounts.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
mentors_app = typer.Typer(help='Mentors ("Đại sứ số").', no_args_is_help=True)
app.add_typer(mentors_app, name="mentors")
kb_app = typer.Typer(help="The commune's knowledge base (reviewed answers).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
scam_app = typer.Typer(help="Check a forwarded message for signs of a scam (offline).", no_args_is_help=True)
app.add_typer(scam_app, name="scam")
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
    from bot import texts
    from bot.app import build_app, configure_logging
    from bot.channels.console import chat as run_chat

    settings = _settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))

    async def main() -> None:
        if sys.stdin.isatty():
            print(texts.CONSOLE_PREPARING, file=sys.stderr)
        application = await build_app(settings, with_retrieval=not no_retrieval)
        try:
            await run_chat(application.assistant, user.strip() or "ban")
        finally:
            await application.close()

    with _startup_errors():
        asyncio.run(main())


@app.command()
def run() -> None:
    """Serve Telegram and/or Zalo (polling or webhook), the outbox, /healthz and the dashboard."""
    from bot.app import configure_logging
    from bot.run import ConfigurationError
    from bot.run import run as serve

    settings = _settings()
    configure_logging(settings)
    try:
        with _startup_errors():
            code = asyncio.run(serve(settings))
    except ConfigurationError as error:
        console.print(f"[red]Configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def _serve_role(role: str) -> None:
    from bot.app import configure_logging
    from bot.run import ConfigurationError
    from bot.run import run as serve

    settings = _settings()
    configure_logging(settings)
    try:
        with _startup_errors():
            code = asyncio.run(serve(settings, role=role))  # type: ignore[arg-type]
    except ConfigurationError as error:
        console.print(f"[red]Configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def web() -> None:
    """Cluster mode (HOCVUSO_CLUSTER=1, PostgreSQL): webhooks stored into the job queue, the dashboard,
    media links and /healthz. Handles nothing itself; run `hocvuso worker` processes for that."""
    _serve_role("web")


@app.command()
def worker() -> None:
    """Cluster mode (HOCVUSO_CLUSTER=1, PostgreSQL): handle queued updates (each learner's in order),
    send the outbox, run the reminders; /healthz on HOCVUSO_PORT."""
    _serve_role("worker")


@app.command()
def migrate() -> None:
    """Bring the database to this version's schema (and create the job queue's tables on PostgreSQL).
    Run it once before starting a cluster's processes, which never migrate on start."""
    from bot.app import configure_logging
    from bot.cluster import migrate_all

    settings = _settings()
    configure_logging(settings)
    try:
        done = asyncio.run(migrate_all(settings))
    except Exception as error:  # the type only: a driver's message can hold the URL with its password
        console.print(f"[red]Migration failed ({type(error).__name__}).[/red]")
        raise typer.Exit(1) from None
    for line in done:
        console.print(f"[green]{line}[/green]")


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


def _retrieval_inputs() -> tuple[Settings, Curriculum]:
    from lessons.loader import load_curriculum

    settings = _settings()
    with _startup_errors():
        return settings, load_curriculum(settings.content_dir)


@index_app.command("build")
def index_build(
    force: Annotated[bool, typer.Option(help="Rebuild even when the stored index is current.")] = False,
) -> None:
    """Embed every lesson card and glossary entry and store the index (HOCVUSO_ENCODER, HOCVUSO_DATA_DIR)."""
    from retrieval.commands import index_build as build

    settings, curriculum = _retrieval_inputs()
    build(console, settings.encoder, curriculum, settings.data_dir, force=force)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, as a learner would type it.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Questions, one per line, answered in one process.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of tables (one object per line with --file).")
    ] = False,
) -> None:
    """Answer questions: the decision (urgent or not), the cards shown, and the top candidates with scores."""
    from retrieval.commands import ask as run_ask
    from retrieval.commands import read_questions_file

    if question is not None and file is None:
        questions = [question]
    elif file is not None and question is None:
        questions = read_questions_file(file)
    else:
        console.print("[red]Give one question, or --file with one question per line.[/red]")
        raise typer.Exit(2)
    settings, curriculum = _retrieval_inputs()
    run_ask(console, settings.encoder, curriculum, settings.data_dir, questions, as_json=json_output)


@app.command("eval")
def eval_command(
    questions: Annotated[
        list[Path] | None,
        typer.Option(help="Question sets, measured (and calibrated on) together; repeat for several."),
    ] = None,
    calibrate: Annotated[bool, typer.Option(help="Choose and save the decision thresholds first.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON instead of the table.")] = False,
    dialogue: Annotated[
        bool, typer.Option("--dialogue", help="Measure how messages are understood, not retrieval.")
    ] = False,
    utterances: Annotated[
        Path | None, typer.Option(help="Utterance set for --dialogue (default: the bundled dev set).")
    ] = None,
    scam: Annotated[bool, typer.Option("--scam", help="Measure the scam check, not retrieval.")] = False,
    messages: Annotated[
        Path | None, typer.Option(help="Labelled message set for --scam (default: the bundled dev set).")
    ] = None,
) -> None:
    """Measure BM25-only, dense-only and fused retrieval on the dev questions, side by side: card
    useful@1, lesson hit@1, wrong-confident, declines and latency, overall and per kind of question.

    With --dialogue: how the interpreter reads what learners type, per meaning and per screen.
    With --scam: the scam check on labelled messages: recall per kind, false alarms, label × level."""
    if scam:
        _eval_scam(messages, json_output)
        return
    if dialogue:
        _eval_dialogue(utterances, json_output)
        return
    from retrieval.commands import DEFAULT_QUESTIONS, evaluate

    settings, curriculum = _retrieval_inputs()
    evaluate(
        console,
        settings.encoder,
        curriculum,
        settings.data_dir,
        questions or [DEFAULT_QUESTIONS],
        do_calibrate=calibrate,
        as_json=json_output,
    )


def _eval_scam(path: Path | None, as_json: bool) -> None:
    from safety.commands import print_scam_report

    with _startup_errors():
        print_scam_report(console, path, as_json=as_json)


@scam_app.command("check")
def scam_check(
    text: Annotated[str, typer.Argument(help="The message as received (forwarded, pasted or described).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
) -> None:
    """The signals found, the verdict and the reply a learner would get. Nothing is stored."""
    from safety.commands import print_check

    with _startup_errors():
        print_check(console, text, as_json=json_output)


def _eval_dialogue(path: Path | None, as_json: bool) -> None:
    import json

    from rich.table import Table

    from bot.evaluation import DEFAULT_UTTERANCES, confusions, evaluate_dialogue

    source = path or DEFAULT_UTTERANCES
    report = evaluate_dialogue(source)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    for title, rows in (("meaning", report.per_meaning), ("screen", report.per_screen)):
        table = Table(title=f"{source.name}: accuracy per {title}")
        table.add_column(title)
        table.add_column("n", justify="right")
        table.add_column("accuracy", justify="right")
        for key, (correct, n) in sorted(rows.items()):
            table.add_row(key, str(n), f"{correct / n:.2f}")
        console.print(table)
    console.print(f"most frequent confusions: {confusions(report, 8)}")
    console.print(
        f"[bold]{source.name}: meaning accuracy {report.accuracy:.3f} on {report.total} utterances; "
        f"non-questions sent to question search {report.non_questions_to_queue}/{report.non_questions} "
        f"({report.queue_rate:.1%})[/bold]"
    )


_T = TypeVar("_T")


def _run_admin_command(work: Coroutine[Any, Any, _T]) -> _T:
    from admin.commands import CommandError

    try:
        with _startup_errors():
            return asyncio.run(work)
    except CommandError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Option(help="Login name (letters, digits, '.', '_').")],
    commune: Annotated[str | None, typer.Option(help="The commune this admin sees (its id).")] = None,
    village: Annotated[
        str | None,
        typer.Option(help="A village head's account: read-only, this village of the commune only (its id)."),
    ] = None,
    super_admin: Annotated[
        bool, typer.Option("--super", help="Sees every commune of the deployment.")
    ] = False,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="HOCVUSO_ADMIN_PASSWORD",
            help="At least 10 characters; asked for when not given (or from HOCVUSO_ADMIN_PASSWORD).",
        ),
    ] = "",
) -> None:
    """Create a dashboard account; the password is stored only as an argon2 hash."""
    from admin.commands import create_admin

    created = _run_admin_command(create_admin(_settings(), username, password, commune, super_admin, village))
    console.print(f"[green]Created {created}.[/green]")


def _account_command(action: str, username: str, password: str = "") -> None:
    from admin.commands import account_action

    done = _run_admin_command(account_action(_settings(), action, username, password))
    console.print(f"[green]{done}.[/green]")


@admin_app.command("unlock")
def admin_unlock(username: Annotated[str, typer.Argument(help="The account's login name.")]) -> None:
    """Lift the lock that failed logins put on an account (from every address)."""
    _account_command("unlock", username)


@admin_app.command("disable")
def admin_disable(username: Annotated[str, typer.Argument(help="The account's login name.")]) -> None:
    """Stop an account from logging in and end its sessions at once."""
    _account_command("disable", username)


@admin_app.command("enable")
def admin_enable(username: Annotated[str, typer.Argument(help="The account's login name.")]) -> None:
    """Let a disabled account log in again."""
    _account_command("enable", username)


@admin_app.command("reset-password")
def admin_reset_password(
    username: Annotated[str, typer.Argument(help="The account's login name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="HOCVUSO_ADMIN_PASSWORD",
            help="At least 10 characters; asked for when not given (or from HOCVUSO_ADMIN_PASSWORD).",
        ),
    ] = "",
) -> None:
    """Set a new password; every session of the account ends and its locks are lifted."""
    _account_command("reset-password", username, password)


@mentors_app.command("invite")
def mentors_invite(
    commune: Annotated[
        str | None, typer.Option(help="The commune (its id); optional with one commune.")
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=200, help="How many one-time codes.")] = 1,
) -> None:
    """Issue one-time invite codes; a volunteer who types "ma <code>" in the chat becomes a mentor."""
    from admin.commands import invite

    for code in _run_admin_command(invite(_settings(), commune, count)):
        print(code)


@app.command()
def report(
    period: Annotated[str, typer.Option(help="A quarter (2026-Q4) or a year (2026).")],
    format: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    commune: Annotated[
        str | None, typer.Option(help="The commune (its id); optional with one commune.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="File to write (default: bao-cao-<commune>-<period>.<format>).")
    ] = None,
) -> None:
    """Write the commune's report for a quarter or a year: per village, per topic, per mentor."""
    from admin.commands import report as write_report

    path = _run_admin_command(write_report(_settings(), period, format, commune, output))
    console.print(f"[green]Report written to {path}[/green]")


@kb_app.command("export")
def kb_export(
    file: Annotated[Path, typer.Argument(help="The YAML file to write.")],
    commune: Annotated[
        str | None, typer.Option(help="The commune (its id); optional with one commune.")
    ] = None,
) -> None:
    """Write the commune's knowledge-base entries (every status) to a YAML file."""
    from admin.commands import kb_export as export

    count = _run_admin_command(export(_settings(), commune, file))
    console.print(f"[green]{count} entries written to {file}[/green]")


@kb_app.command("import")
def kb_import(
    file: Annotated[Path, typer.Argument(help="A YAML file as `kb export` writes it.")],
    commune: Annotated[
        str | None, typer.Option(help="The commune (its id); optional with one commune.")
    ] = None,
    approve: Annotated[
        bool, typer.Option(help="Approve what is imported (else new and changed entries wait as drafts).")
    ] = False,
) -> None:
    """Create or update entries (by id, else by question); all or nothing. Never approves unless --approve."""
    from admin.commands import kb_import as run_import

    done = _run_admin_command(run_import(_settings(), commune, file, approve))
    console.print(
        f"[green]created {done.created}, updated {done.updated}, approved {done.approved}, "
        f"retired {done.retired}, unchanged {done.unchanged}[/green]"
    )


def main() -> None:
    app()
