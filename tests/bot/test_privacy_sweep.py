"""Privacy that holds after "delete my data" (Law 91/2025/QH15): every column of every table is searched
for what identifies the person — their name, their raw channel id, the words of their question — after
/xoadulieu, and nothing is kept at all for a person who declined consent."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.app import App
from data.models import Base, Learner, ProcessedEvent, UnansweredQuestion
from tests.admin.helpers import OTP, FakeSender, finish_lesson, make_mentor
from tests.bot.test_mentoring import worker_run
from tests.driver import ChatDriver

LEARNER_ID = "privacy-learner-7781"
LEARNER_NAME = "Trần Thị Privacyabc"
MENTOR_ID = "privacy-mentor-5524"
MENTOR_NAME = "Lê Mentorxyz"
QUESTION = "bac muon hoi ve markerquestion o cho ban ga"


async def everything_stored(app: App) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value in every table."""
    found = []
    async with app.assistant.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is not None:
                        text = (
                            json.dumps(value, ensure_ascii=False)
                            if isinstance(value, dict | list)
                            else str(value)
                        )
                        found.append((table.name, column, text))
    return found


def holding(stored: list[tuple[str, str, str]], *needles: str) -> list[tuple[str, str]]:
    return [(t, c) for t, c, v in stored for needle in needles if needle.lower() in v.lower()]


async def test_after_deletion_no_column_holds_the_person(app: App) -> None:
    mentor, code = await make_mentor(app, MENTOR_ID, MENTOR_NAME)
    learner = ChatDriver(app.assistant, LEARNER_ID)
    await learner.register(LEARNER_NAME)
    await learner.say(f"ma {code}")
    await learner.say(QUESTION)  # the fake answerer knows nothing: the question is queued
    async with app.assistant.sessions() as session:
        question_id = await session.scalar(select(UnansweredQuestion.id))
    await mentor.press_payload(f"m:qa:{question_id}")
    await mentor.say("Bác hỏi cán bộ xã nhé")  # the answer quotes the question, through the outbox
    await mentor.press_payload("m:push")
    await mentor.press_payload(mentor.last[0].buttons[0].payload)  # a topic
    await mentor.press_payload(mentor.last[0].buttons[0].payload)  # a lesson: pushed, naming the mentor
    await worker_run(app, FakeSender())
    await finish_lesson(learner, "an-toan-otp", OTP)

    stored = await everything_stored(app)
    assert holding(stored, LEARNER_NAME, "markerquestion", MENTOR_NAME)  # the sweep does see them

    await learner.say("/xoadulieu")
    await learner.press("Xóa thông tin của tôi")
    await mentor.say("/xoadulieu")
    await mentor.press("Xóa thông tin của tôi")

    stored = await everything_stored(app)
    assert holding(stored, LEARNER_NAME, "Privacyabc", LEARNER_ID, "markerquestion") == []
    assert holding(stored, MENTOR_NAME, "Mentorxyz", MENTOR_ID) == []
    async with app.assistant.sessions() as session:  # the anonymous counts stay
        assert await session.scalar(select(func.count()).select_from(Learner)) == 2


async def test_a_person_who_declines_leaves_nothing(app: App) -> None:
    async def events() -> int:
        async with app.assistant.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)

    before = await everything_stored(app)
    chat = ChatDriver(app.assistant, "declines-9911")
    await chat.say("xin chao")
    await chat.say("khong dong y")
    await chat.say("thoi")
    assert "không lưu" in chat.text
    assert await events() == 0
    assert await everything_stored(app) == before


async def test_event_ids_are_stored_hashed_and_forgotten_after_the_retention(app: App) -> None:
    chat = ChatDriver(app.assistant, "hashes-4242")
    await chat.register()
    async with app.assistant.sessions() as session:
        ids = list((await session.scalars(select(ProcessedEvent.event_id))).all())
    assert ids and all("hashes-4242" not in i and ":" not in i for i in ids)
    await chat.say("tiep", event_id=chat.history and "e-same")
    again: Any = await chat.say("tiep", event_id="e-same")
    assert again == []  # a redelivery is still recognised through the hash
    clock = app.assistant.clock
    removed = await app.assistant.purge_events(clock.now().replace(year=clock.now().year + 1))
    assert removed == len(ids) + 1
