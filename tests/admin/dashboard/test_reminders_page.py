"""The "Nhắc học" page: monthly counts of reminders, learners back within 48 hours and review answers, for
the admin's own commune only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from admin.reminders import recent_months
from bot.app import App
from data.models import Broadcast, OutboxMessage, Reminder, ReviewItem
from tests.admin.dashboard.conftest import Seeded, login


async def _reminded(app: App, learner_id: int, *, back_after: timedelta | None, sent: bool = True) -> None:
    now = app.assistant.clock.now() - timedelta(days=1)
    async with app.assistant.sessions() as session, session.begin():
        broadcast = Broadcast(kind="reminder", commune_id="tan-hoc", text="", created_at=now, recipients=1)
        session.add(broadcast)
        await session.flush()
        session.add(
            OutboxMessage(
                broadcast_id=broadcast.id,
                learner_id=learner_id,
                channel="test",
                chat_id=f"c{learner_id}",
                reply={"text": ""},
                status="sent" if sent else "failed",
                created_at=now,
                updated_at=now,
            )
        )
        seq = 1 + learner_id * 10
        replied = now + back_after if back_after is not None else None
        session.add(
            Reminder(
                learner_id=learner_id,
                seq=seq,
                kind="lesson",
                broadcast_id=broadcast.id,
                created_at=now,
                replied_at=replied,
            )
        )


async def test_the_month_shows_reminders_learners_back_and_review_answers(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    ids = seeded.learners
    await _reminded(app, ids["An"], back_after=timedelta(hours=5))  # came back within 48 hours
    await _reminded(app, ids["Bình"], back_after=timedelta(days=3))  # came back, but later
    await _reminded(app, ids["Cúc"], back_after=None, sent=False)  # never delivered: not counted
    await _reminded(app, ids["Khác"], back_after=timedelta(hours=1))  # another commune
    now = app.assistant.clock.now()
    async with app.assistant.sessions() as session, session.begin():
        for learner, first_try in (("An", True), ("Bình", False), ("Dung", True)):
            session.add(
                ReviewItem(
                    learner_id=ids[learner],
                    lesson_id="an-toan-otp",
                    question_id="q1",
                    step=1,
                    due_at=now,
                    created_at=now,
                    updated_at=now,
                    first_right_at=now,
                    right_first_try=first_try,
                )
            )
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/reminders")
    assert page.status_code == 200
    row = page.text.split("Tháng 11/2026", 1)[1].split("</tr>", 1)[0]
    cells = [c.split(">", 1)[1] for c in row.split("<td")[1:]]
    assert [c.split("</td>")[0].strip() for c in cells] == ["2", "2", "1 (50,0 %)", "2 (66,7 %)", "1"]
    assert "Tháng 6/2026" in page.text and "Tháng 5/2026" not in page.text  # six months
    assert "Cúc" not in page.text and "Dung" not in page.text  # counts only, no names
    other = await client.get("/admin/c/xa-khac/reminders")
    assert other.status_code == 403 and "chỉ xem được" in other.text


def test_recent_months_cross_the_new_year() -> None:
    assert recent_months(datetime(2027, 1, 31, 18, tzinfo=UTC), 3) == ["2027-02", "2027-01", "2026-12"]
    assert recent_months(datetime(2026, 3, 1, tzinfo=UTC), 3) == ["2026-03", "2026-02", "2026-01"]
