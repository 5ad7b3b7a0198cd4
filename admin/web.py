"""The commune staff's web dashboard: a FastAPI router with server-rendered Jinja2 pages.

Security, in one place (README, "The dashboard's security model"):
- passwords hashed with argon2 (`admin.store`), checked in two low-priority worker threads, never in the
  event loop that answers learners, at most two at a time with a short queue (`admin.security`);
- before a password is checked: each address gets `LoginPolicy.per_address` checks per 15 minutes
  (then 429, answered after a pause); 5 wrong passwords for one username from one address lock that
  address out for that username; 30 from everywhere lock the account for addresses it never logged in
  from; attempts refused while locked are not recorded, so they never prolong a lock; unknown usernames
  are checked against a dummy hash, so timing does not tell which exist; `hocvuso admin unlock` lifts
  locks;
- every login form carries a one-time token (15 minutes, once);
- sessions live in the database (`admin_sessions`): the cookie is a random token (HttpOnly, Secure,
  SameSite=Strict, 8 hours) whose hash is looked up on each request; logout, `hocvuso admin disable`
  and `hocvuso admin reset-password` end them at once; nothing of the password hash leaves the server;
- every form carries a CSRF token derived from the session; an announcement is sent once per preview
  (its confirmation token is stored with it);
- a commune admin reaches only their commune: another commune's pages are 403, another commune's
  questions, announcements and knowledge-base entries are 404 — the ids are looked up inside the
  admin's commune only;
- ids, periods and pages outside their range are 404 or 400, never 500; a form's invalid field is 422
  naming the field; a button's address opened as a link is 405; every error is a Vietnamese page with a
  way back (home, and the section's list page within the commune when there is one); every link and
  redirect is a path on this site (the Host header is never echoed);
- no JavaScript: the chart is SVG drawn on the server with attributes only (no inline style); a strict
  Content-Security-Policy and the other security headers are on every response, errors included.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time, and the
# dependency alias `Auth` is local to `create_admin_router`, where string annotations cannot be resolved.
import asyncio
import hashlib
import hmac
import logging
import math
import secrets
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi import Path as InPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import formatting as vn
from admin import store
from admin.charts import villages_chart, villages_png
from admin.reports import build_report, first_registration, parse_period, report_periods, to_csv, to_xlsx
from admin.security import (
    SECURITY_HEADERS,
    LoginPolicy,
    OnceTokens,
    PasswordChecks,
    SecurityHeaders,
    SlidingWindow,
    Tarpit,
    Verify,
    address_key,
)
from admin.workflow import inbox_counts
from bot.ports import Clock
from data import knowledge as kb
from data import stats
from data.commune import Commune, CommuneConfig
from data.models import AdminUser, Certificate, KnowledgeEntry
from data.stats import VIETNAM, utc
from lessons.models import Curriculum
from retrieval.encoders import Encoder
from retrieval.knowledge import KnowledgeBase, QuestionGrouper

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "hocvuso_admin"
LOGIN_COOKIE = "hocvuso_login"
MAX_ID = 2**63 - 1  # the largest id a database row can have; beyond it a path names nothing
MAX_PAGE = 10_000
STATUS_OF: dict[str, kb.Status] = {"approve": "approved", "retire": "retired", "draft": "draft"}
# what a person reads on an error page, by status
ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không được phép",
    404: "Không tìm thấy",
    405: "Không làm được theo cách này",
    413: "Nội dung quá dài",
    422: "Dữ liệu trong biểu mẫu chưa đúng",
    429: "Quá nhiều yêu cầu",
    500: "Hệ thống gặp sự cố",
}
ERROR_TEXTS = {
    400: "Dữ liệu gửi lên không đúng. Anh/chị quay lại trang trước, kiểm tra rồi thử lại.",
    403: "Tài khoản này không được làm việc này, hoặc trang đã mở quá lâu. Anh/chị tải lại trang rồi thử.",
    404: "Trang hoặc mục này không có (hoặc thuộc xã khác).",
    405: "Trang này không nhận thao tác đó (ví dụ: mở bằng đường dẫn một nút chỉ dùng để bấm trong trang). "
    "Anh/chị quay lại trang trước và dùng nút trên trang.",
    413: "Nội dung gửi lên quá dài.",
    422: "Một ô trong biểu mẫu chưa đúng (quá dài, hoặc số ngoài khoảng cho phép). Anh/chị quay lại trang "
    "trước, sửa rồi gửi lại.",
    429: "Anh/chị thử lại sau ít phút.",
    500: "Có lỗi trong hệ thống; việc vừa làm có thể chưa xong. Anh/chị thử lại sau ít phút.",
}

# a form's fields as staff know them, for the 422 page ("Ô «Số mã» chưa đúng")
FIELD_LABELS = {
    "count": "Số mã",
    "text": "Nội dung",
    "answer": "Câu trả lời",
    "question": "Câu hỏi",
    "variants": "Cách hỏi khác",
    "title": "Tên mẫu",
    "village": "Gửi đến",
    "send_date": "Ngày",
    "send_time": "Giờ",
    "send_at": "Giờ gửi",
    "entry_id": "Mục kho trả lời",
    "template_id": "Mẫu trả lời",
    "source": "Câu hỏi gốc",
    "lesson": "Bài học",
    "q": "Câu hỏi đã chọn",
}
# the list page of each section, for an error page's way back within the commune
SECTION_PAGES = {
    "questions": "questions",
    "announcements": "announcements",
    "mentors": "mentors",
    "kb": "kb",
    "lessons": "lessons",
    "certificates": "certificates",
}

PathId = Annotated[int, InPath(ge=1, le=MAX_ID)]


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
    scam_wave_threshold: int = 3  # HOCVUSO_SCAM_WAVE_THRESHOLD: reports since yesterday that make a wave
    # the assistant's encoder: groups queued questions whose embeddings are very close (without it,
    # only questions with the same words are grouped)
    encoder: Encoder | None = None
    # the assistant's knowledge base: told at once about changes made here, and suggests entries
    knowledge: KnowledgeBase | None = None
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)
    # checks a password against its hash (blocking; run in the password-check threads)
    verify: Verify = store.verify_password
    templates: Jinja2Templates = field(init=False)
    grouper: QuestionGrouper = field(init=False)
    password_checks: PasswordChecks = field(init=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the dashboard's secret must be at least 16 characters")
        self.grouper = QuestionGrouper(self.encoder)
        policy = self.login_policy
        self.password_checks = PasswordChecks(
            self.verify, policy.checks_at_once, policy.checks_waiting, policy.checks_when_idle
        )
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        # Vietnamese numbers, shares, dates and periods everywhere (admin/formatting.py)
        self.templates.env.filters["pct"] = vn.percent
        self.templates.env.filters["num"] = vn.number
        self.templates.env.filters["local"] = vn.moment
        self.templates.env.filters["day"] = vn.day
        self.templates.env.filters["period"] = vn.period_title
        self.templates.env.globals["url_for"] = _template_path_for


@dataclass(frozen=True)
class Session:
    """The logged-in admin, their session's token and its CSRF token."""

    user: AdminUser
    token: str
    csrf: str
    # per commune of the account: questions waiting, and how many of them arrived since the account
    # last opened the inbox (the menu shows both)
    waiting: dict[str, tuple[int, int]] = field(default_factory=dict)

    def commune_ids(self, communes: CommuneConfig) -> list[str]:
        if self.user.is_super:
            return [c.id for c in communes.communes]
        return [self.user.commune_id] if self.user.commune_id else []


@dataclass(frozen=True)
class Tools:
    """The router's helpers, handed to the dashboard's parts that live in their own modules
    (`admin.inbox`, `admin.announcements`, `admin.mentors`): each builds an APIRouter from these."""

    ctx: AdminContext
    current: Callable[[Request], Coroutine[Any, Any, Session]]  # the logged-in admin (a dependency)
    page: Callable[..., Response]  # (request, template, context, status_code=200) -> an HTML page
    redirect: Callable[[str], RedirectResponse]  # 303 to a path of this site
    check_csrf: Callable[[Session, str], None]
    commune_for: Callable[[Session, str], Commune]  # 404 unknown, 403 another commune's
    base: Callable[[Session, Commune | None, str], dict[str, Any]]  # what every page's template needs
    route_class: type[APIRoute]  # Vietnamese error pages for whatever a route raises


def path_for(request: Request, name: str, **params: Any) -> str:
    """The path of a named route on this site: links and redirects never carry a host, so whatever
    Host header a request came with is never echoed back."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + str(request.scope["router"].url_path_for(name, **{k: str(v) for k, v in params.items()}))


@pass_context
def _template_path_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    return path_for(context["request"], name, **params)


def _error_route_class(ctx: AdminContext) -> type[APIRoute]:
    """Routes whose errors, whatever raises them (a dependency, validation, the handler), become a
    Vietnamese page with a way back and the security headers, instead of FastAPI's English JSON."""

    def way_back(request: Request, status: int) -> str | None:
        """The list page of the section the failed request was in (its commune's, when that commune
        exists), besides the dashboard's home; none for 403 (that commune is not the account's)."""
        commune_id = str(request.path_params.get("commune_id", ""))
        if status == 403 or ctx.communes.commune(commune_id) is None:
            return None
        root = str(request.scope.get("root_path", "")).rstrip("/")
        prefix = f"{root}/c/{commune_id}/"
        rest = request.url.path.split(prefix, 1)[1] if prefix in request.url.path else ""
        name = SECTION_PAGES.get(rest.split("/", 1)[0], "overview")
        try:
            return path_for(request, name, commune_id=commune_id)
        except Exception:  # a section another version of the dashboard lacks: home is enough
            return None

    def invalid_fields(error: RequestValidationError) -> str | None:
        labels: list[str] = []
        for item in error.errors():
            fields = [part for part in item.get("loc", ())[1:] if isinstance(part, str)]
            label = FIELD_LABELS.get(fields[0] if fields else "")
            if label and label not in labels:
                labels.append(label)
        if not labels:
            return None
        named = ", ".join(f"«{label}»" for label in labels)
        return (
            f"Ô {named} chưa đúng (quá dài, hoặc số ngoài khoảng cho phép). "
            "Anh/chị quay lại trang trước, sửa rồi gửi lại."
        )

    def error_page(request: Request, status: int, detail: Any = None, headers: Any = None) -> Response:
        if 300 <= status < 400:  # the way to the login page
            response: Response = Response(status_code=status, headers=dict(headers or {}))
        else:
            # our own details are Vietnamese; FastAPI's defaults ("Not Found") are not shown
            text = detail if isinstance(detail, str) and not detail.isascii() else None
            response = ctx.templates.TemplateResponse(
                request,
                "error.html",
                {
                    "status": status,
                    "title": ERROR_TITLES.get(status, ERROR_TITLES[400 if status < 500 else 500]),
                    "text": text or ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500]),
                    "back": way_back(request, status),
                },
                status_code=status,
                headers=dict(headers or {}),
            )
        response.headers.update(SECURITY_HEADERS)
        return response

    class ErrorPages(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            route = self.path

            async def guarded(request: Request) -> Response:
                try:
                    response = await handler(request)
                except HTTPException as error:
                    return error_page(request, error.status_code, error.detail, error.headers)
                except RequestValidationError as error:
                    # a path naming nothing (an id beyond any row) is "not found"; a bad form 422 (naming
                    # its fields); a bad query 400
                    places = {str(e.get("loc", ("",))[0]) for e in error.errors()}
                    if "path" in places:
                        return error_page(request, 404)
                    if "body" in places:
                        return error_page(request, 422, invalid_fields(error))
                    return error_page(request, 400)
                except Exception as error:
                    # where, not what: an error's message can hold what someone typed
                    log.error(
                        "dashboard: %s on %s %s\n%s",
                        type(error).__name__,
                        request.method,
                        route,
                        "".join(traceback.format_tb(error.__traceback__)),
                    )
                    return error_page(request, 500)
                for name, value in SECURITY_HEADERS.items():
                    response.headers.setdefault(name, value)
                return response

            return guarded

    return ErrorPages


def _api_routes(router: APIRouter) -> list[APIRoute]:
    """The routes of a router and of the routers included in it (FastAPI keeps an included router
    whole, as one entry holding `original_router`, rather than copying its routes)."""
    found: list[APIRoute] = []
    for route in router.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif isinstance(inner := getattr(route, "original_router", None), APIRouter):
            found.extend(_api_routes(inner))
    return found


def create_admin_router(ctx: AdminContext) -> APIRouter:
    """The dashboard's routes; mount with `include_router(router, prefix="/admin")` (and the
    `SecurityHeaders` middleware on the app, for responses that never reach these routes)."""
    router = APIRouter(route_class=_error_route_class(ctx))
    policy = ctx.login_policy
    login_signer = URLSafeTimedSerializer(ctx.secret, salt="hocvuso-admin-login")
    csrf_key = hashlib.sha256(b"hocvuso-admin-csrf:" + ctx.secret.encode()).digest()
    per_address = SlidingWindow(policy.per_address, policy.window)
    forms_per_address = SlidingWindow(policy.forms_per_address, policy.window)
    used_forms = OnceTokens(timedelta(minutes=policy.form_minutes))
    tarpit = Tarpit(policy.tarpit_seconds, policy.tarpit_at_once)

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

    def csrf_for(token: str) -> str:
        return hmac.new(csrf_key, token.encode(), hashlib.sha256).hexdigest()[:32]

    async def current(request: Request) -> Session:
        learners_part.scope_to_village(None)  # every request starts seeing all villages (admin.learners)
        token = request.cookies.get(SESSION_COOKIE, "")
        user = None
        waiting: dict[str, tuple[int, int]] = {}
        if token:
            async with ctx.sessions() as session:
                user = await store.session_user(session, token, ctx.clock.now())
                # the menu's count of waiting questions (not for village heads: the inbox is not theirs)
                if user is not None and user.village_id is None:
                    ids = [c.id for c in ctx.communes.communes] if user.is_super else [user.commune_id or ""]
                    waiting = await inbox_counts(session, ids, user.questions_seen_at)
        if user is None:
            raise HTTPException(303, headers={"Location": path_for(request, "login")})
        learners_part.guard_village_head(request, user)  # village heads: read-only, one village
        return Session(user=user, token=token, csrf=csrf_for(token), waiting=waiting)

    Auth = Annotated[Session, Depends(current)]

    def check_csrf(auth: Session, token: str) -> None:
        if not hmac.compare_digest(auth.csrf.encode(), token.encode()):
            raise HTTPException(
                403, "Trang đã mở quá lâu hoặc không hợp lệ. Anh/chị tải lại trang rồi thử lại."
            )

    def commune_for(auth: Session, commune_id: str) -> Commune:
        commune = ctx.communes.commune(commune_id)
        if commune is None:
            raise HTTPException(404, "Không có xã / phường này.")
        if not auth.user.is_super and auth.user.commune_id != commune.id:
            raise HTTPException(403, "Tài khoản này chỉ xem được xã / phường của mình.")
        return learners_part.village_view(auth.user, commune)  # a village head's commune: their village

    def base(auth: Session, commune: Commune | None, section: str) -> dict[str, Any]:
        return {
            "user": auth.user,
            "csrf": auth.csrf,
            "commune": commune,
            "communes": [ctx.communes.commune(c) for c in auth.commune_ids(ctx.communes)],
            "section": section,
            "waiting": auth.waiting,
        }

    def knowledge_changed() -> None:
        if ctx.knowledge is not None:
            ctx.knowledge.invalidate()  # the assistant in this process answers the change at once

    def lesson_ids() -> set[str]:
        return {lesson.id for lesson in ctx.curriculum.lessons}

    def core_ids() -> list[str]:
        return [lesson.id for lesson in ctx.curriculum.core_lessons]

    tools = Tools(ctx, current, page, redirect, check_csrf, commune_for, base, router.route_class)

    # --- login -------------------------------------------------------------------------------
    # the login page, rendered once per message and kept with a placeholder for the token: a flood of
    # login requests is answered without running the template engine each time
    login_html: dict[tuple[str, str | None, int, bool], str] = {}
    token_slot = "LOGIN-FORM-TOKEN-SLOT"

    def login_page(request: Request, error: str | None, status: int = 200, retry_after: int = 0) -> Response:
        """The login form with a fresh one-time token; a 429 page says when to try again, without a form."""
        token = "" if status == 429 else secrets.token_urlsafe(24)
        minutes = math.ceil(retry_after / 60)
        key = (str(request.scope.get("root_path", "")), error, minutes, bool(token))
        html = login_html.get(key)
        if html is None:
            context = {
                "request": request,
                "csrf": token_slot if token else "",
                "error": error,
                "minutes": minutes,
            }
            html = login_html[key] = ctx.templates.get_template("login.html").render(context)
        response = HTMLResponse(html.replace(token_slot, token), status_code=status, headers=SECURITY_HEADERS)
        if token:
            set_cookie(response, LOGIN_COOKIE, login_signer.dumps(token), policy.form_minutes * 60)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def refused(request: Request, reason: str, retry_after: int) -> Response:
        """429, after a pause: a client that waits for answers is slowed to one try per pause."""
        await tarpit.wait()
        return login_page(request, reason, 429, retry_after)

    @router.get("/login", name="login")
    async def login_form(request: Request) -> Response:
        address = address_key(request.client.host if request.client else None)
        wait = forms_per_address.hit(address, utc(ctx.clock.now()))
        if wait:
            return await refused(request, "throttled", wait)
        return login_page(request, None)

    @router.post("/login", name="login_post")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=100)] = "",
        password: Annotated[str, Form(max_length=200)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        now = ctx.clock.now()
        address = address_key(request.client.host if request.client else None)
        # 1. this address's budget of tries, from memory: a flood costs no query and no hash
        wait = per_address.hit(address, utc(now))
        if wait:
            return await refused(request, "throttled", wait)
        # 2. the form's one-time token
        try:
            expected = login_signer.loads(
                request.cookies.get(LOGIN_COOKIE, ""), max_age=policy.form_minutes * 60
            )
        except BadSignature:
            expected = None
        if (
            not isinstance(expected, str)
            or not hmac.compare_digest(expected.encode(), csrf.encode())
            or not used_forms.use(expected, utc(now))
        ):
            return login_page(request, "expired", 403)
        # 3. locks from recorded failures (this address for this username; the account for strangers)
        async with ctx.sessions() as session:
            check = await store.before_login(session, username, address, now, policy)
        if check.retry_after:
            return await refused(request, "locked", check.retry_after)
        # 4. the password, off the event loop; unknown usernames against a dummy hash, in the same time
        ok = await ctx.password_checks.check(check.password_hash, password)
        if ok is None:  # too many checks waiting already
            return await refused(request, "busy", 5)
        ok = ok and check.user is not None
        async with ctx.sessions() as session, session.begin():
            await store.record_login(session, username, address, now, check.user, ok)
            token = (
                await store.open_session(session, check.user, now, policy.session_hours)
                if ok and check.user
                else ""
            )
        if not token:  # "locked" when this was the last wrong password allowed from here
            return login_page(request, "locked" if check.failures_left <= 1 else "wrong", 401)
        assert check.user is not None
        if store.needs_rehash(check.user.password_hash):
            new_hash = await asyncio.to_thread(store.hash_password, password)
            async with ctx.sessions() as session, session.begin():
                await store.set_hash(session, check.user.id, new_hash)
        response = redirect(path_for(request, "home"))
        set_cookie(response, SESSION_COOKIE, token, policy.session_hours * 3600)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @router.post("/logout", name="logout")
    async def logout(
        request: Request, auth: Auth, csrf: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        check_csrf(auth, csrf)
        async with ctx.sessions() as session, session.begin():
            await store.revoke_session(session, auth.token, ctx.clock.now())
        response = redirect(path_for(request, "login"))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/static/admin.css", name="css")
    async def css() -> Response:
        return FileResponse(HERE / "static" / "admin.css", media_type="text/css")

    @router.get("/", name="home")
    async def home(request: Request, auth: Auth) -> Response:
        ids = auth.commune_ids(ctx.communes)
        if len(ids) == 1:
            return redirect(path_for(request, "overview", commune_id=ids[0]))
        return page(request, "communes.html", base(auth, None, "home"))

    # --- overview ----------------------------------------------------------------------------
    @router.get("/c/{commune_id}", name="overview")
    async def overview(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session:
            data = await stats.overview(session, commune, core_ids(), now)
            first = await first_registration(session, commune.id)
        quarters, years = report_periods(first, now)  # the current quarter first: the form's default
        adults = sum(v.adults for v in data.villages)
        return page(
            request,
            "overview.html",
            {
                **base(auth, commune, "overview"),
                "data": data,
                "quarters": quarters,
                "years": years,
                "core": len(core_ids()),
                "adults": adults,
                "share": data.finished_core / adults if adults else 0.0,
                # drawn inline: the same SVG as chart.svg, its text readable at any width
                "chart": Markup(villages_chart(data, commune.name, now)),
                "scam_waves": await scams_part.overview_waves(ctx, commune.id),  # issue 16: a wave's banner
                **await learners_part.to_call(ctx, commune),  # "Cần gọi tuần này" (issue 18)
            },
        )

    @router.get("/c/{commune_id}/chart.svg", name="chart")
    async def chart(auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            data = await stats.overview(session, commune, core_ids(), ctx.clock.now())
        svg = villages_chart(data, commune.name, ctx.clock.now(), standalone=True)
        return Response(svg, media_type="image/svg+xml", headers=SECURITY_HEADERS)

    @router.get("/c/{commune_id}/chart.png", name="chart_png")
    async def chart_png(auth: Auth, commune_id: str) -> Response:
        """The chart as a PNG to paste into a Word report: the same numbers and layout as the SVG."""
        commune = commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session:
            data = await stats.overview(session, commune, core_ids(), now)
        png = await asyncio.to_thread(villages_png, data, commune.name, now)
        name = f"bieu-do-{commune.id}-{utc(now).astimezone(VIETNAM):%Y-%m-%d}.png"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(png, media_type="image/png", headers=headers)

    @router.get("/c/{commune_id}/report", name="report")
    async def report(
        auth: Auth,
        commune_id: str,
        period: Annotated[str, Query(max_length=20)],
        format: Annotated[str, Query(max_length=10)] = "xlsx",
    ) -> Response:
        commune = commune_for(auth, commune_id)
        try:
            parsed = parse_period(period)
        except ValueError:
            raise HTTPException(400, "Kỳ báo cáo phải có dạng 2026-Q4 (quý) hoặc 2026 (năm).") from None
        if format not in {"xlsx", "csv", "csv-en"}:
            raise HTTPException(400, "Định dạng báo cáo là xlsx, csv hoặc csv-en.")
        async with ctx.sessions() as session:
            built = await build_report(session, commune, ctx.curriculum, parsed, ctx.clock.now())
        # csv: ";" and decimal commas (Excel set to Vietnamese); csv-en: "," and decimal points
        name = f"{built.filename_stem}-en.csv" if format == "csv-en" else f"{built.filename_stem}.{format}"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        if format == "xlsx":
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Response(to_xlsx(built), media_type=media, headers=headers)
        text = to_csv(built, vietnamese_excel=format == "csv")
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)

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

    # --- the knowledge base ------------------------------------------------------------------
    def entry_page(
        request: Request,
        auth: Session,
        commune: Commune,
        form: dict[str, Any],
        entry: KnowledgeEntry | None = None,
        error: str | None = None,
    ) -> Response:
        return page(
            request,
            "knowledge_entry.html",
            {
                **base(auth, commune, "kb"),
                "entry": entry,
                "form": form,
                "error": error,
                "topics": ctx.curriculum.topics,
            },
            status_code=400 if error else 200,
        )

    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    @router.get("/c/{commune_id}/kb", name="kb")
    async def knowledge(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            rows = await kb.entries(session, commune.id)
            answered = await kb.answered_not_in_kb(session, commune.id)
        by_status = {status: [e for e in rows if e.status == status] for status in kb.STATUSES}
        titles = {lesson.id: lesson.title for lesson in ctx.curriculum.lessons}
        return page(
            request,
            "knowledge.html",
            {**base(auth, commune, "kb"), "by_status": by_status, "titles": titles, "answered": answered},
        )

    @router.get("/c/{commune_id}/kb/export.yaml", name="kb_export")
    async def knowledge_export(auth: Auth, commune_id: str) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            text = kb.export_yaml(commune.id, await kb.entries(session, commune.id), ctx.clock.now())
        name = f"kho-tra-loi-{commune.id}.yaml"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(text.encode("utf-8"), media_type="application/yaml; charset=utf-8", headers=headers)

    @router.get("/c/{commune_id}/kb/new", name="kb_new")
    async def knowledge_new(
        request: Request, auth: Auth, commune_id: str, question: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
    ) -> Response:
        """A new entry, filled in from an answered queued question when one is given."""
        commune = commune_for(auth, commune_id)
        form: dict[str, Any] = {"question": "", "answer": "", "lesson": "", "variants": "", "source": 0}
        if question:
            async with ctx.sessions() as session:
                asked = await kb.answered_question(session, commune.id, question)
            if asked is None:
                raise HTTPException(404, "Không có câu hỏi đã trả lời này trong xã.")
            form.update(
                question=asked.text[: kb.MAX_QUESTION], answer=asked.answer_text or "", source=asked.id
            )
        return entry_page(request, auth, commune, form)

    @router.post("/c/{commune_id}/kb", name="kb_create")
    async def knowledge_create(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        question: Annotated[str, Form(max_length=2 * kb.MAX_QUESTION)] = "",
        answer: Annotated[str, Form(max_length=2 * kb.MAX_ANSWER)] = "",
        lesson: Annotated[str, Form(max_length=60)] = "",
        variants: Annotated[str, Form(max_length=20_000)] = "",
        source: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
        action: Annotated[str, Form()] = "draft",
    ) -> Response:
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        form = {
            "question": question,
            "answer": answer,
            "lesson": lesson,
            "variants": variants,
            "source": source,
        }
        by = f"admin:{auth.user.username}"
        try:
            async with ctx.sessions() as session, session.begin():
                if source and await kb.answered_question(session, commune.id, source) is None:
                    raise HTTPException(404, "Không có câu hỏi đã trả lời này trong xã.")
                await kb.create_entry(
                    session,
                    commune.id,
                    question=question,
                    answer=answer,
                    lesson_id=lesson or None,
                    variants=lines(variants),
                    source_question_ids=[source] if source else [],
                    status="approved" if action == "approve" else "draft",
                    by=by,
                    now=ctx.clock.now(),
                    lessons=lesson_ids(),
                )
        except kb.EntryError as error:
            return entry_page(request, auth, commune, form, error=str(error))
        knowledge_changed()
        return redirect(path_for(request, "kb", commune_id=commune.id))

    @router.get("/c/{commune_id}/kb/{entry_id}", name="kb_entry")
    async def knowledge_entry(request: Request, auth: Auth, commune_id: str, entry_id: PathId) -> Response:
        commune = commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            entry = await kb.entry_in_commune(session, commune.id, entry_id)
        if entry is None:
            raise HTTPException(404, "Không có mục này trong kho trả lời của xã.")
        form = {
            "question": entry.question,
            "answer": entry.answer,
            "lesson": entry.lesson_id or "",
            "variants": "\n".join(entry.variants),
            "source": 0,
        }
        return entry_page(request, auth, commune, form, entry)

    @router.post("/c/{commune_id}/kb/{entry_id}", name="kb_update")
    async def knowledge_update(
        request: Request,
        auth: Auth,
        commune_id: str,
        entry_id: PathId,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "save",
        question: Annotated[str, Form(max_length=2 * kb.MAX_QUESTION)] = "",
        answer: Annotated[str, Form(max_length=2 * kb.MAX_ANSWER)] = "",
        lesson: Annotated[str, Form(max_length=60)] = "",
        variants: Annotated[str, Form(max_length=20_000)] = "",
    ) -> Response:
        """Save edits, approve (saving the edits), retire, or send back to draft."""
        check_csrf(auth, csrf)
        commune = commune_for(auth, commune_id)
        if action not in {"save", "approve", "retire", "draft"}:
            raise HTTPException(400, "Thao tác không hợp lệ.")
        form = {"question": question, "answer": answer, "lesson": lesson, "variants": variants, "source": 0}
        by, now = f"admin:{auth.user.username}", ctx.clock.now()
        try:
            async with ctx.sessions() as session, session.begin():
                entry = await kb.entry_in_commune(session, commune.id, entry_id)
                if entry is None:
                    raise HTTPException(404, "Không có mục này trong kho trả lời của xã.")
                if action in {"save", "approve"}:
                    kb.edit_entry(
                        entry,
                        question=question,
                        answer=answer,
                        lesson_id=lesson or None,
                        variants=lines(variants),
                        by=by,
                        now=now,
                        lessons=lesson_ids(),
                    )
                if action != "save":
                    kb.set_status(entry, STATUS_OF[action], by, now)
        except kb.EntryError as error:
            return entry_page(request, auth, commune, form, entry, error=str(error))
        knowledge_changed()
        return redirect(path_for(request, "kb", commune_id=commune.id))

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

    # --- the question inbox, announcements and the mentors page (issue 18), in their own modules ----
    # imported here: they use this module's types
    from admin import announcements as announcements_part
    from admin import inbox as inbox_part
    from admin import learners as learners_part
    from admin import mentors as mentors_part
    from admin import reminders as reminders_part
    from admin import scams as scams_part

    router.include_router(learners_part.create_router(tools))  # "Người học", village heads (issue 18)
    for part in (inbox_part, announcements_part, mentors_part, reminders_part):
        router.include_router(part.create_router(tools))
    router.include_router(scams_part.create_router(tools))  # "Tin nhắn lừa đảo" (issue 16)

    # --- anything else under the dashboard's prefix: a Vietnamese "not found", or "not this way" (405)
    # when the path is a page of ours that takes other methods (a button's address opened as a link)
    @router.api_route(
        "/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], name="missing"
    )
    async def missing(rest: str) -> Response:
        allowed: set[str] = set()
        for other in _api_routes(router):  # paths relative to where this router is mounted
            if other.name != "missing" and other.path_regex.match("/" + rest):
                allowed |= other.methods or set()
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        raise HTTPException(404)

    return router


def create_admin_app(ctx: AdminContext, prefix: str = "/admin") -> FastAPI:
    """A stand-alone app serving only the dashboard (tests; `bot/web.py` mounts the router itself)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(create_admin_router(ctx), prefix=prefix)
    app.add_middleware(SecurityHeaders)
    return app
