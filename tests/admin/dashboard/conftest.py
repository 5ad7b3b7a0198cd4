"""Fixtures for the dashboard: two communes, three accounts, seeded learners, an HTTPS test client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from admin import store as admin_store
from admin.security import LoginPolicy
from admin.web import AdminContext, create_admin_app
from bot.app import App, build_app
from bot.settings import Settings
from data import knowledge as kb
from data.models import Completion, Learner, UnansweredQuestion
from tests.conftest import FIXTURE_CURRICULUM
from tests.driver import FakeAnswerer, FakeClock

TWO_COMMUNES = """
communes:
  - id: tan-hoc
    name: Xã Tân Học
    province: Tỉnh Mẫu
    targets: [{year: 2026, basic_skills_share: 0.8}]
    villages:
      - {id: thon-dong, name: Thôn Đông, adults: 100}
      - {id: thon-tay, name: Thôn Tây, adults: 50}
  - id: xa-khac
    name: Xã Khác
    province: Tỉnh Mẫu
    targets: [{year: 2026, basic_skills_share: 0.8}]
    villages:
      - {id: thon-a, name: Thôn A, adults: 10}
"""
PASSWORD = "mat-khau-du-dai"
CORE = ("an-toan-otp", "dien-thoai-wifi")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    communes = tmp_path / "communes.yaml"
    communes.write_text(TWO_COMMUNES, encoding="utf-8")
    return Settings(data_dir=tmp_path / "var", content_dir=FIXTURE_CURRICULUM, commune_file=communes)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    application = await build_app(settings, clock=clock, answerer=FakeAnswerer())
    yield application
    await application.close()


@dataclass
class Seeded:
    """Ids of what `seed` created."""

    learners: dict[str, int]
    questions: dict[str, int]


async def add_learner(
    app: App,
    name: str,
    commune: str,
    village: str,
    lessons: tuple[str, ...] = (),
    *,
    active_days_ago: int = 0,
    completed_at: datetime | None = None,
) -> int:
    now = app.assistant.clock.now()
    async with app.assistant.sessions() as session, session.begin():
        learner = Learner(
            channel="test",
            channel_user_id=f"u-{name}",
            chat_id=f"u-{name}",
            name=name,
            commune_id=commune,
            village_id=village,
            role="learner",
            consent_at=now,
            registered_at=now - timedelta(days=40),
            created_at=now - timedelta(days=40),
            last_active_at=now - timedelta(days=active_days_ago),
        )
        session.add(learner)
        await session.flush()
        for lesson in lessons:
            session.add(
                Completion(
                    learner_id=learner.id,
                    lesson_id=lesson,
                    correct=2,
                    total=2,
                    completed_at=completed_at or now,
                )
            )
        return learner.id


async def add_question(app: App, learner_id: int, text: str) -> int:
    async with app.assistant.sessions() as session, session.begin():
        question = UnansweredQuestion(
            learner_id=learner_id, text=text, asked_at=app.assistant.clock.now(), candidates={}, status="open"
        )
        session.add(question)
        await session.flush()
        return question.id


async def add_entry(app: App, commune: str, question: str, status: kb.Status, answer: str = "") -> int:
    """A knowledge-base entry written straight to the database."""
    async with app.assistant.sessions() as session, session.begin():
        entry = await kb.create_entry(
            session,
            commune,
            question=question,
            answer=answer or f"Trả lời: {question}",
            by="test",
            now=app.assistant.clock.now(),
            status=status,
        )
        return entry.id


async def answer_directly(app: App, question_id: int, answer: str, by: str = "mentor:1") -> None:
    """Record an answer the way a mentor's answer in the chat is recorded (status, text, who)."""
    async with app.assistant.sessions() as session, session.begin():
        question = await session.get(UnansweredQuestion, question_id)
        assert question is not None
        question.status = "answered"
        question.answer_text = answer
        question.answered_at = app.assistant.clock.now()
        question.answered_by = by


@pytest.fixture
async def seeded(app: App) -> Seeded:
    """Tân Học: Thôn Đông 3 registered (2 finished the core), Thôn Tây 1 (finished); Xã Khác: 1 learner.

    Overview of Tân Học: registered 4, active 7 days 3, active 30 days 4, completions 7, core finishers 3.
    """
    learners = {
        "An": await add_learner(app, "An", "tan-hoc", "thon-dong", CORE),
        "Bình": await add_learner(app, "Bình", "tan-hoc", "thon-dong", CORE, active_days_ago=3),
        "Cúc": await add_learner(
            app, "Cúc", "tan-hoc", "thon-dong", ("dien-thoai-wifi",), active_days_ago=20
        ),
        "Dung": await add_learner(app, "Dung", "tan-hoc", "thon-tay", CORE),
        "Khác": await add_learner(app, "Khác", "xa-khac", "thon-a", CORE),
    }
    questions = {
        "tan-hoc": await add_question(app, learners["Cúc"], "Làm sao đổi mật khẩu Zalo?"),
        "xa-khac": await add_question(app, learners["Khác"], "Câu hỏi của xã khác"),
    }
    async with app.assistant.sessions() as session, session.begin():
        now = app.assistant.clock.now()
        await admin_store.create_admin(session, "canbo", PASSWORD, "tan-hoc", now)
        await admin_store.create_admin(session, "khac", PASSWORD, "xa-khac", now)
        await admin_store.create_admin(session, "tinh", PASSWORD, None, now)
    return Seeded(learners, questions)


@pytest.fixture
def admin_context(app: App) -> Iterator[AdminContext]:
    context = AdminContext(
        sessions=app.assistant.sessions,
        communes=app.communes,
        curriculum=app.curriculum,
        clock=app.assistant.clock,
        secret="a-test-secret-of-enough-length",
        # refusals answer at once; passwords checked at normal priority, however busy the test machine
        login_policy=LoginPolicy(tarpit_seconds=0, checks_when_idle=False),
    )
    yield context
    context.password_checks.close()


@pytest.fixture
async def client(admin_context: AdminContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_admin_app(admin_context))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/admin/login")
    return await client.post(
        "/admin/login", data={"username": username, "password": password, "csrf": csrf_of(form.text)}
    )


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no confirmation token in the preview"
    return match.group(1)


async def announce(
    client: httpx.AsyncClient, commune: str, text: str, village: str = ""
) -> tuple[httpx.Response, dict[str, str]]:
    """Preview an announcement and confirm it, as the pages do; returns the confirmation's response and
    the form that was sent (to send it again)."""
    page = await client.get(f"/admin/c/{commune}/announcements")
    preview = await client.post(
        f"/admin/c/{commune}/announcements/preview",
        data={"csrf": csrf_of(page.text), "text": text, "village": village},
    )
    assert preview.status_code == 200, preview.text
    form = {
        "csrf": csrf_of(preview.text),
        "text": text,
        "village": village,
        "confirm": "yes",
        "token": token_of(preview.text),
    }
    return await client.post(f"/admin/c/{commune}/announcements", data=form), form
