"""The commune staff's web dashboard: a FastAPI router with server-rendered Jinja2 pages.

Security, in one place:
- passwords hashed with argon2 (`admin.store`); an account is locked for 15 minutes after 5 failures;
- the session is a signed cookie (itsdangerous), HttpOnly, Secure, SameSite=Strict, valid 8 hours; it
  carries a fragment of the password hash, so changing a password ends every session of the account;
- every form carries a CSRF token bound to the session (the login form one bound to a cookie of its own);
- a commune admin reaches only their commune: another commune's pages are 403, another commune's
  questions and announcements are 404 — the ids are looked up inside the admin's commune only;
- no JavaScript: charts are SVG drawn by pygal on the server and shown as images; a strict
  Content-Security-Policy forbids scripts on every page.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time, and the
# dependency alias `Auth` is local to `create_admin_router`, where string annotations cannot be resolved.
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import store
from admin.charts import villages_chart
from admin.reports import build_report, to_csv, to_xlsx
from bot.outbox import reply_to_json
from bot.ports import Clock
from data import outbox, stats
from data.commune import Commune, CommuneConfig
from data.models import AdminUser, Broadcast, Certificate
from data.repository import SqlStore
from data.stats import VIETNAM, Period, utc
from lessons.models import Curriculum

HERE = Path(__file__).parent
SESSION_COOKIE = "hocvuso_admin"
LOGIN_COOKIE = "hocvuso_login"
SESSION_HOURS = 8
MAX_ANNOUNCEMENT = 1000
MAX_ANSWER = 1000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class AdminContext:
    """What the dashboard needs; built once at start-up and handed to `create_admin_router`."""

    sessions: async_sessionmaker[AsyncSession]
    communes: CommuneConfig
    curriculum: Curriculum
    clock: Clock
    secret: str
    cookie_secure: bool = True
    stuck_days: int = 7
    templates: Jinja2Templates = field(init=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the dashboard's secret must be at least 16 characters")
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["pct"] = lambda v: f"{v * 100:.1f}%"
        self.templates.env.filters["num"] = lambda v: f"{v:,}".replace(",", ".")
        self.templates.env.filters["local"] = lambda d: utc(d).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Session:
    """The logged-in admin and the CSRF token of their session."""

    user: AdminUser
    csrf: str

    def commune_ids(self, communes: CommuneConfig) -> list[str]:
        if self.user.is_super:
            return [c.id for c in communes.communes]
        return [self.user.commune_id] if self.user.commune_id else []


def create_admin_router(ctx: AdminContext) -> APIRouter:
    """The dashboard's routes; mount with `include_router(router, prefix="/admin")`."""
    router = APIRouter()
    signer = URLSafeTimedSerializer(ctx.secret, salt="hocvuso-admin-session")
    login_signer = URLSafeTimedSerializer(ctx.secret, salt="hocvuso-admin-login")

    # --- helpers -----------------------------------------------------------------------------
    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        response = ctx.templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers.update(SECURITY_HEADERS)
        return response

    def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, secure=ctx.cookie_secure, samesite="strict", path="/"
        )

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)

    async def current(request: Request) -> Session:
        token = request.cookies.get(SESSION_COOKIE, "")
        try:
            data = signer.loads(token, max_age=SESSION_HOURS * 3600) if token else None
        except BadSignature:
            data = None
        user = None
        if isinstance(data, dict):
            async with ctx.sessions() as session:
                user = await session.get(AdminUser, int(data.get("uid", 0)))
            if user is not None and not hmac.compare_digest(str(data.get("v", "")), user.password_hash[-16:]):
                user = None
        if user is None or not isinstance(data, dict):
            raise HTTPException(303, headers={"Location": str(request.url_for("login"))})
        return Session(user=user, csrf=str(data["csrf"]))

    Auth = Annotated[Session, Depends(current)]

    def check_csrf(auth: Session, token: str) -> None:
        if not hmac.compare_digest(auth.csrf.encode(), token.encode()):
            raise HTTPException(403, "CSRF token missing or wrong; reload the page and try again")

    def commune_for(auth: Session, commune_id: str) -> Commune:
        commune = ctx.communes.commune(commune_id)
        if commune is None:
            raise HTTPException(404, "no such commune")
        if not auth.user.is_super and auth.user.commune_id != commune.id:
            raise HTTPException(403, "this account sees only its own commune")
        return commune

    def base(auth: Session, commune: Commune | None, section: str) -> dict[str, Any]:
        return {
            "user": auth.user,
            "csrf": auth.csrf,
            "commune": commune,
            "communes": [ctx.communes.commune(c) for c in auth.commune_ids(ctx.communes)],
            "section": section,
        }

    def core_ids() -> list[str]:
        return [lesson.id for lesson in ctx.curriculum.core_lessons]

    # --- login -------------------------------------------------------------------------------
    @router.get("/login", name="login")
    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", {"csrf": token, "error": None})
        set_cookie(response, LOGIN_COOKIE, login_signer.dumps(token), 3600)
        return response

    @router.post("/login", name="login_post")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=100)] = "",
        password: Annotated[str, Form(max_length=200)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        try:
            expected = login_signer.loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=3600)
        except BadSignature:
            expected = None
        if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), csrf.encode()):
            raise HTTPException(403, "CSRF token missing or wrong; reload the login page")
        ip = request.client.host if request.client else "?"
        async with ctx.sessions() as session, session.begin():
            result = await store.authenticate(session, username, password, ip, ctx.clock.now())
        if result.user is None:
            error = "locked" if result.locked else "wrong"
            token = secrets.token_urlsafe(24)
            response = page(request, "login.html", {"csrf": token, "error": error}, status_code=401)
            set_cookie(response, LOGIN_COOKIE, login_signer.dumps(token), 3600)
            return response
        payload = {
            "uid": result.user.id,
            "csrf": secrets.token_urlsafe(24),
            "v": result.user.password_hash[-16:],
        }
        response = redirect(str(request.url_for("home")))
        set_cookie(response, SESSION_COOKIE, signer.dumps(payload), SESSION_HOURS * 3600)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @router.post("/logout", name="logout")
    async def logout(request: Request, auth: Auth, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(auth, csrf)
        response = redirect(str(request.url_for("login")))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/static/admin.css", name="css")
    async def css() -> Response:
        return FileResponse(HERE / "static" / "admin.css", media_type="text/css")

    @router.get("/", name="home")
    async def home(request: Request, auth: Auth) -> Response:
        ids = auth.commune_ids(ctx.communes)
        if len(ids) == 1:
            return redirect(str(request.url_for("overview", commune_id=ids[0])))
        return page(request, "communes.html", base(auth, None, "home"))

    # --- overview ----------------------------------------------------------------------------
    @router.get("/c/{commune_id}", name="overview")
    async def overview(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            data = await stats.overview(session, commune, core_ids(), ctx.clock.now())
        now = utc(ctx.clock.now()).astimezone(VIETNAM)
        periods = [f"{now.year}-Q{q}" for q in range(1, (now.month - 1) // 3 + 2)] + [str(now.year)]
        return page(
            request,
            "overview.html",
            {
                **base(auth, commune, "overview"),
                "data": data,
                "periods": periods[::-1],
                "core": len(core_ids()),
            },
        )

    @router.get("/c/{commune_id}/chart.svg", name="chart")
    async def chart(auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            data = await stats.overview(session, commune, core_ids(), ctx.clock.now())
        return Response(villages_chart(data), media_type="image/svg+xml", headers=SECURITY_HEADERS)

    @router.get("/c/{commune_id}/report", name="report")
    async def report(auth: Auth, commune_id: str, period: str, format: str = "xlsx") -> Response:
        commune = commune_for(auth, commune_id)
        try:
            parsed = Period.parse(period)
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        if format not in {"xlsx", "csv"}:
            raise HTTPException(400, "format must be xlsx or csv")
        async with ctx.sessions() as session:
            built = await build_report(session, commune, ctx.curriculum, parsed, ctx.clock.now())
        name = f"{built.filename_stem}.{format}"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        if format == "xlsx":
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Response(to_xlsx(built), media_type=media, headers=headers)
        return Response(to_csv(built).encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)

    # --- lessons -----------------------------------------------------------------------------
    @router.get("/c/{commune_id}/lessons", name="lessons")
    async def lessons(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            per_lesson = await stats.lessons(session, commune.id)
            hardest = await stats.hardest_questions(session, commune.id, limit=10)
        questions = {
            (lesson.id, q.id): q.text for lesson in ctx.curriculum.lessons for q in lesson.quiz.questions
        }
        titles = {lesson.id: lesson.title for lesson in ctx.curriculum.lessons}
        return page(
            request,
            "lessons.html",
            {
                **base(auth, commune, "lessons"),
                "topics": ctx.curriculum.topics,
                "per_lesson": per_lesson,
                "hardest": [
                    (
                        h,
                        titles.get(h.lesson_id, h.lesson_id),
                        questions.get((h.lesson_id, h.question_id), h.question_id),
                    )
                    for h in hardest
                ],
            },
        )

    # --- mentors -----------------------------------------------------------------------------
    @router.get("/c/{commune_id}/mentors", name="mentors")
    async def mentors(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            rows = await stats.mentors(session, commune, core_ids(), ctx.clock.now())
            invites = await store.invites(session, commune.id)
        villages = {v.id: v.name for v in commune.villages}
        return page(
            request,
            "mentors.html",
            {
                **base(auth, commune, "mentors"),
                "mentors": rows,
                "villages": villages,
                "invites": invites[:20],
                "new_codes": [],
            },
        )

    @router.post("/c/{commune_id}/mentors/invite", name="invite")
    async def invite(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        count: Annotated[int, Form(ge=1, le=50)] = 1,
    ) -> Response:
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session, session.begin():
            codes = await store.issue_invites(
                session, commune.id, count, f"admin:{auth.user.username}", ctx.clock.now()
            )
        async with ctx.sessions() as session:
            rows = await stats.mentors(session, commune, core_ids(), ctx.clock.now())
            invites = await store.invites(session, commune.id)
        villages = {v.id: v.name for v in commune.villages}
        return page(
            request,
            "mentors.html",
            {
                **base(auth, commune, "mentors"),
                "mentors": rows,
                "villages": villages,
                "invites": invites[:20],
                "new_codes": codes,
            },
        )

    # --- unanswered questions ----------------------------------------------------------------
    @router.get("/c/{commune_id}/questions", name="questions")
    async def questions(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            rows = await stats.open_questions(session, commune.id)
        villages = {v.id: v.name for v in commune.villages}
        return page(
            request,
            "questions.html",
            {**base(auth, commune, "questions"), "rows": rows, "villages": villages},
        )

    @router.post("/c/{commune_id}/questions/{question_id}", name="question_post")
    async def answer(
        request: Request,
        auth: Auth,
        commune_id: str,
        question_id: int,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "answer",
        answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
    ) -> Response:
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session, session.begin():
            found = await store.question_in_commune(session, commune.id, question_id)
            if found is None:
                raise HTTPException(404, "no such open question in this commune")
            question, learner = found
            if action == "handled":
                question.status = "handled"
                question.answered_at = now
                question.answered_by = f"admin:{auth.user.username}"
            elif answer.strip():
                reply = store.answer_reply(question.text, answer.strip(), commune.name)
                await SqlStore(session, now).answer_question(
                    question, learner, answer.strip(), f"admin:{auth.user.username}", reply_to_json(reply)
                )
            else:
                raise HTTPException(400, "the answer is empty")
        return redirect(str(request.url_for("questions", commune_id=commune.id)))

    # --- announcements -----------------------------------------------------------------------
    def audience_village(commune: Commune, village_id: str) -> str | None:
        if not village_id:
            return None
        if commune.village(village_id) is None:
            raise HTTPException(404, "no such village in this commune")
        return village_id

    @router.get("/c/{commune_id}/announcements", name="announcements")
    async def announcements(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            sent = (
                await session.scalars(
                    select(Broadcast)
                    .where(Broadcast.kind == "announcement", Broadcast.commune_id == commune.id)
                    .order_by(Broadcast.id.desc())
                    .limit(20)
                )
            ).all()
        return page(request, "announcements.html", {**base(auth, commune, "announcements"), "sent": sent})

    @router.post("/c/{commune_id}/announcements/preview", name="announcement_preview")
    async def preview(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        text: Annotated[str, Form(max_length=MAX_ANNOUNCEMENT)] = "",
        village: Annotated[str, Form(max_length=60)] = "",
    ) -> Response:
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        village_id = audience_village(commune, village)
        if not text.strip():
            raise HTTPException(400, "the announcement is empty")
        async with ctx.sessions() as session:
            count = len(await store.audience(session, commune.id, village_id))
        target = commune.village(village_id) if village_id else None
        return page(
            request,
            "announcement_preview.html",
            {
                **base(auth, commune, "announcements"),
                "text": text.strip(),
                "village_id": village_id or "",
                "target": target.name if target else commune.name,
                "count": count,
            },
        )

    @router.post("/c/{commune_id}/announcements", name="announcement_send")
    async def send(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        text: Annotated[str, Form(max_length=MAX_ANNOUNCEMENT)] = "",
        village: Annotated[str, Form(max_length=60)] = "",
        confirm: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        village_id = audience_village(commune, village)
        if confirm != "yes" or not text.strip():
            raise HTTPException(400, "preview and confirm the announcement first")
        async with ctx.sessions() as session, session.begin():
            broadcast = await store.announce(
                session, commune.id, village_id, text.strip(), auth.user.username, ctx.clock.now()
            )
        return redirect(
            str(request.url_for("announcement", commune_id=commune.id, broadcast_id=broadcast.id))
        )

    @router.get("/c/{commune_id}/announcements/{broadcast_id}", name="announcement")
    async def announcement(request: Request, auth: Auth, commune_id: str, broadcast_id: int) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.commune_id != commune.id or broadcast.kind != "announcement":
                raise HTTPException(404, "no such announcement in this commune")
            progress = await outbox.progress(session, broadcast.id)
        done = progress["sent"] + progress["failed"] + progress["uncertain"] + progress["cancelled"]
        target = commune.village(broadcast.village_id or "")
        return page(
            request,
            "announcement.html",
            {
                **base(auth, commune, "announcements"),
                "broadcast": broadcast,
                "progress": progress,
                "done": done,
                "target": target.name if target else commune.name,
                "share": done / broadcast.recipients if broadcast.recipients else 1.0,
            },
        )

    # --- certificates ------------------------------------------------------------------------
    @router.get("/c/{commune_id}/certificates", name="certificates")
    async def certificates(request: Request, auth: Auth, commune_id: str, code: str = "") -> Response:
        commune = commune_for(auth, commune_id)
        found = None
        code = code.strip().upper()[:20]
        if code:
            async with ctx.sessions() as session:
                found = await session.scalar(
                    select(Certificate).where(Certificate.code == code, Certificate.commune_id == commune.id)
                )
        return page(
            request,
            "certificate.html",
            {**base(auth, commune, "certificates"), "code": code, "found": found},
        )

    return router


def create_admin_app(ctx: AdminContext, prefix: str = "/admin") -> FastAPI:
    """A stand-alone app serving only the dashboard (tests; `bot/web.py` mounts the router itself)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(create_admin_router(ctx), prefix=prefix)
    return app
