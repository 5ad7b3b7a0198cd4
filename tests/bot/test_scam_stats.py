"""The commune's counts of checked messages (issue 16), through the engine: a check leaves a row with the
day, village, kind, verdict and domains — nothing of the text, the sender or the learner; the same
learner's same message counts once a day; nothing at all for a person who has not consented; rows go
after the event-retention period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from data.models import ScamReport
from tests.bot.test_privacy_sweep import everything_stored, holding
from tests.bot.test_scam_chat import SCAM, forward
from tests.driver import ChatDriver, FakeClock

LEGIT = "Cuối tuần này con về thăm bố mẹ, bố mẹ có cần con mua gì không ạ?"


async def reports(app: App) -> list[ScamReport]:
    async with app.assistant.sessions() as session:
        return list((await session.scalars(select(ScamReport).order_by(ScamReport.id))).all())


async def test_a_checked_message_is_counted_without_its_text(app: App, chat: ChatDriver) -> None:
    await chat.register(village="Thôn Đông")
    await forward(chat, SCAM)
    await forward(chat, LEGIT)
    scam, legit = await reports(app)
    assert scam.kind not in ("none", None)
    assert scam.level == "very_likely" and scam.domains == ["bhxh-hotro.top"]
    assert scam.village_id is not None and scam.commune_id is not None
    assert scam.day == "2026-11-02"  # the fake clock's day in Vietnam
    assert (legit.kind, legit.level, legit.domains) == ("none", "no_clear_sign", [])
    stored = await everything_stored(app)
    # nothing of either text anywhere; the domain only in the counts
    assert holding(stored, "3.500.000", "Ho so huong", "con về thăm", "mua gì") == []
    assert {table for table, _ in holding(stored, "bhxh-hotro")} == {"scam_reports"}
    # no column for the learner, the sender or the text
    columns = {column for table, column, _ in stored if table == "scam_reports"}
    assert columns <= {"id", "day", "commune_id", "village_id", "kind", "level", "domains", "reporter"}


async def test_the_same_message_checked_again_counts_once_a_day(
    app: App, chat: ChatDriver, clock: FakeClock
) -> None:
    await chat.register()
    for _ in range(3):
        await forward(chat, SCAM)
    assert len(await reports(app)) == 1
    other = ChatDriver(app.assistant, "binh")  # another learner: another report
    await other.register("Trần Thị Bình")
    await forward(other, SCAM)
    assert len(await reports(app)) == 2
    clock.advance(days=1)
    await forward(chat, SCAM)  # a new day: counted again; yesterday's hashes are cleared
    rows = await reports(app)
    assert len(rows) == 3
    assert [r.reporter is None for r in rows] == [True, True, False]


async def test_nothing_is_counted_for_a_person_who_has_not_consented(app: App) -> None:
    stranger = ChatDriver(app.assistant, "la")
    await forward(stranger, SCAM)  # the consent question, and nothing kept
    await stranger.say("xin chào")
    await forward(stranger, SCAM)
    assert await reports(app) == []


async def test_counts_are_forgotten_after_the_retention(app: App, chat: ChatDriver, clock: FakeClock) -> None:
    await chat.register()
    await forward(chat, SCAM)
    clock.advance(days=2)
    await forward(chat, LEGIT)
    assert len(await reports(app)) == 2
    removed_before = clock.now() - timedelta(days=1)  # as the purge with a one-day retention
    await app.assistant.purge_events(removed_before)
    (left,) = await reports(app)
    assert left.kind == "none"
