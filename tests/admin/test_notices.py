"""`bot.notices` (issue 18): mentors told in the chat of their learners' waiting questions, once, never
in the quiet hours and without the question in the logs; scheduled announcements queued when due, to
whoever is registered then, never when cancelled."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin import workflow
from bot.app import App
from bot.notices import Notices
from bot.outbox import OutboxWorker
from data.models import Broadcast, Learner, UnansweredQuestion
from tests.admin.helpers import FakeSender, make_mentor
from tests.driver import ChatDriver, FakeClock


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The claims (conditional UPDATEs) and time comparisons run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("fresh_postgres")
    return url


async def mentored_learner(app: App, name: str = "Bà Tư") -> tuple[ChatDriver, int]:
    mentor, code = await make_mentor(app)
    learner = ChatDriver(app.assistant, "hoc-vien")
    await learner.register(name)
    await learner.say(f"ma {code}")
    async with app.assistant.sessions() as session:
        learner_id = await session.scalar(select(Learner.id).where(Learner.name == name))
    assert learner_id is not None
    return mentor, learner_id


async def ask(app: App, learner_id: int, text: str) -> int:
    async with app.assistant.sessions() as session, session.begin():
        question = UnansweredQuestion(
            learner_id=learner_id, text=text, asked_at=app.assistant.clock.now(), candidates={}, status="open"
        )
        session.add(question)
        await session.flush()
        return question.id


async def send_all(app: App, clock: FakeClock) -> FakeSender:
    sender = FakeSender()
    await OutboxWorker(app.assistant.sessions, {"test": sender}, clock, rates={"test": 0}).run_once()
    return sender


async def test_a_mentor_is_told_once_of_a_waiting_question_without_its_text_in_logs(
    app: App, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    mentor, learner_id = await mentored_learner(app)
    secret = "Số tài khoản ngân hàng của tôi là 0123456789 có an toàn không?"
    await ask(app, learner_id, secret)
    notices = Notices(app.assistant.sessions, app.communes, clock)
    with caplog.at_level(logging.DEBUG):
        first = await notices.run_once()
        again = await notices.run_once()
        sender = await send_all(app, clock)
    assert (first.mentors_told, again.mentors_told) == (1, 0)
    (notice,) = sender.to("mentor")
    assert "1 câu hỏi" in notice.text and secret not in notice.text and "Bà Tư" not in notice.text
    assert [b.payload for b in notice.buttons] == ["m:qs"]
    assert sender.to("hoc-vien") == []  # the learner is not told anything
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in logged and "Bà Tư" not in logged
    await mentor.press_payload("m:qs")  # the button opens the mentor's questions in the chat
    assert secret in mentor.text
    async with app.assistant.sessions() as session:
        notices_sent = (await session.scalars(select(Broadcast).where(Broadcast.kind == "notice"))).all()
    assert len(notices_sent) == 1 and notices_sent[0].text == ""  # the question is not copied


async def test_questions_arriving_together_make_one_message_each_told_once(
    app: App, clock: FakeClock
) -> None:
    _, learner_id = await mentored_learner(app)
    for text in ("Câu một", "Câu hai", "Câu ba"):
        await ask(app, learner_id, text)
    notices = Notices(app.assistant.sessions, app.communes, clock)
    assert (await notices.run_once()).mentors_told == 3
    await ask(app, learner_id, "Câu bốn")
    assert (await notices.run_once()).mentors_told == 1
    sender = await send_all(app, clock)
    assert ["3 câu hỏi" in r.text for r in sender.to("mentor")] == [True, False]
    assert "1 câu hỏi" in sender.to("mentor")[1].text


async def test_no_mentor_is_told_in_the_quiet_hours_and_a_learner_without_mentor_tells_nobody(
    app: App, clock: FakeClock
) -> None:
    _, learner_id = await mentored_learner(app)
    alone = ChatDriver(app.assistant, "mot-minh")
    await alone.register("Ông Năm")
    async with app.assistant.sessions() as session:
        alone_id = await session.scalar(select(Learner.id).where(Learner.name == "Ông Năm"))
    assert alone_id is not None
    await ask(app, learner_id, "Câu hỏi đêm khuya")
    await ask(app, alone_id, "Câu hỏi của người không có Đại sứ số")
    notices = Notices(app.assistant.sessions, app.communes, clock)
    clock.advance(hours=14)  # 22:00 in Vietnam: quiet hours
    assert (await notices.run_once()).mentors_told == 0
    clock.advance(hours=10)  # 08:00 the next morning
    assert (await notices.run_once()).mentors_told == 1  # only the mentored learner's question
    assert (await notices.run_once()).mentors_told == 0


async def test_a_scheduled_announcement_goes_at_its_time_to_whoever_is_registered_then(
    app: App, clock: FakeClock
) -> None:
    early = ChatDriver(app.assistant, "som")
    await early.register("Bà Sớm")
    commune = app.communes.communes[0]
    due = clock.now() + timedelta(days=1)
    async with app.assistant.sessions() as session, session.begin():
        broadcast = await workflow.announce(
            session, commune, None, "Họp thôn sáng mai", "canbo", clock.now(), "token-1", due
        )
    notices = Notices(app.assistant.sessions, app.communes, clock)
    assert (await notices.run_once()).announcements == 0
    assert (await send_all(app, clock)).sent == []  # nothing queued before its time
    late = ChatDriver(app.assistant, "muon")
    await late.register("Ông Muộn")  # registered after it was scheduled, before it is due
    clock.current = due - timedelta(seconds=1)
    assert (await notices.run_once()).announcements == 0
    clock.current = due
    assert (await notices.run_once()).announcements == 1
    assert (await notices.run_once()).announcements == 0  # queued once
    sender = await send_all(app, clock)
    assert sorted(chat for chat, _ in sender.sent) == ["muon", "som"]
    (message,) = sender.to("som")
    assert message.text.startswith("📢 UBND xã Tân Học (xã mẫu) thông báo:\nHọp thôn sáng mai")
    async with app.assistant.sessions() as session:
        row = await session.get(Broadcast, broadcast.id)
        assert row is not None and row.recipients == 2 and row.released_at is not None


async def test_a_cancelled_announcement_is_never_sent(app: App, clock: FakeClock) -> None:
    learner = ChatDriver(app.assistant, "som")
    await learner.register("Bà Sớm")
    commune = app.communes.communes[0]
    due = clock.now() + timedelta(hours=2)
    async with app.assistant.sessions() as session, session.begin():
        broadcast = await workflow.announce(session, commune, None, "Hủy", "canbo", clock.now(), "t-2", due)
    async with app.assistant.sessions() as session, session.begin():
        assert await workflow.cancel_scheduled(session, broadcast, clock.now())
        assert not await workflow.cancel_scheduled(session, broadcast, clock.now())  # once
    clock.current = due + timedelta(minutes=1)
    assert (await Notices(app.assistant.sessions, app.communes, clock).run_once()).announcements == 0
    assert (await send_all(app, clock)).sent == []
