"""Mentors ("Đại sứ số") through the real engine and a fake channel: enrolment by codes, pushes through
the outbox, progress, stuck learners, answering queued questions, and the rule that a mentor sees and
acts on their own learners only."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.outbox import OutboxWorker
from bot.settings import Settings
from data.models import Broadcast, Learner, OutboxMessage, UnansweredQuestion
from tests.admin.helpers import OTP, WIFI, FakeSender, finish_lesson, invite_code, make_mentor
from tests.conftest import FIXTURE_CURRICULUM
from tests.driver import ChatDriver, FakeAnswerer, FakeClock


async def worker_run(app: App, sender: FakeSender) -> None:
    worker = OutboxWorker(
        app.assistant.sessions, {sender.name: sender}, app.assistant.clock, rates={"test": 0}
    )
    await worker.run_once()


async def test_a_mentor_enrols_five_pushes_a_lesson_sees_who_finished_and_answers_a_question(
    app: App,
) -> None:
    mentor, code = await make_mentor(app)
    learners = []
    for n in range(5):
        chat = ChatDriver(app.assistant, f"hv{n}")
        if n < 3:  # the Telegram deep link: the code rides through consent and applies after registration
            await chat.say(f"/start m_{code}")
            await chat.press("Đồng ý")
            await chat.say(f"Người Học {n}")
            await chat.press("Đúng rồi")
            await chat.press("Thôn Tây")
            await chat.press("Bỏ qua")
        else:  # any channel: a typed "ma <code>" after registering, without diacritics or case
            await chat.register(f"Người Học {n}", "Thôn Tây")
            await chat.say(f"mã {code.lower()}")
        assert "Bác đã kết nối với Đại sứ số Lê Đại Sứ" in chat.text
        learners.append(chat)

    await mentor.say("/hocvien")
    assert "5/5 người học" in mentor.text and "cần thêm" not in mentor.text
    assert all(f"Người Học {n}" in mentor.text for n in range(5))

    await mentor.press("Gửi bài cho tất cả")
    await mentor.press("Điện thoại")
    await mentor.press("Kết nối Wi-Fi")
    assert "cho 5 người học" in mentor.text

    sender = FakeSender()
    await worker_run(app, sender)
    assert sorted(chat for chat, _ in sender.sent) == [f"hv{n}" for n in range(5)]
    pushed = sender.to("hv0")[0]
    assert "Lê Đại Sứ" in pushed.text and "Kết nối Wi-Fi" in pushed.text
    assert [b.payload for b in pushed.buttons] == ["lesson:dien-thoai-wifi"]
    async with app.assistant.sessions() as session:
        push = (await session.scalars(select(Broadcast).where(Broadcast.kind == "push"))).one()
    assert (push.lesson_id, push.recipients) == ("dien-thoai-wifi", 5)

    # learner 0 opens the pushed lesson with its button and passes
    await finish_lesson(learners[0], pushed.buttons[0].payload.removeprefix("lesson:"), WIFI)
    await mentor.say("/hocvien")
    lines = {line.split(" — ")[0][3:]: line for line in mentor.text.splitlines() if " — " in line}
    assert "cốt lõi 1/2" in lines["Người Học 0"] and "cốt lõi 0/2" in lines["Người Học 1"]
    assert "📤 Lần gửi gần nhất «Kết nối Wi-Fi»: đã tới 5/5 người, 1/5 đã mở bài." in mentor.text

    # learner 1 asks what the assistant cannot answer; the mentor answers; the learner receives it
    await learners[1].say("xin mẫu đơn xin trợ cấp người cao tuổi ở đâu")
    assert "chưa có câu trả lời" in learners[1].text
    await mentor.say("/cauhoi")
    assert "Người Học 1" in mentor.text and "trợ cấp người cao tuổi" in mentor.text
    await mentor.press("Trả lời câu 1")
    await mentor.say("Bác ra bộ phận một cửa của UBND xã, mang theo CCCD ạ.")
    assert "Đã gửi câu trả lời cho Người Học 1" in mentor.text
    await worker_run(app, sender)
    answer = sender.to("hv1")[-1]
    assert "bộ phận một cửa" in answer.text and "trợ cấp người cao tuổi" in answer.text
    async with app.assistant.sessions() as session:
        question = (await session.scalars(select(UnansweredQuestion))).one()
    assert question.status == "answered" and question.answer_text is not None
    await mentor.say("/cauhoi")
    assert "Không có câu hỏi" in mentor.text


async def test_a_mentor_below_five_is_told_how_many_are_missing(app: App) -> None:
    mentor, code = await make_mentor(app)
    chat = ChatDriver(app.assistant, "a")
    await chat.register("Bà Một")
    await chat.say(f"ma {code}")
    await mentor.say("/hocvien")
    assert "1/5 người học (cần thêm 4 người nữa)" in mentor.text


async def test_an_idle_learner_shows_as_stuck_after_the_configured_days(app: App, clock: FakeClock) -> None:
    mentor, code = await make_mentor(app)
    chat = ChatDriver(app.assistant, "a")
    await chat.register("Bà Một")
    await chat.say(f"ma {code}")
    clock.advance(days=6)
    await mentor.say("/hocvien")
    assert "hoạt động 6 ngày trước" in mentor.text and "cần giúp" not in mentor.text
    clock.advance(days=1)
    await mentor.say("/hocvien")
    assert "hoạt động 7 ngày trước ⚠️ cần giúp" in mentor.text
    await chat.say("menu")  # active again
    await mentor.say("/hocvien")
    assert "cần giúp" not in mentor.text


async def test_a_learner_leaves_and_changes_mentor(app: App) -> None:
    first, code1 = await make_mentor(app, "m1", "Đại Sứ Một")
    second, code2 = await make_mentor(app, "m2", "Đại Sứ Hai")
    chat = ChatDriver(app.assistant, "a")
    await chat.register("Bà Một")
    await chat.say(f"ma {code1}")
    await chat.say(f"ma {code1}")
    assert "đang được Đại sứ số Đại Sứ Một" in chat.text
    await chat.say(f"ma {code2}")
    assert "chuyển sang Đại sứ số Đại Sứ Hai" in chat.text
    await first.say("/hocvien")
    assert "0/5" in first.text
    await chat.say("/daisu")
    assert "Đại Sứ Hai" in chat.text
    await chat.press("Rời Đại sứ số")
    assert "đã rời" in chat.text
    await second.say("/hocvien")
    assert "0/5" in second.text


async def test_wrong_and_used_codes_are_refused_and_ordinary_questions_stay_questions(app: App) -> None:
    code = await invite_code(app)
    first = ChatDriver(app.assistant, "a")
    await first.register("Người Một")
    await first.say(f"ma {code}")
    assert "Chào Đại sứ số" in first.text
    second = ChatDriver(app.assistant, "b")
    await second.register("Người Hai")
    await second.say(f"ma {code}")  # an invite works once
    assert f"không tìm thấy mã {code}" in second.text
    await second.say("/hocvien")
    assert "dành cho Đại sứ số" in second.text
    await second.say("ma otp la gi")  # words, not a code: a question for the assistant
    assert "chưa có câu trả lời" in second.text
    await first.say(f"ma {first.text and (await _own_code(first))}")
    assert "mã của chính bạn" in first.text


async def _own_code(mentor: ChatDriver) -> str:
    await mentor.say("/madaisu")
    return mentor.text.split("Mã của bạn: ")[1].split()[0]


async def test_a_double_tap_on_push_sends_once(app: App) -> None:
    mentor, code = await make_mentor(app)
    chat = ChatDriver(app.assistant, "a")
    await chat.register("Bà Một")
    await chat.say(f"ma {code}")
    await mentor.say("/hocvien")
    await mentor.press("Gửi bài cho tất cả")
    await mentor.press("An toàn")
    payload = mentor.button("Giữ kín mã OTP").payload
    await mentor.press_payload(payload)
    await mentor.press_payload(payload)
    assert "vừa gửi bài" in mentor.text
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_a_push_to_one_learner_reaches_only_that_learner(app: App) -> None:
    mentor, code = await make_mentor(app)
    chats = []
    for user in ("a", "b"):
        chat = ChatDriver(app.assistant, user)
        await chat.register(f"Bà {user.upper()}")
        await chat.say(f"ma {code}")
        chats.append(chat)
    await mentor.say("/hocvien")
    await mentor.press("Bà B")
    await mentor.press("Gửi bài cho Bà B")
    await mentor.press("An toàn")
    await mentor.press("Giữ kín mã OTP")
    assert "cho 1 người học" in mentor.text
    sender = FakeSender()
    await worker_run(app, sender)
    assert [chat for chat, _ in sender.sent] == ["b"]
    await finish_lesson(chats[1], "an-toan-otp", OTP)
    await mentor.press_payload(mentor.button("Người học của tôi").payload)
    await mentor.press("Bà B")
    assert "Giữ kín mã OTP" in mentor.text and "1/3 bài" in mentor.text


# --- a mentor sees and acts on their own learners only -------------------------------------------
async def _two_mentors(app: App) -> tuple[ChatDriver, ChatDriver, int, int]:
    """Mentor 1 with learner A; mentor 2 with learner B (who has an open question). Returns ids of A, B."""
    m1, code1 = await make_mentor(app, "m1", "Đại Sứ Một")
    m2, code2 = await make_mentor(app, "m2", "Đại Sứ Hai")
    a, b = ChatDriver(app.assistant, "a"), ChatDriver(app.assistant, "b")
    await a.register("Bà An")
    await a.say(f"ma {code1}")
    await b.register("Bà B")
    await b.say(f"ma {code2}")
    await b.say("hỏi một câu không ai biết")
    async with app.assistant.sessions() as session:
        ids = dict((await session.execute(select(Learner.channel_user_id, Learner.id))).all())
    return m1, m2, ids["a"], ids["b"]


async def test_a_mentor_cannot_open_another_mentors_learner(app: App) -> None:
    m1, _, a_id, b_id = await _two_mentors(app)
    await m1.press_payload(f"m:l:{a_id}")
    assert "Bà An" in m1.text
    await m1.press_payload(f"m:l:{b_id}")  # a guessed id
    assert "Không tìm thấy người học" in m1.text and "Bà B" not in m1.text


async def test_a_mentor_cannot_push_to_another_mentors_learner(app: App) -> None:
    m1, _, _, b_id = await _two_mentors(app)
    await m1.press_payload(f"m:pl:an-toan-otp:{b_id}")
    assert "Không tìm thấy người học" in m1.text
    await m1.press_payload("m:pl:an-toan-otp:abc")  # a malformed id is not "everyone"
    assert "Không tìm thấy người học" in m1.text
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_a_mentor_sees_and_answers_only_their_learners_questions(app: App) -> None:
    m1, m2, _, b_id = await _two_mentors(app)
    await m1.say("/cauhoi")
    assert "Không có câu hỏi" in m1.text
    async with app.assistant.sessions() as session:
        question_id = await session.scalar(
            select(UnansweredQuestion.id).where(UnansweredQuestion.learner_id == b_id)
        )
    await m1.press_payload(f"m:qa:{question_id}")  # a guessed question id
    assert "không thuộc người học của bạn" in m1.text
    await m1.say("một câu trả lời")  # not taken as an answer: no reply step was opened
    async with app.assistant.sessions() as session:
        question = await session.get(UnansweredQuestion, question_id)
        assert question is not None and question.status == "open" and question.answer_text is None
    await m2.say("/cauhoi")
    assert "hỏi một câu không ai biết" in m2.text


async def test_a_learner_cannot_use_mentor_buttons(app: App) -> None:
    _, _, a_id, _ = await _two_mentors(app)
    learner = ChatDriver(app.assistant, "b")
    await learner.press_payload(f"m:l:{a_id}")
    assert "dành cho Đại sứ số" in learner.text and "Bà An" not in learner.text


async def test_a_mentor_with_25_learners_reaches_every_one_by_page_number_and_name(app: App) -> None:
    mentor, code = await make_mentor(app)
    for n in range(25):
        chat = ChatDriver(app.assistant, f"p{n}")
        await chat.register(f"Người Thứ {chr(65 + n)}", "Thôn Tây")
        await chat.say(f"ma {code}")
    await mentor.say("/hocvien")
    seen = {b.label for b in mentor.last[0].buttons if b.payload.startswith("m:l:")}
    while any(b.payload.startswith("m:page:") and "Trang sau" in b.label for b in mentor.last[0].buttons):
        await mentor.press("Trang sau")
        seen |= {b.label for b in mentor.last[0].buttons if b.payload.startswith("m:l:")}
    assert len(seen) == 25  # every learner has a button on some page
    await mentor.say("/hocvien")
    await mentor.say("20")  # the 20th in the list, although page 1 shows 8
    assert mentor.text.startswith("👤 ") and "Thôn Tây" in mentor.text
    await mentor.say("/hocvien")
    await mentor.say("nguoi thu k")  # a name typed without diacritics
    assert mentor.text.startswith("👤 Người Thứ K")


async def test_send_to_all_skips_who_finished_and_the_picker_marks_core_and_done(app: App) -> None:
    mentor, code = await make_mentor(app)
    chats = []
    for n in range(3):
        chat = ChatDriver(app.assistant, f"s{n}")
        await chat.register(f"Người Học {n}", "Thôn Tây")
        await chat.say(f"ma {code}")
        chats.append(chat)
    await finish_lesson(chats[0], "dien-thoai-wifi", WIFI)
    await mentor.say("/hocvien")
    await mentor.press("Gửi bài cho tất cả")
    await mentor.press("Điện thoại")
    assert "Kết nối Wi-Fi ⭐ (1/3 xong)" in mentor.buttons()
    await mentor.press("Kết nối Wi-Fi")
    assert "cho 2 người học" in mentor.text and "Bỏ qua 1 người đã học xong" in mentor.text


async def test_a_volunteer_joining_with_the_invite_link_is_not_asked_an_age_group(app: App) -> None:
    volunteer = ChatDriver(app.assistant, "volunteer")
    await volunteer.say(f"/start i_{await invite_code(app)}")
    await volunteer.press("Đồng ý")
    await volunteer.say("Phạm Thu Trang")
    await volunteer.say("dung roi")
    await volunteer.say("thon tay")
    assert "nhóm tuổi" not in volunteer.text and "Chào bạn Phạm Thu Trang" in volunteer.text
    assert "Bạn đã được Xã Tân Học (xã mẫu) ghi nhận là Đại sứ số" in volunteer.text  # no "xã Xã"
    async with app.assistant.sessions() as session:
        row = (await session.scalars(select(Learner).where(Learner.channel_user_id == "volunteer"))).one()
    assert (row.role, row.age_group) == ("mentor", None)


async def test_a_mentor_gets_a_printable_qr_of_their_link(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", content_dir=FIXTURE_CURRICULUM, telegram_bot_username="hocvuso_thu_bot"
    )
    app = await build_app(settings, clock=FakeClock(), answerer=FakeAnswerer())
    try:
        mentor, code = await make_mentor(app)
        await mentor.say("/hocvien")
        await mentor.press("Mã QR để in")
        (reply,) = mentor.last
        assert reply.image is not None and f"ma {code}" in reply.text
        assert f"https://t.me/hocvuso_thu_bot?start=m_{code}" in reply.text
        with Image.open(reply.image) as image:  # a real PNG, large enough to print
            assert image.format == "PNG" and image.width >= 300
    finally:
        await app.close()


async def test_nhac_giup_reaches_only_the_mentors_learner_once_and_names_the_mentor(app: App) -> None:
    m1, _, a_id, b_id = await _two_mentors(app)
    await m1.press_payload(f"m:l:{a_id}")
    await m1.press("Nhắc giúp Bà An")  # the button on the learner's page (also in the weekly digest)
    assert "đã nhắn Bà An" in m1.text
    await m1.press_payload(f"m:nudge:{a_id}")  # a second tap soon after
    assert "vừa nhắc Bà An rồi" in m1.text
    await m1.press_payload(f"m:nudge:{b_id}")  # another mentor's learner, by a guessed id
    assert "Không tìm thấy người học" in m1.text
    sender = FakeSender()
    await worker_run(app, sender)
    assert [chat for chat, _ in sender.sent] == ["a"]
    (reply,) = sender.sent[0][1]
    assert "Đại sứ số Đại Sứ Một" in reply.text
    assert reply.buttons and reply.buttons[0].payload in {"continue"} | {
        f"lesson:{le.id}" for le in app.curriculum.lessons
    }
