"""A fake channel and test driver: talks to the real Assistant the way an adapter would.

Engine tests use this instead of Telegram or Zalo, so they never import aiogram.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.messages import Button, Incoming, Kind, Reply
from bot.service import Assistant, text_event
from retrieval.answers import Answer, Outcome

_ids = itertools.count(1)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class FakeAnswerer:
    """An in-process answerer returning a prepared answer and recording the questions."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.next = answer or Answer(Outcome.UNKNOWN)
        self.questions: list[str] = []

    def answer(self, question: str) -> Answer:
        self.questions.append(question)
        return self.next


@dataclass
class ChatDriver:
    """One learner on a fake channel: send messages, press buttons, read the replies."""

    assistant: Assistant
    user: str
    channel: str = "test"
    last: list[Reply] = field(default_factory=list)
    history: list[list[Reply]] = field(default_factory=list)

    async def send(self, event: Incoming) -> list[Reply]:
        self.last = await self.assistant.handle(event)
        self.history.append(self.last)
        return self.last

    def event_id(self) -> str:
        return f"e{next(_ids)}"

    async def say(self, text: str, event_id: str | None = None) -> list[Reply]:
        return await self.send(text_event(self.channel, self.user, event_id or self.event_id(), text))

    async def press_payload(self, payload: str, event_id: str | None = None) -> list[Reply]:
        return await self.send(
            Incoming(
                channel=self.channel,
                user_id=self.user,
                event_id=event_id or self.event_id(),
                kind=Kind.BUTTON,
                payload=payload,
            )
        )

    def button(self, label: str, replies: list[Reply] | None = None) -> Button:
        """The button whose label contains `label` in the given (default: last) replies."""
        for reply in replies if replies is not None else self.last:
            for button in reply.buttons:
                if label in button.label:
                    return button
        raise AssertionError(f"no button {label!r} in {self.buttons()}")

    async def press(self, label: str, event_id: str | None = None) -> list[Reply]:
        return await self.press_payload(self.button(label).payload, event_id)

    async def other(self, media: str) -> list[Reply]:
        return await self.send(
            Incoming(
                channel=self.channel,
                user_id=self.user,
                event_id=self.event_id(),
                kind=Kind.OTHER,
                media=media,
            )
        )

    def buttons(self) -> list[str]:
        return [b.label for r in self.last for b in r.buttons]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    async def register(self, name: str = "Nguyễn Văn An", village: str = "Thôn Đông") -> None:
        await self.say("xin chào")
        await self.press("Đồng ý")
        await self.say(name)
        await self.press("Đúng rồi")
        await self.press(village)
        await self.press("Bỏ qua")

    async def answer_quiz(self, lesson_answers: dict[int, int]) -> None:
        """Answer the running quiz: question number (1-based) -> option number (1-based)."""
        for number in sorted(lesson_answers):
            options = [b for r in self.last for b in r.buttons if b.payload.startswith("ans:")]
            assert options, f"no quiz question shown for question {number}: {self.text}"
            await self.press_payload(options[lesson_answers[number] - 1].payload)
