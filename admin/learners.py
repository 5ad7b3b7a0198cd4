"""The dashboard's "Người học" part (issue 18): the commune's learners, searchable and filtered by
village, age group, mentor, status and period, fifty a page; one learner's page (read-only); the
filtered list as XLSX, as CSV in the Vietnamese Excel convention and as a print view; "Cần gọi tuần
này" (stuck learners with their mentor) on the overview; and the village heads' accounts.

A village head ("trưởng thôn") is a dashboard account with `village_id` set (`hocvuso admin create
--village ...`). `guard_village_head` runs for every logged-in request: such an account may only read
(every POST but logging out is 403), only the pages in `VILLAGE_HEAD_PAGES` (anything else, including
pages added later, is 403), and whatever it reads is narrowed to its village twice: `village_view` gives
its pages a commune with only that village, and `data.learners.scope_to_village` makes every query on
learners made for the request see only that village (the overview's, the chart's and the report's
included). Another village's learner, or an export of another village, is 403 with a Vietnamese page.

What a learner's page never shows: channel ids or chat ids (only the channel's name), other learners,
anything of an erased learner (they are not listed and their page is 404).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
import asyncio
import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi import Path as InPath
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from admin import store
from admin.reports import FORMULA_STARTS, as_text, parse_period
from admin.security import SECURITY_HEADERS
from admin.web import AdminContext, Session, Tools
from bot import texts
from data import learners as data
from data.commune import Commune
from data.models import AdminUser
from data.repository import new_code
from data.stats import VIETNAM, Period, utc

scope_to_village = data.scope_to_village  # web.current: every request starts unscoped

PER_PAGE = 50
MAX_PAGE = 10_000
MAX_ID = 2**63 - 1
TO_CALL = 10  # learners listed in "Cần gọi tuần này"
# the pages a village head may open (route names); everything else is 403 for them
VILLAGE_HEAD_PAGES = frozenset(
    {
        "home",
        "css",
        "logout",
        "overview",
        "chart",
        "chart_png",
        "report",
        "learners",
        "learner",
        "learners_export",
        "learners_print",
    }
)
READ_ONLY = "Tài khoản trưởng thôn chỉ được xem, không gửi hay thay đổi được gì."
NOT_FOR_VILLAGE_HEADS = "Tài khoản trưởng thôn chỉ xem được Tổng quan, Người học và Báo cáo của thôn mình."
OTHER_VILLAGE = "Tài khoản trưởng thôn chỉ xem được người học của thôn mình."
AGE_LABELS: dict[str, str] = dict(texts.AGE_GROUPS)
CHANNELS = {"telegram": "Telegram", "zalo": "Zalo", "console": "Thử trên máy"}


def status_label(status: data.Status, stuck_days: int) -> str:
    return {
        "not-started": "Chưa bắt đầu",
        "learning": "Đang học",
        "stuck": f"Dừng ≥ {stuck_days} ngày",
        "finished": "Xong bài cốt lõi",
    }[status]


# --- village heads -----------------------------------------------------------------------------------
def guard_village_head(request: Request, user: AdminUser) -> None:
    """Set this request's village scope; refuse a village head what they may not do (403)."""
    data.scope_to_village(user.village_id)
    if user.village_id is None:
        return
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    if request.method not in {"GET", "HEAD"} and name != "logout":
        raise HTTPException(403, READ_ONLY)
    if name not in VILLAGE_HEAD_PAGES:
        raise HTTPException(403, NOT_FOR_VILLAGE_HEADS)


def village_view(user: AdminUser, commune: Commune) -> Commune:
    """The commune as the account sees it: a village head's has only their village."""
    if user.village_id is None:
        return commune
    village = commune.village(user.village_id)
    if village is None:  # the village was removed from the commune file since the account was made
        raise HTTPException(403, NOT_FOR_VILLAGE_HEADS)
    return commune.model_copy(update={"villages": [village]})


# --- "Cần gọi tuần này" on the overview ---------------------------------------------------------------
@dataclass(frozen=True)
class ToCall:
    """The overview's block: the stuck learners who stopped most recently, with their mentors."""

    rows: list[data.LearnerRow]
    total: int
    mentors: dict[int, str]
    villages: dict[str, str]
    stuck_days: int
    now: datetime


async def to_call(ctx: AdminContext, commune: Commune) -> dict[str, Any]:
    """The overview template's `to_call`: the stuck learners who stopped most recently first (the
    easiest to bring back), at most `TO_CALL`, and how many are stuck in all."""
    now = ctx.clock.now()
    flt = data.LearnerFilter(status="stuck", stuck_days=ctx.stuck_days)
    core = [lesson.id for lesson in ctx.curriculum.core_lessons]
    async with ctx.sessions() as session:
        rows, total = await data.learners(
            session, commune.id, core, flt, now, size=TO_CALL, order="recently-idle"
        )
        mentors = await data.mentor_names(session, commune.id, [r.mentor_id or 0 for r in rows])
    villages = {v.id: v.name for v in commune.villages}
    return {"to_call": ToCall(rows, total, mentors, villages, ctx.stuck_days, now)}


# --- the filter, from the query string ----------------------------------------------------------------
@dataclass(frozen=True)
class Query_:
    """The list's query string, checked: what the form shows and what every link carries on."""

    q: str = ""
    village: str = ""
    age: str = ""
    mentor: str = ""
    status: str = ""
    days: int = 7
    period: str = ""

    def params(self, **changes: Any) -> dict[str, Any]:
        values = {
            "q": self.q,
            "village": self.village,
            "age": self.age,
            "mentor": self.mentor,
            "status": self.status,
            "days": self.days,
            "period": self.period,
            **changes,
        }
        return {k: v for k, v in values.items() if v not in ("", None)}

    def link(self, **changes: Any) -> str:
        """The query string with these changes ("?q=...&page=2")."""
        return "?" + urlencode(self.params(**changes))


def parse_filter(
    user: AdminUser, commune: Commune, query: Query_
) -> tuple[data.LearnerFilter, Period | None]:
    """The filter, or 400/403/404 for a value outside its range."""
    village = query.village or None
    if village is not None and user.village_id is not None and village != user.village_id:
        raise HTTPException(403, OTHER_VILLAGE)
    if village is not None and commune.village(village) is None:
        raise HTTPException(404, "Không có thôn / tổ dân phố này trong xã.")
    if query.age and query.age != data.NO_AGE and query.age not in AGE_LABELS:
        raise HTTPException(400, "Nhóm tuổi không hợp lệ.")
    mentor: int | None = None
    if query.mentor:
        if not query.mentor.isdigit() or not 0 <= int(query.mentor) <= MAX_ID:
            raise HTTPException(400, "Đại sứ số không hợp lệ.")
        mentor = int(query.mentor)
    if query.status and query.status not in data.STATUSES:
        raise HTTPException(400, "Trạng thái không hợp lệ.")
    period = None
    if query.period:
        try:
            period = parse_period(query.period)
        except ValueError:
            raise HTTPException(400, "Kỳ phải có dạng 2026-Q4 (quý) hoặc 2026 (năm).") from None
    status = next((s for s in data.STATUSES if s == query.status), None)
    return (
        data.LearnerFilter(
            search=query.q.strip(),
            village_id=village,
            age_group=query.age or None,
            mentor_id=mentor,
            status=status,
            stuck_days=query.days,
            period=period,
        ),
        period,
    )


def period_choices(now: datetime) -> list[tuple[str, str]]:
    """This year's and last year's quarters up to now, and both years, newest first."""
    local = utc(now).astimezone(VIETNAM)
    choices: list[tuple[str, str]] = []
    for year in (local.year, local.year - 1):
        last = (local.month - 1) // 3 + 1 if year == local.year else 4
        choices += [(f"{year}-Q{q}", Period.parse(f"{year}-Q{q}").title) for q in range(last, 0, -1)]
        choices.append((str(year), f"Năm {year}"))
    return choices


def describe(query: Query_, flt: data.LearnerFilter, commune: Commune, mentors: dict[int, str]) -> str:
    """The filter in words, for the export's and the print view's heading."""
    parts = []
    if flt.village_id:
        village = commune.village(flt.village_id)
        parts.append(village.name if village else flt.village_id)
    if flt.age_group:
        parts.append(AGE_LABELS.get(flt.age_group, "chưa cho biết tuổi"))
    if flt.mentor_id is not None:
        parts.append(
            "chưa có Đại sứ số"
            if flt.mentor_id == data.NO_MENTOR
            else f"Đại sứ số {mentors.get(flt.mentor_id, '?')}"
        )
    if flt.status:
        parts.append(status_label(flt.status, flt.stuck_days).lower())
    if flt.period:
        verb = "hoàn thành cốt lõi" if flt.status == "finished" else "đăng ký"
        parts.append(f"{verb} trong {flt.period.title}")
    if flt.search:
        parts.append(f"tên có “{flt.search}”")
    return "; ".join(parts) if parts else "tất cả người học"


# --- exports -------------------------------------------------------------------------------------------
HEADER = (
    "STT",
    "Họ và tên",
    "Thôn / tổ dân phố",
    "Nhóm tuổi",
    "Đại sứ số",
    "Bài cốt lõi đã xong",
    "Tỷ lệ cốt lõi (%)",
    "Số bài đã xong",
    "Ngày đăng ký",
    "Hoạt động gần nhất",
    "Số ngày chưa quay lại",
    "Trạng thái",
)


@dataclass(frozen=True)
class Listing:
    """A filtered list ready to write out."""

    commune: Commune
    rows: list[data.LearnerRow]
    total: int
    mentors: dict[int, str]
    filter_text: str
    stuck_days: int
    now: datetime

    def village(self, village_id: str | None) -> str:
        village = self.commune.village(village_id or "")
        return village.name if village else ""

    def cells(self, number: int, row: data.LearnerRow) -> tuple[Any, ...]:
        """One row's cells: numbers as numbers, the share as a percentage number, dates as dates."""
        return (
            number,
            row.name,
            self.village(row.village_id),
            AGE_LABELS.get(row.age_group or "", ""),
            self.mentors.get(row.mentor_id or 0, ""),
            row.core_done,
            round(row.core_share * 100, 1),
            row.lessons_done,
            utc(row.registered_at).astimezone(VIETNAM).date() if row.registered_at else None,
            utc(row.last_active_at).astimezone(VIETNAM).date(),
            row.idle_days(self.now),
            status_label(row.status, self.stuck_days),
        )

    def heading(self) -> list[str]:
        stamp = utc(self.now).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
        return [
            f"DANH SÁCH NGƯỜI HỌC «BÌNH DÂN HỌC VỤ SỐ» — {self.commune.name.upper()},"
            f" {self.commune.province.upper()}",
            f"Lọc: {self.filter_text}",
            f"Số liệu tính đến {stamp}; tổng số: {self.total} người",
        ]

    @property
    def stem(self) -> str:
        return f"nguoi-hoc-{self.commune.id}-{utc(self.now).astimezone(VIETNAM):%Y%m%d}"


_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WIDTHS = (6, 28, 20, 18, 24, 12, 12, 10, 13, 13, 12, 18)
FORMATS = (None, None, None, None, None, "0", "0.0", "0", "dd/mm/yyyy", "dd/mm/yyyy", "0", None)


def to_xlsx(listing: Listing) -> bytes:
    """One printable sheet: heading, header row repeated on each printed page, one row per learner.
    Names are written as text cells whatever they start with (never a formula). Written in openpyxl's
    streaming mode: a village of 3,000 learners takes a fraction of a second instead of seconds."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Người học")
    heading = listing.heading()
    header_row = len(heading) + 2
    for column, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"C{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = "Trang &P / &N"

    def text(value: str, font: Font | None = None) -> Cell:
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # never a formula, whatever a name starts with
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        if font is not None:
            cell.font = font
        return cell

    for number, title in enumerate(heading, 1):
        sheet.append([text(title, Font(bold=number == 1, size=13 if number == 1 else 11))])
    sheet.append([])
    header = []
    for name in HEADER:
        cell = WriteOnlyCell(sheet, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F0")
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        header.append(cell)
    sheet.append(header)
    for offset, learner in enumerate(listing.rows, 1):
        line: list[Any] = []
        for value, number_format in zip(listing.cells(offset, learner), FORMATS, strict=True):
            if isinstance(value, str):  # a plain value where nothing is at stake: a third faster
                line.append(text(value) if value.startswith(FORMULA_STARTS) else value)
            elif number_format and value is not None:
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = number_format
                line.append(cell)
            else:
                line.append(value)
        sheet.append(line)
    book.properties.title = heading[0]
    book.properties.creator = "hocvuso"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # a decimal comma, as a Vietnamese-locale Excel reads
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return as_text(value)


def to_csv(listing: Listing) -> str:
    """The list as a Vietnamese-locale Excel opens it: ";" between cells, decimal commas, dates day
    first, UTF-8 with a byte order mark; a cell that would start a formula gets a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in listing.heading():
        writer.writerow([as_text(line)])
    writer.writerow([])
    writer.writerow(HEADER)
    for number, learner in enumerate(listing.rows, 1):
        writer.writerow([_csv_value(v) for v in listing.cells(number, learner)])
    return "\ufeff" + buffer.getvalue()


# --- the routes ----------------------------------------------------------------------------------------
def create_router(tools: Tools) -> APIRouter:
    router = APIRouter(route_class=tools.route_class)
    ctx = tools.ctx
    data.install_village_scope()
    Auth = Annotated[Session, Depends(tools.current)]

    def core_ids() -> list[str]:
        return [lesson.id for lesson in ctx.curriculum.core_lessons]

    def read_query(
        q: Annotated[str, Query(max_length=100)] = "",
        village: Annotated[str, Query(max_length=60)] = "",
        age: Annotated[str, Query(max_length=20)] = "",
        mentor: Annotated[str, Query(max_length=20)] = "",
        status: Annotated[str, Query(max_length=20)] = "",
        days: Annotated[int, Query(ge=1, le=365)] = 0,
        period: Annotated[str, Query(max_length=20)] = "",
    ) -> Query_:
        return Query_(q, village, age, mentor, status, days or ctx.stuck_days, period)

    Filter = Annotated[Query_, Depends(read_query)]

    async def listing(
        auth: Session, commune_id: str, query: Query_, page: int, size: int
    ) -> tuple[Commune, data.LearnerFilter, list[data.LearnerRow], int, dict[int, str], dict[int, str]]:
        commune = tools.commune_for(auth, commune_id)
        flt, _ = parse_filter(auth.user, commune, query)
        async with ctx.sessions() as session:
            rows, total = await data.learners(
                session, commune.id, core_ids(), flt, ctx.clock.now(), page=page, size=size
            )
            choices = await data.mentors_of_learners(session, commune.id)
            names = await data.mentor_names(session, commune.id, [r.mentor_id or 0 for r in rows])
        return commune, flt, rows, total, names, choices

    @router.get("/c/{commune_id}/learners", name="learners")
    async def learners_page(
        request: Request,
        auth: Auth,
        commune_id: str,
        query: Filter,
        page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
    ) -> Response:
        commune, flt, rows, total, mentors, choices = await listing(
            auth, commune_id, query, page_number, PER_PAGE
        )
        pages = max(1, math.ceil(total / PER_PAGE))
        if page_number > pages:
            raise HTTPException(404, "Không có trang này của danh sách.")
        return tools.page(
            request,
            "learners.html",
            {
                **tools.base(auth, commune, "learners"),
                "rows": rows,
                "total": total,
                "page": page_number,
                "pages": pages,
                "first": (page_number - 1) * PER_PAGE,
                "query": query,
                "filter": flt,
                "mentors": mentors,
                "mentor_choices": choices,
                "villages": {v.id: v.name for v in commune.villages},
                "ages": AGE_LABELS,
                "no_age": data.NO_AGE,
                "statuses": [(s, status_label(s, query.days)) for s in data.STATUSES],
                "status_label": status_label,
                "periods": period_choices(ctx.clock.now()),
                "now": ctx.clock.now(),
                "village_head": auth.user.village_id is not None,
            },
        )

    @router.get("/c/{commune_id}/learners/export", name="learners_export")
    async def export(
        auth: Auth,
        commune_id: str,
        query: Filter,
        format: Annotated[str, Query(max_length=10)] = "xlsx",
    ) -> Response:
        if format not in {"xlsx", "csv"}:
            raise HTTPException(400, "Định dạng là xlsx hoặc csv.")
        commune, flt, rows, total, mentors, choices = await listing(auth, commune_id, query, 1, 0)
        listed = Listing(
            commune,
            rows,
            total,
            mentors,
            describe(query, flt, commune, choices),
            flt.stuck_days,
            ctx.clock.now(),
        )
        name = f"{listed.stem}.{format}"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        if format == "xlsx":
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Response(to_xlsx(listed), media_type=media, headers=headers)
        return Response(to_csv(listed).encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)

    @router.get("/c/{commune_id}/learners/print", name="learners_print")
    async def print_view(request: Request, auth: Auth, commune_id: str, query: Filter) -> Response:
        commune, flt, rows, total, mentors, choices = await listing(auth, commune_id, query, 1, 0)
        listed = Listing(
            commune,
            rows,
            total,
            mentors,
            describe(query, flt, commune, choices),
            flt.stuck_days,
            ctx.clock.now(),
        )
        return tools.page(
            request,
            "learners_print.html",
            {
                **tools.base(auth, commune, "learners"),
                "listing": listed,
                "header": HEADER,
                "lines": [listed.cells(n, r) for n, r in enumerate(rows, 1)],
                "query": query,
            },
        )

    @router.get("/c/{commune_id}/learners/{learner_id}", name="learner")
    async def learner_page(
        request: Request,
        auth: Auth,
        commune_id: str,
        learner_id: Annotated[int, InPath(ge=1, le=MAX_ID)],
    ) -> Response:
        commune = tools.commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session:
            learner = await data.learner_in_commune(session, commune.id, learner_id)
            if learner is None:
                raise HTTPException(404, "Không có người học này trong xã.")
            if auth.user.village_id is not None and learner.village_id != auth.user.village_id:
                raise HTTPException(403, OTHER_VILLAGE)
            found = await data.record(session, learner, core_ids(), now, ctx.stuck_days)
            mentors = await data.mentor_names(session, commune.id, [learner.mentor_id or 0])
        titles = {lesson.id: lesson.title for lesson in ctx.curriculum.lessons}
        done = {d.lesson_id: d for d in found.done}
        return tools.page(
            request,
            "learner.html",
            {
                **tools.base(auth, commune, "learners"),
                "found": found,
                "row": found.row,
                "village": (commune.village(learner.village_id or "") or None),
                "age": AGE_LABELS.get(learner.age_group or "", "Chưa cho biết"),
                "channel": CHANNELS.get(learner.channel, learner.channel),
                "mentor": mentors.get(learner.mentor_id or 0, ""),
                "core": [(lesson, done.get(lesson.id)) for lesson in ctx.curriculum.core_lessons],
                "titles": titles,
                "status": status_label(found.row.status, ctx.stuck_days),
                "now": now,
                "question_status": {"open": "Đang chờ", "answered": "Đã trả lời", "handled": "Đã xử lý"},
            },
        )

    # --- village heads' accounts, made by the commune's staff --------------------------------------
    async def heads_page(
        request: Request,
        auth: Session,
        commune: Commune,
        created: tuple[str, str] | None = None,
        error: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        async with ctx.sessions() as session:
            accounts = (
                await session.scalars(
                    select(AdminUser)
                    .where(AdminUser.commune_id == commune.id, AdminUser.village_id.is_not(None))
                    .order_by(AdminUser.village_id, AdminUser.username)
                )
            ).all()
        return tools.page(
            request,
            "village_heads.html",
            {
                **tools.base(auth, commune, "learners"),
                "accounts": accounts,
                "villages": {v.id: v.name for v in commune.villages},
                "created": created,
                "error": error,
                "form": form or {"username": "", "village": ""},
            },
            status_code=400 if error else 200,
        )

    @router.get("/c/{commune_id}/village-heads", name="village_heads")
    async def village_heads(request: Request, auth: Auth, commune_id: str) -> Response:
        return await heads_page(request, auth, tools.commune_for(auth, commune_id))

    @router.post("/c/{commune_id}/village-heads", name="village_head_create")
    async def village_head_create(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form(max_length=100)] = "",
        username: Annotated[str, Form(max_length=100)] = "",
        village: Annotated[str, Form(max_length=60)] = "",
    ) -> Response:
        """A read-only account for one village, with a password made here and shown once (the staff
        hand it to the village head, who cannot change anything with it)."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        if commune.village(village) is None:
            raise HTTPException(404, "Không có thôn / tổ dân phố này trong xã.")
        password = new_code(12)  # easy to read aloud and type: no 0/O, 1/I/L
        password_hash = await asyncio.to_thread(store.hash_password, password)  # not in the event loop
        try:
            async with ctx.sessions() as session, session.begin():
                user = await store.create_admin(
                    session,
                    username,
                    password,
                    commune.id,
                    ctx.clock.now(),
                    village_id=village,
                    password_hash=password_hash,
                )
        except store.AccountError:
            error = (
                "Tên đăng nhập chỉ gồm chữ không dấu, số, dấu chấm hoặc gạch dưới (tối đa 60 ký tự), "
                "và chưa có ai dùng."
            )
            return await heads_page(
                request, auth, commune, error=error, form={"username": username, "village": village}
            )
        return await heads_page(request, auth, commune, created=(user.username, password))

    return router
