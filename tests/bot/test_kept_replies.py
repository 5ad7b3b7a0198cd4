"""Replies kept a few minutes with their processed event: an update handled again after
a crash (its worker killed between the commit and the sending) sends its replies again, once the same
update is known to be handled again; an ordinary redelivery sends nothing; after `REPLIES_KEPT` the
replies are cleared."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from bot.app import App
from bot.service import HANDLED_AGAIN
from data.models import LessonProgress, ProcessedEvent
from tests.driver import ChatDriver, FakeClock

LESSON = "an-toan-link"


@contextmanager
def handled_again() -> Iterator[None]:
    token = HANDLED_AGAIN.set(True)
    try:
        yield
    finally:
        HANDLED_AGAIN.reset(token)


async def kept(app: App) -> int:
    async with app.assistant.sessions() as session:
        query = select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.replies.is_not(None))
        return int(await session.scalar(query) or 0)


async def card_of(app: App) -> int | None:
    async with app.assistant.sessions() as session:
        return await session.scalar(select(LessonProgress.card_number))


async def test_an_update_handled_again_after_a_crash_sends_its_replies_again_once_kept(
    app: App, clock: FakeClock
) -> None:
    assert app.assistant.keep_replies
    chat = ChatDriver(app.assistant, "an")
    await chat.register()
    await chat.press_payload(f"lesson:{LESSON}")
    first = await chat.press_payload(f"next:{LESSON}:1", event_id="tap-1")
    assert "2/" in first[0].text
    assert await card_of(app) == 2
    # the platform delivers it again: no effect, nothing sent
    assert await chat.press_payload(f"next:{LESSON}:1", event_id="tap-1") == []
    # the worker that handled it died before sending: handled again, the same replies go, no second step
    with handled_again():
        again = await chat.press_payload(f"next:{LESSON}:1", event_id="tap-1")
    assert [r.text for r in again] == [r.text for r in first]
    assert [r.buttons for r in again] == [r.buttons for r in first]
    assert await card_of(app) == 2
    # an update never handled before, handled "again" (its first worker died before the commit): handled
    with handled_again():
        step = await chat.press_payload(f"next:{LESSON}:2", event_id="tap-2")
    assert "3/" in step[0].text and await card_of(app) == 3
    # ten minutes on, the next event clears what was kept: nothing left to send again
    assert await kept(app) >= 2
    clock.advance(minutes=11)
    await chat.press_payload(f"next:{LESSON}:3", event_id="tap-3")
    forgetting = app.assistant._forgetting
    assert forgetting is not None
    await forgetting
    assert await kept(app) == 1  # only the newest event's
    with handled_again():
        assert await chat.press_payload(f"next:{LESSON}:1", event_id="tap-1") == []


async def test_without_keep_replies_nothing_is_kept_and_nothing_sent_again(app: App) -> None:
    assert app.assistant.keep_replies  # the default, embedded or cluster
    app.assistant.keep_replies = False
    chat = ChatDriver(app.assistant, "an")
    await chat.register()
    await chat.press_payload(f"lesson:{LESSON}", event_id="open")
    assert await kept(app) == 0
    with handled_again():
        assert await chat.press_payload(f"lesson:{LESSON}", event_id="open") == []
