"""Zalo Bot Platform over httpx: webhook (secret header) or polling, options as numbered lists.

The Bot API is `<base>/bot<TOKEN>/<method>`, JSON in, `{ok, result, error_code, description}` out: `ok` is
checked, not only the HTTP status. The token sits in the URL path, so no URL is ever logged (httpx's own
request log is silenced in `bot.app.configure_logging`) and errors name only the method and code.

- Webhook: Zalo POSTs one event with the header `X-Bot-Api-Secret-Token`; `check_secret` compares it in
  constant time. Both the `{"ok": true, "result": {...}}` envelope and a bare event are accepted.
- Polling (development): `getUpdates` returns one update per call and error 408 when none came;
  `deleteWebhook` is called first.
- Zalo has no buttons: options are numbered ("1. …") and the learner types the number or the words.
- Messages are split at 2000 characters; a send is retried once (with backoff) after a network error,
  a 5xx or a 429, never after a 4xx such as 400 or 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.channels.numbered import numbered_texts
from bot.channels.ratelimit import ZALO_LIMITS, Limits, RateLimiter
from bot.channels.serial import SerialExecutor
from bot.channels.splitting import split_text
from bot.channels.supervise import supervise
from bot.messages import Incoming, Kind, Reply
from bot.service import Assistant, text_event

log = logging.getLogger(__name__)

CHANNEL = "zalo"
MESSAGE_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MEDIA_EVENTS = {
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    "message.unsupported.received": "unsupported",
}


class ZaloApiError(Exception):
    """Zalo answered `ok: false` (or not at all). Carries the method and code, never the URL."""

    def __init__(self, method: str, code: int | None, description: str) -> None:
        super().__init__(f"zalo {method} failed: {code} {description}"[:300])
        self.method = method
        self.code = code
        self.description = description

    @property
    def retryable(self) -> bool:
        return self.code is None or self.code == 429 or self.code >= 500


def check_secret(expected: str, given: str | None) -> bool:
    """The webhook's secret header, compared in constant time."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def unwrap(body: Any) -> dict[str, Any] | None:
    """The event inside a webhook body or a getUpdates result: an envelope or the bare event."""
    if not isinstance(body, dict):
        return None
    if "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    return body if isinstance(body.get("event_name"), str) else None


def to_incoming(event: dict[str, Any]) -> Incoming | None:
    """Translate one Zalo event; None for what the assistant ignores (groups, bots, non-messages)."""
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    sender: dict[str, Any] = message["from"] if isinstance(message.get("from"), dict) else {}
    chat: dict[str, Any] = message["chat"] if isinstance(message.get("chat"), dict) else {}
    user_id = str(sender.get("id") or "")
    if not user_id or sender.get("is_bot") is True:
        return None
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None  # the assistant talks one-to-one
    chat_id = str(chat.get("id") or user_id)
    message_id = str(message.get("message_id") or "")
    if not message_id:  # without an id, the event's own content identifies a redelivery
        message_id = "h" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:32]
    event_id = f"{chat_id}:{message_id}"  # ids are unique per chat at least
    name = str(sender.get("display_name") or sender.get("name") or "")[:100]
    if event["event_name"] == "message.text.received":
        text = message.get("text")
        incoming = text_event(CHANNEL, user_id, event_id, text if isinstance(text, str) else "", name)
        return Incoming(**{**incoming.__dict__, "chat_id": chat_id})
    return Incoming(
        channel=CHANNEL,
        user_id=user_id,
        event_id=event_id,
        kind=Kind.OTHER,
        chat_id=chat_id,
        display_name=name,
        media=MEDIA_EVENTS.get(event["event_name"], "unsupported"),
    )


class ZaloChannel:
    """One Zalo bot serving the assistant; also the outbox's sender for Zalo chats."""

    name = CHANNEL

    def __init__(
        self,
        assistant: Assistant,
        token: str,
        api_base: str = "https://bot-api.zaloplatforms.com",
        *,
        limits: Limits = ZALO_LIMITS,
        retry_delay: float = 1.0,
        public_media: Callable[[str], str | None] | None = None,
    ) -> None:
        self.assistant = assistant
        self._base = f"{api_base.rstrip('/')}/bot{token}"
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0))
        self.limiter = RateLimiter(limits)
        self.executor = SerialExecutor()
        self.retry_delay = retry_delay
        self.public_media = public_media
        self.problem: str | None = None  # the last failure to reach Zalo, for /healthz

    # --- the Bot API ------------------------------------------------------------------------------
    async def call(
        self, method: str, payload: dict[str, Any], *, retry: bool = True, wait: float = 15.0
    ) -> Any:
        """POST one method; returns `result`; raises ZaloApiError. Retries once when that may help."""
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                response = await self.client.post(f"{self._base}/{method}", json=payload, timeout=wait)
            except httpx.HTTPError as error:  # connection, timeout, bad encoding: no answer we can read
                failure = ZaloApiError(method, None, type(error).__name__)
            else:
                try:
                    body = response.json()
                except ValueError:
                    body = {}
                if not isinstance(body, dict):
                    body = {}
                if response.is_success and body.get("ok") is True:
                    return body.get("result")
                code = body.get("error_code") if isinstance(body.get("error_code"), int) else None
                failure = ZaloApiError(
                    method,
                    code or response.status_code,
                    str(body.get("description") or response.reason_phrase),
                )
            if not failure.retryable or attempt + 1 == attempts:
                raise failure
            if failure.code == 429:  # too many requests: every send of this bot waits, this one longer
                self.limiter.pause(self.retry_delay * 5)
                await asyncio.sleep(self.retry_delay * 5)
            else:
                await asyncio.sleep(self.retry_delay)
        raise AssertionError("unreachable")

    # --- incoming ---------------------------------------------------------------------------------
    def accept(self, body: Any) -> bool:
        """Queue one event (webhook body or polled update) for its learner; False if it is not one."""
        event = unwrap(body)
        incoming = to_incoming(event) if event is not None else None
        if incoming is None:
            return False
        return self.executor.submit(incoming.user_id, lambda: self._process(incoming))

    async def _process(self, event: Incoming) -> None:
        if event.kind is Kind.TEXT:
            with contextlib.suppress(ZaloApiError):  # "typing…" is a courtesy; never worth a retry
                await self.call(
                    "sendChatAction", {"chat_id": event.reply_to, "action": "typing"}, retry=False
                )
        replies = await self.assistant.handle(event)
        try:
            await self.send(event.reply_to, replies)
        except ZaloApiError as error:
            log.warning(
                "zalo: replies to event %s not delivered (%s %s)", event.event_id, error.method, error.code
            )

    async def run_polling(self, stop: asyncio.Event, polling_timeout: int = 20) -> None:
        """getUpdates until `stop` is set; restarted after any failure, with growing pauses."""
        await supervise("zalo polling", lambda s: self._poll(s, polling_timeout), stop, report=self._report)

    def _report(self, problem: str | None) -> None:
        self.problem = problem

    async def _poll(self, stop: asyncio.Event, polling_timeout: int) -> None:
        await self.call("deleteWebhook", {})
        self.problem = None  # Zalo answered: the token and the address work
        backoff = 1.0
        while not stop.is_set():
            started = time.monotonic()
            # not cancelled at shutdown: Zalo has no offset to acknowledge, so an update already handed
            # out in this call would be lost; the call ends by itself within its timeout
            try:
                update = await self.call(
                    "getUpdates", {"timeout": str(polling_timeout)}, retry=False, wait=polling_timeout + 10
                )
            except ZaloApiError as error:
                if error.code == 408:  # nothing came during the wait
                    if time.monotonic() - started < 1.0:  # a server that does not wait: do not spin
                        await self._pause(stop, 1.0)
                    continue
                log.warning("zalo: getUpdates failed (%s); retrying in %.0f s", error.code, backoff)
                self.problem = f"getUpdates {error.code}"
                await self._pause(stop, backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff, self.problem = 1.0, None
            for item in update if isinstance(update, list) else [update]:
                self.accept(item)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    # --- outgoing ---------------------------------------------------------------------------------
    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        """Numbered text, split at 2000 characters; images by public URL when there is one."""
        for reply, text in zip(replies, numbered_texts(replies), strict=True):
            photo = self._photo_url(reply.image)
            if photo and len(text) <= MESSAGE_LIMIT:
                await self._send(chat_id, "sendPhoto", {"chat_id": chat_id, "photo": photo, "caption": text})
                continue
            if photo:
                await self._send(chat_id, "sendPhoto", {"chat_id": chat_id, "photo": photo})
            for piece in split_text(text, MESSAGE_LIMIT) or ["…"]:
                await self._send(chat_id, "sendMessage", {"chat_id": chat_id, "text": piece})

    def _photo_url(self, image: str | None) -> str | None:
        if not image:
            return None
        if image.startswith(("https://", "http://")):
            return image
        return self.public_media(image) if self.public_media else None

    async def _send(self, chat_id: str, method: str, payload: dict[str, Any]) -> None:
        await self.limiter.acquire(chat_id)
        await self.call(method, payload)

    async def close(self, grace: float = 30.0) -> None:
        """Finish the events in hand, then close the HTTP client."""
        await self.executor.close(grace)
        await self.client.aclose()
