"""Spaced review: a missed question comes back in a reminder, answered in place with the explanation;
right answers move it further out (1, 3, 7, 21 days, then learned), a wrong one back to one day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot import reminders
from bot.reminders import ReviewResult, Scheduler, parse_review_payload
from data import reminders as store
from data.models import ReviewItem
from data.reminders import Candidate, LearnerContext
from tests.reminders.conftest import Harness, vn


async def _item(harness: Harness, learner_id: int, question_id: str = "q1") -> ReviewItem:
    async with harness.app.assistant.sessions() as session:
        item = await session.scalar(
            select(ReviewItem).where(
                ReviewItem.learner_id == learner_id, ReviewItem.question_id == question_id
            )
        )
    assert item is not None
    return item


async def _ask(harness: Harness, learner_id: int, now: datetime, question_id: str = "q1") -> None:
    """What sending a review reminder does to the item."""
    async with harness.app.assistant.sessions() as session, session.begin():
        await session.execute(
            update(ReviewItem)
            .where(ReviewItem.learner_id == learner_id, ReviewItem.question_id == question_id)
            .values(asked_at=now)
        )


async def _answer(harness: Harness, learner_id: int, option: int, now: datetime) -> ReviewResult:
    async with harness.app.assistant.sessions() as session, session.begin():
        result = await reminders.answer_review(
            session, harness.app.curriculum, learner_id, "dien-thoai-wifi", "q1", option, now
        )
    assert result is not None
    return result


async def test_every_second_reminder_asks_a_missed_question_answered_in_place(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.record_miss(session, learner_id, "dien-thoai-wifi", "q1", harness.clock.now())
    (_, first), *_ = await harness.tick(vn(9, 16))
    assert first.buttons[0].payload.startswith("lesson:")  # the first reminder: a lesson
    (_, second), *_ = await harness.tick(vn(16, 16))
    assert "ôn bài «Kết nối Wi-Fi»" in second.text and "Wi-Fi dùng để làm gì?" in second.text
    assert [(b.label, b.payload) for b in second.buttons] == [
        ("Kết nối Internet", "rv:dien-thoai-wifi:q1:0"),
        ("Sạc pin", "rv:dien-thoai-wifi:q1:1"),
    ]
    assert harness.runs[-1].reviews == 1

    lesson_id, question_id, option = parse_review_payload(second.buttons[1].payload) or ("", "", -1)
    async with harness.app.assistant.sessions() as session, session.begin():
        wrong = await reminders.answer_review(
            session, harness.app.curriculum, learner_id, lesson_id, question_id, option, vn(16, 17)
        )
    assert wrong is not None and not wrong.correct and wrong.counted
    assert wrong.correct_option_text == "Kết nối Internet"
    assert "Chưa đúng" in wrong.text and "«Kết nối Internet»" in wrong.text
    assert "Wi-Fi giúp điện thoại vào Internet." in wrong.text
    item = await _item(harness, learner_id)
    assert item.step == 0 and item.reviews == 1 and item.right_first_try is False
    assert store.utc(item.due_at or vn(1, 1)) == vn(17, 17)  # back to one day

    again = await _answer(harness, learner_id, 0, vn(16, 17, 1))  # a second tap on the same reminder
    assert again.correct and not again.counted and "Đúng rồi" in again.text
    assert (await _item(harness, learner_id)).reviews == 1  # nothing moved


async def test_right_answers_move_the_question_out_and_a_wrong_one_brings_it_back(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    now = vn(2, 15)
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.record_miss(session, learner_id, "dien-thoai-wifi", "q1", now)
    assert store.utc((await _item(harness, learner_id)).due_at or now) == now + timedelta(days=1)
    intervals = []
    for option in (0, 0, 1, 0, 0, 0, 0):  # right, right, wrong, right x4
        now += timedelta(days=1)
        await _ask(harness, learner_id, now)
        result = await _answer(harness, learner_id, option, now)
        intervals.append(result.next_in_days)
        item = await _item(harness, learner_id)
        due = store.utc(item.due_at) - now if item.due_at else None
        assert due == (timedelta(days=result.next_in_days) if result.next_in_days else None)
    assert intervals == [3, 7, 1, 3, 7, 21, None]
    assert "không hỏi lại nữa" in result.text  # learned
    item = await _item(harness, learner_id)
    assert item.right_first_try is True and item.reviews == 7 and item.first_right_at is not None


async def test_a_missed_quiz_question_again_starts_over(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    now = vn(2, 15)
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.record_miss(session, learner_id, "dien-thoai-wifi", "q1", now)
    await _ask(harness, learner_id, now)
    await _answer(harness, learner_id, 0, now)
    assert (await _item(harness, learner_id)).step == 1
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.record_miss(session, learner_id, "dien-thoai-wifi", "q1", now + timedelta(days=2))
    item = await _item(harness, learner_id)
    assert item.step == 0 and store.utc(item.due_at or now) == now + timedelta(days=3)


async def test_an_answer_to_a_question_no_longer_in_the_lessons_is_refused(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    async with harness.app.assistant.sessions() as session, session.begin():
        for lesson_id, question_id, option in (
            ("gone", "q1", 0),
            ("dien-thoai-wifi", "q9", 0),
            ("dien-thoai-wifi", "q1", 5),
        ):
            assert (
                await reminders.answer_review(
                    session, harness.app.curriculum, learner_id, lesson_id, question_id, option, vn(3, 9)
                )
                is None
            )


def _candidate(sent: int, unanswered: int = 0) -> Candidate:
    return Candidate(1, "weekly", unanswered, sent, vn(1, 9), vn(1, 9), "Lê Văn Ba", "tan-hoc", "test", "ba")


async def test_a_lesson_finished_long_ago_offers_its_questions(harness: Harness) -> None:
    scheduler = harness.scheduler()
    now = vn(30, 9)
    long_ago = LearnerContext(done={"dien-thoai-wifi": now - timedelta(days=22)})
    review = scheduler.decide(_candidate(sent=1), long_ago, now)
    assert not isinstance(review, datetime) and review.kind == "review"
    assert (review.lesson_id, review.question_id) == ("dien-thoai-wifi", "q1")
    assert review.reply["text"].startswith("Cháu chào bác Ba!")
    recent = LearnerContext(done={"dien-thoai-wifi": now - timedelta(days=10)})
    lesson = scheduler.decide(_candidate(sent=1), recent, now)  # nothing to review yet: a lesson
    assert not isinstance(lesson, datetime) and lesson.kind == "lesson" and lesson.lesson_id == "an-toan-otp"
    odd = scheduler.decide(_candidate(sent=2), long_ago, now)  # the third reminder is a lesson again
    assert not isinstance(odd, datetime) and odd.kind == "lesson"


async def test_with_every_lesson_done_and_nothing_to_review_the_reminder_waits(harness: Harness) -> None:
    scheduler: Scheduler = harness.scheduler()
    now = vn(30, 9)
    done = {lesson.id: now - timedelta(days=2) for lesson in harness.app.curriculum.lessons}
    assert scheduler.decide(_candidate(sent=0), LearnerContext(done=done), now) == now + timedelta(days=7)
    # the last one before the pause says so
    last = scheduler.decide(_candidate(sent=4, unanswered=2), LearnerContext(), now)
    assert not isinstance(last, datetime) and "tạm thôi nhắc" in last.reply["text"]
