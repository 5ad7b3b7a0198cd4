"""A learner sees what is stored about them and deletes it; the anonymous counts stay right."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from data.models import Completion, ConversationState, Learner, UnansweredQuestion
from data.stats import overview
from tests.admin.helpers import WIFI, finish_lesson, make_mentor
from tests.driver import ChatDriver


async def test_a_learner_sees_what_is_stored(app: App, chat: ChatDriver) -> None:
    await chat.register("Trần Thị Mai", "Thôn Tây")
    await finish_lesson(chat, "dien-thoai-wifi", WIFI)
    await chat.say("/dulieu")
    assert "Trần Thị Mai" in chat.text and "Thôn Tây" in chat.text
    assert "Số bài đã học xong: 1" in chat.text and "Kênh: test" in chat.text


async def test_deleting_removes_personal_data_and_keeps_the_counts(app: App, chat: ChatDriver) -> None:
    mentor, code = await make_mentor(app)
    await chat.register("Trần Thị Mai", "Thôn Tây")
    await chat.say(f"ma {code}")
    await finish_lesson(chat, "dien-thoai-wifi", WIFI)
    await chat.say("làm sao giữ riêng tư tài khoản của tôi")
    commune = app.communes.communes[0]
    async with app.assistant.sessions() as session:
        before = await overview(session, commune, ["dien-thoai-wifi"], app.assistant.clock.now())

    await chat.say("/xoadulieu")
    assert "Trần Thị Mai" in chat.text and "không hoàn tác" in chat.text
    await chat.press("Xóa thông tin của tôi")
    assert "đã xóa" in chat.text

    async with app.assistant.sessions() as session:
        row = (await session.scalars(select(Learner).where(Learner.village_id == "thon-tay"))).one()
        assert (row.name, row.display_name, row.age_group, row.chat_id, row.mentor_id) == (
            None,
            None,
            None,
            "",
            None,
        )
        assert row.channel_user_id != "an" and row.deleted_at is not None
        assert await session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0
        assert (
            await session.get(ConversationState, row.id) is None
            or "step" not in (await session.get(ConversationState, row.id)).state
        )
        assert await session.scalar(select(func.count()).where(Completion.learner_id == row.id)) == 1
        after = await overview(session, commune, ["dien-thoai-wifi"], app.assistant.clock.now())
    assert (after.registered, after.completions, after.finished_core) == (
        before.registered,
        before.completions,
        before.finished_core,
    )
    await mentor.say("/hocvien")
    assert "Trần Thị Mai" not in mentor.text and "0/5" in mentor.text
    await chat.say("xin chào")  # the same account starts afresh with the consent question
    assert "Luật 91/2025/QH15" in chat.text


async def test_cancelling_or_a_stale_delete_button_deletes_nothing(app: App, chat: ChatDriver) -> None:
    await chat.register("Trần Thị Mai")
    await chat.say("/xoadulieu")
    delete = chat.button("Xóa thông tin của tôi").payload
    await chat.press("Không xóa")
    assert "giữ nguyên" in chat.text
    await chat.press_payload(delete)  # the old button: asks again instead of deleting
    assert "không hoàn tác" in chat.text
    async with app.assistant.sessions() as session:
        assert (await session.scalars(select(Learner))).one().name == "Trần Thị Mai"
