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

Unusual events: `message.link.received` (a text with a link, what a learner passes on to ask "is this
a scam?") is read as text: the learner's words plus the link when the words do not already hold it.
A body without `event_name` is logged by its shape (key names only) and acknowledged, and counted for
/healthz. A refusal for good (403, or 400/404 saying the chat or user does not exist or blocked the
bot; Zalo's documentation lists no specific code for a blocked bot) raises `ChatUnreachable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.channels.base import ChatUnreachable, Unreadable, field_name, readable, shape
from bot.channels.numbered import numbered_texts
from bot.channels.ratelimit import ZALO_LIMITS, Limits, RateLimiter, bot_key
from bot.channels.reachability import Reachability
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
TEXT_EVENT = "message.text.received"
LINK_EVENT = "message.link.received"
# 400/404 descriptions that mean the chat is gone for good (other 400s are our mistakes, e.g. a text
# too long, and must not cost a learner their pushes)
GONE = re.compile(r"(chat|user|recipient)\b.*\b(not found|not exist|does not exist|invalid)|block", re.I)


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

    @property
    def unreachable(self) -> str | None:
        """Why the chat can never be written to, or None when this failure may pass."""
        if self.code == 403:
            return "forbidden"
        if self.code in (400, 404) and GONE.search(self.description):
            return "blocked" if "block" in self.description.lower() else "chat not found"
        return None


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


def link_text(message: dict[str, Any]) -> str:
    """What a learner sent with a link: their words, and the link itself when the words lack it.

    Zalo's documentation does not fix the shape of a link event; the link is looked for where the
    platform and its client libraries put it (`url`, `link.url`, `links[].url`, `attachments[]`)."""
    typed = message.get("text")
    text = typed if isinstance(typed, str) else ""
    candidates: list[Any] = [message.get("url"), message.get("href")]
    for key in ("link", "preview"):
        if isinstance(message.get(key), dict):
            candidates.append(message[key].get("url"))
        elif isinstance(message.get(key), str):
            candidates.append(message[key])
    for key in ("links", "attachments"):
        items = message.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                payload = item.get("payload")
                candidates += [item.get("url"), payload.get("url") if isinstance(payload, dict) else None]
    links: list[str] = []
    for url in candidates:
        if isinstance(url, str) and url.strip() and url.strip() not in text and url.strip() not in links:
            links.append(url.strip())
    return "\n".join(part for part in [text.strip(), *links] if part)


def is_forwarded(message: dict[str, Any]) -> bool:
    """Zalo's documentation marks no forwarded message; should the platform add a `forward…` field or
    `is_forwarded`, the message is treated as forwarded content like Telegram's."""
    return message.get("is_forwarded") is True or any(
        isinstance(key, str) and key.startswith("forward") and message[key] not in (None, False, "")
        for key in message
    )


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
    name = readable(str(sender.get("display_name") or sender.get("name") or "")[:100])
    forwarded = is_forwarded(message)
    text = link_text(message) if event["event_name"] == LINK_EVENT else message.get("text")
    text = readable(text) if isinstance(text, str) else None
    if event["event_name"] == TEXT_EVENT and not forwarded:
        incoming = text_event(CHANNEL, user_id, event_id, text if isinstance(text, str) else "", name)
        return Incoming(**{**incoming.__dict__, "chat_id": chat_id})
    if event["event_name"] in (TEXT_EVENT, LINK_EVENT) and isinstance(text, str) and text:
        # a link or a forward is content the learner passes on: text, never a command
        return Incoming(
            channel=CHANNEL,
            user_id=user_id,
            event_id=event_id,
            kind=Kind.TEXT,
            text=text,
            chat_id=chat_id,
            display_name=name,
            forwarded=forwarded,
        )
    return Incoming(
        channel=CHANNEL,
        user_id=user_id,
        event_id=event_id,
        kind=Kind.OTHER,
        chat_id=chat_id,
        display_name=name,
        media=MEDIA_EVENTS.get(event["event_name"], "unsupported"),
        forwarded=forwarded,
    )


def ignored_on_purpose(event: dict[str, Any]) -> bool:
    """Events the assistant leaves alone by design (groups, other bots), as against unreadable ones."""
    message = event.get("message")
    if not isinstance(message, dict):
        return False
    sender, chat = message.get("from"), message.get("chat")
    if isinstance(sender, dict) and sender.get("is_bot") is True:
        return True
    return isinstance(chat, dict) and str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE"


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
        reachability: Reachability | None = None,
    ) -> None:
        self.assistant = assistant
        self._base = f"{api_base.rstrip('/')}/bot{token}"
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0))
        self.limiter = RateLimiter(limits)
        self.bot_key = bot_key(CHANNEL, token)  # the outbox's name for this bot, shared by the fleet
        self.executor = SerialExecutor()
        self.retry_delay = retry_delay
        self.public_media = public_media
        self._reachability = reachability
        self.problem: str | None = None  # the last failure to reach Zalo, for /healthz
        self.unreadable = Unreadable()  # bodies that could not be read, for /healthz
        # polling hands each update here instead of `accept` when set (`bot.inbox`: stored first)
        self.intake: Callable[[Any], Awaitable[None]] | None = None

    @property
    def reachability(self) -> Reachability:
        if self._reachability is None:
            self._reachability = Reachability(self.assistant.sessions, self.assistant.clock)
        return self._reachability

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
        """Queue one event (webhook body or polled update) for its learner; False if it is not one.

        Nothing disappears without a trace: a body without `event_name`, or an event without a
        message or sender, is logged by its shape (key names, never values) and counted."""
        event = unwrap(body)
        if event is None:
            self.unreadable.skipped += 1
            log.warning("zalo: a body without event_name was acknowledged and skipped: %s", shape(body))
            return False
        incoming = to_incoming(event)
        if incoming is None:
            if not ignored_on_purpose(event):
                self.unreadable.skipped += 1
                log.warning(
                    "zalo: a %s event without a readable message or sender was skipped: %s",
                    field_name(event["event_name"].replace(".", "_")),
                    shape(event),
                )
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
        except ChatUnreachable as gone:
            await self.reachability.unreachable(CHANNEL, event.reply_to, gone.reason)
        except ZaloApiError as error:  # the message id only: the event id also holds the chat id
            log.warning(
                "zalo: replies to message %s not delivered (%s %s)",
                event.event_id.rpartition(":")[2],
                error.method,
                error.code,
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
                if self.intake is not None:
                    await self.intake(item)
                else:
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
        try:
            await self.call(method, payload)
        except ZaloApiError as error:
            reason = error.unreachable
            if reason is None:
                raise
            raise ChatUnreachable(CHANNEL, chat_id, reason) from error

    async def close(self, grace: float = 30.0) -> None:
        """Finish the events in hand, then close the HTTP client."""
        await self.executor.close(grace)
        await self.client.aclose()
