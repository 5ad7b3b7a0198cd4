"""Input that once gave 500s now gives 4xx pages in Vietnamese with the security headers; links and
redirects never echo the Host header; the question queue is capped per learner and paged; an
announcement is sent once per confirmation."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from admin.web import AdminContext, create_admin_app
from bot.app import App
from bot.channels.zalo import SECRET_HEADER, ZaloChannel
from bot.web import WebParts, create_web_app
from data.models import Broadcast, Learner, OutboxMessage, UnansweredQuestion
from data.repository import MAX_OPEN_QUESTIONS, SqlStore
from tests.admin.dashboard.conftest import Seeded, add_question, announce, csrf_of, login

HUGE = "99999999999999999999"  # beyond any 64-bit id
HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


@pytest.fixture
async def plain_client(admin_context: AdminContext) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose app errors are not raised into the test (to see what a browser would get)."""
    transport = httpx.ASGITransport(app=create_admin_app(admin_context), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


def assert_error_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    assert 'id="error"' in response.text and "Về trang chính" in response.text  # Vietnamese, a way back
    assert '"detail"' not in response.text
    for name in HEADERS:
        assert response.headers.get(name), name


# --- 4xx, never 500 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("GET", f"/kb/{HUGE}", None, 404),
        ("GET", f"/announcements/{HUGE}", None, 404),
        ("POST", f"/questions/{HUGE}", {"action": "handled"}, 404),
        ("POST", f"/kb/{HUGE}", {"action": "save", "question": "Câu?", "answer": "Đáp."}, 404),
        ("POST", "/questions/group", {"q": HUGE, "action": "handled"}, 404),
        ("POST", "/questions/group", {"q": "1", "action": "entry", "entry_id": HUGE}, 422),
        ("POST", "/kb", {"question": "Câu?", "answer": "Đáp.", "source": HUGE}, 422),
        ("GET", f"/kb/new?question={HUGE}", None, 400),
        ("GET", "/kb/-5", None, 404),
        ("GET", "/report?period=0001", None, 400),
        ("GET", "/report?period=9999-Q4", None, 400),
        ("GET", "/report?period=" + "2" * 5000, None, 400),
        ("GET", "/questions?page=0", None, 400),
        ("GET", f"/questions?page={HUGE}", None, 400),
    ],
)
async def test_out_of_range_ids_periods_and_pages_are_4xx_pages_never_500(
    plain_client: httpx.AsyncClient,
    seeded: Seeded,
    method: str,
    path: str,
    data: dict[str, str] | None,
    status: int,
) -> None:
    await login(plain_client, "canbo")
    page = await plain_client.get("/admin/c/tan-hoc")
    form = {**data, "csrf": csrf_of(page.text)} if data is not None else None
    response = await plain_client.request(method, f"/admin/c/tan-hoc{path}", data=form)
    assert_error_page(response, status)


async def test_a_deeply_nested_json_body_is_400_at_the_webhook_and_harmless_at_the_dashboard(
    app: App, client: httpx.AsyncClient, seeded: Seeded
) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    channel = ZaloChannel(app.assistant, "zalo-token-for-tests", "http://127.0.0.1:9")

    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    web = create_web_app(WebParts(health=health, zalo=channel, zalo_secret="zalo-webhook-secret-for-tests"))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://hook") as hook:
            response = await hook.post(
                "/webhooks/zalo",
                content=deep,
                headers={SECRET_HEADER: "zalo-webhook-secret-for-tests", "content-type": "application/json"},
            )
            assert response.status_code == 400
            assert (await hook.get("/nowhere")).headers.get("x-frame-options") == "DENY"
    finally:
        await channel.close()
    response = await client.post("/admin/login", content=deep, headers={"content-type": "application/json"})
    assert response.status_code in (400, 403) and "Đăng nhập" in response.text


# --- error pages -------------------------------------------------------------------------------------
async def test_errors_are_vietnamese_pages_with_the_security_headers(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert_error_page(await client.get("/admin/khong-co-trang-nay"), 404)
    await login(client, "canbo")
    assert_error_page(await client.get("/admin/c/xa-khac"), 403)
    assert_error_page(await client.get("/admin/c/khong-co-xa-nay"), 404)
    assert_error_page(await client.post("/admin/c/tan-hoc/mentors/invite", data={"count": "1"}), 403)
    assert_error_page(await client.get("/admin/logout"), 405)  # a button's address opened as a link
    outside = await client.get("/khong-thuoc-bang-dieu-khien")
    assert outside.status_code == 404 and all(outside.headers.get(name) for name in HEADERS)


PERSONAL = "disk I/O error near: the learner Nguyễn Văn A typed this"


class _BrokenSessions:
    """A database that fails on use, as a full disk would."""

    def __call__(self) -> _BrokenSessions:
        return self

    async def __aenter__(self) -> Any:
        raise RuntimeError(PERSONAL)  # an error whose message holds what someone typed

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_failure_of_ours_is_a_500_page_and_a_log_line_without_its_message(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = AdminContext(
        sessions=_BrokenSessions(),  # type: ignore[arg-type]
        communes=app.communes,
        curriculum=app.curriculum,
        clock=app.assistant.clock,
        secret="a-test-secret-of-enough-length",
    )
    transport = httpx.ASGITransport(app=create_admin_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as broken:
        broken.cookies.set("hocvuso_admin", "some-session-token")
        with caplog.at_level(logging.ERROR):
            response = await broken.get("/admin/c/tan-hoc")
    assert_error_page(response, 500)
    assert "Hệ thống gặp sự cố" in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "/c/{commune_id}" in logged and "Nguyễn" not in logged


# --- the Host header ---------------------------------------------------------------------------------
async def test_links_and_redirects_never_carry_the_host_header(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    evil = {"Host": "evil.example"}
    form = await client.get("/admin/login", headers=evil)
    assert "evil.example" not in form.text and 'action="/admin/login"' in form.text
    away = await client.get("/admin/c/tan-hoc", headers=evil)
    assert away.headers["location"] == "/admin/login"
    logged_in = await client.post(
        "/admin/login",
        data={"username": "canbo", "password": "mat-khau-du-dai", "csrf": csrf_of(form.text)},
        headers=evil,
    )
    assert logged_in.headers["location"] == "/admin/"
    home = await client.get("/admin/", headers=evil)
    assert home.headers["location"] == "/admin/c/tan-hoc"
    page = await client.get("/admin/c/tan-hoc/questions", headers=evil)
    assert "evil.example" not in page.text and "testserver" not in page.text


# --- the question queue ------------------------------------------------------------------------------
async def test_one_learner_cannot_fill_the_queue(app: App, seeded: Seeded) -> None:
    learner = seeded.learners["An"]
    async with app.assistant.sessions() as session, session.begin():
        store = SqlStore(session, app.assistant.clock.now())
        for n in range(MAX_OPEN_QUESTIONS + 5):
            await store.queue_question(learner, f"Câu hỏi thứ {n} về điện thoại", [])
        await store.queue_question(learner, "câu hỏi thứ 0   về ĐIỆN THOẠI", [])
    async with app.assistant.sessions() as session:
        waiting = await session.scalar(
            select(func.count()).where(
                UnansweredQuestion.learner_id == learner, UnansweredQuestion.status == "open"
            )
        )
    assert waiting == MAX_OPEN_QUESTIONS


async def test_the_same_question_twice_is_queued_once(app: App, seeded: Seeded) -> None:
    learner = seeded.learners["Bình"]
    async with app.assistant.sessions() as session, session.begin():
        store = SqlStore(session, app.assistant.clock.now())
        await store.queue_question(learner, "Làm sao chặn số lạ?", [])
        await store.queue_question(learner, "  làm sao  chặn số LẠ? ", [])
    async with app.assistant.sessions() as session:
        texts = (
            await session.scalars(
                select(UnansweredQuestion.text).where(UnansweredQuestion.learner_id == learner)
            )
        ).all()
    assert texts == ["Làm sao chặn số lạ?"]


WORDS = [
    "mạng",
    "điện",
    "thoại",
    "ngân",
    "hàng",
    "mật",
    "khẩu",
    "zalo",
    "chuyển",
    "tiền",
    "otp",
    "wifi",
    "vneid",
    "thuế",
    "bảo",
    "hiểm",
    "xe",
    "khám",
    "bệnh",
]


async def test_the_questions_page_shows_fifty_at_a_time(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    async with app.assistant.sessions() as session, session.begin():
        learners = []
        for n in range(24):
            learner = Learner(
                channel="test",
                channel_user_id=f"q-{n}",
                chat_id=f"q-{n}",
                name=f"Người {n}",
                commune_id="tan-hoc",
                village_id="thon-dong",
                created_at=app.assistant.clock.now(),
                last_active_at=app.assistant.clock.now(),
            )
            session.add(learner)
            learners.append(learner)
        await session.flush()
        ids = [learner.id for learner in learners]
    for n in range(119):  # 120 with the seeded one
        words = " ".join(WORDS[(n * k) % len(WORDS)] for k in (1, 3, 7))
        await add_question(app, ids[n % len(ids)], f"Hỏi {n}: {words} {'x' * (n % 5)}?")
    await login(client, "canbo")
    first = await client.get("/admin/c/tan-hoc/questions")
    assert len(re.findall(r'name="q" value="\d+"', first.text)) == 50
    assert "120 câu hỏi đang chờ" in first.text and "trang 1/3" in first.text
    assert (
        'href="/admin/c/tan-hoc/questions?page=2"' in first.text
        and "Làm sao đổi mật khẩu Zalo?" in first.text
    )
    last = await client.get("/admin/c/tan-hoc/questions", params={"page": "3"})
    assert len(re.findall(r'name="q" value="\d+"', last.text)) == 20
    assert 'href="/admin/c/tan-hoc/questions?page=2"' in last.text and "page=4" not in last.text
    assert "Làm sao đổi mật khẩu Zalo?" not in last.text


# --- announcements -----------------------------------------------------------------------------------
async def test_a_double_submitted_announcement_is_sent_once(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    first, form = await announce(client, "tan-hoc", "Họp thôn tối thứ Bảy", "thon-dong")
    again = await client.post("/admin/c/tan-hoc/announcements", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 1
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


async def test_an_announcement_needs_the_token_of_its_own_preview(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    _, form = await announce(client, "tan-hoc", "Thông báo thật", "thon-dong")
    for changed in (
        {"token": ""},
        {"token": form["token"] + "x"},
        {"text": "Thông báo đã bị sửa"},
        {"village": "thon-tay"},
    ):
        response = await client.post("/admin/c/tan-hoc/announcements", data={**form, **changed})
        assert_error_page(response, 400)
        assert "xem trước lại" in response.text
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 1
