"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp): the adapter talks real HTTP to it.

It keeps a queue of updates served by long-polling `getUpdates`, records every method called, keeps each
chat's messages (with edits applied), and can be told to answer 429 to the next sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.channels.local_server import Call, LocalServer

TOKEN = "123456:TEST-telegram-token-never-logged"


@dataclass
class FakeTelegram:
    token: str = TOKEN
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    fetched_up_to: int = 0  # the highest update_id handed out by getUpdates
    too_many: int = 0  # answer the next N sends with 429
    retry_after: int = 1
    last_activity: float = 0.0
    on_reply: Callable[[str], None] | None = None  # told the chat id of each message sent or edited
    failures: list[tuple[str, int]] = field(default_factory=list)  # (method, status) answered once each
    # (method, status, description) answered once each, as Telegram words them ("Forbidden: bot was
    # blocked by the user")
    refusals: list[tuple[str, int, str]] = field(default_factory=list)
    # the update kinds the bot asked for (getUpdates' allowed_updates, kept until changed, as Telegram
    # does); None: Telegram's default, every kind but chat_member and reactions
    allowed_updates: list[str] | None = None

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.server = LocalServer()
        self.base = ""

    # --- server -------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.base = await self.server.serve(app)
        return self.base

    async def stop(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()
        await self.server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            self.calls.append(Call(method, params, time.monotonic()))
        if method in {"sendMessage", "editMessageText", "sendPhoto"}:  # what a learner would see
            self.last_activity = time.monotonic()
            if self.on_reply is not None:
                self.on_reply(str(params.get("chat_id")))
        for index, (failing, status) in enumerate(self.failures):
            if failing == method:
                del self.failures[index]
                return web.json_response(
                    {"ok": False, "error_code": status, "description": "injected failure"}, status=status
                )
        for index, (failing, status, description) in enumerate(self.refusals):
            if failing == method:
                del self.refusals[index]
                return web.json_response(
                    {"ok": False, "error_code": status, "description": description}, status=status
                )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return await handler(params)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str):
                try:
                    params[key] = json.loads(value) if value[:1] in "[{" else value
                except ValueError:
                    params[key] = value
            else:  # an uploaded file
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
        return params

    # --- methods ------------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        me = {"id": 42, "is_bot": True, "first_name": "Trợ lý Học vụ số", "username": "hocvuso_test_bot"}
        return web.json_response({"ok": True, "result": me})

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        self.updates = [u for u in self.updates if u["update_id"] >= offset and self._wanted(u)]
        if not self.updates and timeout:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
        batch = [u for u in self.updates if u["update_id"] >= offset and self._wanted(u)][:100]
        if batch:
            self.fetched_up_to = max(self.fetched_up_to, batch[-1]["update_id"])
        return web.json_response({"ok": True, "result": batch})

    def _wanted(self, update: dict[str, Any]) -> bool:
        """Telegram never hands out (nor keeps) an update of a kind the bot did not ask for."""
        kinds = set(update) - {"update_id"}
        if self.allowed_updates is None or not self.allowed_updates:
            return not kinds & {"chat_member", "message_reaction", "message_reaction_count"}
        return bool(kinds & set(self.allowed_updates))

    def _limited(self) -> web.Response | None:
        if self.too_many > 0:
            self.too_many -= 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self.retry_after}",
                    "parameters": {"retry_after": self.retry_after},
                },
                status=429,
            )
        return None

    def _store(self, chat_id: str, message: dict[str, Any]) -> dict[str, Any]:
        message_id = next(self._message_ids)
        result = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": {"id": 42, "is_bot": True, "first_name": "Trợ lý"},
            **message,
        }
        self.messages[chat_id][message_id] = result
        return result

    @staticmethod
    def rendered(params: dict[str, Any], key: str = "text") -> str | None:
        """What the user sees: HTML parsed as Telegram does; None when Telegram would refuse it (a bare
        "<" or "&" that is not an entity, as unescaped learner text would be)."""
        raw = str(params.get(key, ""))
        if params.get("parse_mode") != "HTML":
            return raw
        if "<" in raw or re.search(r"&(?!(lt|gt|amp|quot);)", raw):
            return None
        return html.unescape(raw)

    def _unparsable(self) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities"}, status=400
        )

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        limited = self._limited()
        if limited is not None:
            return limited
        text = self.rendered(params)
        if text is None:
            return self._unparsable()
        if not text or len(text.encode("utf-16-le")) // 2 > 4096:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message text is wrong"},
                status=400,
            )
        stored = {"text": text}
        if params.get("reply_markup"):
            stored["reply_markup"] = params["reply_markup"]
        return web.json_response({"ok": True, "result": self._store(str(params["chat_id"]), stored)})

    async def _m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        limited = self._limited()
        if limited is not None:
            return limited
        caption = self.rendered(params, "caption")
        if caption is None:
            return self._unparsable()
        stored: dict[str, Any] = {
            "photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}],
            "caption": caption,
        }
        if params.get("reply_markup"):
            stored["reply_markup"] = params["reply_markup"]
        return web.json_response({"ok": True, "result": self._store(str(params["chat_id"]), stored)})

    async def _m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        chat_id, message_id = str(params["chat_id"]), int(params["message_id"])
        message = self.messages[chat_id].get(message_id)
        if message is None:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"},
                status=400,
            )
        text = self.rendered(params)
        if text is None:
            return self._unparsable()
        if message.get("text") == text and message.get("reply_markup") == params.get("reply_markup"):
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"},
                status=400,
            )
        message["text"] = text
        message["edited"] = message.get("edited", 0) + 1
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return web.json_response({"ok": True, "result": message})

    # --- what a user does ---------------------------------------------------------------------
    async def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        self.updates.append(update)
        async with self._arrived:
            self._arrived.notify_all()
        return update

    def user(self, user_id: int, name: str = "Hoa") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    async def send_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update as given (for a redelivery, the same update again)."""
        return await self._push(update)

    async def send_batch(self, updates: list[dict[str, Any]]) -> None:
        """Deliver several updates at once: the next getUpdates hands them out in one batch."""
        self.updates.extend(updates)
        async with self._arrived:
            self._arrived.notify_all()

    def next_update_id(self) -> int:
        return next(self._ids)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def member_update(self, user_id: int, status: str, old: str = "member") -> dict[str, Any]:
        """`my_chat_member`: the learner blocked ("kicked") or unblocked ("member") the bot."""
        bot = {"id": 42, "is_bot": True, "first_name": "Trợ lý Học vụ số", "username": "hocvuso_test_bot"}
        member: dict[str, Any] = {"status": status, "user": bot}
        if status == "kicked":
            member["until_date"] = 0
        return {
            "update_id": next(self._ids),
            "my_chat_member": {
                "chat": {"id": user_id, "type": "private", "first_name": "Hoa"},
                "from": self.user(user_id),
                "date": int(time.time()),
                "old_chat_member": {
                    "status": old,
                    "user": bot,
                    **({"until_date": 0} if old == "kicked" else {}),
                },
                "new_chat_member": member,
            },
        }

    def acknowledged(self, update_id: int) -> bool:
        """Whether getUpdates was called again with an offset past this update (Telegram forgets it)."""
        return self.fetched_up_to >= update_id and all(u["update_id"] > update_id for u in self.updates)

    def message_update(self, user_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": self.user(user_id),
            **extra,
        }
        if text is not None:
            message["text"] = text
        return {"update_id": next(self._ids), "message": message}

    def callback_update(self, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        message = self.messages[str(user_id)][message_id]
        return {
            "update_id": next(self._ids),
            "callback_query": {
                "id": f"cb{next(self._callback_ids)}",
                "from": self.user(user_id),
                "message": message,
                "chat_instance": "ci",
                "data": data,
            },
        }

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def chat(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.messages[str(user_id)].values())

    async def settle(self, after: int, quiet: float = 0.15, limit: float = 15.0) -> None:
        """Wait until update `after` was fetched, something was sent after that, and then quiet."""
        deadline = time.monotonic() + limit
        start = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            fetched = self.fetched_up_to >= after
            if fetched and self.last_activity > start and time.monotonic() - self.last_activity > quiet:
                return
        raise AssertionError("the bot did not answer in time")
