"""Announcements of the dashboard: written, previewed, confirmed once, then sent now or at a chosen
date and time, and watched until delivered.

- every announcement opens with the commune's sender line ("UBND xã Tân Học thông báo:"), shown in the
  preview: our lessons teach learners to distrust unsigned messages;
- "Sửa lại" on the preview returns to the form with the text, the village and the time kept;
- a scheduled announcement waits in the database until its moment (Vietnam time), is then queued by
  `bot.notices` to whoever is registered at that moment and sent by the outbox worker; until then it
  can be cancelled;
- the announcement's page lists the recipients it did not reach (name, village, reason) and "Gửi lại"
  sends it again to those whose delivery failed — only them, once per failure (a double submit shows
  the first resend);
- a double submit of the confirmation sends once: the preview's token is stored with the announcement.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time, and the
# dependency alias `Auth` is local to `create_router`, where string annotations cannot be resolved.
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from admin import store, workflow
from admin.web import PathId, Session, Tools, path_for
from data import outbox
from data.commune import Commune
from data.models import Broadcast
from data.stats import VIETNAM, utc

MAX_ANNOUNCEMENT = 1000
CONFIRM_HOURS = 2  # an announcement's preview must be confirmed within this
MAX_SCHEDULE_DAYS = 90  # how far ahead an announcement can be scheduled
SCHEDULE_FORMAT = "%Y-%m-%dT%H:%M"  # Vietnam time, as the preview carries it


def parse_send_at(value: str, now: datetime) -> datetime | None:
    """A moment in Vietnam time ("2026-12-05T08:00"; None for "now"), which must lie ahead of `now`
    (by a minute at least) and within `MAX_SCHEDULE_DAYS`."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.strptime(value[:16], SCHEDULE_FORMAT).replace(tzinfo=VIETNAM)
    except ValueError:
        raise HTTPException(400, "Ngày giờ gửi không đúng. Anh/chị chọn lại ngày và giờ.") from None
    if moment < utc(now) + timedelta(minutes=1):
        raise HTTPException(
            400, "Giờ gửi đã qua. Anh/chị chọn một thời điểm sau bây giờ, hoặc để trống để gửi ngay."
        )
    if moment > utc(now) + timedelta(days=MAX_SCHEDULE_DAYS):
        raise HTTPException(400, f"Chỉ hẹn giờ gửi trong vòng {MAX_SCHEDULE_DAYS} ngày tới.")
    return moment.astimezone(UTC)  # stored in UTC like every moment (SQLite keeps no offset)


def create_router(tools: Tools) -> APIRouter:
    """The announcements' routes (names: announcements, announcement_edit, announcement_preview,
    announcement_send, announcement, announcement_resend, announcement_cancel)."""
    ctx = tools.ctx
    router = APIRouter(route_class=tools.route_class)
    Auth = Annotated[Session, Depends(tools.current)]
    confirm_signer = URLSafeTimedSerializer(ctx.secret, salt="hocvuso-admin-announcement")

    def audience_village(commune: Commune, village_id: str) -> str | None:
        if not village_id:
            return None
        if commune.village(village_id) is None:
            raise HTTPException(404, "Không có thôn / tổ dân phố này trong xã.")
        return village_id

    def target_name(commune: Commune, village_id: str | None) -> str:
        village = commune.village(village_id or "")
        return village.name if village else f"cả {commune.name}"

    def digest(auth: Session, commune: Commune, village_id: str | None, text: str, send_at: str) -> str:
        """Binds a confirmation to what was previewed, where, when, and by which session."""
        what = "\x00".join((auth.csrf, commune.id, village_id or "", text.strip(), send_at))
        return hashlib.sha256(what.encode()).hexdigest()[:32]

    def schedule_fields(send_at: datetime | None) -> dict[str, str]:
        local = send_at.astimezone(VIETNAM) if send_at else None
        return {
            "send_date": local.strftime("%Y-%m-%d") if local else "",
            "send_time": local.strftime("%H:%M") if local else "",
        }

    async def compose(request: Request, auth: Session, commune: Commune, form: dict[str, str]) -> Response:
        async with ctx.sessions() as session:
            sent = await workflow.announcements(session, commune.id)
        return tools.page(
            request,
            "announcements.html",
            {
                **tools.base(auth, commune, "announcements"),
                "sent": sent,
                "form": form,
                "sender": workflow.sender_line(commune),
                "villages": {v.id: v.name for v in commune.villages},
                "now": ctx.clock.now(),
            },
        )

    @router.get("/c/{commune_id}/announcements", name="announcements")
    async def announcements(request: Request, auth: Auth, commune_id: str) -> Response:
        commune = tools.commune_for(auth, commune_id)
        return await compose(
            request, auth, commune, {"text": "", "village": "", "send_date": "", "send_time": ""}
        )

    @router.post("/c/{commune_id}/announcements/edit", name="announcement_edit")
    async def edit(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        text: Annotated[str, Form(max_length=MAX_ANNOUNCEMENT)] = "",
        village: Annotated[str, Form(max_length=60)] = "",
        send_at: Annotated[str, Form(max_length=30)] = "",
    ) -> Response:
        """ "Sửa lại" from the preview: the form again, with what was written (posted, so the text never
        lands in a URL or a log)."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        village_id = audience_village(commune, village) or ""
        try:
            moment = datetime.strptime(send_at[:16], SCHEDULE_FORMAT) if send_at else None
        except ValueError:
            moment = None
        form = {
            "text": text,
            "village": village_id,
            "send_date": moment.strftime("%Y-%m-%d") if moment else "",
            "send_time": moment.strftime("%H:%M") if moment else "",
        }
        return await compose(request, auth, commune, form)

    @router.post("/c/{commune_id}/announcements/preview", name="announcement_preview")
    async def preview(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        text: Annotated[str, Form(max_length=MAX_ANNOUNCEMENT)] = "",
        village: Annotated[str, Form(max_length=60)] = "",
        send_date: Annotated[str, Form(max_length=20)] = "",
        send_time: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        village_id = audience_village(commune, village)
        if not text.strip():
            raise HTTPException(400, "Thông báo đang để trống.")
        if send_date.strip() and not send_time.strip():
            send_time = "07:30"  # a date alone: the morning, after the quiet hours of the night
        if send_time.strip() and not send_date.strip():
            raise HTTPException(400, "Anh/chị chọn cả ngày gửi (hoặc để trống cả hai để gửi ngay).")
        moment = parse_send_at(
            f"{send_date.strip()}T{send_time.strip()}" if send_date.strip() else "", ctx.clock.now()
        )
        send_at = moment.astimezone(VIETNAM).strftime(SCHEDULE_FORMAT) if moment else ""
        async with ctx.sessions() as session:
            count = len(await store.audience(session, commune.id, village_id))
        confirmation = {"n": secrets.token_urlsafe(24), "d": digest(auth, commune, village_id, text, send_at)}
        return tools.page(
            request,
            "announcement_preview.html",
            {
                **tools.base(auth, commune, "announcements"),
                "text": text.strip(),
                "message": workflow.announcement_text(commune, text),
                "village_id": village_id or "",
                "target": target_name(commune, village_id),
                "count": count,
                "send_at": send_at,
                "send_at_moment": moment,
                # a message in the night or at a meal wakes or disturbs elderly learners: said, not refused
                "quiet": commune.is_quiet(moment or ctx.clock.now()),
                "quiet_hours": ", ".join(commune.quiet_hours),
                "token": confirm_signer.dumps(confirmation),
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
        send_at: Annotated[str, Form(max_length=30)] = "",
        confirm: Annotated[str, Form(max_length=10)] = "",
        token: Annotated[str, Form(max_length=300)] = "",
    ) -> Response:
        """Send (or schedule) what was previewed, once: the preview's confirmation token is stored with
        the announcement, so a second submit (a double click, a reload, the back button) shows the first."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        village_id = audience_village(commune, village)
        try:
            confirmation = confirm_signer.loads(token, max_age=CONFIRM_HOURS * 3600) if token else None
        except BadSignature:
            confirmation = None
        if (
            confirm != "yes"
            or not text.strip()
            or not isinstance(confirmation, dict)
            or not isinstance(confirmation.get("n"), str)
            or not hmac.compare_digest(
                str(confirmation.get("d", "")), digest(auth, commune, village_id, text, send_at)
            )
        ):
            raise HTTPException(
                400, "Bản xem trước đã quá hạn hoặc đã bị sửa. Anh/chị xem trước lại rồi xác nhận."
            )
        nonce = confirmation["n"]
        now = ctx.clock.now()
        async with ctx.sessions() as session:
            found = await store.announcement_by_token(session, commune.id, nonce)
        if found is None:
            # a time that passed between preview and confirmation: sent now rather than refused
            moment = None
            if send_at:
                try:
                    moment = parse_send_at(send_at, now)
                except HTTPException:
                    moment = None
            try:
                async with ctx.sessions() as session, session.begin():
                    found = await workflow.announce(
                        session, commune, village_id, text, auth.user.username, now, nonce, moment
                    )
            except IntegrityError:  # the same confirmation, submitted twice at the same moment
                async with ctx.sessions() as session:
                    found = await store.announcement_by_token(session, commune.id, nonce)
                if found is None:
                    raise
        return tools.redirect(path_for(request, "announcement", commune_id=commune.id, broadcast_id=found.id))

    async def own(session: Any, commune: Commune, broadcast_id: int) -> Broadcast:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None or broadcast.commune_id != commune.id or broadcast.kind != "announcement":
            raise HTTPException(404, "Không có thông báo này trong xã.")
        assert isinstance(broadcast, Broadcast)
        return broadcast

    @router.get("/c/{commune_id}/announcements/{broadcast_id}", name="announcement")
    async def announcement(request: Request, auth: Auth, commune_id: str, broadcast_id: PathId) -> Response:
        commune = tools.commune_for(auth, commune_id)
        async with ctx.sessions() as session:
            broadcast = await own(session, commune, broadcast_id)
            progress = await outbox.progress(session, broadcast.id)
            failed = await workflow.failed_recipients(session, broadcast.id)
        done = progress["sent"] + progress["failed"] + progress["uncertain"] + progress["cancelled"]
        waiting = broadcast.send_at is not None and broadcast.released_at is None
        return tools.page(
            request,
            "announcement.html",
            {
                **tools.base(auth, commune, "announcements"),
                "broadcast": broadcast,
                "progress": progress,
                "done": done,
                "target": target_name(commune, broadcast.village_id),
                "share": done / broadcast.recipients if broadcast.recipients else 1.0,
                "message": (broadcast.reply or {}).get("text") or f"📢 {broadcast.text}",
                "scheduled": waiting and broadcast.cancelled_at is None,
                "cancelled": broadcast.cancelled_at is not None,
                "failed": failed,
                "resendable": sum(f.resendable for f in failed),
                "villages": {v.id: v.name for v in commune.villages},
                **schedule_fields(broadcast.send_at),
            },
        )

    @router.post("/c/{commune_id}/announcements/{broadcast_id}/resend", name="announcement_resend")
    async def resend(
        request: Request, auth: Auth, commune_id: str, broadcast_id: PathId, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        """Send the announcement again to the recipients whose delivery failed, only to them."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        try:
            async with ctx.sessions() as session, session.begin():
                original = await own(session, commune, broadcast_id)
                again = await workflow.resend_failed(
                    session, commune, original, auth.user.username, ctx.clock.now()
                )
        except IntegrityError:  # two resends of the same failures at the same moment: the other won
            async with ctx.sessions() as session, session.begin():
                original = await own(session, commune, broadcast_id)
                again = await workflow.resend_failed(
                    session, commune, original, auth.user.username, ctx.clock.now()
                )
        if again is None:
            raise HTTPException(400, "Không có người nhận nào bị lỗi để gửi lại.")
        return tools.redirect(path_for(request, "announcement", commune_id=commune.id, broadcast_id=again.id))

    @router.post("/c/{commune_id}/announcements/{broadcast_id}/cancel", name="announcement_cancel")
    async def cancel(
        request: Request, auth: Auth, commune_id: str, broadcast_id: PathId, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        """Call off a scheduled announcement before it goes."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        async with ctx.sessions() as session, session.begin():
            broadcast = await own(session, commune, broadcast_id)
            if not await workflow.cancel_scheduled(session, broadcast, ctx.clock.now()):
                raise HTTPException(400, "Thông báo này đã được gửi đi (hoặc đã hủy), không hủy được nữa.")
        return tools.redirect(
            path_for(request, "announcement", commune_id=commune.id, broadcast_id=broadcast_id)
        )

    return router
