"""The one web app of `hocvuso run`: channel webhooks, /healthz, signed media links and the dashboard.

Webhooks store the update durably, then answer (`WebParts.intake`: the `inbox` table of `bot.inbox`, or
a job of the cluster's queue, `bot.cluster`); it is handled in the background from what was stored, so
Telegram and Zalo never time out and retry while the assistant thinks, and an update answered 200 is
never lost to a crash. When it cannot be stored the answer is 503 and the platform sends it again. A
request without the channel's secret header, or with a wrong one, gets 403 and changes nothing.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.security import SecurityHeaders
from admin.web import AdminContext, create_admin_router
from bot import texts
from bot.certificate import FontMissing, render
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import SECRET_HEADER as ZALO_SECRET_HEADER
from bot.channels.zalo import ZaloChannel, check_secret
from data.commune import CommuneConfig
from data.models import Certificate

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BYTES = 1_000_000
MEDIA_DAYS = 30


class MediaLinks:
    """Signed, expiring links to files the assistant made (certificates, lesson images), for Zalo,
    which fetches photos by URL. Only files under the allowed folders are ever served.

    A link names a file by the number of its folder in `roots` and its path inside it, never by an
    absolute path, so that any process of a cluster (same key, HOCVUSO_MEDIA_KEY; same folders in the
    same order, wherever they are on its machine) serves a link another process made. A file missing
    on this machine is asked of `redraw` (certificates are drawn again from their database row)."""

    def __init__(
        self,
        public_url: str,
        secret: str,
        roots: list[Path],
        redraw: Callable[[Path], Awaitable[bool]] | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.signer = URLSafeTimedSerializer(secret, salt="hocvuso-media")
        self.roots = [root.resolve() for root in roots]
        self.redraw = redraw

    def url(self, path: str) -> str | None:
        target = Path(path).resolve()
        if not target.is_file():
            return None
        for number, root in enumerate(self.roots):
            if target.is_relative_to(root):
                inside = target.relative_to(root).as_posix()
                return f"{self.public_url}/media/{self.signer.dumps([number, inside])}"
        return None

    def _target(self, token: str) -> Path | None:
        try:
            value = self.signer.loads(token, max_age=MEDIA_DAYS * 86400)
        except BadSignature:
            return None
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
            return None
        number, inside = value
        if not isinstance(number, int) or not 0 <= number < len(self.roots):
            return None
        root = self.roots[number]
        target = (root / inside).resolve()
        return target if target.is_relative_to(root) else None

    def path(self, token: str) -> Path | None:
        target = self._target(token)
        return target if target is not None and target.is_file() else None

    async def find(self, token: str) -> Path | None:
        """The file a link names; drawn again when this machine does not have it (yet)."""
        target = self._target(token)
        if target is None:
            return None
        if not target.is_file() and self.redraw is not None and not await self.redraw(target):
            return None
        return target if target.is_file() else None


def certificate_redraw(
    sessions: async_sessionmaker[AsyncSession], communes: CommuneConfig, directory: Path
) -> Callable[[Path], Awaitable[bool]]:
    """For `MediaLinks.redraw`: a certificate another process drew (`learner-<id>.png` in the
    certificates folder) is drawn here again from its row, identical but for the file's bytes."""
    folder = directory.resolve()

    async def redraw(target: Path) -> bool:
        match = re.fullmatch(r"learner-(\d+)\.png", target.name)
        if target.parent != folder or match is None:
            return False
        async with sessions() as session:
            row = await session.scalar(select(Certificate).where(Certificate.learner_id == int(match[1])))
        if row is None:
            return False
        commune = communes.commune(row.commune_id or "")
        line = texts.CERTIFICATE_COMMUNE.format(
            commune=commune.name if commune else "", province=commune.province if commune else ""
        )
        try:
            await asyncio.to_thread(
                render, target, name=row.name or "", commune=line, issued=row.issued_at, code=row.code
            )
        except (OSError, FontMissing) as error:
            log.error("certificate of learner %s not drawn again (%s)", match[1], type(error).__name__)
            return False
        return True

    return redraw


@dataclass
class WebParts:
    """What the web app serves; each part is optional."""

    health: Callable[[], Awaitable[dict[str, Any]]]
    telegram: TelegramChannel | None = None
    telegram_secret: str | None = None
    zalo: ZaloChannel | None = None
    zalo_secret: str | None = None
    admin: AdminContext | None = None
    media: MediaLinks | None = None
    # stores one update (channel name, body) durably before the webhook answers; None: handed to the
    # channel directly (tests of the web app alone)
    intake: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None


async def _json_body(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_WEBHOOK_BYTES):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():  # read with a limit, also when no length was announced
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            return None
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack (a 400)
        return None


async def _stored(
    intake: Callable[[str, dict[str, Any]], Awaitable[None]], channel: str, body: dict[str, Any]
) -> bool:
    """Store the update before answering; False (logged by type) when the database refused."""
    try:
        await intake(channel, body)
    except Exception as error:  # the type only: the message could quote the update
        log.error(
            "%s webhook: the update could not be stored (%s); answered 503", channel, type(error).__name__
        )
        return False
    return True


def create_web_app(parts: WebParts) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)  # every response, errors included (admin/security.py)

    @app.get("/healthz")
    async def healthz() -> Response:
        report = await parts.health()
        return JSONResponse(report, status_code=200 if report.get("status") == "ok" else 503)

    if parts.telegram is not None and parts.telegram_secret:
        telegram, telegram_secret = parts.telegram, parts.telegram_secret

        @app.post("/webhooks/telegram")
        async def telegram_webhook(request: Request) -> Response:
            given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), telegram_secret.encode()):
                return PlainTextResponse("forbidden", status_code=403)
            body = await _json_body(request)
            if not isinstance(body, dict):
                log.warning("telegram webhook: a body that is not a JSON object was refused")
                return PlainTextResponse("bad request", status_code=400)
            if parts.intake is None:
                await telegram.feed_webhook(body)  # read, salvaged or skipped with a log line: never raises
            elif not await _stored(parts.intake, "telegram", body):
                return PlainTextResponse("try again", status_code=503)
            return JSONResponse({})

    if parts.zalo is not None and parts.zalo_secret:
        zalo, zalo_secret = parts.zalo, parts.zalo_secret

        @app.post("/webhooks/zalo")
        async def zalo_webhook(request: Request) -> Response:
            if not check_secret(zalo_secret, request.headers.get(ZALO_SECRET_HEADER)):
                return PlainTextResponse("forbidden", status_code=403)
            body = await _json_body(request)
            if body is None:
                log.warning("zalo webhook: a body that is not JSON (or too large) was refused")
                return PlainTextResponse("bad request", status_code=400)
            if parts.intake is None or not isinstance(body, dict):
                zalo.accept(body)  # queued; what cannot be read is logged by shape and acknowledged
            elif not await _stored(parts.intake, "zalo", body):
                return PlainTextResponse("try again", status_code=503)
            return JSONResponse({"ok": True})

    if parts.media is not None:
        media = parts.media

        @app.get("/media/{token}")
        async def media_file(token: str) -> Response:
            path = await media.find(token)
            if path is None:
                return PlainTextResponse("not found", status_code=404)
            return FileResponse(path)

    if parts.admin is not None:
        app.include_router(create_admin_router(parts.admin), prefix="/admin")

        @app.get("/")
        async def home() -> Response:
            return RedirectResponse("/admin/", status_code=303)

    return app
