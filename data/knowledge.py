"""The communes' knowledge base in the database: reviewed entries, their changes, and YAML export/import.

An entry is a question and the answer a commune's staff reviewed, often made from a queued question a
mentor or staff answered. Statuses: `draft` (waiting for review) -> `approved` (answered to learners by
`retrieval.knowledge`) -> `retired` (kept, never answered); a retired entry may become a draft again.
Every change adds one to the entry's `revision`, so `versions` (count and sum of revisions per commune)
changes whenever anything changed, in whichever process the change was made.

Functions take the session of the caller's transaction and never commit (the caller's unit of work does).
Import never approves anything unless asked to, and never touches another commune's entries: an id in
the file counts only when the file comes from the same commune and the entry is still there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from data.models import KnowledgeEntry, Learner, UnansweredQuestion

STATUSES = ("draft", "approved", "retired")
Status = Literal["draft", "approved", "retired"]
MAX_QUESTION = 500
MAX_ANSWER = 1000
MAX_VARIANTS = 30
FORMAT = 1  # of the YAML export


class EntryError(ValueError):
    """An entry cannot be saved as given (the message says why, in words staff understand)."""


def _same(text: str) -> str:
    """Two phrasings that differ only in case and spacing are the same phrasing."""
    return " ".join(text.casefold().split())


def clean_variants(variants: Iterable[str], question: str) -> list[str]:
    """Non-empty, distinct phrasings other than the question itself, each at most `MAX_QUESTION`."""
    seen = {_same(question)}
    out: list[str] = []
    for variant in variants:
        text = " ".join(variant.split())[:MAX_QUESTION]
        if text and _same(text) not in seen:
            seen.add(_same(text))
            out.append(text)
    return out[:MAX_VARIANTS]


def _checked(question: str, answer: str, lesson_id: str | None, lessons: Collection[str] | None) -> None:
    if not question.strip():
        raise EntryError("the question is empty")
    if not answer.strip():
        raise EntryError("the answer is empty")
    if len(question.strip()) > MAX_QUESTION:
        raise EntryError(f"the question is longer than {MAX_QUESTION} characters")
    if len(answer.strip()) > MAX_ANSWER:
        raise EntryError(f"the answer is longer than {MAX_ANSWER} characters")
    if lesson_id and lessons is not None and lesson_id not in lessons:
        raise EntryError(f"no lesson {lesson_id!r} in the curriculum")


async def create_entry(
    session: AsyncSession,
    commune_id: str,
    *,
    question: str,
    answer: str,
    by: str,
    now: datetime,
    lesson_id: str | None = None,
    variants: Iterable[str] = (),
    source_question_ids: Iterable[int] = (),
    status: Status = "draft",
    lessons: Collection[str] | None = None,
) -> KnowledgeEntry:
    """A new entry (a draft unless told otherwise); `lessons` are the valid lesson ids, when checked."""
    _checked(question, answer, lesson_id, lessons)
    entry = KnowledgeEntry(
        commune_id=commune_id,
        question=question.strip(),
        variants=clean_variants(variants, question),
        answer=answer.strip(),
        lesson_id=lesson_id or None,
        status=status,
        source_question_ids=sorted(set(source_question_ids)),
        revision=1,
        created_at=now,
        created_by=by[:100],
        approved_at=now if status == "approved" else None,
        approved_by=by[:100] if status == "approved" else None,
        updated_at=now,
        updated_by=by[:100],
    )
    session.add(entry)
    await session.flush()
    return entry


def _touch(entry: KnowledgeEntry, by: str, now: datetime) -> None:
    entry.revision = entry.revision + 1
    entry.updated_at = now
    entry.updated_by = by[:100]


def edit_entry(
    entry: KnowledgeEntry,
    *,
    question: str,
    answer: str,
    lesson_id: str | None,
    variants: Iterable[str],
    by: str,
    now: datetime,
    lessons: Collection[str] | None = None,
) -> bool:
    """Change the text, lesson or phrasings; True when anything changed. The status stays: staff who
    edit an approved entry on the dashboard are its reviewers (an import demotes it instead)."""
    _checked(question, answer, lesson_id, lessons)
    new = (question.strip(), answer.strip(), lesson_id or None, clean_variants(variants, question))
    if new == (entry.question, entry.answer, entry.lesson_id, list(entry.variants)):
        return False
    entry.question, entry.answer, entry.lesson_id, entry.variants = new
    _touch(entry, by, now)
    return True


def set_status(entry: KnowledgeEntry, status: Status, by: str, now: datetime) -> bool:
    """Approve, retire or send back to draft; True when the status changed."""
    if status not in STATUSES:
        raise EntryError(f"unknown status {status!r}")
    if entry.status == status:
        return False
    entry.status = status
    if status == "approved":
        entry.approved_at = now
        entry.approved_by = by[:100]
    _touch(entry, by, now)
    return True


def add_sources(entry: KnowledgeEntry, question_ids: Iterable[int], by: str, now: datetime) -> None:
    """Remember more queued questions this entry answered."""
    merged = sorted(set(entry.source_question_ids) | set(question_ids))
    if merged != list(entry.source_question_ids):
        entry.source_question_ids = merged
        _touch(entry, by, now)


def add_variant(entry: KnowledgeEntry, text: str, by: str, now: datetime) -> bool:
    """Add one more way of asking; True when it was new."""
    merged = clean_variants([*entry.variants, text], entry.question)
    if merged == list(entry.variants):
        return False
    entry.variants = merged
    _touch(entry, by, now)
    return True


async def entry_in_commune(session: AsyncSession, commune_id: str, entry_id: int) -> KnowledgeEntry | None:
    """One entry of the commune; None for any other id (no peeking across communes)."""
    return await session.scalar(
        select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id, KnowledgeEntry.commune_id == commune_id)
    )


async def entries(session: AsyncSession, commune_id: str, status: str | None = None) -> list[KnowledgeEntry]:
    """The commune's entries (of one status, when given), most recently changed first."""
    query = select(KnowledgeEntry).where(KnowledgeEntry.commune_id == commune_id)
    if status is not None:
        query = query.where(KnowledgeEntry.status == status)
    rows = await session.scalars(query.order_by(KnowledgeEntry.updated_at.desc(), KnowledgeEntry.id.desc()))
    return list(rows.all())


async def counts(session: AsyncSession, commune_id: str) -> dict[str, int]:
    """How many entries of the commune are in each status (every status present)."""
    rows = await session.execute(
        select(KnowledgeEntry.status, func.count())
        .where(KnowledgeEntry.commune_id == commune_id)
        .group_by(KnowledgeEntry.status)
    )
    out = dict.fromkeys(STATUSES, 0)
    out.update({status: int(n) for status, n in rows})
    return out


Version = tuple[int, int]  # (entries, sum of their revisions)


async def versions(session: AsyncSession) -> dict[str, Version]:
    """Per commune, a value that changes whenever any of its entries is added or changed. One indexed
    aggregate: cheap enough to ask every few seconds from every process."""
    rows = await session.execute(
        select(
            KnowledgeEntry.commune_id, func.count(), func.coalesce(func.sum(KnowledgeEntry.revision), 0)
        ).group_by(KnowledgeEntry.commune_id)
    )
    return {commune: (int(n), int(total)) for commune, n, total in rows}


@dataclass(frozen=True)
class ApprovedEntry:
    """What the matcher needs of an approved entry."""

    id: int
    commune_id: str
    question: str
    variants: tuple[str, ...]
    answer: str
    lesson_id: str | None


async def approved(session: AsyncSession, commune_id: str) -> list[ApprovedEntry]:
    """The commune's approved entries, oldest first (a stable order for ties)."""
    rows = await session.scalars(
        select(KnowledgeEntry)
        .where(KnowledgeEntry.commune_id == commune_id, KnowledgeEntry.status == "approved")
        .order_by(KnowledgeEntry.id)
    )
    return [
        ApprovedEntry(e.id, e.commune_id, e.question, tuple(e.variants), e.answer, e.lesson_id)
        for e in rows.all()
    ]


async def answered_not_in_kb(
    session: AsyncSession, commune_id: str, limit: int = 30
) -> list[tuple[UnansweredQuestion, Learner]]:
    """The commune's queued questions a mentor or staff answered that no entry was made from yet,
    newest first: the pairs staff may turn into entries."""
    used: set[int] = set()
    for ids in await session.scalars(
        select(KnowledgeEntry.source_question_ids).where(KnowledgeEntry.commune_id == commune_id)
    ):
        used.update(ids)
    rows = await session.execute(
        select(UnansweredQuestion, Learner)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(
            Learner.commune_id == commune_id,
            UnansweredQuestion.status == "answered",
            UnansweredQuestion.answer_text.is_not(None),
        )
        .order_by(UnansweredQuestion.answered_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit + len(used))
    )
    return [(q, learner) for q, learner in rows if q.id not in used][:limit]


async def answered_question(
    session: AsyncSession, commune_id: str, question_id: int
) -> UnansweredQuestion | None:
    """One answered queued question of the commune's learners; None for any other id."""
    return await session.scalar(
        select(UnansweredQuestion)
        .join(Learner, Learner.id == UnansweredQuestion.learner_id)
        .where(
            UnansweredQuestion.id == question_id,
            Learner.commune_id == commune_id,
            UnansweredQuestion.status == "answered",
        )
    )


# --- YAML export and import ----------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Multi-line answers as literal blocks, so the file reads and edits like the dashboard's form."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def export_yaml(commune_id: str, rows: Sequence[KnowledgeEntry], now: datetime) -> str:
    """The commune's entries as YAML (every status; import reads it back)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "commune": commune_id,
        "exported_at": now.isoformat(timespec="seconds"),
        "entries": [
            {
                "id": e.id,
                "status": e.status,
                "question": e.question,
                "variants": list(e.variants),
                "answer": e.answer,
                "lesson": e.lesson_id,
            }
            for e in sorted(rows, key=lambda e: e.id)
        ],
    }
    header = (
        "# Knowledge base of a commune (hocvuso). Edit, then: hocvuso kb import --commune ID FILE\n"
        "# Imported entries become drafts to review on the dashboard unless --approve is given;\n"
        "# status: retired retires an entry. Keep `id` to update an entry, leave it out to add one.\n"
    )
    body = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return header + body


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    status: Status = "draft"
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    variants: list[str] = Field(default_factory=list, max_length=MAX_VARIANTS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)
    lesson: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = FORMAT
    commune: str | None = None
    exported_at: str | None = None
    entries: list[_FileEntry]


@dataclass
class ImportResult:
    """What an import did, entry by entry counted once."""

    created: int = 0
    updated: int = 0
    approved: int = 0
    retired: int = 0
    unchanged: int = 0


def parse_yaml(text: str) -> tuple[str | None, list[_FileEntry]]:
    """Read an export; raises EntryError naming what is wrong."""
    try:
        data = yaml.safe_load(text)
        parsed = _File.model_validate(data)
    except yaml.YAMLError as error:
        raise EntryError(f"not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise EntryError(f"not a knowledge-base file: {problems}") from None
    if parsed.format != FORMAT:
        raise EntryError(f"file format {parsed.format}, this version reads {FORMAT}")
    ids = [e.id for e in parsed.entries if e.id is not None]
    if len(ids) != len(set(ids)):
        raise EntryError("an id appears twice in the file")
    return parsed.commune, parsed.entries


async def import_yaml(
    session: AsyncSession,
    commune_id: str,
    text: str,
    *,
    by: str,
    now: datetime,
    approve: bool = False,
    lessons: Collection[str] | None = None,
) -> ImportResult:
    """Create or update the commune's entries from an export.

    An entry whose `id` belongs to this commune (and the file is this commune's) is updated, else an
    entry of the commune with the same question is; otherwise a new one is created. New and changed
    entries become drafts, or approved with `approve`; unchanged ones keep their status, except that
    `approve` approves them too. `status: retired` in the file retires the entry. Nothing is written
    when any entry is invalid (the caller's transaction is rolled back by the raised error)."""
    file_commune, rows = parse_yaml(text)
    result = ImportResult()
    existing = await entries(session, commune_id)
    by_id = {e.id: e for e in existing} if file_commune in (None, commune_id) else {}
    # a live entry with that question before a retired one (which an import may bring back to review)
    by_question = {_same(e.question): e for e in sorted(existing, key=lambda e: e.status != "retired")}
    for number, row in enumerate(rows, start=1):
        try:
            _checked(row.question, row.answer, row.lesson, lessons)
        except EntryError as error:
            raise EntryError(f"entry {number}: {error}") from None
        entry = by_id.get(row.id) if row.id is not None else None
        entry = entry or by_question.get(_same(row.question))
        wanted: Status = "retired" if row.status == "retired" else ("approved" if approve else "draft")
        if entry is None:
            entry = await create_entry(
                session,
                commune_id,
                question=row.question,
                answer=row.answer,
                lesson_id=row.lesson,
                variants=row.variants,
                by=by,
                now=now,
                status=wanted,
            )
            result.created += 1
            by_question[_same(entry.question)] = entry
            continue
        changed = edit_entry(
            entry,
            question=row.question,
            answer=row.answer,
            lesson_id=row.lesson,
            variants=row.variants,
            by=by,
            now=now,
        )
        if wanted == "retired":
            moved = set_status(entry, "retired", by, now)
            result.retired += int(moved)
        elif changed or approve:
            # changed text is never answered before a review, unless the import itself is the review
            moved = set_status(entry, wanted, by, now)
            result.approved += int(moved and wanted == "approved")
        else:
            moved = False
        if changed:
            result.updated += 1
        elif not moved:
            result.unchanged += 1
    await session.flush()
    return result
