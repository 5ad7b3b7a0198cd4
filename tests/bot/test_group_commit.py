"""Group commit on SQLite: learners' events that arrive together share one transaction, yet each counts
once, and one learner's failure costs no other learner their step."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event, func, select

from bot import texts
from bot.app import App
from data.models import ConversationState, Learner, LessonProgress, ProcessedEvent
from tests.driver import ChatDriver, FakeAnswerer

LESSON = "an-toan-link"


async def learners_in_a_lesson(app: App, count: int) -> list[ChatDriver]:
    chats = [ChatDriver(app.assistant, f"u{n}") for n in range(count)]
    for n, chat in enumerate(chats):
        await chat.register(name=f"Học viên {n}")
        await chat.press_payload(f"lesson:{LESSON}")
    return chats


def commits(app: App) -> list[int]:
    seen: list[int] = []
    event.listen(app.engine.sync_engine, "commit", lambda connection: seen.append(1))
    return seen


async def cards(app: App) -> dict[str, int]:
    async with app.assistant.sessions() as session:
        rows = await session.execute(
            select(Learner.channel_user_id, LessonProgress.card_number).join(
                LessonProgress, LessonProgress.learner_id == Learner.id
            )
        )
        return {user: card for user, card in rows.all()}


async def test_events_arriving_together_share_a_commit_and_each_counts_once(app: App) -> None:
    assert app.assistant.group_commit  # the default on SQLite
    chats = await learners_in_a_lesson(app, 8)
    seen = commits(app)
    replies = await asyncio.gather(*(chat.press("Tiếp") for chat in chats))
    assert all("2/" in r[0].text for r in replies)  # each learner got their own next card
    assert len(seen) < len(chats)  # fewer transactions than events
    assert await cards(app) == {f"u{n}": 2 for n in range(8)}
    # the same presses delivered again (a redelivered update): no second effect
    again = await asyncio.gather(
        *(chat.press_payload(f"next:{LESSON}:1", event_id=f"again-{n}") for n, chat in enumerate(chats))
    )
    assert all(texts.STALE_BUTTON in r[0].text for r in again)
    redelivered = await asyncio.gather(
        *(chat.press_payload(f"next:{LESSON}:1", event_id=f"again-{n}") for n, chat in enumerate(chats))
    )
    assert redelivered == [[] for _ in chats]
    assert await cards(app) == {f"u{n}": 2 for n in range(8)}


async def test_one_failing_event_rolls_back_alone(app: App, answerer: FakeAnswerer) -> None:
    chats = await learners_in_a_lesson(app, 6)
    original = answerer.answer

    def fails_on_poison(question: str) -> Any:
        if "poison" in question:
            raise RuntimeError("boom")
        return original(question)

    answerer.answer = fails_on_poison  # type: ignore[method-assign]
    async with app.assistant.sessions() as session:
        events_before = await session.scalar(select(func.count()).select_from(ProcessedEvent))
        saved = await session.scalars(select(ConversationState))
        states_before = {s.learner_id: dict(s.state) for s in saved}
    seen = commits(app)
    presses = [chat.press("Tiếp") for chat in chats[1:]]
    poisoned = chats[0].say("cho bac hoi poison la gi", event_id="poisoned")
    first, *others = await asyncio.gather(poisoned, *presses)
    assert first[0].text == texts.INTERNAL_ERROR
    assert all("2/" in r[0].text for r in others)
    assert len(seen) == len(others)  # the group was rolled back, then each event ran alone
    assert await cards(app) == {"u0": 1, **{f"u{n}": 2 for n in range(1, 6)}}
    async with app.assistant.sessions() as session:
        # the failed event left nothing: not even its id, so a redelivery is handled afresh
        events_after = await session.scalar(select(func.count()).select_from(ProcessedEvent))
        assert events_after == (events_before or 0) + len(others)
        learner = await session.scalar(select(Learner).where(Learner.channel_user_id == "u0"))
        assert learner is not None
        state = await session.scalar(
            select(ConversationState.state).where(ConversationState.learner_id == learner.id)
        )
        assert state == states_before[learner.id]
    answerer.answer = original  # type: ignore[method-assign]
    await chats[0].say("cho bac hoi poison la gi", event_id="poisoned")
    assert chats[0].text != texts.INTERNAL_ERROR


def slow_answers(answerer: FakeAnswerer, seconds: float) -> None:
    original = answerer.answer

    def slow(question: str) -> Any:
        time.sleep(seconds)  # a retrieval (run in a worker thread by the dialogue) that takes a while
        return original(question)

    answerer.answer = slow  # type: ignore[method-assign]


async def test_a_slow_event_holds_back_the_rest_of_its_group_only_briefly(
    app: App, answerer: FakeAnswerer
) -> None:
    chats = await learners_in_a_lesson(app, 6)
    slow_answers(answerer, 0.1)
    seen = commits(app)
    slow = asyncio.create_task(chats[0].say("bác hỏi cách gửi ảnh qua zalo"))
    presses = [asyncio.create_task(chat.press("Tiếp")) for chat in chats[1:]]
    await asyncio.gather(slow, *presses)
    # the group stopped taking events after the slow one: the presses went in the next transaction
    assert len(seen) == 2
    assert await cards(app) == {"u0": 1, **{f"u{n}": 2 for n in range(1, 6)}}


async def test_an_event_cancelled_before_its_group_starts_has_no_effect(
    app: App, answerer: FakeAnswerer
) -> None:
    chats = await learners_in_a_lesson(app, 2)
    slow_answers(answerer, 0.2)
    busy = asyncio.create_task(chats[0].say("bác hỏi cách gửi ảnh qua zalo"))
    await asyncio.sleep(0.05)  # the slow question's transaction is running
    press = asyncio.create_task(chats[1].press_payload(f"next:{LESSON}:1", event_id="cancelled"))
    await asyncio.sleep(0.01)  # queued for the next group
    press.cancel()
    await busy
    await app.assistant.close()
    assert await cards(app) == {"u0": 1, "u1": 1}
    async with app.assistant.sessions() as session:
        claimed = await session.scalar(select(ProcessedEvent).where(ProcessedEvent.event_id == "cancelled"))
    assert claimed is None  # a redelivery would be handled
