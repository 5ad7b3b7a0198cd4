"""A learner on the fake Telegram or Zalo server: types, presses buttons (or their numbers), reads replies.

Both users offer `say`, `press` and `texts`, so one journey script runs on either channel.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_zalo import FakeZalo

OTP_ANSWERS = ("Không bao giờ", "Một lần", "Gọi ngay cho ngân hàng")  # the fixture's an-toan-otp quiz


class User(Protocol):
    async def say(self, text: str) -> list[str]: ...
    async def press(self, label: str) -> list[str]: ...
    def has_option(self, label: str) -> bool: ...


class TelegramUser:
    def __init__(self, server: FakeTelegram, user_id: int, quiet: float = 0.15) -> None:
        self.server = server
        self.quiet = quiet  # silence that ends a turn; above 1 s where the real per-chat rate applies
        self.user_id = user_id
        self.callbacks: set[str] = set()  # ids of the button presses this user made
        self.seen = len(server.calls)
        self.last: list[str] = []

    def _news(self) -> list[str]:
        calls = self.server.calls[self.seen :]
        self.seen = len(self.server.calls)
        out = []
        for call in calls:
            if str(call.params.get("chat_id")) != str(self.user_id):
                continue
            if call.method in {"sendMessage", "editMessageText"}:
                out.append(self.server.rendered(call.params) or "")
            elif call.method == "sendPhoto":
                out.append(self.server.rendered(call.params, "caption") or "")
        self.last = out
        return out

    async def deliver(self, update: dict[str, Any]) -> list[str]:
        if "callback_query" in update:
            self.callbacks.add(update["callback_query"]["id"])
        await self.server.send_update(update)
        await self.server.settle(update["update_id"], quiet=self.quiet)
        return self._news()

    async def say(self, text: str) -> list[str]:
        return await self.deliver(self.server.message_update(self.user_id, text))

    def keyboard(self) -> tuple[int, list[dict[str, Any]]]:
        """The newest message with buttons: its id and its buttons."""
        for message in reversed(self.server.chat(self.user_id)):
            markup = message.get("reply_markup")
            if markup:
                return message["message_id"], [b for row in markup["inline_keyboard"] for b in row]
        raise AssertionError("no message with buttons")

    def has_option(self, label: str) -> bool:
        try:
            self.button(label)
        except AssertionError:
            return False
        return True

    def button(self, label: str) -> tuple[int, str]:
        """The button showing `label`, or, for options written out as "2. …", the button "2"."""
        message_id, buttons = self.keyboard()
        for button in buttons:
            if label in button["text"]:
                return message_id, button["callback_data"]
        text = self.server.messages[str(self.user_id)][message_id].get("text", "")
        for line in text.splitlines():
            match = re.match(r"(\d+)\. (.*)", line)
            if match and label in match.group(2):
                for button in buttons:
                    if button["text"] == match.group(1):
                        return message_id, button["callback_data"]
        raise AssertionError(f"no button {label!r} in {[b['text'] for b in buttons]}")

    async def press(self, label: str) -> list[str]:
        message_id, data = self.button(label)
        return await self.deliver(self.server.callback_update(self.user_id, message_id, data))


class ZaloUser:
    def __init__(self, server: FakeZalo, user_id: str, quiet: float = 0.15) -> None:
        self.server = server
        self.quiet = quiet
        self.user_id = user_id
        self.seen = 0
        self.last: list[str] = []

    def _news(self) -> list[str]:
        inbox = self.server.inbox[self.user_id]
        out = inbox[self.seen :]
        self.seen = len(inbox)
        self.last = out
        return out

    async def deliver(self, event: dict[str, Any]) -> list[str]:
        await self.server.deliver(event)
        await self.server.settle(quiet=self.quiet)
        return self._news()

    async def say(self, text: str) -> list[str]:
        return await self.deliver(self.server.event(self.user_id, text=text))

    def option(self, label: str) -> str:
        for line in "\n".join(self.last).splitlines():
            match = re.match(r"(\d+)\. (.*)", line)
            if match and label in match.group(2):
                return match.group(1)
        raise AssertionError(f"no option {label!r} in {self.last}")

    def has_option(self, label: str) -> bool:
        try:
            self.option(label)
        except AssertionError:
            return False
        return True

    async def press(self, label: str) -> list[str]:
        return await self.say(self.option(label))


async def register(user: User, name: str = "Nguyễn Thị Hoa") -> None:
    await user.say("xin chào")
    await user.press("Đồng ý")
    await user.say(name)
    if user.has_option("Đúng rồi"):  # the name is read back for confirmation
        await user.press("Đúng rồi")
    await user.press("Thôn Đông")
    replies = await user.press("Bỏ qua")
    assert any("Học bài" in r or "menu" in r.lower() for r in replies), replies


async def open_otp_lesson(user: User) -> None:
    """From the menu to the first card of the fixture's OTP lesson."""
    await user.press("Học bài")
    await user.press("An toàn")
    await user.press("Giữ kín mã OTP")


async def start_otp_quiz(user: User) -> None:
    """Open the OTP lesson, read every card and start its quiz."""
    await open_otp_lesson(user)
    while user.has_option("Tiếp"):
        await user.press("Tiếp")
    await user.press("Làm bài kiểm tra")


async def finish_otp_lesson(user: User) -> list[str]:
    """Open the fixture's OTP lesson from the menu, read every card, pass the quiz; the last replies."""
    await start_otp_quiz(user)
    replies: list[str] = []
    for answer in OTP_ANSWERS:
        replies = await user.press(answer)
    assert any("Chúc mừng" in r for r in replies), replies
    return replies
