"""Reminders through the scheduler and the outbox on a fake clock: the rhythm, quiet hours, back-off and
stop after silence, active and blocked learners, and nothing sent twice. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot import reminders
from data import reminders as store
from data.models import Learner, OutboxMessage, Reminder, ReminderSetting
from data.repository import SqlStore
from tests.driver import ChatDriver
from tests.reminders.conftest import VN, Harness, vn


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("fresh_postgres")
    return url


async def test_weekly_rhythm_one_reminder_a_week_with_one_button(harness: Harness) -> None:
    await harness.learner("an")  # weekly, opted in on Monday 2 November at 15:00
    assert await harness.tick(vn(9, 14, 55)) == []  # not a full week yet
    got = await harness.tick(vn(9, 15, 5))
    assert len(got) == 1
    chat, reply = got[0]
    assert chat == "an"
    assert reply.text.startswith("Cháu chào bác An!") and "«Kết nối Wi-Fi»" in reply.text
    assert "tắt nhắc" in reply.text
    assert [(b.label, b.payload) for b in reply.buttons] == [
        ("📖 Mở bài: Kết nối Wi-Fi", "lesson:dien-thoai-wifi")
    ]
    assert await harness.tick(vn(9, 16)) == [] and await harness.tick(vn(13, 9)) == []  # once per period


async def test_every_three_days_and_never_without_opting_in(harness: Harness) -> None:
    await harness.learner("ba", "Trần Văn Ba", rhythm="3d")
    await harness.learner("cu", "Lê Văn Cư", rhythm=None)  # never asked: default off
    await harness.learner("do", "Phạm Thị Đô", rhythm="off")
    got = await harness.days(vn(2, 15), 6)
    chats = [chat for chat, _ in harness.sender.sent]
    assert chats == ["ba"] and got == [vn(5, 15, 5)]


async def test_the_lesson_in_progress_is_offered_first(harness: Harness) -> None:
    await harness.learner("an")
    driver = ChatDriver(harness.app.assistant, "an")
    await driver.press_payload("lesson:an-toan-otp")
    (_, reply), *_ = await harness.tick(vn(9, 16))
    assert "đang học dở bài «Giữ kín mã OTP»" in reply.text
    assert [(b.label, b.payload) for b in reply.buttons] == [("▶ Học tiếp: Giữ kín mã OTP", "continue")]
    await driver.press_payload("continue")  # the button resumes that lesson
    assert "Mã OTP là của riêng bác" in driver.text


@pytest.mark.parametrize(
    ("hour", "minute"),
    [(21, 0), (23, 30), (3, 0), (6, 59), (11, 0), (12, 30), (17, 30), (18, 45)],
)
async def test_no_reminder_in_quiet_hours(harness: Harness, hour: int, minute: int) -> None:
    await harness.learner("an")
    day = 10 if hour < 12 else 9
    assert await harness.tick(vn(day, hour, minute)) == []
    assert harness.runs[-1].quiet


@pytest.mark.parametrize(("hour", "minute"), [(10, 45), (17, 10), (20, 40)])
async def test_nothing_is_queued_just_before_quiet_hours(harness: Harness, hour: int, minute: int) -> None:
    await harness.learner("an")
    assert await harness.tick(vn(10, hour, minute)) == []


async def test_a_reminder_due_at_night_goes_the_next_morning(harness: Harness) -> None:
    harness.clock.current = vn(2, 21, 30)
    await harness.learner("an")  # due Monday 9 November 21:30, in the night
    assert await harness.days(vn(9, 0), 2, hours=(6, 7, 9, 21, 22, 23)) == [vn(10, 7, 5)]


async def test_back_off_after_two_and_stop_after_three_until_the_learner_writes(harness: Harness) -> None:
    await harness.learner("an")
    got = await harness.days(vn(2, 15), 60, hours=(9,))
    # a week, a week, then double (two without reply), then paused
    assert got == [vn(10, 9, 5), vn(17, 9, 5), vn(1, 9, 5, month=12)]
    last = harness.sender.sent[-1][1][0].text
    assert "tạm thôi nhắc" in last and "Khi nào bác nhắn" in last
    async with harness.app.assistant.sessions() as session:
        setting = await reminders.setting(session, await harness.learner_id("an"))
    assert setting.paused and setting.rhythm == "weekly" and setting.due_at is None
    assert "tạm dừng" in reminders.setting_line(setting)

    harness.clock.current = datetime(2027, 1, 2, 9, tzinfo=VN).astimezone(UTC)  # clocks run in UTC
    await harness.write("an")  # the learner writes again: reminders restart, a week later
    got = await harness.days(datetime(2027, 1, 3, tzinfo=VN), 8, hours=(10,))
    assert got == [datetime(2027, 1, 9, 10, 5, tzinfo=VN)]


async def test_a_reply_resets_the_count_so_the_rhythm_stays(harness: Harness) -> None:
    await harness.learner("an")
    assert await harness.tick(vn(9, 15, 5))
    harness.clock.current = vn(10, 8)
    await harness.write("an")
    assert await harness.days(vn(11, 0), 30, hours=(9,)) == [
        vn(17, 9, 5),
        vn(24, 9, 5),
        vn(8, 9, 5, month=12),
    ]


async def test_no_reminder_to_a_learner_active_in_the_last_day(harness: Harness) -> None:
    await harness.learner("an", rhythm="3d")
    harness.clock.current = vn(5, 10)
    await harness.write("an", "bài tiếp")  # nothing outstanding; only last_active_at moves
    assert await harness.tick(vn(5, 16)) == []  # due since 15:00, but active six hours ago
    assert harness.runs[-1].postponed == 1
    got = await harness.days(vn(6, 0), 6)
    assert got == [vn(8, 15, 5), vn(11, 15, 5)]  # three days after they were last active, and again


async def test_blocked_and_deleted_learners_are_skipped(harness: Harness) -> None:
    await harness.learner("an")
    await harness.learner("bi", "Hoàng Văn Bi")
    await harness.learner("co", "Vũ Thị Cơ")
    async with harness.app.assistant.sessions() as session, session.begin():
        await SqlStore(session, harness.clock.now()).mark_unreachable("test", "bi")
        deleted = await session.scalar(select(Learner).where(Learner.channel_user_id == "co"))
        assert deleted is not None
        await SqlStore(session, harness.clock.now()).erase_learner(deleted)
    await harness.tick(vn(9, 16))
    assert [chat for chat, _ in harness.sender.sent] == ["an"]


async def test_nothing_is_sent_twice_across_a_restart_or_by_two_schedulers(harness: Harness) -> None:
    for user in ("an", "bi", "co"):
        await harness.learner(user)
    harness.clock.current = vn(9, 16)
    first = harness.scheduler()
    assert (await first.run_once()).reminders == 3
    assert (await first.run_once()).reminders == 0  # the same pass again
    got = await harness.tick(vn(9, 16))  # a new process on the same database, then the outbox
    assert sorted(chat for chat, _ in got) == ["an", "bi", "co"] and harness.runs[-1].reminders == 0
    # two processes at once, on the next week's reminders
    harness.clock.current = vn(16, 16)
    reports = await asyncio.gather(harness.scheduler().run_once(), harness.scheduler().run_once())
    assert sum(r.reminders for r in reports) == 3
    await harness.tick(vn(16, 16, 1))
    async with harness.app.assistant.sessions() as session:
        rows = (
            await session.execute(select(OutboxMessage.chat_id, func.count()).group_by(OutboxMessage.chat_id))
        ).all()
        reminders_rows = await session.scalar(select(func.count()).select_from(Reminder))
    assert dict(rows) == {"an": 2, "bi": 2, "co": 2} and reminders_rows == 6
    assert sorted(chat for chat, _ in harness.sender.sent) == ["an", "an", "bi", "bi", "co", "co"]


async def test_a_stale_candidate_cannot_be_claimed_twice(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    now = vn(9, 16)
    async with harness.app.assistant.sessions() as session:
        (candidate,) = await store.due(
            session, now, store.commune_filter(["tan-hoc"], ["tan-hoc"], True), None, 10
        )
    async with harness.app.assistant.sessions() as session, session.begin():
        assert await store.claim(session, candidate, now)
    async with harness.app.assistant.sessions() as session, session.begin():
        assert not await store.claim(session, candidate, now)  # read before the first claim: refused
        row = await session.get(ReminderSetting, learner_id)
        assert row is not None and row.sent == 1 and row.unanswered == 1


async def test_a_reminder_unsent_near_quiet_hours_is_cancelled_and_goes_later(harness: Harness) -> None:
    await harness.learner("an")
    harness.clock.current = vn(9, 20, 0)
    assert (await harness.scheduler().run_once()).reminders == 1  # queued, but the channel is down
    harness.clock.current = vn(9, 20, 35)
    report = await harness.scheduler().run_once()
    assert report.expired == 1 and report.quiet  # cancelled, and nothing new so close to 21:00
    async with harness.app.assistant.sessions() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
        setting = await reminders.setting(session, await harness.learner_id("an"))
    assert statuses == ["cancelled"] and setting.unanswered == 0 and not setting.paused
    assert setting.due_at == vn(9, 21, 35)  # tried again an hour later, if that is allowed
    assert await harness.tick(vn(9, 23)) == []
    got = await harness.tick(vn(10, 7, 10))  # given back: it goes in the morning
    assert [chat for chat, _ in got] == ["an"]


async def test_learners_of_a_commune_with_other_quiet_hours(harness: Harness) -> None:
    await harness.learner("an")
    commune = harness.app.communes.communes[0]
    late = commune.model_copy(update={"quiet_hours": ("22:30-06:00",)})
    communes = harness.app.communes.model_copy(update={"communes": [late]})
    scheduler = reminders.Scheduler(
        harness.app.assistant.sessions, harness.app.curriculum, communes, harness.clock, channels=["test"]
    )
    assert [chat for chat, _ in await harness.tick(vn(9, 21, 30), scheduler)] == ["an"]


async def test_reminders_only_for_the_channels_served(harness: Harness) -> None:
    await harness.learner("an")
    scheduler = reminders.Scheduler(
        harness.app.assistant.sessions,
        harness.app.curriculum,
        harness.app.communes,
        harness.clock,
        channels=["zalo"],
    )
    assert await harness.tick(vn(9, 16), scheduler) == []
    assert [chat for chat, _ in await harness.tick(vn(9, 16, 5))] == ["an"]
