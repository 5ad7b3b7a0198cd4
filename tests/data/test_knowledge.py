"""Knowledge-base entries in the database (SQLite and PostgreSQL): versions move on every change, and
YAML export/import round-trips without ever approving silently or touching another commune."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from data import knowledge as kb
from data.db import create_engine, migrate, session_factory
from data.models import KnowledgeEntry

NOW = datetime(2026, 11, 2, tzinfo=UTC)
LESSONS = {"an-toan-otp", "dien-thoai-wifi"}


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hocvuso.db'}"
    fresh: str = request.getfixturevalue("fresh_postgres")
    return fresh


@pytest.fixture
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def add(
    sessions: async_sessionmaker[AsyncSession],
    commune: str,
    question: str,
    status: kb.Status = "draft",
    **kw: Any,
) -> int:
    async with sessions() as session, session.begin():
        entry = await kb.create_entry(
            session,
            commune,
            question=question,
            answer=f"Trả lời: {question}",
            by="test",
            now=NOW,
            status=status,
            **kw,
        )
        return entry.id


async def test_every_change_moves_the_communes_version_and_only_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await kb.versions(session) == {}
    first = await add(sessions, "tan-hoc", "Trạm y tế mở cửa mấy giờ?")
    await add(sessions, "xa-khac", "Câu của xã khác")
    seen = []
    for change in ("add", "edit", "same edit", "approve", "retire", "variant"):
        async with sessions() as session, session.begin():
            entry = await kb.entry_in_commune(session, "tan-hoc", first)
            assert entry is not None
            if change == "add":
                await kb.create_entry(session, "tan-hoc", question="Khác?", answer="Đáp.", by="t", now=NOW)
            elif change in ("edit", "same edit"):
                kb.edit_entry(
                    entry,
                    question=entry.question,
                    answer="Từ 7 giờ.",
                    lesson_id=None,
                    variants=(),
                    by="t",
                    now=NOW,
                )
            elif change == "approve":
                kb.set_status(entry, "approved", "admin:canbo", NOW)
            elif change == "retire":
                kb.set_status(entry, "retired", "admin:canbo", NOW)
            else:
                kb.add_variant(entry, "tram y te lam viec may gio", "admin:canbo", NOW)
        async with sessions() as session:
            seen.append((await kb.versions(session))["tan-hoc"])
            assert (await kb.versions(session))["xa-khac"] == (1, 1)
    assert seen[1] != seen[0] and seen[2] == seen[1]  # an edit that changes nothing is no change
    assert len(set(seen)) == 5 and seen == sorted(seen)


async def test_an_entry_of_another_commune_is_not_found_by_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    theirs = await add(sessions, "xa-khac", "Câu của xã khác", status="approved")
    async with sessions() as session:
        assert await kb.entry_in_commune(session, "tan-hoc", theirs) is None
        assert await kb.approved(session, "tan-hoc") == []
        assert [e.id for e in await kb.approved(session, "xa-khac")] == [theirs]


async def test_export_then_import_elsewhere_round_trips_as_drafts_or_approved_when_asked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add(
        sessions, "tan-hoc", "Mật khẩu wifi nhà văn hóa là gì?", "approved", lesson_id="dien-thoai-wifi"
    )
    await add(sessions, "tan-hoc", "Trạm y tế mở cửa mấy giờ?", variants=["tram y te may gio mo cua"])
    retired = await add(sessions, "tan-hoc", "Câu cũ", "approved")
    async with sessions() as session, session.begin():
        entry = await kb.entry_in_commune(session, "tan-hoc", retired)
        assert entry is not None
        kb.set_status(entry, "retired", "t", NOW)
    async with sessions() as session:
        exported = kb.export_yaml("tan-hoc", await kb.entries(session, "tan-hoc"), NOW)
    assert yaml.safe_load(exported)["commune"] == "tan-hoc"

    async with sessions() as session, session.begin():
        result = await kb.import_yaml(session, "xa-moi", exported, by="cli", now=NOW, lessons=LESSONS)
    assert (result.created, result.approved) == (3, 0)
    async with sessions() as session:
        imported = {e.question: e for e in await kb.entries(session, "xa-moi")}
        assert {q: e.status for q, e in imported.items()} == {
            "Mật khẩu wifi nhà văn hóa là gì?": "draft",
            "Trạm y tế mở cửa mấy giờ?": "draft",
            "Câu cũ": "retired",
        }
        assert imported["Mật khẩu wifi nhà văn hóa là gì?"].lesson_id == "dien-thoai-wifi"
        assert imported["Trạm y tế mở cửa mấy giờ?"].variants == ["tram y te may gio mo cua"]
        # the ids in the file are the other commune's: nothing of tan-hoc changed
        assert {e.status for e in await kb.entries(session, "tan-hoc")} == {"approved", "draft", "retired"}

    async with sessions() as session, session.begin():  # the same file again, approving: no duplicates
        again = await kb.import_yaml(session, "xa-moi", exported, by="cli", now=NOW, approve=True)
    assert (again.created, again.approved) == (0, 2)
    async with sessions() as session:
        assert sorted(e.status for e in await kb.entries(session, "xa-moi")) == [
            "approved",
            "approved",
            "retired",
        ]
        again_export = kb.export_yaml("xa-moi", await kb.entries(session, "xa-moi"), NOW)
    strip = [
        {k: v for k, v in e.items() if k not in ("id", "status")} for e in yaml.safe_load(exported)["entries"]
    ]
    assert [
        {k: v for k, v in e.items() if k not in ("id", "status")}
        for e in yaml.safe_load(again_export)["entries"]
    ] == strip


async def test_an_import_that_changes_an_approved_entry_sends_it_back_to_review(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    entry_id = await add(sessions, "tan-hoc", "Trạm y tế mở cửa mấy giờ?", "approved")
    async with sessions() as session:
        document = yaml.safe_load(kb.export_yaml("tan-hoc", await kb.entries(session, "tan-hoc"), NOW))
    async with sessions() as session, session.begin():
        unchanged = await kb.import_yaml(session, "tan-hoc", yaml.safe_dump(document), by="cli", now=NOW)
    assert (unchanged.unchanged, unchanged.updated) == (1, 0)
    document["entries"][0]["answer"] = "Từ 7 giờ đến 16 giờ."
    async with sessions() as session, session.begin():
        changed = await kb.import_yaml(session, "tan-hoc", yaml.safe_dump(document), by="cli", now=NOW)
    assert changed.updated == 1
    async with sessions() as session:
        entry = await kb.entry_in_commune(session, "tan-hoc", entry_id)
        assert entry is not None and (entry.status, entry.answer) == ("draft", "Từ 7 giờ đến 16 giờ.")
    document["entries"][0]["status"] = "retired"
    async with sessions() as session, session.begin():
        assert (
            await kb.import_yaml(session, "tan-hoc", yaml.safe_dump(document), by="cli", now=NOW)
        ).retired == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answer": ""}, "answer"),
        ({"lesson": "khong-co-bai-nay"}, "no lesson"),
        ({"colour": "red"}, "colour"),
        ({"id": 1}, "twice"),
    ],
)
async def test_a_bad_file_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], change: dict[str, object], message: str
) -> None:
    good = {"question": "Câu một?", "answer": "Đáp một.", "id": 1}
    bad = {"question": "Câu hai?", "answer": "Đáp hai.", **change}
    text = yaml.safe_dump({"commune": "tan-hoc", "entries": [good, bad]}, allow_unicode=True)
    with pytest.raises(kb.EntryError, match=message):
        async with sessions() as session, session.begin():
            await kb.import_yaml(session, "tan-hoc", text, by="cli", now=NOW, lessons=LESSONS)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 0
