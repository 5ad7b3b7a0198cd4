"""Every access rule of the dashboard, each by a test that fails if the rule is removed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import App
from data import knowledge as kb
from data.models import Broadcast, Certificate, KnowledgeEntry, OutboxMessage, UnansweredQuestion
from tests.admin.dashboard.conftest import Seeded, add_entry, announce, answer_directly, csrf_of, login

PAGES = [
    "",
    "/lessons",
    "/mentors",
    "/questions",
    "/announcements",
    "/certificates",
    "/chart.svg",
    "/kb",
    "/kb/new",
    "/kb/export.yaml",
]


@pytest.mark.parametrize("path", [*PAGES, "/report?period=2026"])
async def test_without_login_every_page_sends_to_the_login(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    response = await client.get(f"/admin/c/tan-hoc{path}")
    assert response.status_code == 303 and response.headers["location"].endswith("/admin/login")


async def test_a_forged_or_foreign_cookie_is_not_a_session(client: httpx.AsyncClient, seeded: Seeded) -> None:
    client.cookies.set("hocvuso_admin", "eyJ1aWQiOjF9.forged.signature", domain="testserver")
    assert (await client.get("/admin/c/tan-hoc")).status_code == 303


@pytest.mark.parametrize("path", [*PAGES, "/report?period=2026"])
async def test_a_commune_admin_gets_403_on_another_communes_pages(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    await login(client, "canbo")
    assert (await client.get(f"/admin/c/xa-khac{path}")).status_code == 403
    assert (await client.get("/admin/c/khong-co-xa-nay")).status_code == 404


async def test_a_super_admin_sees_every_commune(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "tinh")
    home = await client.get("/admin/")
    assert "Xã Tân Học" in home.text and "Xã Khác" in home.text
    assert (await client.get("/admin/c/xa-khac")).status_code == 200
    assert (await client.get("/admin/c/tan-hoc")).status_code == 200


async def test_another_communes_question_cannot_be_answered_through_ones_own_commune(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    foreign = seeded.questions["xa-khac"]
    for action in ("answer", "handled"):
        response = await client.post(
            f"/admin/c/tan-hoc/questions/{foreign}",
            data={"csrf": csrf_of(page.text), "action": action, "answer": "xin chào"},
        )
        assert response.status_code == 404
    async with app.assistant.sessions() as session:
        question = await session.get(UnansweredQuestion, foreign)
        assert question is not None and question.status == "open"
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_another_communes_announcement_is_not_found(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "khac")
    sent, _ = await announce(client, "xa-khac", "riêng xã khác")
    url = sent.headers["location"]
    assert (await client.get(url)).status_code == 200
    client.cookies.clear()
    await login(client, "canbo")
    broadcast_id = url.rsplit("/", 1)[1]
    response = await client.get(f"/admin/c/tan-hoc/announcements/{broadcast_id}")
    assert response.status_code == 404 and "riêng xã khác" not in response.text


async def test_an_announcement_cannot_target_another_communes_village(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/announcements")
    for path in ("/announcements/preview", "/announcements"):
        response = await client.post(
            f"/admin/c/tan-hoc{path}",
            data={"csrf": csrf_of(page.text), "text": "x", "village": "thon-a", "confirm": "yes"},
        )
        assert response.status_code == 404
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_every_form_needs_the_sessions_csrf_token(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    question = seeded.questions["tan-hoc"]
    entry = await add_entry(app, "tan-hoc", "Trạm y tế mở cửa mấy giờ?", "draft")
    for path, data in (
        (f"/questions/{question}", {"action": "handled"}),
        ("/questions/group", {"q": str(question), "action": "answer", "answer": "x"}),
        ("/announcements/preview", {"text": "x"}),
        ("/announcements", {"text": "x", "confirm": "yes"}),
        ("/mentors/invite", {"count": "1"}),
        ("/kb", {"question": "Câu?", "answer": "Đáp.", "action": "approve"}),
        (f"/kb/{entry}", {"question": "Câu?", "answer": "Đáp.", "action": "approve"}),
    ):
        for token in (None, "wrong-token"):
            form = {**data, **({"csrf": token} if token else {})}
            assert (await client.post(f"/admin/c/tan-hoc{path}", data=form)).status_code == 403
    async with app.assistant.sessions() as session:
        row = await session.get(UnansweredQuestion, question)
        assert row is not None and row.status == "open"
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
        assert [e.status for e in await kb.entries(session, "tan-hoc")] == ["draft"]


async def test_the_login_form_needs_its_csrf_token(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await client.get("/admin/login")
    response = await client.post("/admin/login", data={"username": "canbo", "password": "mat-khau-du-dai"})
    assert response.status_code == 403


async def test_a_certificate_of_another_commune_is_not_found(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    async with app.assistant.sessions() as session, session.begin():
        session.add(
            Certificate(
                code="KHAC234567",
                learner_id=seeded.learners["Khác"],
                name="Khác",
                commune_id="xa-khac",
                issued_at=app.assistant.clock.now(),
                path="/nowhere.png",
            )
        )
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/certificates", params={"code": "KHAC234567"})
    assert "Không tìm thấy" in page.text
    client.cookies.clear()
    await login(client, "khac")
    page = await client.get("/admin/c/xa-khac/certificates", params={"code": "khac234567"})
    assert "Hợp lệ" in page.text and "Khác" in page.text


async def test_another_communes_knowledge_base_entries_are_not_found(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    theirs = await add_entry(app, "xa-khac", "Bí mật của xã khác?", "draft")
    await add_entry(app, "tan-hoc", "Trạm y tế mở cửa mấy giờ?", "approved")
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/kb")
    assert "Trạm y tế mở cửa mấy giờ?" in page.text and "Bí mật của xã khác?" not in page.text
    assert (await client.get(f"/admin/c/tan-hoc/kb/{theirs}")).status_code == 404
    for action in ("save", "approve", "retire", "draft"):
        response = await client.post(
            f"/admin/c/tan-hoc/kb/{theirs}",
            data={"csrf": csrf_of(page.text), "action": action, "question": "Đổi", "answer": "Đổi"},
        )
        assert response.status_code == 404
    exported = await client.get("/admin/c/tan-hoc/kb/export.yaml")
    assert "Trạm y tế" in exported.text and "Bí mật" not in exported.text
    assert (await client.get("/admin/c/xa-khac/kb/export.yaml")).status_code == 403
    async with app.assistant.sessions() as session:
        entry = await session.get(KnowledgeEntry, theirs)
        assert entry is not None and (entry.status, entry.question, entry.revision) == (
            "draft",
            "Bí mật của xã khác?",
            1,
        )


async def test_another_communes_answered_question_cannot_become_an_entry_here(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    foreign = seeded.questions["xa-khac"]
    await answer_directly(app, foreign, "Trả lời riêng của xã khác")
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/kb")
    assert "Trả lời riêng của xã khác" not in page.text
    assert (await client.get(f"/admin/c/tan-hoc/kb/new?question={foreign}")).status_code == 404
    response = await client.post(
        "/admin/c/tan-hoc/kb",
        data={"csrf": csrf_of(page.text), "question": "x?", "answer": "y", "source": str(foreign)},
    )
    assert response.status_code == 404
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 0


async def test_a_group_answer_never_reaches_another_communes_question_or_uses_its_entry(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    foreign_entry = await add_entry(app, "xa-khac", "Câu của xã khác?", "approved")
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    own, foreign = seeded.questions["tan-hoc"], seeded.questions["xa-khac"]
    response = await client.post(
        "/admin/c/tan-hoc/questions/group",
        data={"csrf": csrf_of(page.text), "q": [str(foreign)], "action": "answer", "answer": "x"},
    )
    assert response.status_code == 303
    response = await client.post(
        "/admin/c/tan-hoc/questions/group",
        data={"csrf": csrf_of(page.text), "q": [str(own)], "action": "entry", "entry_id": str(foreign_entry)},
    )
    assert response.status_code == 404
    async with app.assistant.sessions() as session:
        for question_id in (own, foreign):
            question = await session.get(UnansweredQuestion, question_id)
            assert question is not None and question.status == "open"
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
