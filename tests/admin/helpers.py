"""Test helpers for mentors, the outbox and the dashboard: a fake channel sender and shortcuts."""

from __future__ import annotations

from dataclasses import dataclass, field

from admin import store as admin_store
from bot.app import App
from bot.messages import Reply
from tests.driver import ChatDriver

WIFI = {1: 1, 2: 1}  # dien-thoai-wifi: both questions right
OTP = {1: 2, 2: 1, 3: 1}  # an-toan-otp: all three right


@dataclass
class FakeSender:
    """An in-process channel: records what it was asked to send; can be told to fail."""

    name: str = "test"
    sent: list[tuple[str, list[Reply]]] = field(default_factory=list)
    fail_times: int = 0  # the next N sends raise ConnectionError

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("channel down")
        self.sent.append((chat_id, replies))

    def to(self, chat_id: str) -> list[Reply]:
        return [reply for chat, replies in self.sent if chat == chat_id for reply in replies]


async def invite_code(app: App, commune_id: str = "tan-hoc") -> str:
    async with app.assistant.sessions() as session, session.begin():
        (code,) = await admin_store.issue_invites(session, commune_id, 1, "test", app.assistant.clock.now())
    return code


async def make_mentor(app: App, user: str = "mentor", name: str = "Lê Đại Sứ") -> tuple[ChatDriver, str]:
    """A registered mentor and their personal code."""
    mentor = ChatDriver(app.assistant, user)
    await mentor.register(name)
    await mentor.say(f"ma {await invite_code(app)}")
    assert "Đại sứ số" in mentor.text, mentor.text
    code = mentor.text.split("Mã của bạn: ")[1].split(".")[0]
    return mentor, code


async def finish_lesson(chat: ChatDriver, lesson_id: str, answers: dict[int, int]) -> None:
    """Open a lesson, read every card and pass its quiz."""
    await chat.press_payload(f"lesson:{lesson_id}")
    while any(b.payload.startswith("next:") for r in chat.last for b in r.buttons):
        await chat.press("Tiếp")
    await chat.press("Làm bài kiểm tra")
    await chat.answer_quiz(answers)
    assert "Chúc mừng" in chat.text, chat.text
