"""Telegram through aiogram 3: long polling or a webhook, inline keyboards, a configurable API base.

The adapter only translates and delivers:
- a message becomes an `Incoming` (text, command, or "other" media) and a button press a BUTTON event;
  event ids are the chat and message id (or the callback id), so a redelivered update has no second effect;
- the events of one learner go through a `SerialExecutor`, handled one at a time and in order;
- replies go out as HTML with every text escaped (whatever a learner typed, `<b>` or `*`, is shown as
  typed and never read as markup), split at Telegram's 4096-character limit, with the buttons as an inline
  keyboard under the last piece; a card reached by Tiếp/Lại replaces the pressed message in place;
- every callback query is answered, so the learner's button stops spinning;
- sends pass a rate limiter (about 1/s per chat; the bulk rate is the outbox's) and a 429 is waited out
  by every process (`bot.channels.ratelimit`).

Unusual updates (`read_update`): polling fetches getUpdates as raw JSON and reads each update on its
own, so one update aiogram's models cannot read (an old forward with `forward_origin` `hidden_user` and
no name, a reply quoting a story `{}`, an old poll) never holds back the others. A part that cannot be
read is dropped and the rest answered (a message's chat, sender and text are enough); an update without
those is acknowledged and skipped. Either way one log line names the update id and the field path that
failed, never a name or text, and /healthz counts them. Webhooks go through the same reading.
A forwarded message is marked `forwarded` and never read as a command. A 403 or "chat not found"
raises `ChatUnreachable` (never retried) and `my_chat_member` tells when a learner blocks or unblocks
the bot; both are recorded (`bot.channels.reachability`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendAudio,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    ChatMemberUpdated,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from pydantic import ValidationError

from bot.channels.base import ChatUnreachable, Unreadable, field_name, readable
from bot.channels.ratelimit import TELEGRAM_LIMITS, Limits, RateLimiter, bot_key
from bot.channels.reachability import Reachability
from bot.channels.serial import SerialExecutor
from bot.channels.splitting import split_text, utf16_length
from bot.channels.supervise import supervise
from bot.messages import Incoming, Kind, Reply
from bot.service import Assistant, text_event

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
BUTTON_LABEL_LIMIT = 28  # UTF-16 units a phone shows on one button line without cutting it
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# the fields an update of each kind cannot be answered without; any other part that fails to read is
# dropped and the rest answered
REQUIRED = {
    "message": frozenset({"message_id", "date", "chat", "from"}),
    "callback_query": frozenset({"id", "from", "chat_instance"}),
    "my_chat_member": frozenset({"chat", "from", "date", "old_chat_member", "new_chat_member"}),
}
# a message passed on from someone else (Bot API 7: forward_origin; before it: forward_from, ...)
FORWARD_FIELDS = frozenset(
    {"forward_origin", "forward_from", "forward_from_chat", "forward_sender_name", "forward_date"}
)
GONE_FOR_GOOD = ("chat not found", "user not found", "peer_id_invalid")  # 400s that never get better
COMMANDS = (
    ("start", "Bắt đầu"),
    ("menu", "Menu chính"),
    ("hoc", "Học bài"),
    ("hoi", "Hỏi đáp"),
    ("tiendo", "Tiến độ học"),
    ("trogiup", "Trợ giúp"),
)
HTML = "HTML"
_T = TypeVar("_T")


class GetRawUpdates(TelegramMethod[list[Any]]):
    """getUpdates answered as plain JSON: each update is then read on its own (`read_update`), so one
    that aiogram's models cannot read does not fail the whole batch."""

    __returning__ = list[Any]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


CALLED: tuple[type[TelegramMethod[Any]], ...] = (
    GetMe, GetUpdates, GetRawUpdates, AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto,
    SendAudio, SetMyCommands, DeleteWebhook, SetWebhook,
)  # fmt: skip


def response_types() -> list[type[Any]]:
    """aiogram reads every answer with `Response[<method's result type>]`, a class pydantic builds on
    first use and keeps only weakly: once collected, the next call builds it again (about 3 ms, more than
    the rest of the call). Holding these classes for the channel's lifetime makes each a dictionary
    lookup; measured in bench/bench_telegram.py, the update rate rose by a third."""
    return [Response[method.__returning__] for method in CALLED]  # type: ignore[name-defined]


def escape(text: str) -> str:
    """Every text goes out as HTML with all of it escaped: whatever a learner typed (their name, a
    question) is shown as typed and never read as markup. Telegram counts length after parsing, so the
    limits apply to the text before escaping."""
    return html.escape(text, quote=False)


class DeliveryFailed(RuntimeError):
    """Telegram kept refusing a message for too many requests."""


class _WithoutBodies(logging.Filter):
    """aiogram's own log lines can carry a whole update or API answer (the text of a decode error holds
    the JSON it failed to read: names, messages). They keep their wording and lose the details:
    exceptions are named by type, long strings and objects are withheld, tracebacks are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg = f"<{type(record.msg).__name__} withheld>"
        if isinstance(record.args, dict):
            record.args = {key: _loggable(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_loggable(value) for value in record.args)
        if record.exc_info:
            kind = record.exc_info[0].__name__ if record.exc_info[0] is not None else "error"
            record.msg = f"{record.msg} [{kind}; details withheld]"
            record.exc_info = None
            record.exc_text = None
        return True


def _loggable(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, str) and len(value) <= 40 and "\n" not in value:
        return value
    return f"<{type(value).__name__} withheld>"


def quiet_aiogram_logs() -> None:
    """Put `_WithoutBodies` on each of aiogram's loggers (a logger's filters see only its own records,
    so each one needs it); idempotent."""
    for name in ("aiogram.dispatcher", "aiogram.event", "aiogram.middlewares", "aiogram.webhook"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WithoutBodies) for f in logger.filters):
            logger.addFilter(_WithoutBodies())


def is_forwarded(message: dict[str, Any]) -> bool:
    """Whether a raw message was forwarded from someone else, read from the JSON itself: the parsed
    model may have lost the unreadable `forward_origin` that says so."""
    return any(message.get(name) is not None for name in FORWARD_FIELDS)


def unreachable_reason(error: TelegramAPIError) -> str | None:
    """Why Telegram will never deliver to this chat, or None when the refusal may pass."""
    if isinstance(error, TelegramForbiddenError):
        description = error.message.lower()
        if "blocked" in description:
            return "blocked by the user"
        if "deactivated" in description:
            return "account deleted"
        return "forbidden"
    if isinstance(error, TelegramBadRequest) and any(s in error.message.lower() for s in GONE_FOR_GOOD):
        return "chat not found"
    return None


def media_kind(message: Message) -> str:
    """What a message without text carries, in the engine's words."""
    if message.sticker:
        return "sticker"
    if message.photo:
        return "image"
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.video or message.animation:
        return "video"
    if message.document:
        return "file"
    return "unsupported"


def view(reply: Reply, first_number: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message text and inline keyboard for one reply.

    One button a row (big targets for old fingers); two short ones such as ◀ Lại / Tiếp ▶ share a row.
    Telegram shows a button's label on one line and cuts a long one with "…", so when a label is too long
    to read (quiz answers often are), the options are written out in the text as "1. …" and their buttons
    carry just the number — the same numbers the learner could type.
    """
    if not reply.buttons:
        return reply.text, None
    long_labels = any(utf16_length(b.label) > BUTTON_LABEL_LIMIT for b in reply.buttons)
    text = reply.text
    if long_labels:
        listed = [
            f"{first_number + i}. {b.label}" for i, b in enumerate(reply.buttons) if b.payload != "menu"
        ]
        text = f"{reply.text}\n\n" + "\n".join(listed)
    rows: list[list[InlineKeyboardButton]] = []
    for offset, button in enumerate(reply.buttons):
        if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:
            # ids are length-limited where they are defined (lessons, communes), so this is a bug of ours
            log.error(
                "button payload over Telegram's 64 bytes dropped (%d bytes)", len(button.payload.encode())
            )
            continue
        label = str(first_number + offset) if long_labels and button.payload != "menu" else button.label
        key = InlineKeyboardButton(text=label, callback_data=button.payload)
        short = utf16_length(label) <= 10
        if rows and short and len(rows[-1]) < 4 and all(utf16_length(k.text) <= 10 for k in rows[-1]):
            rows[-1].append(key)
        else:
            rows.append([key])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramChannel:
    """One Telegram bot serving the assistant; also the outbox's sender for Telegram chats."""

    name = CHANNEL

    def __init__(
        self,
        assistant: Assistant,
        token: str,
        api_base: str = "https://api.telegram.org",
        *,
        limits: Limits = TELEGRAM_LIMITS,
        request_timeout: float = 30.0,
        reachability: Reachability | None = None,
    ) -> None:
        self.assistant = assistant
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base), timeout=request_timeout)
        self.bot = Bot(token, session=session)
        self._response_types = response_types()
        self.limiter = RateLimiter(limits)
        self.bot_key = bot_key(CHANNEL, token)  # the outbox's name for this bot, shared by the fleet
        self.executor = SerialExecutor()
        self.dispatcher = self._create_dispatcher()
        self._tasks: set[asyncio.Future[None]] = set()
        self._reachability = reachability
        self.problem: str | None = None  # the last failure to reach Telegram, for /healthz
        self.unreadable = Unreadable()  # updates read only in part or not at all, for /healthz
        self._offset: int | None = None  # the next update to fetch; kept when polling restarts
        # polling hands each update here first when set (`bot.inbox`: stored before the offset moves)
        self.intake: Callable[[Any], Awaitable[None]] | None = None
        quiet_aiogram_logs()

    @property
    def reachability(self) -> Reachability:
        if self._reachability is None:
            self._reachability = Reachability(self.assistant.sessions, self.assistant.clock)
        return self._reachability

    def _create_dispatcher(self) -> Dispatcher:
        router = Router(name="hocvuso")
        router.message.register(self.on_message)
        router.callback_query.register(self.on_callback)
        router.my_chat_member.register(self.on_my_chat_member)
        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        return dispatcher

    # --- reading updates --------------------------------------------------------------------------
    def read_update(self, raw: Any) -> tuple[Update | None, bool]:
        """One update from its JSON: the parsed update (None when there is nothing to act on) and
        whether it is a forwarded message.

        The parts aiogram cannot read are dropped and the rest is read again (a few rounds at most);
        an update whose chat, sender or id cannot be read is skipped. Each case is logged once with
        the update id and the failing field paths, and counted for /healthz."""
        if not isinstance(raw, dict):
            self._skip(None, "the update is not an object")
            return None, False
        update_id = raw.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            self._skip(None, "update_id")
            return None, False
        kind = next((k for k in ALLOWED_UPDATES if k in raw), None)
        if kind is None:  # a kind we did not ask for: nothing a learner waits for
            log.debug("telegram: update %d of a kind not handled was acknowledged", update_id)
            return None, False
        body = raw[kind]
        forwarded = kind == "message" and isinstance(body, dict) and is_forwarded(body)
        data: dict[str, Any] = {"update_id": update_id, kind: dict(body) if isinstance(body, dict) else body}
        dropped: list[str] = []
        for _ in range(6):
            try:
                update = Update.model_validate(data, context={"bot": self.bot})
            except ValidationError as error:
                paths = sorted({tuple(e["loc"]) for e in error.errors()})
                names = ", ".join(".".join(field_name(p) for p in loc) for loc in paths[:5])
                outside = any(len(loc) < 2 or loc[0] != kind for loc in paths)
                fields = {loc[1] for loc in paths if len(loc) >= 2}
                if outside or fields & REQUIRED[kind] or not isinstance(data[kind], dict):
                    self._skip(update_id, names)
                    return None, False
                for name in fields:
                    data[kind].pop(name, None)
                dropped.append(names)
                continue
            if dropped:
                self.unreadable.salvaged += 1
                log.warning(
                    "telegram: update %d answered without the parts that could not be read: %s",
                    update_id,
                    "; ".join(dropped),
                )
            return update, forwarded
        self._skip(update_id, "; ".join(dropped))
        return None, False

    def _skip(self, update_id: int | None, fields: str) -> None:
        self.unreadable.skipped += 1
        log.warning(
            "telegram: update %s could not be read (%s); acknowledged and skipped",
            update_id if update_id is not None else "without an id",
            fields,
        )

    async def take(self, raw: Any) -> None:
        """Read one update (polled or POSTed) and hand it to the dispatcher; never raises, so a bad
        update can neither stop polling nor make Telegram resend it forever."""
        update, forwarded = self.read_update(raw)
        if update is None:
            return
        try:
            await self.dispatcher.feed_update(self.bot, update, forwarded=forwarded)
        except Exception as error:  # a bug of ours in translating it: logged, the next one goes on
            self.unreadable.skipped += 1
            log.error("telegram: update %d failed (%s)", update.update_id, type(error).__name__)

    # --- incoming ---------------------------------------------------------------------------------
    async def on_message(self, message: Message, forwarded: bool = False) -> None:
        user = message.from_user
        if user is None or user.is_bot or message.chat.type != "private":
            return  # the assistant talks one-to-one; groups and channels are not for it
        event_id = f"{message.chat.id}:{message.message_id}"
        forwarded = forwarded or message.forward_origin is not None or message.forward_date is not None
        name = readable(user.full_name)
        if message.text is not None and forwarded:
            # someone else's words passed on: content to look at, never a command of the learner
            event = Incoming(
                channel=CHANNEL,
                user_id=str(user.id),
                event_id=event_id,
                kind=Kind.TEXT,
                text=readable(message.text),
                chat_id=str(message.chat.id),
                display_name=name,
                forwarded=True,
            )
        elif message.text is not None:
            event = text_event(CHANNEL, str(user.id), event_id, readable(message.text), name)
            event = replace(event, chat_id=str(message.chat.id))
        else:
            event = Incoming(
                channel=CHANNEL,
                user_id=str(user.id),
                event_id=event_id,
                kind=Kind.OTHER,
                chat_id=str(message.chat.id),
                display_name=name,
                media=media_kind(message),
                forwarded=forwarded,
            )
        self.executor.submit(event.user_id, lambda: self._process(event, None))

    async def on_my_chat_member(self, change: ChatMemberUpdated) -> None:
        """The learner blocked ("kicked") or unblocked ("member") the bot in their private chat."""
        if change.chat.type != "private":
            return
        status = change.new_chat_member.status  # a str enum: compares equal to Telegram's words
        chat_id = str(change.chat.id)
        if status == "kicked":
            work = lambda: self.reachability.unreachable(CHANNEL, chat_id, "blocked by the user")  # noqa: E731
        elif status == "member":
            work = lambda: self.reachability.reachable(CHANNEL, chat_id)  # noqa: E731
        else:
            return
        # in line with the learner's messages, so "blocked, unblocked, wrote" keeps its order
        self.executor.submit(str(change.from_user.id), work)

    async def on_callback(self, query: CallbackQuery) -> None:
        message = query.message
        chat_id = str(message.chat.id) if message is not None else str(query.from_user.id)
        edit_id = message.message_id if isinstance(message, Message) else None
        event = Incoming(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            event_id=f"cb:{query.id}",
            kind=Kind.BUTTON,
            payload=readable(query.data or ""),
            chat_id=chat_id,
            display_name=readable(query.from_user.full_name),
        )
        # answered at once, so the button stops spinning even while the learner's earlier event runs
        self._spawn(self._answer_callback(query.id))
        self.executor.submit(event.user_id, lambda: self._process(event, edit_id))

    async def _answer_callback(self, callback_id: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_id)
        except (TelegramAPIError, OSError) as error:  # too old to answer: the press is still handled
            log.info("callback not answered (%s)", type(error).__name__)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event: Incoming, edit_id: int | None) -> None:
        replies = await self.assistant.handle(event)
        try:
            await self.deliver(event.reply_to, replies, edit_id)
        except ChatUnreachable as gone:
            await self.reachability.unreachable(CHANNEL, event.reply_to, gone.reason)
        except (TelegramAPIError, DeliveryFailed, OSError) as error:
            # the message id only: the event id also holds the chat id
            log.warning(
                "telegram: replies to message %s not delivered (%s)",
                event.event_id.rpartition(":")[2],
                type(error).__name__,
            )

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """One update POSTed by Telegram to our webhook (already authenticated by its secret), read as
        in polling (`read_update`). An update that cannot be read is logged, counted and acknowledged:
        Telegram would resend it for a day."""
        await self.take(data)

    # --- outgoing ---------------------------------------------------------------------------------
    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        """ChannelSender for the outbox: deliver, raising when Telegram refuses."""
        await self.deliver(chat_id, replies, None)

    async def deliver(self, chat_id: str, replies: list[Reply], edit_id: int | None) -> None:
        number = 1
        for index, reply in enumerate(replies):
            text, markup = view(reply, number)
            number += len(reply.buttons)
            if (
                index == 0
                and edit_id is not None
                and reply.replaces
                and await self._edit(chat_id, edit_id, reply, text, markup)
            ):
                continue
            await self._send_reply(chat_id, reply, text, markup)

    async def _edit(
        self, chat_id: str, message_id: int, reply: Reply, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Replace the pressed message with this reply; False when it must be sent anew instead."""
        if reply.image or reply.audio or utf16_length(text) > MESSAGE_LIMIT:
            return False
        try:
            await self._call(
                chat_id,
                lambda: self.bot.edit_message_text(
                    text=escape(text),
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=markup,
                    parse_mode=HTML,
                ),
            )
        except TelegramBadRequest as error:
            # the same card pressed twice: the message already shows it
            return "not modified" in str(error).lower()
        return True

    async def _send_reply(
        self, chat_id: str, reply: Reply, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        text = text.strip() or "…"
        if reply.image:
            remote = reply.image.startswith(("https://", "http://"))
            photo = reply.image if remote else FSInputFile(reply.image)
            if utf16_length(text) <= CAPTION_LIMIT:
                await self._call(
                    chat_id,
                    lambda: self.bot.send_photo(
                        chat_id=chat_id,
                        photo=photo,
                        caption=escape(text),
                        reply_markup=markup,
                        parse_mode=HTML,
                    ),
                )
                return
            await self._call(chat_id, lambda: self.bot.send_photo(chat_id=chat_id, photo=photo))
        pieces = split_text(text, MESSAGE_LIMIT, utf16_length)
        for position, piece in enumerate(pieces):
            last = position == len(pieces) - 1
            await self._call(
                chat_id,
                lambda piece=piece, last=last: self.bot.send_message(  # type: ignore[misc]
                    chat_id=chat_id,
                    text=escape(piece),
                    reply_markup=markup if last else None,
                    parse_mode=HTML,
                ),
            )
        if reply.audio:
            audio = FSInputFile(reply.audio)
            await self._call(chat_id, lambda: self.bot.send_audio(chat_id=chat_id, audio=audio))

    async def _call(self, chat_id: str, request: Callable[[], Awaitable[_T]]) -> _T:
        """One API call within the rate limits; a 429 is waited out, a network error retried once."""
        network_errors = 0
        for _ in range(5):
            await self.limiter.acquire(chat_id)
            try:
                return await request()
            except (TelegramForbiddenError, TelegramBadRequest) as error:
                reason = unreachable_reason(error)
                if reason is None:
                    raise
                raise ChatUnreachable(CHANNEL, chat_id, reason) from error  # never worth a retry
            except TelegramRetryAfter as error:
                log.warning("telegram: too many requests, waiting %s s", error.retry_after)
                self.limiter.pause(float(error.retry_after))
            except TelegramNetworkError as error:
                # retried once, and only when the connection failed before the request went out:
                # after a timeout the message may have arrived, and a learner must not get it twice
                network_errors += 1
                if network_errors > 1 or "connect" not in str(error).lower():
                    raise
                await asyncio.sleep(1.0)
        raise DeliveryFailed("telegram kept answering 429 (too many requests)")

    # --- life cycle -------------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Set the command menu shown by Telegram's "/" button."""
        await self.bot.set_my_commands([BotCommand(command=c, description=d) for c, d in COMMANDS])

    async def run_polling(self, stop: asyncio.Event, polling_timeout: int = 25) -> None:
        """Long polling until `stop` is set (development, or a server without a public address);
        restarted after any failure, with growing pauses."""
        await supervise(
            "telegram polling", lambda s: self._poll(s, polling_timeout), stop, report=self._report
        )

    def _report(self, problem: str | None) -> None:
        self.problem = problem

    async def _poll(self, stop: asyncio.Event, polling_timeout: int) -> None:
        """Fetch batches as raw JSON and read each update on its own (`take`); the offset moves past
        every update fetched, read or not, so nothing is fetched twice and nothing blocks the queue.
        Updates are handed over in order; handlers only queue the event, so this is quick."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.prepare()
        self.problem = None  # Telegram answered: the token and the address work
        wait = int(float(self.bot.session.timeout or 0) + polling_timeout)  # longer than the poll
        backoff = 1.0
        while not stop.is_set():
            request = GetRawUpdates(
                offset=self._offset, timeout=polling_timeout, allowed_updates=ALLOWED_UPDATES
            )
            fetching = asyncio.ensure_future(self.bot(request, request_timeout=wait))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetching, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not fetching.done():  # stopping: unacknowledged updates come again next start
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramAPIError):
                    await fetching
                return
            try:
                batch = fetching.result()
            except (
                TelegramNetworkError,
                TelegramServerError,
                TelegramRetryAfter,
                ClientDecodeError,
            ) as error:
                pause = float(error.retry_after) if isinstance(error, TelegramRetryAfter) else backoff
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", type(error).__name__, pause)
                self.problem = f"getUpdates {type(error).__name__}"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff, self.problem = 1.0, None
            if self.intake is not None:
                # the whole batch stored (in one commit: the inbox groups what arrives together, and
                # keeps their order) before the offset moves past it
                intake = self.intake
                await asyncio.gather(*(intake(raw) for raw in batch))
            for raw in batch:
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if isinstance(update_id, int) and not isinstance(update_id, bool):
                    self._offset = max(self._offset or 0, update_id + 1)
                if self.intake is None:
                    await self.take(raw)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.prepare()
        await self.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def close(self, grace: float = 30.0) -> None:
        """Finish the events in hand, then close the HTTP session."""
        await self.executor.close(grace)
        await self.bot.session.close()
