"""How an elderly learner types: no diacritics, telex leftovers, part of an option, an age instead of a
choice, a thank-you, a stray word. Each must do what the learner meant, without a detour."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts
from bot.app import App
from data.models import Learner, UnansweredQuestion
from retrieval.answers import Answer, Candidate, Outcome
from tests.driver import ChatDriver, FakeAnswerer


async def learner(app: App) -> Learner:
    async with app.assistant.sessions() as session:
        found = await session.scalar(select(Learner))
        assert found is not None
        return found


async def open_otp_lesson(chat: ChatDriver) -> None:
    await chat.register()
    await chat.say("hoc bai")
    await chat.say("an toan")  # a part of "🛡️ An toàn (thử) (0/2)"
    await chat.say("otp")  # a word of "Giữ kín mã OTP"
    assert "Giữ kín mã OTP" in chat.text and "thẻ 1/3" in chat.text


async def test_a_typed_age_or_range_picks_its_group_and_anything_else_skips(
    app: App, chat: ChatDriver
) -> None:
    await chat.say("xin chao")
    await chat.say("dong y")
    await chat.say("tran thi nhung")
    await chat.say("dung roi")
    await chat.say("thon dong")
    await chat.say("65 tuoi")
    assert "Xong rồi" in chat.text
    registered = await learner(app)
    assert (registered.name, registered.age_group) == ("Tran Thi Nhung", "60-69")  # capitalised, as typed

    other = ChatDriver(app.assistant, "ba")
    await other.say("xin chao")
    await other.say("dong y")
    await other.say("Lê Văn Ba")
    await other.say("ok")
    await other.say("thon tay")
    await other.say("hoc bai")  # not an age: the optional question is skipped, never repeated
    assert "Xong rồi" in other.text and texts.CHOOSE_FROM_LIST not in other.text


async def test_telex_leftovers_and_option_words_choose(chat: ChatDriver) -> None:
    await open_otp_lesson(chat)
    await chat.say("tieps")  # "tiếp" typed in telex, the tone key left in
    assert "thẻ 2/3" in chat.text
    await chat.say("tiep")
    await chat.say("lam bai kiem tra")
    await chat.say("khong bao")  # some words of "Không bao giờ", in no other option
    assert "Đúng rồi" in chat.text


async def test_tiep_after_a_side_question_goes_back_to_the_lesson(
    chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await open_otp_lesson(chat)
    answerer.next = Answer(
        Outcome.CONFIDENT, (Candidate("an-toan-link#1", 0.9, lesson_id="an-toan-link", card_number=1),)
    )
    await chat.say("link la la gi")
    assert texts.BTN_RESUME in chat.buttons()
    await chat.say("tiep")
    assert "Giữ kín mã OTP" in chat.text and "thẻ 1/3" in chat.text


async def test_a_stray_word_is_not_queued_and_thanks_get_a_kind_reply(
    app: App, chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await chat.register()
    answerer.next = Answer(Outcome.UNKNOWN)
    await chat.say("laj")
    assert texts.NOT_UNDERSTOOD in chat.text
    await chat.say("cam on chau")
    assert texts.THANKS_REPLY in chat.text
    await chat.say("vang")
    assert texts.ACK_REPLY in chat.text
    await chat.say("alo alo")
    assert "Cháu chào bác" in chat.text
    async with app.assistant.sessions() as session:
        assert (await session.scalars(select(UnansweredQuestion))).all() == []
    assert answerer.questions == []  # a stray word is not even searched
