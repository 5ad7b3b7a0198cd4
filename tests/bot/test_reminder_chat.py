"""Reminders in the conversation (issue 17): offered after the first finished lesson, chosen and
stopped in the learner's own words anywhere, shown in /dulieu; a review question answered in place."""

from __future__ import annotations

from bot import reminders, texts
from bot.app import App
from tests.admin.helpers import OTP, finish_lesson
from tests.driver import ChatDriver


async def test_opt_in_and_out_in_free_words(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await finish_lesson(chat, "an-toan-otp", OTP)
    assert texts.REMINDER_OFFER in chat.text
    await chat.say("vang a")  # "Cháu nhắc bác học bài mới mỗi tuần nhé?" - "vâng ạ"
    assert reminders.rhythm_set_text("weekly") in chat.text
    await chat.say("/dulieu")
    assert "Nhắc học: mỗi tuần một lần" in chat.text
    await chat.say("chau dung nhac bac nua nhe")
    assert reminders.rhythm_set_text("off") in chat.text
    await chat.say("/dulieu")
    assert texts.SETTING_NEVER in chat.text
    await chat.say("bật nhắc")
    assert reminders.rhythm_set_text("weekly") in chat.text  # back to the rhythm chosen before
    await finish_lesson(chat, "dien-thoai-wifi", {1: 1, 2: 1})
    assert texts.REMINDER_OFFER not in chat.text  # asked once only


async def test_declining_the_offer_and_answering_a_review_question(app: App, chat: ChatDriver) -> None:
    await chat.register()
    await chat.press_payload("quiz:an-toan-otp")
    await chat.answer_quiz({1: 1, 2: 1, 3: 1})  # question 1 missed, still passed
    assert texts.REMINDER_OFFER in chat.text
    await chat.say("khong can dau chau")
    assert reminders.rhythm_set_text("off") in chat.text
    await chat.press_payload(
        "rv:an-toan-otp:q1:1"
    )  # the review question's right option, as a reminder sends it
    assert "Đúng rồi" in chat.text and "chỉ dành cho chính bác" in chat.text
