"""The ten ways the conversation used to break on what elderly learners type (issue 11), each through
the engine: numbers that move, chit-chat queued as questions, navigation searched as questions, a quiz
lost by a slip, consent in natural words, names as typed, no way back, lists, other scripts' digits and
the AI disclosure. Each test failed on the engine before the interpreter (`bot/understand.py`)."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts
from bot.app import App
from bot.channels.numbered import numbered_texts
from data.models import Learner, UnansweredQuestion
from retrieval.answers import Answer, Candidate, Outcome
from tests.driver import ChatDriver, FakeAnswerer


async def queued(app: App) -> list[str]:
    async with app.assistant.sessions() as session:
        return list((await session.scalars(select(UnansweredQuestion.text))).all())


async def the_learner(app: App) -> Learner:
    async with app.assistant.sessions() as session:
        found = await session.scalar(select(Learner))
        assert found is not None
        return found


async def open_otp(chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("lesson:an-toan-otp")
    assert "thẻ 1/3" in chat.text


# 1. the same number means the same thing on every card
async def test_one_always_goes_forward_and_tiep_on_the_last_card_starts_the_quiz(chat: ChatDriver) -> None:
    await open_otp(chat)
    for expected in ("thẻ 2/3", "thẻ 3/3"):
        await chat.say("1")
        assert expected in chat.text
    assert chat.buttons()[0] == texts.BTN_START_QUIZ
    await chat.say("2")  # 2 is always back
    assert "thẻ 2/3" in chat.text
    await chat.say("1")
    await chat.say("tiếp")  # on the last card: the quiz
    assert "Câu 1/3" in chat.text


# 2. greetings, thanks, yes/ok and goodbyes are answered, never queued
async def test_small_talk_is_never_sent_to_a_mentor(
    app: App, chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await chat.register()
    for said in ("xin chao", "cam on chau nhieu nhe", "vang a", "tam biet", "ok cam on", "ALO ALO", "uh"):
        await chat.say(said)
        assert texts.ANSWER_UNKNOWN not in chat.text, said
    assert await queued(app) == []
    assert answerer.questions == []


# 3. navigation typed on another screen is navigation, not a question
async def test_navigation_words_on_any_screen(chat: ChatDriver, answerer: FakeAnswerer) -> None:
    await open_otp(chat)
    await chat.say("xem tien do")
    assert "Tiến độ của bác" in chat.text
    await chat.say("tro giup")
    assert texts.HELP in chat.text
    await chat.say("hoc tiep")  # back to the open lesson, at the card reached
    assert "Giữ kín mã OTP" in chat.text and "thẻ 1/3" in chat.text
    await chat.say("toi muon hoc bai")
    assert texts.TOPICS in chat.text
    assert answerer.questions == []


# 4. a quiz survives slips: a side question, letters, "đáp án N", a not-understood reply
async def test_a_quiz_survives_a_side_question_and_letters(chat: ChatDriver, answerer: FakeAnswerer) -> None:
    await open_otp(chat)
    await chat.press_payload("quiz:an-toan-otp")
    answerer.next = Answer(
        Outcome.CONFIDENT, (Candidate("an-toan-link#1", 0.9, lesson_id="an-toan-link", card_number=1),)
    )
    await chat.say("the con link la thi sao")
    assert "Câu 1/3" in chat.last[-1].text  # the question again, its options numbered from 1
    await chat.say("2")  # meant for the quiz: "Không bao giờ"
    assert "Đúng rồi" in chat.text and "Câu 2/3" in chat.text
    await chat.say("abc xyz")
    assert texts.NOT_UNDERSTOOD in chat.text and "Câu 2/3" in chat.text
    await chat.say("A")
    assert "Đúng rồi" in chat.text and "Câu 3/3" in chat.text
    await chat.say("dap an 1")
    assert "Chúc mừng" in chat.text


# 5. consent understands natural yes and no, and asks again in one short line
async def test_consent_in_natural_words(app: App) -> None:
    for n, said in enumerate(
        ("dong y a", "vang", "được", "dc", "toi dong y", "co a", "uh", "oke", "ok toi dong y")
    ):
        chat = ChatDriver(app.assistant, f"yes{n}")
        await chat.say("xin chao")
        await chat.say(said)
        assert chat.text == texts.ASK_NAME, said
    chat = ChatDriver(app.assistant, "no")
    await chat.say("xin chao")
    await chat.say("ko")
    assert chat.text == texts.CONSENT_DECLINED
    chat = ChatDriver(app.assistant, "unsure")
    await chat.say("xin chao")
    await chat.say("hmm gi vay")
    assert len(chat.last) == 1 and chat.text == texts.CONSENT_REPEAT


# 6. names: lead-ins and particles stripped, menu words refused, confirmed, changeable later
async def test_names_are_understood_confirmed_and_changeable(app: App, chat: ChatDriver) -> None:
    await chat.say("xin chao")
    await chat.say("dong y")
    await chat.say("menu")
    assert chat.text == texts.NAME_INVALID
    await chat.say("bo qua")
    assert chat.text != texts.CONFIRM_NAME.format(name="Bo Qua")
    await chat.say("toi ten la tran van ba")
    assert chat.text == texts.CONFIRM_NAME.format(name="Tran Van Ba")
    await chat.say("sai roi")
    await chat.say("Bác tên Hòa ạ")
    assert chat.text == texts.CONFIRM_NAME.format(name="Hòa")
    await chat.say("dung roi")
    await chat.say("thon dong")
    await chat.say("bo qua")
    assert (await the_learner(app)).name == "Hòa"
    await chat.say("bac muon doi ten")
    await chat.say("Nguyễn Thị Hòa")
    await chat.say("vang")
    assert texts.NAME_CHANGED.format(name="Nguyễn Thị Hòa") in chat.text
    assert (await the_learner(app)).name == "Nguyễn Thị Hòa"


# 7. a returning learner finds the unfinished lesson first in the menu, and a greeting offers it
async def test_returning_learner_is_offered_hoc_tiep(chat: ChatDriver) -> None:
    await open_otp(chat)
    await chat.say("1")
    await chat.say("menu")
    assert chat.buttons()[0] == texts.BTN_CONTINUE.format(title="Giữ kín mã OTP")
    await chat.say("chao chau")
    assert 'Bác đang học dở bài "Giữ kín mã OTP"' in chat.text
    await chat.say("1")
    assert "thẻ 2/3" in chat.text


# 8. lists: a number out of range, villages typed loosely, a birth year
async def test_lists_ranges_loose_villages_and_birth_years(app: App, chat: ChatDriver) -> None:
    await chat.say("xin chao")
    await chat.say("dong y")
    await chat.say("Lê Văn Tám")
    await chat.say("vang")
    await chat.say("15")
    assert texts.CHOOSE_NUMBER.format(count=5) in chat.text and "Thôn Đông" in chat.buttons()
    await chat.say("o xom bac a")
    await chat.say("sinh năm 1950")
    learner = await the_learner(app)
    assert (learner.village_id, learner.age_group) == ("thon-bac", "70-plus")
    await chat.say("hoc bai")
    await chat.say("15")
    assert texts.CHOOSE_NUMBER.format(count=3) in chat.text and texts.TOPICS in chat.text


# 9. digits of other scripts, also inside forged payloads, never crash
async def test_other_scripts_digits(chat: ChatDriver) -> None:
    await open_otp(chat)
    await chat.say("①")
    assert "thẻ 2/3" in chat.text
    for payload in ("ans:²:0:1", "next:an-toan-otp:³", "review:an-toan-otp:①", "m:l:²"):
        await chat.press_payload(payload)
        assert texts.INTERNAL_ERROR not in chat.text, payload
    await chat.press_payload("quiz:an-toan-otp")
    await chat.say("²")
    assert "Đúng rồi" in chat.text


# 10. the assistant says it is a program, in the welcome and in help
async def test_ai_disclosure(chat: ChatDriver) -> None:
    await chat.say("alo")
    assert "không phải người thật" in chat.text
    await chat.register()
    await chat.say("tro giup")
    assert "không phải người thật" in chat.text and "Đại sứ số" in chat.text


async def test_no_message_over_600_characters_in_the_numbered_view(chat: ChatDriver) -> None:
    seen = []
    await chat.say("xin chào")
    seen += chat.last
    await chat.register()
    for step in ("hoc bai", "2", "1", "tiep", "tiep", "tiep", "tien do", "tro giup"):
        await chat.say(step)
        seen += chat.last
    assert max(len(text) for text in numbered_texts(seen)) <= 600


async def test_a_name_without_diacritics_is_offered_for_correction_before_the_certificate(
    app: App, chat: ChatDriver
) -> None:
    await chat.register("Nguyen Van An")
    for lesson, answers in (("an-toan-otp", {1: 2, 2: 1, 3: 1}), ("dien-thoai-wifi", {1: 1, 2: 1})):
        await chat.press_payload(f"quiz:{lesson}")
        await chat.answer_quiz(answers)
    assert texts.CERT_NAME_CHECK.format(name="Nguyen Van An") in chat.text
    await chat.say("sua ten")
    await chat.say("Nguyễn Văn An")
    await chat.say("dung roi")
    assert any(r.image for r in chat.last)  # the certificate, drawn with the corrected name
    assert (await the_learner(app)).name == "Nguyễn Văn An"


async def test_a_wish_to_learn_a_subject_opens_the_topic_that_teaches_it(
    chat: ChatDriver, answerer: FakeAnswerer
) -> None:
    await chat.register()
    await chat.say("bác muốn học về an toàn nhé")  # the fixture's topic "An toàn (thử)"
    assert "An toàn (thử)" in chat.text and texts.TOPICS not in chat.text
    assert any("Giữ kín mã OTP" in label for label in chat.buttons())
    await chat.say("cho bac hoc voi")  # no subject: the list of topics
    assert texts.TOPICS in chat.text
    await chat.say("rứa hả, hay ghê")  # a comment asks nothing: never searched, never queued
    await chat.say("bac vao roi day")
    assert answerer.questions == []
