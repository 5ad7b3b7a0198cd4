"""The mentors' weekly digest: who finished what, who is stuck (with "🔔 Nhắc giúp"), who stopped the
reminders; once a week per mentor, never in quiet hours, nothing when there is no news."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import reminders
from data.models import Broadcast, MentorDigest
from tests.admin.helpers import WIFI, finish_lesson, make_mentor
from tests.driver import ChatDriver
from tests.reminders.conftest import Harness, vn


async def _mentee(harness: Harness, user: str, name: str, code: str) -> ChatDriver:
    chat = ChatDriver(harness.app.assistant, user)
    await chat.register(name)
    await chat.say(f"ma {code}")
    assert "Đại sứ số" in chat.text, chat.text
    return chat


async def test_the_weekly_digest_tells_the_mentor_who_finished_who_is_stuck_and_who_stopped(
    harness: Harness,
) -> None:
    _, code = await make_mentor(harness.app)
    an = await _mentee(harness, "an", "Nguyễn Văn An", code)
    await _mentee(harness, "bi", "Trần Văn Bi", code)  # nothing after Monday 2 November
    co = await _mentee(harness, "co", "Lê Thị Cơ", code)
    co_id, bi_id = await harness.learner_id("co"), await harness.learner_id("bi")
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.set_rhythm(session, co_id, "weekly", harness.clock.now())
    harness.clock.current = vn(5, 9)
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.set_rhythm(session, co_id, "off", harness.clock.now())  # "tắt nhắc"
    await co.say("cảm ơn")
    harness.clock.current = vn(6, 9)
    await finish_lesson(an, "dien-thoai-wifi", WIFI)

    assert await harness.tick(vn(9, 22)) == []  # Monday night: quiet hours
    got = await harness.tick(vn(10, 8))  # Tuesday morning, the same week
    assert [chat for chat, _ in got] == ["mentor"]
    reply = got[0][1]
    assert reply.text.splitlines() == [
        "📋 Tuần qua của người học của bạn:",
        "✅ Đã học xong:",
        "• Nguyễn Văn An: Kết nối Wi-Fi",
        "⚠️ Chưa học từ 7 ngày trở lên:",
        "• Trần Văn Bi: 7 ngày chưa học",
        "🔕 Đã thôi nhận nhắc học:",
        "• Lê Thị Cơ (tự tắt)",
        "Bấm «🔔 Nhắc giúp» để cháu nhắn người đó học tiếp.",
    ]
    assert [(b.label, b.payload) for b in reply.buttons] == [
        ("🔔 Nhắc giúp Trần Văn Bi", f"m:nudge:{bi_id}"),
        ("👥 Người học của tôi", "m:home"),
    ]
    assert await harness.tick(vn(11, 8)) == [] and await harness.tick(vn(15, 16)) == []  # once a week

    got = await harness.tick(vn(16, 8))  # the next week: all three idle for a week and more
    assert len(got) == 1
    assert got[0][1].text.splitlines()[1:5] == [
        "⚠️ Chưa học từ 7 ngày trở lên:",
        "• Lê Thị Cơ: 10 ngày chưa học",
        "• Nguyễn Văn An: 9 ngày chưa học",
        "• Trần Văn Bi: 13 ngày chưa học",
    ]
    assert "Đã học xong" not in got[0][1].text and "tự tắt" not in got[0][1].text  # that was last week
    assert len(got[0][1].buttons) == 4
    async with harness.app.assistant.sessions() as session:
        preview = await harness.scheduler().weekly_digest(
            session, await harness.learner_id("mentor"), vn(16, 8)
        )
    assert preview is not None and preview.text == got[0][1].text


async def test_a_week_without_news_sends_nothing_but_counts_as_done(harness: Harness) -> None:
    _, code = await make_mentor(harness.app)
    await _mentee(harness, "an", "Nguyễn Văn An", code)
    assert await harness.tick(vn(3, 8)) == []  # a learner active yesterday, nothing finished or stopped
    async with harness.app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MentorDigest)) == 1
        assert (
            await session.scalar(
                select(func.count()).select_from(Broadcast).where(Broadcast.kind == "digest")
            )
            == 0
        )


async def test_a_learner_paused_after_silence_shows_as_such(harness: Harness) -> None:
    _, code = await make_mentor(harness.app)
    await _mentee(harness, "an", "Nguyễn Văn An", code)
    async with harness.app.assistant.sessions() as session, session.begin():
        await reminders.set_rhythm(session, await harness.learner_id("an"), "3d", harness.clock.now())
    await harness.days(vn(3, 0), 20, hours=(9,))
    assert [chat for chat, _ in harness.sender.sent].count("an") == 3  # three reminders, then the pause
    texts = [reply.text for chat, replies in harness.sender.sent if chat == "mentor" for reply in replies]
    assert any("• Nguyễn Văn An (không trả lời 3 lần nhắc)" in text for text in texts), texts


async def test_erasing_a_learner_removes_their_name_from_the_digest(harness: Harness) -> None:
    _, code = await make_mentor(harness.app)
    bi = await _mentee(harness, "bi", "Trần Văn Bi", code)
    harness.clock.current = vn(10, 7, 50)
    assert (await harness.scheduler().run_once()).digests == 1  # queued, not yet delivered
    await bi.say("/xoadulieu")
    await bi.press("Xóa thông tin")
    await harness.tick(vn(10, 8))
    (chat, reply), *_ = [(c, r) for c, replies in harness.sender.sent for r in replies]
    assert chat == "mentor" and "Trần Văn Bi" not in reply.text and "(đã xóa)" in reply.text
    assert all("Trần Văn Bi" not in b.label for b in reply.buttons)
