"""The interpreter on the kinds of messages the third (tuning) utterance set showed going wrong: each case
is one of a class, written here in other words than the set's."""

from __future__ import annotations

import pytest

from bot.evaluation import DEFAULT_OPTIONS, VILLAGE_IDS
from bot.understand import Screen, interpret_text


def said(text: str, screen: str, options: tuple[str, ...] | None = None) -> str:
    shown = options if options is not None else DEFAULT_OPTIONS.get(screen, ())
    ids = VILLAGE_IDS if screen == "village" and options is None else ()
    return interpret_text(text, Screen(screen, shown, ids)).label


@pytest.mark.parametrize(
    ("text", "screen", "meaning"),
    [
        # chit-chat and comments that ask nothing never go to search or a mentor
        ("chào cháu, bác vừa mở máy", "menu", "greeting"),
        ("cam on con nhieu nha", "card", "thanks"),
        ("ô hay thế à, hay quá", "card", "ack"),
        ("qua bài rồi hả, mừng ghê", "after_quiz", "ack"),
        ("ừ bác hiểu rồi cháu", "ask", "ack"),
        ("bac vao roi day", "menu", "unclear"),
        # Southern and Central speech
        ("hổng chịu đâu cháu", "consent", "no"),
        ("không chịu mô", "consent", "no"),
        ("hổng biết luôn", "consent", "unclear"),
        ("thui để mai", "card", "stop"),
        ("cái nút học tiếp nằm ở mô rứa", "card", "question"),
        ("lm s cai zalo", "ask", "question"),
        # yes and no said with other words around them
        ("ờ lưu đi cháu, bác không sao", "consent", "yes"),
        ("ok lun chau", "consent", "yes"),
        ("không, bác ngại lắm", "consent", "no"),
        ("thôi không đồng ý đâu, sao phải lưu", "consent", "no"),
        ("đồng ý thì có phải trả tiền không cháu", "consent", "question"),
        # changes of what the learner told us, and their data, in a sentence
        ("tên bác ghi sai rồi, sửa lại giúp bác", "menu", "change_name"),
        ("bà mới dọn sang thôn tây ở với con", "after_quiz", "change_village"),
        ("bác khai nhầm tuổi rồi", "card", "change_age"),
        ("xoá hết thông tin bác đã khai đi", "menu", "my_data"),
        ("đổi tên trên zalo làm sao", "menu", "question"),
        # not knowing how to use the assistant is help; not knowing a subject is a question
        ("bác chẳng biết bấm vào đâu cả", "card", "help"),
        ("tui hổng biết chọn cái nào", "topics", "help"),
        ("bac khong biet cai vneid", "ask", "question"),
        # navigation words inside real questions stay questions
        ("xem lại lịch sử chuyển khoản ở đâu", "card", "question"),
        ("tiến độ hồ sơ đất trên mạng xem thế nào", "ask", "question"),
        ("học lại từ đầu nhé", "after_quiz", "again"),
        ("sang trang khác đi cháu", "card", "continue"),
        ("◀", "card", "back"),
        ("đọc xong rồi, cho bác làm bài", "card", "quiz"),
    ],
)
def test_classes_of_messages(text: str, screen: str, meaning: str) -> None:
    assert said(text, screen) == meaning


QUIZ = (
    "Bấm vào đường link để nhận quà",
    "Không bấm, hỏi con cháu trước",
    "Gửi mã OTP cho họ",
    "🏠 Menu chính",
)
LESSONS = ("Kết nối Wi-Fi ở nhà", "Cài ứng dụng an toàn", "Cập nhật điện thoại và ứng dụng", "📚 Các chủ đề")


@pytest.mark.parametrize(
    ("text", "options", "meaning"),
    [
        ("đáp án bê", QUIZ, "choice:2"),  # letters said aloud by voice typing
        ("cau xe chu", QUIZ, "choice:3"),
        ("ừ thì b", QUIZ, "choice:2"),
        ("theo bác thì không bấm, hỏi con cháu đã", QUIZ, "choice:2"),  # most of one option's words
        ("bấm link nhận quà có bị lừa không", QUIZ, "question"),  # ... but a question stays one
        ("wifi", LESSONS, "choice:1"),  # "Wi-Fi" typed as one word
        ("bai cai ung dung", LESSONS, "choice:2"),
    ],
)
def test_options_named_by_letters_words_and_compounds(
    text: str, options: tuple[str, ...], meaning: str
) -> None:
    assert said(text, "quiz" if options is QUIZ else "lessons", options) == meaning


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("dạ, tên tôi là Đỗ Thị Hà", "name:Đỗ Thị Hà"),  # "Đỗ", "Hà", "Thị" are not fillers after "tên là"
        ("cứ gọi tui là bà Sáu nè", "name:Sáu"),  # an address word before the name is not part of it
        ("họ tên: Lê Văn Tám", "name:Lê Văn Tám"),
        ("tôi là nông dân, tên là Phạm Văn Đồng.", "name:Phạm Văn Đồng"),
        ("tên ông là Trần Văn Ba phẩy", "name:Trần Văn Ba"),  # voice typing's spoken comma
        ("dạ tên mụ là Lài", "name:Lài"),
        ("tên có cần viết dấu không cháu", "question"),
    ],
)
def test_names_said_in_sentences(text: str, meaning: str) -> None:
    assert said(text, "name") == meaning


@pytest.mark.parametrize(
    ("text", "screen", "meaning"),
    [
        ("1", "village", "choice:1"),  # option 1 (Thôn Đông), never "Tổ dân phố 1"
        ("tdp1", "village", "village:to-dan-pho-1"),
        ("thôn tây bác ở", "village", "village:thon-tay"),  # "bác" here is not "Thôn Bắc"
        ("gia đình tôi ở thôn trung", "village", "village:thon-trung"),
        ("bảy lăm", "age", "age:70-plus"),
        ("tôi sinh năm một chín năm tám", "age", "age:60-69"),
        ("người trên 80 tuổi đăng ký bảo hiểm thế nào", "age", "question"),
        ("bac muon hoc ve lua dao", "topics", "choice:5"),  # the topic that teaches it
        ("bác muốn học về thanh toán", "menu", "learn"),
    ],
)
def test_villages_ages_and_topics(text: str, screen: str, meaning: str) -> None:
    assert said(text, screen) == meaning
