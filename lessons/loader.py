"""Reads the curriculum from Markdown + YAML files and reports every problem as `file:line: reason`.

`check_curriculum` collects all problems at once (for editors); `load_curriculum` raises when there is
any (for the running assistant, which must never serve half-valid content).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lessons.models import (
    MAX_ASK_CHARS,
    MAX_CARD_CHARS,
    MAX_CARDS,
    MIN_CARDS,
    Card,
    Curriculum,
    GlossaryEntry,
    Lesson,
    LessonMeta,
    Source,
    Topic,
    TopicMeta,
)
from lessons.rules import DEFAULT_TERMS_FILE, Term, fold, jargon_findings, load_terms, standalone_findings

DEFAULT_CONTENT_DIR = Path(__file__).parent / "content"
GLOSSARY_FILE = "glossary.md"
TOPIC_FILE = "topic.yaml"

_IMAGE_LINE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+)\)$")
_AUDIO_LINE = re.compile(r"^audio:\s*(?P<path>\S+)$")
# a question the card answers, as learners type it; retrieval matches against these, learners never see them
_ASKS_LINE = re.compile(r"^asks:(?P<question>.*)$")
_SPACES = re.compile(r"\s+")
_LESSON_FILE = re.compile(r"^(?P<order>\d{2})-(?P<slug>[a-z0-9]+(-[a-z0-9]+)*)\.md$")

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so pydantic validates them and a bad one is reported."""


# PyYAML would build a date itself and raise a bare ValueError on "2026-02-30"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a content file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """The curriculum has problems; the message lists each as `file:line: reason`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _line_map(node: yaml.Node, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path in a YAML document to its 1-based line, so errors can point at it."""
    lines: dict[tuple[Any, ...], int] = {prefix: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, key.value)
            lines[path] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_map(value, path).items() if k != path})
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_map(item, (*prefix, index)))
    return lines


def _line_for(lines: dict[tuple[Any, ...], int], loc: Iterable[Any], offset: int) -> int:
    path = tuple(loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1) + offset


@dataclass
class _Parsed:
    """A Markdown file split into front matter (with line numbers) and body lines."""

    data: Any
    lines: dict[tuple[Any, ...], int]
    offset: int  # line number of the first front-matter line, minus one
    body: list[tuple[int, str]]


def _split(path: Path, problems: list[Problem]) -> _Parsed | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(path, 1, "the file is not UTF-8 text"))
        return None
    raw = text.splitlines()
    if not raw or raw[0].strip() != "---":
        problems.append(Problem(path, 1, "the file must start with '---' and YAML front matter"))
        return None
    try:
        end = next(i for i in range(1, len(raw)) if raw[i].strip() == "---")
    except StopIteration:
        problems.append(Problem(path, 1, "the front matter is not closed by a '---' line"))
        return None
    front = "\n".join(raw[1:end])
    try:
        node = yaml.compose(front, Loader=_Loader)
        data = yaml.load(front, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problems.append(Problem(path, line, f"invalid YAML: {getattr(error, 'problem', error)}"))
        return None
    if not isinstance(data, dict) or node is None:
        problems.append(Problem(path, 2, "the front matter must be a YAML mapping"))
        return None
    body = [(number + 1, raw[number]) for number in range(end + 1, len(raw))]
    return _Parsed(data=data, lines=_line_map(node), offset=1, body=body)


def _report(path: Path, parsed: _Parsed, error: ValidationError, problems: list[Problem]) -> None:
    for item in error.errors():
        loc = item["loc"]
        where = ".".join(str(part) for part in loc) or "front matter"
        message = item["msg"].removeprefix("Value error, ")
        # a whole-object check that names its field ("'correct' must ...") points at that field's line
        if (named := re.match(r"'(\w+)'", message)) and (*loc, named[1]) in parsed.lines:
            loc = (*loc, named[1])
        problems.append(Problem(path, _line_for(parsed.lines, loc, parsed.offset), f"{where}: {message}"))


def _validate(model: type[M], path: Path, parsed: _Parsed, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(parsed.data)
    except ValidationError as error:
        _report(path, parsed, error, problems)
        return None


@dataclass
class _Section:
    """A parsed `## ` section: the card, and its text and asks lines with their file line numbers."""

    card: Card
    lines: list[tuple[int, str]]
    asks: list[tuple[int, str]]


def _sections(path: Path, body: list[tuple[int, str]], problems: list[Problem]) -> list[_Section]:
    """Split a body into `## ` sections, each a card (or a glossary entry)."""
    sections: list[_Section] = []
    title: str | None = None
    start = 0
    text_lines: list[tuple[int, str]] = []

    def close() -> None:
        if title is None:
            return
        image = alt = audio = None
        kept: list[tuple[int, str]] = []
        asks: list[tuple[int, str]] = []
        for number, line in text_lines:
            stripped = line.strip()
            if match := _IMAGE_LINE.match(stripped):
                image, alt = match["path"], match["alt"]
            elif match := _AUDIO_LINE.match(stripped):
                audio = match["path"]
            elif match := _ASKS_LINE.match(stripped):
                asks.append((number, _SPACES.sub(" ", match["question"]).strip()))
            else:
                kept.append((number, line.rstrip()))
        text = "\n".join(line for _, line in kept).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        number = len(sections) + 1
        if not title.strip():
            problems.append(Problem(path, start, f"card {number}: the heading is empty"))
        if not text:
            problems.append(Problem(path, start, f"card {number}: the card has no text"))
        elif len(text) > MAX_CARD_CHARS:
            problems.append(
                Problem(path, start, f"card {number}: {len(text)} characters, more than {MAX_CARD_CHARS}")
            )
        card = Card(
            number=number,
            title=title.strip(),
            text=text,
            image=image,
            image_alt=alt,
            audio=audio,
            asks=tuple(question for _, question in asks if question),
            line=start,
        )
        sections.append(_Section(card=card, lines=kept, asks=asks))

    for number, line in body:
        if line.startswith("## "):
            close()
            title, start, text_lines = line[3:], number, []
        elif line.startswith("#") and not line.startswith("###"):
            problems.append(Problem(path, number, "use '## ' headings for cards (one '#' is not allowed)"))
        elif title is None:
            if line.strip():
                problems.append(Problem(path, number, "text before the first '## ' card heading"))
        else:
            text_lines.append((number, line))
    close()
    return sections


def _check_asks(path: Path, sections: list[_Section], problems: list[Problem]) -> None:
    """Each asks entry says something, fits in a chat message, and appears once in the file."""
    seen: dict[str, int] = {}
    for section in sections:
        for line, question in section.asks:
            where = f"card {section.card.number}"
            if not question:
                problems.append(Problem(path, line, f"{where}: the 'asks:' line is empty"))
                continue
            if len(question) > MAX_ASK_CHARS:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{where}: asks entry of {len(question)} characters, more than {MAX_ASK_CHARS}",
                    )
                )
            key = fold(question)
            if key in seen:
                problems.append(
                    Problem(path, line, f"{where}: the asks entry '{question}' repeats line {seen[key]}")
                )
            seen.setdefault(key, line)


def _check_writing(path: Path, sections: list[_Section], terms: list[Term], problems: list[Problem]) -> None:
    """Each card stands alone, and listed jargon is explained at its first use in the lesson."""
    for section in sections:
        for finding in standalone_findings(section.card.number, section.lines):
            problems.append(Problem(path, finding.line, finding.message))
    cards = [(section.card.number, section.lines) for section in sections]
    for finding in jargon_findings(cards, terms):
        problems.append(Problem(path, finding.line, finding.message))


def _check_media(path: Path, topic_dir: Path, card: Card, problems: list[Problem]) -> None:
    for kind, ref in (("image", card.image), ("audio", card.audio)):
        if ref and not (topic_dir / ref).is_file():
            problems.append(Problem(path, card.line, f"card {card.number}: {kind} file '{ref}' not found"))


def _load_lesson(path: Path, topic_id: str, terms: list[Term], problems: list[Problem]) -> Lesson | None:
    before = len(problems)
    parsed = _split(path, problems)
    if parsed is None:
        return None
    meta = _validate(LessonMeta, path, parsed, problems)
    sections = _sections(path, parsed.body, problems)
    _check_asks(path, sections, problems)
    _check_writing(path, sections, terms, problems)
    cards = [section.card for section in sections]
    if not MIN_CARDS <= len(cards) <= MAX_CARDS:
        first = parsed.body[0][0] if parsed.body else 1
        problems.append(
            Problem(path, first, f"a lesson has {MIN_CARDS} to {MAX_CARDS} cards, this one has {len(cards)}")
        )
    if meta is None:
        return None
    line = parsed.lines
    if meta.topic != topic_id:
        problems.append(
            Problem(
                path,
                _line_for(line, ("topic",), 1),
                f"topic '{meta.topic}' but the file is in folder '{topic_id}'",
            )
        )
    if not meta.id.startswith(f"{meta.topic}-"):
        problems.append(Problem(path, _line_for(line, ("id",), 1), f"id must start with '{meta.topic}-'"))
    name = _LESSON_FILE.match(path.name)
    if name is None:
        problems.append(Problem(path, 1, "file name must look like 'NN-slug.md', e.g. 01-cai-dat.md"))
    elif int(name["order"]) != meta.order:
        problems.append(
            Problem(
                path,
                _line_for(line, ("order",), 1),
                f"order {meta.order} does not match the file name's {name['order']}",
            )
        )
    for index, question in enumerate(meta.quiz.questions):
        if question.card > len(cards):
            problems.append(
                Problem(
                    path,
                    _line_for(line, ("quiz", "questions", index, "card"), 1),
                    f"quiz.questions.{index}: card {question.card} does not exist "
                    f"(the lesson has {len(cards)} cards)",
                )
            )
    for card in cards:
        _check_media(path, path.parent, card, problems)
    if len(problems) > before:
        return None
    return Lesson(**meta.model_dump(), cards=cards, path=path)


def _load_topic(folder: Path, terms: list[Term], problems: list[Problem]) -> Topic | None:
    topic_file = folder / TOPIC_FILE
    if not topic_file.is_file():
        problems.append(Problem(topic_file, 1, "every topic folder needs a topic.yaml"))
        return None
    try:
        text = topic_file.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems.append(Problem(topic_file, 1, f"invalid YAML: {error}"))
        return None
    parsed = _Parsed(data=data, lines=_line_map(node) if node else {}, offset=0, body=[])
    meta = _validate(TopicMeta, topic_file, parsed, problems)
    lessons = [
        lesson
        for path in sorted(folder.glob("*.md"))
        if (lesson := _load_lesson(path, folder.name, terms, problems)) is not None
    ]
    if meta is None:
        return None
    if meta.id != folder.name:
        problems.append(Problem(topic_file, 1, f"id '{meta.id}' must equal the folder name '{folder.name}'"))
    orders = [lesson.order for lesson in lessons]
    for lesson in lessons:
        if orders.count(lesson.order) > 1:
            problems.append(Problem(lesson.path, 1, f"two lessons in '{meta.id}' have order {lesson.order}"))
    return Topic(**meta.model_dump(), lessons=sorted(lessons, key=lambda le: le.order))


def _load_glossary(path: Path, problems: list[Problem]) -> tuple[list[GlossaryEntry], list[Source]]:
    parsed = _split(path, problems)
    if parsed is None:
        return [], []
    sources_raw = parsed.data.get("sources")
    sources: list[Source] = []
    if not sources_raw:
        problems.append(Problem(path, 2, "the glossary needs 'sources'"))
    else:
        try:
            sources = [Source.model_validate(item) for item in sources_raw]
        except ValidationError as error:
            _report(path, parsed, error, problems)
    sections = _sections(path, parsed.body, problems)
    _check_asks(path, sections, problems)
    entries = [
        GlossaryEntry(term=s.card.title, text=s.card.text, asks=s.card.asks, line=s.card.line)
        for s in sections
    ]
    seen: set[str] = set()
    for entry in entries:
        if entry.term.casefold() in seen:
            problems.append(Problem(path, entry.line, f"the term '{entry.term}' is explained twice"))
        seen.add(entry.term.casefold())
    return entries, sources


def check_curriculum(
    root: Path = DEFAULT_CONTENT_DIR, terms_file: Path | None = DEFAULT_TERMS_FILE
) -> tuple[Curriculum, list[Problem]]:
    """Read everything under `root`; return what loaded cleanly and every problem found.

    `terms_file` lists the jargon each lesson must explain at first use (None: no such check).
    """
    problems: list[Problem] = []
    if not root.is_dir():
        return Curriculum(topics=[]), [Problem(root, 0, "the content folder does not exist")]
    terms: list[Term] = []
    if terms_file is not None:
        terms, findings = load_terms(terms_file)
        problems += [Problem(terms_file, finding.line, finding.message) for finding in findings]
    topics = [
        topic
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        if (topic := _load_topic(folder, terms, problems)) is not None
    ]
    glossary: list[GlossaryEntry] = []
    glossary_sources: list[Source] = []
    if (root / GLOSSARY_FILE).is_file():
        glossary, glossary_sources = _load_glossary(root / GLOSSARY_FILE, problems)

    first_id: dict[str, Path] = {}
    first_title: dict[str, Path] = {}
    for lesson in (lesson for topic in topics for lesson in topic.lessons):
        if lesson.id in first_id:
            problems.append(
                Problem(lesson.path, 2, f"id '{lesson.id}' is also used by {first_id[lesson.id]}")
            )
        first_id.setdefault(lesson.id, lesson.path)
        title = lesson.title.casefold()
        if title in first_title:
            problems.append(
                Problem(lesson.path, 2, f"title '{lesson.title}' is also used by {first_title[title]}")
            )
        first_title.setdefault(title, lesson.path)
    topic_orders = [topic.order for topic in topics]
    for topic in topics:
        if topic_orders.count(topic.order) > 1:
            problems.append(Problem(root / topic.id / TOPIC_FILE, 1, f"two topics have order {topic.order}"))
    curriculum = Curriculum(
        topics=sorted(topics, key=lambda t: t.order), glossary=glossary, glossary_sources=glossary_sources
    )
    return curriculum, sorted(set(problems))


def load_curriculum(
    root: Path = DEFAULT_CONTENT_DIR, terms_file: Path | None = DEFAULT_TERMS_FILE
) -> Curriculum:
    """Load the curriculum, refusing content with any problem."""
    curriculum, problems = check_curriculum(root, terms_file)
    if problems:
        raise ContentError(problems)
    if not curriculum.lessons:
        raise ContentError([Problem(root, 0, "no lessons found")])
    return curriculum
