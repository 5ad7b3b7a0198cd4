"""Telegram through aiogram 3: long polling or a webhook, inline keyboards, a configurable API base.

The adapter only translates and delivers:
- a message becomes an `Incoming` (text, command, or "other" media) and a button press a BUTTON event;
  event ids are the chat and message id (or the callback id), so a redelivered update has no second effect;
- the events of one learner go through a `SerialExecutor`, handled one at a time and in order;
- replies go out as HTML with every text escaped (whatever a learner typed, `<b>` or `*`, is shown as
  typed and never read as markup), split at Telegram's 4096-character limit, with the buttons as an inline
  keyboard under the last piece; a card reached by Tiếp/Lại replaces the pressed message in place;
- every callback query is answered, so the learner's button stops spinning;
- sends pass a rate limiter (about 30/s overall, about 1/s per chat) and a 429 is waited out.
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
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
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
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bot.channels.ratelimit import TELEGRAM_LIMITS, Limits, RateLimiter
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
ALLOWED_UPDATES = ["message", "callback_query"]
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
CALLED: tuple[type[TelegramMethod[Any]], ...] = (
    GetMe, GetUpdates, AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto, SendAudio,
    SetMyCommands, DeleteWebhook, SetWebhook,
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
    ) -> None:
        self.assistant = assistant
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base), timeout=request_timeout)
        self.bot = Bot(token, session=session)
        self._response_types = response_types()
        self.limiter = RateLimiter(limits)
        self.executor = SerialExecutor()
        self.dispatcher = self._create_dispatcher()
        self._tasks: set[asyncio.Future[None]] = set()
        self.problem: str | None = None  # the last failure to reach Telegram, for /healthz

    def _create_dispatcher(self) -> Dispatcher:
        router = Router(name="hocvuso")
        router.message.register(self.on_message)
        router.callback_query.register(self.on_callback)
        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        return dispatcher

    # --- incoming ---------------------------------------------------------------------------------
    async def on_message(self, message: Message) -> None:
        user = message.from_user
        if user is None or user.is_bot or message.chat.type != "private":
            return  # the assistant talks one-to-one; groups and channels are not for it
        event_id = f"{message.chat.id}:{message.message_id}"
        if message.text is not None:
            event = text_event(CHANNEL, str(user.id), event_id, message.text, user.full_name)
            event = replace(event, chat_id=str(message.chat.id))
        else:
            event = Incoming(
                channel=CHANNEL,
                user_id=str(user.id),
                event_id=event_id,
                kind=Kind.OTHER,
                chat_id=str(message.chat.id),
                display_name=user.full_name,
                media=media_kind(message),
            )
        self.executor.submit(event.user_id, lambda: self._process(event, None))

    async def on_callback(self, query: CallbackQuery) -> None:
        message = query.message
        chat_id = str(message.chat.id) if message is not None else str(query.from_user.id)
        edit_id = message.message_id if isinstance(message, Message) else None
        event = Incoming(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            event_id=f"cb:{query.id}",
            kind=Kind.BUTTON,
            payload=query.data or "",
            chat_id=chat_id,
            display_name=query.from_user.full_name,
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
        except TelegramForbiddenError:
            log.info("telegram chat %s has blocked the bot; replies dropped", event.reply_to)
        except (TelegramAPIError, DeliveryFailed, OSError) as error:
            log.warning(
                "telegram: replies to event %s not delivered (%s)", event.event_id, type(error).__name__
            )

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """One update POSTed by Telegram to our webhook (already authenticated by its secret).

        An update that cannot be read is logged and acknowledged: Telegram would resend it forever."""
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except ValueError:
            log.warning("telegram: an update that could not be read was skipped")
            return
        if update.message is None and update.callback_query is None:
            return  # a kind we did not ask for (allowed_updates); aiogram would log its whole content
        await self.dispatcher.feed_update(self.bot, update)

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
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.prepare()
        self.problem = None  # Telegram answered: the token and the address work
        polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                polling_timeout=polling_timeout,
                handle_as_tasks=False,  # handlers only queue the event, so order is kept cheaply
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not polling.done():
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:  # stopped before polling had started
                polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.prepare()
        await self.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def close(self, grace: float = 30.0) -> None:
        """Finish the events in hand, then close the HTTP session."""
        await self.executor.close(grace)
        await self.bot.session.close()
