"""The one web app of `hocvuso run`: channel webhooks, /healthz, signed media links and the dashboard.

Webhooks answer at once: the event is queued for its learner and handled in the background, so Telegram
and Zalo never time out and retry while the assistant thinks. A request without the channel's secret
header, or with a wrong one, gets 403 and changes nothing.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from admin.security import SecurityHeaders
from admin.web import AdminContext, create_admin_router
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import SECRET_HEADER as ZALO_SECRET_HEADER
from bot.channels.zalo import ZaloChannel, check_secret

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BYTES = 1_000_000
MEDIA_DAYS = 30


class MediaLinks:
    """Signed, expiring links to files the assistant made (certificates, lesson images), for Zalo,
    which fetches photos by URL. Only files under the allowed folders are ever served."""

    def __init__(self, public_url: str, secret: str, roots: list[Path]) -> None:
        self.public_url = public_url.rstrip("/")
        self.signer = URLSafeTimedSerializer(secret, salt="hocvuso-media")
        self.roots = [root.resolve() for root in roots]

    def url(self, path: str) -> str | None:
        target = Path(path).resolve()
        if not target.is_file() or not any(target.is_relative_to(root) for root in self.roots):
            return None
        return f"{self.public_url}/media/{self.signer.dumps(str(target))}"

    def path(self, token: str) -> Path | None:
        try:
            value = self.signer.loads(token, max_age=MEDIA_DAYS * 86400)
        except BadSignature:
            return None
        target = Path(str(value)).resolve()
        if not target.is_file() or not any(target.is_relative_to(root) for root in self.roots):
            return None
        return target


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
            await telegram.feed_webhook(body)  # read, salvaged or skipped with a log line: never raises
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
            zalo.accept(body)  # queued; what cannot be read is logged by shape and acknowledged
            return JSONResponse({"ok": True})

    if parts.media is not None:
        media = parts.media

        @app.get("/media/{token}")
        async def media_file(token: str) -> Response:
            path = media.path(token)
            if path is None:
                return PlainTextResponse("not found", status_code=404)
            return FileResponse(path)

    if parts.admin is not None:
        app.include_router(create_admin_router(parts.admin), prefix="/admin")

        @app.get("/")
        async def home() -> Response:
            return RedirectResponse("/admin/", status_code=303)

    return app
