"""Every Vietnamese string a user reads, in one place.

The learner is "bác", the assistant is "cháu", everywhere. Keep sentences short and plain.
"""

from __future__ import annotations

ASSISTANT_NAME = "Trợ lý Học vụ số"

# --- buttons -------------------------------------------------------------------------------------
BTN_LEARN = "📚 Học bài"
BTN_ASK = "❓ Hỏi đáp"
BTN_PROGRESS = "📈 Tiến độ"
BTN_HELP = "🆘 Trợ giúp"
BTN_MENU = "🏠 Menu chính"
BTN_NEXT = "Tiếp ▶"
BTN_PREV = "◀ Lại"
BTN_START_QUIZ = "📝 Làm bài kiểm tra"
BTN_RETRY_QUIZ = "🔁 Làm lại bài kiểm tra"
BTN_TOPICS = "📚 Các chủ đề"
BTN_CONSENT_YES = "✅ Đồng ý"
BTN_CONSENT_NO = "❌ Không đồng ý"
BTN_SKIP = "Bỏ qua"
BTN_RESUME = "↩ Quay lại bài đang học"
BTN_RESUME_QUIZ = "↩ Quay lại bài kiểm tra"
BTN_OPEN_LESSON = "📖 Mở bài: {title}"
BTN_NEXT_LESSON = "▶ Bài tiếp theo: {title}"
BTN_REVIEW_CARD = "👀 Xem lại: {title}"
BTN_RESTART_LESSON = "🔄 Học lại từ đầu"

AGE_GROUPS: tuple[tuple[str, str], ...] = (
    ("duoi-40", "Dưới 40 tuổi"),
    ("40-59", "Từ 40 đến 59"),
    ("60-69", "Từ 60 đến 69"),
    ("70-plus", "Từ 70 tuổi trở lên"),
)

# --- registration --------------------------------------------------------------------------------
WELCOME = (
    "Cháu chào bác! Cháu là {assistant}, giúp bác học dùng điện thoại và dịch vụ số "
    'trong chương trình "Bình dân học vụ số" của {commune}.\n\n'
    "Mỗi bài học ngắn, vài phút là xong. Bác bấm nút, hoặc gõ số 1, 2, 3 để chọn."
)
CONSENT = (
    "Trước khi học, cháu xin phép lưu một vài thông tin của bác:\n"
    "• tên bác, thôn/tổ dân phố bác ở, nhóm tuổi (nếu bác muốn);\n"
    "• các bài bác đã học và kết quả bài kiểm tra.\n\n"
    "Thông tin này chỉ để ghi nhận tiến độ học của bác và để xã thống kê kết quả chương trình, "
    "theo Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân. Bác có thể xem hoặc xóa thông tin này "
    "bất cứ lúc nào.\n\nBác có đồng ý không ạ?"
)
CONSENT_DECLINED = (
    "Cháu hiểu ạ. Cháu không lưu thông tin gì của bác.\n"
    "Khi nào bác muốn học, bác cứ nhắn cho cháu một chữ bất kỳ, cháu sẽ hỏi lại ạ."
)
CONSENT_REPEAT = 'Bác bấm "Đồng ý" (hoặc gõ 1) để bắt đầu học, hoặc "Không đồng ý" (gõ 2) ạ.'
ASK_NAME = "Cảm ơn bác! Bác cho cháu biết tên bác nhé (ví dụ: Nguyễn Văn An)."
NAME_EMPTY = "Cháu chưa thấy tên ạ. Bác gõ tên của bác giúp cháu nhé."
NAME_TOO_LONG = "Tên hơi dài ạ. Bác gõ tên ngắn hơn, không quá 60 chữ cái nhé."
NAME_INVALID = "Tên cần có chữ cái ạ. Bác gõ lại tên của bác giúp cháu nhé (ví dụ: Trần Thị Mai)."
ASK_COMMUNE = "Bác ở xã/phường nào ạ? Bác bấm chọn, hoặc gõ số."
ASK_VILLAGE = "Chào bác {name}! Bác ở thôn/tổ dân phố nào ạ? Bác bấm chọn, hoặc gõ số."
CHOOSE_FROM_LIST = "Bác chọn một mục trong danh sách giúp cháu nhé: bấm nút, hoặc gõ số."
ASK_AGE = 'Bác thuộc nhóm tuổi nào ạ? (Không bắt buộc, bác có thể bấm "Bỏ qua".)'
REGISTERED = (
    "Xong rồi ạ! Cháu đã ghi nhận bác {name}, {village}.\n\n"
    'Bác bấm "Học bài" để bắt đầu. Bất cứ lúc nào, bác gõ "menu" hoặc số 0 để về menu chính.'
)
REGISTRATION_FIRST = "Mình làm xong vài bước đăng ký đã nhé bác."

# --- menu and help -------------------------------------------------------------------------------
MENU = "Bác muốn làm gì ạ? Bác bấm nút, hoặc gõ số."
MENU_GREETING = "Chào bác {name}! " + MENU
HELP = (
    "Cách dùng trợ lý:\n"
    "• Bấm nút, hoặc gõ số ở đầu mỗi lựa chọn (1, 2, 3...).\n"
    '• Gõ "menu" hoặc số 0 để về menu chính bất cứ lúc nào.\n'
    '• Muốn hỏi gì, bác cứ gõ câu hỏi, có dấu hay không dấu đều được, ví dụ: "cach cai vneid".\n'
    "• Bài đang học dở sẽ được giữ lại, lần sau bác học tiếp.\n"
    "• Gõ /xoadulieu nếu bác muốn xem hoặc xóa thông tin của mình.\n\n"
    "Nếu vẫn khó, bác nhờ con cháu hoặc Đại sứ số của thôn giúp nhé."
)
ASK_PROMPT = (
    "Bác cứ gõ câu hỏi, có dấu hay không dấu đều được. Ví dụ:\n"
    "• cách cài VNeID\n"
    "• co nguoi goi xung cong an bat chuyen tien\n"
    "• mã OTP là gì"
)

# --- lessons -------------------------------------------------------------------------------------
TOPICS = "Bác chọn chủ đề muốn học ạ:"
TOPIC_LESSONS = "{icon} {title}\n{summary}\n\nBác chọn bài (✅ là bài đã xong):"
CARD = "📖 {lesson} · thẻ {number}/{total}\n\n🔹 {title}\n{text}"
RESUMING = "Bác đang học dở bài này, cháu mở tiếp thẻ {number} ạ."
LESSON_DONE_ALREADY = "Bác đã hoàn thành bài này rồi. Bác xem lại cho nhớ nhé!"
QUIZ_INTRO = (
    "Giờ mình làm bài kiểm tra nhỏ: {count} câu, cần đúng {needed} câu để qua bài. Bác chọn đáp án nhé."
)
QUESTION = "Câu {number}/{total}: {text}"
ANSWER_RIGHT = "✅ Đúng rồi ạ! {explanation}"
ANSWER_WRONG = "❌ Chưa đúng ạ. Đáp án đúng là: {correct}.\n{explanation}"
QUIZ_PASSED = '🎉 Chúc mừng bác! Bác đã hoàn thành bài "{lesson}", đúng {correct}/{total} câu.'
QUIZ_PASSED_AGAIN = '🎉 Bác làm lại đúng {correct}/{total} câu. Bài "{lesson}" vẫn được ghi là đã xong ạ.'
QUIZ_FAILED = (
    "Bác đúng {correct}/{total} câu, cần {needed} câu để qua bài. Không sao ạ! "
    "Bác xem lại phần dưới đây rồi làm lại nhé."
)
CORE_DONE = (
    "🌟 Bác đã học xong tất cả các bài cốt lõi! Bác đã có kiến thức số cơ bản của chương trình "
    '"Bình dân học vụ số". Cháu chúc mừng bác!'
)
REVIEW_CARD = "👀 Xem lại · {lesson}\n\n{title}\n{text}"
ALL_LESSONS_DONE = "Bác đã học hết các bài hiện có. Giỏi quá ạ! Bác có thể xem lại bất kỳ bài nào."

# --- progress ------------------------------------------------------------------------------------
PROGRESS = "📈 Tiến độ của bác {name}:\nĐã xong {done}/{total} bài, bài cốt lõi {core_done}/{core_total}."
PROGRESS_TOPIC = "{icon} {title}: {done}/{total}"
PROGRESS_NEXT = "Bài nên học tiếp: {title}"

# --- questions and answers -----------------------------------------------------------------------
ANSWER_CONFIDENT = '💡 Theo bài "{lesson}":\n\n{title}\n{text}'
ANSWER_BORDERLINE = (
    "Cháu chưa chắc bác hỏi về điều gì. Có phải bác muốn hỏi về một trong các bài này không ạ?"
)
ANSWER_UNKNOWN = (
    "Cháu xin lỗi, cháu chưa có câu trả lời cho câu hỏi này trong các bài học, nên cháu không dám đoán ạ. "
    "Cháu đã ghi lại câu hỏi để Đại sứ số hoặc cán bộ xã trả lời bác sau."
)
ANSWER_UNKNOWN_NOT_QUEUED = (
    "Cháu xin lỗi, cháu chưa có câu trả lời cho câu hỏi này trong các bài học, nên cháu không dám đoán ạ."
)

# --- bad input and errors ------------------------------------------------------------------------
EMPTY = 'Cháu chưa nhận được chữ nào ạ. Bác gõ câu hỏi, hoặc gõ "menu" để xem các lựa chọn nhé.'
TOO_LONG = "Tin nhắn hơi dài ạ, cháu chỉ đọc {limit} chữ đầu tiên."
NO_WORDS = 'Cháu chỉ đọc được chữ thôi ạ. Bác gõ câu hỏi bằng chữ, hoặc gõ "menu" nhé.'
UNKNOWN_COMMAND = 'Cháu chưa biết lệnh "{command}" ạ. Bác chọn trong menu dưới đây nhé.'
MEDIA = {
    "sticker": "Cảm ơn bác đã gửi nhãn dán 😊 Cháu chỉ đọc được chữ thôi ạ.",
    "image": "Cháu chưa xem được ảnh ạ. Bác gõ câu hỏi bằng chữ giúp cháu nhé.",
    "voice": "Cháu chưa nghe được tin nhắn thoại ạ. Bác gõ câu hỏi bằng chữ giúp cháu nhé.",
    "unsupported": (
        "Cháu chưa đọc được tin nhắn này ạ. Cháu hiểu được chữ: bác gõ câu hỏi, "
        'hoặc gõ "menu" để học bài nhé.'
    ),
}
MEDIA_DEFAULT = "Cháu chưa đọc được loại tin nhắn này ạ. Bác gõ bằng chữ giúp cháu nhé."
STALE_BUTTON = "Nút này thuộc tin nhắn cũ ạ. Cháu mở chỗ bác đang học nhé."
ALREADY_ANSWERED = "Bác đã trả lời câu này rồi ạ."
NOTHING_TO_ANSWER = "Hiện không có bài kiểm tra nào đang làm ạ."
LESSON_GONE = "Bài này không còn nữa ạ. Bác chọn bài khác nhé."
INTERNAL_ERROR = (
    'Cháu xin lỗi, cháu vừa gặp trục trặc. Bác thử lại sau một chút, hoặc gõ "menu" để về menu chính ạ.'
)
CHOOSE_HINT = "👉 Bác gõ số để chọn."
CHOOSE_HINT_MENU = "👉 Bác gõ số để chọn, gõ 0 để về menu chính."
