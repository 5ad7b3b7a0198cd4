"""The scam check in the conversation (issue 16): forwarded messages and links are checked, never run as
commands or searched as questions; the menu offers it; nothing of the text is stored unless the learner
chooses to send it to their mentor."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts
from bot.app import App
from bot.messages import Incoming, Kind
from data.models import UnansweredQuestion
from tests.bot.test_privacy_sweep import everything_stored, holding
from tests.driver import ChatDriver, FakeAnswerer

SCAM = (
    "[BHXH] Ho so huong tro cap cua ban da duoc duyet. Vui long truy cap https://bhxh-hotro.top "
    "va nhap ma OTP de nhan 3.500.000d trong 24h, qua han se bi huy."
)


async def forward(chat: ChatDriver, text: str) -> None:
    await chat.send(
        Incoming(
            channel=chat.channel,
            user_id=chat.user,
            event_id=chat.event_id(),
            kind=Kind.TEXT,
            text=text,
            forwarded=True,
        )
    )


async def test_a_forwarded_message_is_checked_and_its_text_is_not_kept(
    app: App, chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await chat.register()
    await forward(chat, SCAM)
    assert "Rất có thể là lừa đảo" in chat.text and "an toàn" not in chat.text.lower()
    assert answerer.questions == []  # not searched as a question
    stored = await everything_stored(app)
    assert holding(stored, "3.500.000", "Ho so huong") == []
    # the link's domain is counted for the commune (issue 16), and kept nowhere else
    assert {table for table, _ in holding(stored, "bhxh-hotro")} == {"scam_reports"}
    await chat.press(texts.BTN_SCAM_TO_MENTOR)  # the learner's choice: only now is the text stored
    async with app.assistant.sessions() as session:
        (queued,) = (await session.scalars(select(UnansweredQuestion.text))).all()
    assert "bhxh-hotro.top" in queued


async def test_a_forwarded_start_is_checked_not_run(chat: ChatDriver) -> None:
    await chat.register()
    await forward(chat, "/start")
    assert "Cháu chưa thấy dấu hiệu lừa đảo rõ ràng" in chat.text
    assert texts.MENU_GREETING.split("!")[0] not in chat.text


async def test_the_menu_offers_the_check_and_a_pasted_link_is_checked(chat: ChatDriver) -> None:
    await chat.register()
    await chat.press(texts.BTN_CHECK_SCAM)
    assert chat.text == texts.SCAM_PROMPT
    await chat.say("co nguoi goi xung cong an bao bac chuyen tien vao tai khoan tam giu de dieu tra")
    assert "lừa đảo" in chat.text and texts.BTN_SCAM_AGAIN in chat.buttons()
    await chat.say("menu")
    await chat.say("vao link nay nhan qua nhe bac: http://vietcombank-uudai.click/nhan")
    assert "Rất có thể là lừa đảo" in chat.text or "đáng ngờ" in chat.text
