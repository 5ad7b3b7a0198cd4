"""The dashboard's "Tin nhắn lừa đảo" page (issue 16): which kinds of scams learners had checked this week
and this month per village (counts only), the domains seen most, and the *waves* — the same kind of scam
or the same non-official domain reported at least `AdminContext.scam_wave_threshold` times since
yesterday — at the top, each with "Soạn thông báo": one click opens the announcement form
(`admin.announcements`, its "edit" entry) filled in with a calm warning in plain Vietnamese (what the scam
says, what to do), which the staff edit, preview and send as any announcement. The overview shows a
banner while a wave is active (`overview_waves`).

Nothing here reads a message's text: there is none stored (`data.scams`).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.web import AdminContext, Session, Tools
from data import scams
from data.commune import Commune
from safety.domains import default_official_domains

# what each kind of scam is called on the page
KIND_LABELS: dict[str, str] = {
    "fake_authority": "Giả danh công an, thuế, điện lực, BHXH",
    "otp_theft": "Lừa lấy mã OTP, mật khẩu",
    "phishing_link": "Đường link giả",
    "fake_app": "Ứng dụng giả, tệp .apk",
    "relative": "Giả người thân vay tiền, báo tai nạn",
    "prize": "Trúng thưởng, hoàn tiền",
    "job": "Việc nhẹ lương cao",
    "investment": "Đầu tư lãi cao",
    "loan": "Cho vay dễ dàng",
    "delivery": "Giả người giao hàng",
    "other": "Kiểu lừa khác",
    scams.NONE: "Chưa thấy dấu hiệu rõ",
}
KIND_ORDER = list(KIND_LABELS)

# what the scam says, in words an elderly reader knows (the draft's middle sentence)
KIND_WARNINGS: dict[str, str] = {
    "fake_authority": (
        "người gọi điện, nhắn tin xưng là công an, cán bộ thuế, điện lực hay bảo hiểm xã hội, bảo bà con "
        "chuyển tiền, cài ứng dụng hoặc bấm link để “xác minh”. Cơ quan nhà nước không làm việc qua điện "
        "thoại và không bao giờ bắt chuyển tiền"
    ),
    "otp_theft": (
        "tin nhắn, cuộc gọi xin mã OTP, mật khẩu hoặc số thẻ ngân hàng. Không ai được hỏi mã OTP, kể cả "
        "nhân viên ngân hàng"
    ),
    "phishing_link": (
        "tin nhắn có đường link lạ, bảo bấm vào để nhận tiền, cập nhật thông tin hoặc mở khóa tài khoản. "
        "Trang đó là trang giả, để lấy mật khẩu và tiền của bà con"
    ),
    "fake_app": (
        "tin nhắn bảo cài ứng dụng qua đường link hoặc tệp lạ. Chỉ cài ứng dụng từ CH Play, App Store, "
        "và hỏi con cháu trước"
    ),
    "relative": (
        "tin nhắn, cuộc gọi giả làm con cháu, người quen, báo gặp nạn hoặc hỏi vay tiền gấp. Bà con hãy "
        "gọi lại vào số cũ đã lưu để hỏi cho chắc trước khi chuyển tiền"
    ),
    "prize": (
        "tin nhắn báo trúng thưởng, được hoàn tiền hay nhận quà, rồi bảo nộp phí hoặc bấm link. Không có "
        "giải thưởng nào bắt nộp tiền trước"
    ),
    "job": (
        "lời mời việc nhẹ lương cao, làm nhiệm vụ trên mạng, rồi bắt nạp tiền mới được rút. Đó là bẫy lừa"
    ),
    "investment": "lời mời đầu tư hứa lãi cao, chắc chắn có lời. Không ai cam kết lãi như vậy",
    "loan": "lời mời vay tiền dễ, không cần thế chấp, rồi đòi nộp phí trước mới cho vay",
    "delivery": (
        "tin nhắn, cuộc gọi giả người giao hàng, đòi chuyển tiền trước hoặc bấm link. Bà con chỉ trả tiền "
        "khi đã nhận và xem hàng"
    ),
    "other": "tin nhắn lạ đòi chuyển tiền, bấm link hoặc đọc mã",
}
ADVICE = (
    "Bà con đừng bấm link, đừng chuyển tiền, đừng đọc mã cho ai. Cần hỏi thì gọi số in trên thẻ ngân hàng, "
    "trên hóa đơn, hoặc đến thẳng cơ quan đó; không gọi số trong tin nhắn. Lỡ chuyển tiền hay đọc mã: "
    "gọi ngay cho ngân hàng, rồi báo công an xã."
)


def draft(wave: scams.Wave) -> str:
    """A calm warning for the commune about one wave: what the scam says, what to do.

    A domain is written without its ending ("vcb-xacminh", not a link): a chat app would make a written
    address clickable, and the warning must not lead anyone to the page."""
    kind = wave.value if wave.what == "kind" else (wave.kind or "phishing_link")
    what = KIND_WARNINGS.get(kind, KIND_WARNINGS["other"])
    text = f"Cảnh báo lừa đảo: mấy ngày nay nhiều bà con trong xã nhận được {what}."
    if wave.what == "domain":
        name = wave.value.rsplit(".", 1)[0]
        text += f" Có đường link mang chữ “{name}”: đó không phải trang chính thức."
    return f"{text} {ADVICE}"


def wave_title(wave: scams.Wave) -> str:
    if wave.what == "kind":
        return KIND_LABELS.get(wave.value, wave.value)
    return f"Tên miền {wave.value}"


def _official(domain: str) -> bool:
    return default_official_domains().is_official(domain)


async def overview_waves(ctx: AdminContext, commune_id: str) -> list[tuple[scams.Wave, str]]:
    """The commune's active waves and their titles, for the banner on the overview
    (`{% include "scam_wave_banner.html" %}` with `scam_waves` set to this)."""
    today = scams.vietnam_day(ctx.clock.now())
    async with ctx.sessions() as session:
        rows = await scams.reports(session, commune_id, today - timedelta(days=scams.WAVE_DAYS - 1))
    return [(w, wave_title(w)) for w in scams.waves(rows, today, ctx.scam_wave_threshold, _official)]


def _table(rows: list[scams.Row], since: date, commune: Commune) -> list[dict[str, Any]]:
    """One line per kind seen since `since`: its label, the count per village (in the commune file's
    order, then reports without a known village) and the commune's total."""
    counts = scams.per_village(rows, since)
    villages: list[str | None] = [v.id for v in commune.villages]
    lines = []
    for kind in sorted(counts, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER)):
        per = counts[kind]
        lines.append(
            {
                "kind": kind,
                "label": KIND_LABELS.get(kind, kind),
                "counts": [per.get(v, 0) for v in villages],
                "unknown": sum(n for v, n in per.items() if v not in villages),
                "total": sum(per.values()),
            }
        )
    return lines


def create_router(tools: Tools) -> APIRouter:
    """The page."""
    ctx = tools.ctx
    router = APIRouter(route_class=tools.route_class)
    Auth = Annotated[Session, Depends(tools.current)]

    async def commune_waves(commune: Commune) -> tuple[list[scams.Row], list[scams.Wave], date]:
        today = scams.vietnam_day(ctx.clock.now())
        month = today.replace(day=1)
        since = min(month, today - timedelta(days=scams.WAVE_DAYS - 1))
        async with ctx.sessions() as session:
            rows = await scams.reports(session, commune.id, since)
        return rows, scams.waves(rows, today, ctx.scam_wave_threshold, _official), today

    @router.get("/c/{commune_id}/scams", name="scams")
    async def scam_page(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = tools.commune_for(auth, commune_id)
        rows, waves, today = await commune_waves(commune)
        week = today - timedelta(days=today.weekday())
        month = today.replace(day=1)
        domains = scams.top_domains(rows, month)
        return tools.page(
            request,
            "scams.html",
            {
                **tools.base(auth, commune, "scams"),
                "waves": [(w, wave_title(w), draft(w)) for w in waves],
                "threshold": ctx.scam_wave_threshold,
                "week": week,
                "month": month,
                "week_table": _table(rows, week, commune),
                "month_table": _table(rows, month, commune),
                "has_unknown": any(r.village_id not in {v.id for v in commune.villages} for r in rows),
                "domains": [(d, _official(d.domain)) for d in domains],
            },
        )

    return router
