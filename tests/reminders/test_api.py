"""The API the conversation calls (opt-in and out, /dulieu, activity), the dashboard's monthly figures,
the quiet-hours configuration and the migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, update

from bot import reminders, texts
from bot.outbox import OutboxWorker
from data import reminders as store
from data.commune import DEFAULT_QUIET_HOURS, CommuneConfigError, is_quiet_time, load_commune_config
from data.db import alembic_config, create_engine, migrate
from data.models import OutboxMessage, Reminder, ReviewItem
from data.repository import SqlStore
from tests.admin.helpers import FakeSender
from tests.reminders.conftest import Harness, vn


async def test_opt_in_out_and_back_in_keeps_the_chosen_rhythm(harness: Harness) -> None:
    learner_id = await harness.learner("an", rhythm=None)
    async with harness.app.assistant.sessions() as session, session.begin():
        never = await reminders.setting(session, learner_id)
        assert not never.asked and never.rhythm == "off"
        assert reminders.setting_line(never) == "• Nhắc học: không nhắc (gõ «bật nhắc» nếu bác muốn)"
        store_ = SqlStore(session, vn(2, 15))
        chosen = await reminders.set_rhythm(store_, learner_id, "3d")  # the event's time by default
        assert chosen.asked and chosen.active and chosen.due_at == vn(5, 15)
        assert reminders.setting_line(chosen) == "• Nhắc học: hai, ba ngày một lần"
        off = await reminders.set_rhythm(session, learner_id, "off", vn(3, 9))
        assert off.rhythm == "off" and off.due_at is None and not off.active
        on = await reminders.set_rhythm(session, learner_id, "on", vn(4, 9))  # "bật nhắc"
        assert on.rhythm == "3d" and on.due_at == vn(7, 9)
        with pytest.raises(ValueError, match="rhythm must be one of"):
            await reminders.set_rhythm(session, learner_id, "daily", vn(4, 9))
        with pytest.raises(ValueError, match="needs `now`"):
            await reminders.set_rhythm(session, learner_id, "weekly")
    fresh = await harness.learner("bi", "Trần Văn Bi", rhythm=None)
    async with harness.app.assistant.sessions() as session, session.begin():
        assert (await reminders.set_rhythm(session, fresh, "on", vn(4, 9))).rhythm == "weekly"


def test_the_offer_and_its_answers() -> None:
    buttons = reminders.offer_buttons()
    assert [b.payload for b in buttons] == ["rm:weekly", "rm:3d", "rm:off"]
    assert texts.REMINDER_OFFER.startswith("Cháu nhắc bác học bài mới mỗi tuần nhé?")
    assert [reminders.parse_rhythm_payload(b.payload) for b in buttons] == ["weekly", "3d", "off"]
    assert reminders.parse_rhythm_payload("rm:daily") is None and reminders.parse_rhythm_payload("x") is None
    assert "tắt nhắc" in reminders.rhythm_set_text("weekly") and "bật nhắc" in reminders.rhythm_set_text(
        "off"
    )
    assert reminders.parse_review_payload("rv:dien-thoai-wifi:q1:0") == ("dien-thoai-wifi", "q1", 0)
    for bad in ("rv:a:b", "rv:a:b:x", "ans:a:b:1", "rv:a:b:123"):
        assert reminders.parse_review_payload(bad) is None


async def test_activity_is_cheap_without_a_reminder_outstanding_and_marks_the_reply(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    async with harness.app.assistant.sessions() as session, session.begin():
        assert not await store.on_activity(session, learner_id, vn(3, 9))  # nothing outstanding
    await harness.tick(vn(9, 16))
    async with harness.app.assistant.sessions() as session, session.begin():
        assert await store.on_activity(session, learner_id, vn(10, 9))
        assert not await store.on_activity(session, learner_id, vn(10, 10))  # once
        replied = await session.scalar(select(Reminder.replied_at))
    assert replied is not None and store.utc(replied) == vn(10, 9)


async def test_a_mentor_nudge_names_the_mentor_and_the_lesson(harness: Harness) -> None:
    learner_id = await harness.learner("an")
    async with harness.app.assistant.sessions() as session:
        reply = await reminders.nudge_reply(session, harness.app.curriculum, learner_id, "Lê Đại Sứ")
    assert reply.text == "Cháu chào bác An! Đại sứ số Lê Đại Sứ nhắc bác học tiếp bài «Kết nối Wi-Fi» ạ."
    assert [b.payload for b in reply.buttons] == ["lesson:dien-thoai-wifi"]


async def test_monthly_figures_for_the_dashboard(harness: Harness) -> None:
    an = await harness.learner("an")
    bi = await harness.learner("bi", "Trần Văn Bi")
    await harness.learner("co", "Lê Thị Cơ")
    harness.clock.current = vn(9, 16)
    await harness.scheduler().run_once()
    async with harness.app.assistant.sessions() as session, session.begin():  # Cơ's message never left
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.chat_id == "co").values(status="failed")
        )
    await OutboxWorker(
        harness.app.assistant.sessions, {"test": FakeSender()}, harness.clock, rates={"test": 0}
    ).run_once()
    async with harness.app.assistant.sessions() as session, session.begin():
        await store.on_activity(session, an, vn(10, 20))  # back within 48 hours
        await store.on_activity(session, bi, vn(12, 9))  # after three days
        for learner_id, answers in ((an, (0,)), (bi, (1, 0))):
            await reminders.record_miss(session, learner_id, "dien-thoai-wifi", "q1", vn(3, 9))
            for option in answers:
                await session.execute(
                    update(ReviewItem).where(ReviewItem.learner_id == learner_id).values(asked_at=vn(20, 9))
                )
                await reminders.answer_review(
                    session, harness.app.curriculum, learner_id, "dien-thoai-wifi", "q1", option, vn(20, 9)
                )
    async with harness.app.assistant.sessions() as session:
        november = await store.reminder_stats(session, "tan-hoc", "2026-11")
        december = await store.reminder_stats(session, "tan-hoc", "2026-12")
        elsewhere = await store.reminder_stats(session, "xa-khac", "2026-11")
    assert (november.reminders_sent, november.learners_reminded, november.learners_back_48h) == (2, 2, 1)
    assert november.share_back_48h == 0.5
    assert (november.review_right_first_try, november.review_right_later) == (1, 1)
    assert december.reminders_sent == 0 and december.share_back_48h == 0.0
    assert elsewhere.reminders_sent == 0 and elsewhere.review_right_first_try == 0
    with pytest.raises(ValueError, match="2026-11"):
        store.month_bounds("11/2026")
    assert store.month_bounds("2026-12") == (
        datetime(2026, 11, 30, 17, tzinfo=UTC),
        datetime(2026, 12, 31, 17, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("local", "margin", "quiet"),
    [
        ("06:59", 0, True),
        ("07:00", 0, False),
        ("10:59", 0, False),
        ("10:31", 30, True),
        ("10:30", 29, False),
        ("11:00", 0, True),
        ("13:00", 0, False),
        ("17:29", 0, False),
        ("17:30", 0, True),
        ("19:00", 0, False),
        ("20:59", 0, False),
        ("20:31", 30, True),
        ("21:00", 0, True),
        ("00:00", 0, True),
    ],
)
def test_quiet_hours_in_vietnam_time(local: str, margin: int, quiet: bool) -> None:
    hour, minute = (int(part) for part in local.split(":"))
    assert is_quiet_time(DEFAULT_QUIET_HOURS, vn(9, hour, minute), timedelta(minutes=margin)) is quiet


def test_a_margin_across_midnight_and_a_commune_without_quiet_hours() -> None:
    assert is_quiet_time(("00:10-00:20",), vn(9, 23, 55), timedelta(minutes=30))
    assert not is_quiet_time((), vn(9, 23, 55), timedelta(minutes=30))


COMMUNE = """\
communes:
  - id: a
    name: Xã A
    province: Tỉnh
    targets: [{{year: 2026, basic_skills_share: 0.8}}]
    villages: [{{id: t, name: T, adults: 3}}]
{quiet}"""


def test_quiet_hours_are_set_per_commune_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "commune.yaml"
    path.write_text(COMMUNE.format(quiet=""), encoding="utf-8")
    assert load_commune_config(path).communes[0].quiet_hours == DEFAULT_QUIET_HOURS
    path.write_text(COMMUNE.format(quiet='    quiet_hours: ["22:00-06:00"]\n'), encoding="utf-8")
    commune = load_commune_config(path).communes[0]
    assert commune.quiet_hours == ("22:00-06:00",)
    assert not commune.is_quiet(vn(9, 21, 30)) and commune.is_quiet(vn(9, 22, 30))
    for bad, message in (('["25:00-06:00"]', "must look like 21:00-07:00"), ('["07:00-07:00"]', "same time")):
        path.write_text(COMMUNE.format(quiet=f"    quiet_hours: {bad}\n"), encoding="utf-8")
        with pytest.raises(CommuneConfigError, match=message) as error:
            load_commune_config(path)
        assert "communes.0.quiet_hours" in str(error.value)
    assert load_commune_config().communes[0].quiet_hours == DEFAULT_QUIET_HOURS  # the sample file


def test_the_migration_follows_the_reachability_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    revision = script.get_revision("0005")
    assert revision is not None and revision.down_revision == "0004"
    migrate(url)

    async def tables() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    assert {"reminder_settings", "reminders", "review_items", "mentor_digests"} <= asyncio.run(tables())
