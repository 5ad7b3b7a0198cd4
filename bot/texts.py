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
BTN_CONTINUE = "▶ Học tiếp: {title}"
BTN_LESSONS = "📚 Các bài"

AGE_GROUPS: tuple[tuple[str, str], ...] = (
    ("duoi-40", "Dưới 40 tuổi"),
    ("40-59", "Từ 40 đến 59"),
    ("60-69", "Từ 60 đến 69"),
    ("70-plus", "Từ 70 tuổi trở lên"),
)

# --- registration --------------------------------------------------------------------------------
WELCOME = (
    "Cháu chào bác! Cháu là {assistant} của {commune}, giúp bác học dùng điện thoại qua các bài ngắn. "
    "Cháu là trợ lý tự động (một chương trình máy tính), không phải người thật; khi cần người giúp, "
    "cháu chuyển lời bác tới Đại sứ số của thôn.\n\n"
    "Để ghi nhận việc học, cháu xin lưu tên, thôn, nhóm tuổi và kết quả học của bác, theo Luật Bảo vệ "
    "dữ liệu cá nhân (Luật 91/2025/QH15) và Nghị định 356/2025/NĐ-CP. Bác xem hoặc xóa được bất cứ lúc "
    "nào.\n\nBác có đồng ý không ạ?"
)
CONSENT_DECLINED = (
    "Cháu hiểu ạ. Cháu không lưu thông tin gì của bác.\n"
    "Khi nào bác muốn học, bác cứ nhắn cho cháu một chữ bất kỳ, cháu sẽ hỏi lại ạ."
)
CONSENT_REPEAT = (
    "Bác có đồng ý cho cháu lưu tên, thôn và kết quả học để ghi nhận việc học không ạ? "
    'Bác gõ "đồng ý" hoặc "không" (hoặc số 1, 2).'
)
ASK_NAME = "Cảm ơn bác! Bác cho cháu biết tên bác nhé (ví dụ: Nguyễn Văn An)."
NAME_EMPTY = "Cháu chưa thấy tên ạ. Bác gõ tên của bác giúp cháu nhé."
NAME_TOO_LONG = "Tên hơi dài ạ. Bác gõ tên ngắn hơn, không quá 60 chữ cái nhé."
NAME_INVALID = "Cháu chưa thấy tên ạ. Bác gõ họ và tên của bác giúp cháu nhé (ví dụ: Trần Thị Mai)."
ASK_NAME_AGAIN = "Dạ. Bác cho cháu biết họ và tên của bác nhé (ví dụ: Nguyễn Văn An)."
NAME_WHY = (
    "Cháu hỏi tên để ghi nhận bài bác đã học và in giấy chứng nhận khi bác học xong. "
    "Bác gõ họ và tên của bác nhé (ví dụ: Nguyễn Văn An)."
)
CONFIRM_NAME = "Cháu ghi tên bác là {name}, đúng không ạ?"
BTN_NAME_RIGHT = "✅ Đúng rồi"
BTN_NAME_FIX = "✏️ Sửa lại"
ASK_NAME_RETYPE = "Dạ, bác gõ lại họ và tên giúp cháu nhé, có dấu càng tốt (ví dụ: Trần Văn Ba)."
ASK_NAME_NEW = (
    'Bác gõ tên mới của bác nhé, có dấu càng tốt (ví dụ: Trần Văn Ba). Gõ "menu" để thôi không đổi.'
)
ASK_NAME_WITH_MARKS = "Bác gõ tên có dấu để in lên giấy chứng nhận nhé (ví dụ: Trần Văn Ba)."
NAME_CHANGED = "Cháu đã ghi tên mới của bác: {name}."
VILLAGE_CHANGED = "Cháu đã ghi bác ở {village}."
AGE_CHANGED = "Cháu đã ghi lại nhóm tuổi của bác."
EDIT_CANCELLED = "Dạ, cháu giữ nguyên thông tin cũ ạ."
VILLAGE_UNKNOWN = (
    "Cháu chưa thấy thôn này trong danh sách ạ. Bác chọn một thôn dưới đây: bấm nút, hoặc gõ số."
)
AGE_UNCLEAR = (
    'Bác gõ tuổi (ví dụ 65), năm sinh, hoặc bấm một nhóm dưới đây; không muốn trả lời thì gõ "bỏ qua".'
)
CERT_NAME_CHECK = (
    "Giấy chứng nhận sẽ in tên: {name}. Tên này chưa có dấu. Bác muốn giữ nguyên, hay sửa lại cho có dấu ạ?"
)
BTN_KEEP_NAME = "✅ Giữ nguyên"
BTN_FIX_NAME = "✏️ Sửa tên"
ASK_COMMUNE = "Bác ở xã/phường nào ạ? Bác bấm chọn, hoặc gõ số."
ASK_VILLAGE = "Chào bác {name}! Bác ở thôn/tổ dân phố nào ạ? Bác bấm chọn, hoặc gõ số."
CHOOSE_FROM_LIST = "Bác chọn một mục trong danh sách giúp cháu nhé: bấm nút, hoặc gõ số."
ASK_AGE = 'Bác thuộc nhóm tuổi nào ạ? (Không bắt buộc, bác có thể bấm "Bỏ qua".)'
REGISTERED = (
    "Xong rồi ạ! Cháu đã ghi nhận bác {name}, {village}.\n\n"
    'Bác bấm "Học bài" để bắt đầu. Bất cứ lúc nào, bác gõ "menu" hoặc số 0 để về menu chính.'
)
REGISTERED_VOLUNTEER = "Xong rồi! Chào bạn {name}, {village}. Cháu ghi nhận bạn là Đại sứ số ngay sau đây."
REGISTRATION_FIRST = "Mình làm xong vài bước đăng ký đã nhé bác."

# --- menu and help -------------------------------------------------------------------------------
MENU = "Bác muốn làm gì ạ? Bác bấm nút, hoặc gõ số."
MENU_GREETING = "Chào bác {name}! " + MENU
HELP = (
    "Cháu là trợ lý tự động (máy trả lời), không phải người thật. Cháu chỉ trả lời theo các bài học; "
    "điều cháu chưa biết, cháu gửi Đại sứ số của thôn.\n\n"
    '• Bấm nút hoặc gõ số. Gõ 0 hoặc "menu" để về menu chính.\n'
    '• Cứ gõ câu hỏi, có dấu hay không đều được: "cach cai vneid".\n'
    '• Bài học dở được giữ lại: gõ "học tiếp".\n'
    '• Gõ "đổi tên" để sửa tên, /dulieu để xem hoặc xóa thông tin.\n\n'
    "Muốn nói chuyện với người thật, bác nhờ Đại sứ số của thôn nhé."
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
LIST_MORE = "(tiếp danh sách)"
CARD = "📖 {lesson} · thẻ {number}/{total}\n\n🔹 {title}\n{text}"
RESUMING = "Bác đang học dở bài này, cháu mở tiếp thẻ {number} ạ."
LESSON_DONE_ALREADY = "Bác đã hoàn thành bài này rồi. Bác xem lại cho nhớ nhé!"
QUIZ_INTRO = (
    "Giờ mình làm bài kiểm tra nhỏ: {count} câu, cần đúng {needed} câu để qua bài. Bác chọn đáp án nhé."
)
QUIZ_RESUMED = "Bác làm tiếp bài kiểm tra nhé: các câu trước bác đã trả lời rồi, cháu hỏi tiếp câu {number}."
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
ANSWER_CONFIDENT = '💡 Theo bài "{lesson}":\n\n{text}'
SCAM_PROMPT = (
    "Bác chuyển tiếp (bấm giữ tin nhắn rồi chọn Chuyển tiếp) hoặc dán tin nhắn lạ vào đây, hoặc kể lại "
    "cuộc gọi, cháu xem giúp có dấu hiệu lừa đảo không. Bác đừng bấm vào đường link trong tin đó nhé."
)
BTN_CHECK_SCAM = "🛡️ Kiểm tra tin nhắn lạ"
BTN_SCAM_TO_MENTOR = "🙋 Gửi Đại sứ số xem giúp"
BTN_SCAM_AGAIN = "🛡️ Kiểm tra tin khác"
SCAM_GONE = "Cháu không còn giữ tin đó ạ (cháu không lưu tin nhắn của bác). Bác chuyển lại tin giúp cháu nhé."
SCAM_QUEUED_PREFIX = "[Nhờ xem tin nhắn lạ] "
KB_ANSWER = "📌 Câu trả lời của {commune}:\n\n{answer}"
ANSWER_URGENT = '🚨 Việc cần làm ngay (theo bài "{lesson}"):\n\n{text}'
ANSWER_BORDERLINE = (
    "Cháu chưa chắc bác hỏi về điều gì. Có phải bác muốn hỏi về một trong các bài này không ạ?"
)
NOT_UNDERSTOOD = (
    'Cháu chưa hiểu ý bác ạ. Bác bấm một nút, gõ số, hoặc gõ câu hỏi rõ hơn (ví dụ "cách cài VNeID").'
)
THANKS_REPLY = "Dạ, không có gì ạ! Bác cần gì nữa thì bấm nút dưới đây, hoặc gõ câu hỏi cho cháu nhé."
HELLO_REPLY = "Dạ, cháu đây ạ! Bác bấm nút dưới đây, hoặc gõ câu hỏi cho cháu nhé."
HELLO_BACK = "Cháu chào bác {name} ạ!"
HELLO_OPEN = 'Bác đang học dở bài "{title}": bấm 1 hoặc gõ "học tiếp" để học tiếp nhé.'
ACK_REPLY = "Dạ vâng ạ! Bác cần gì thì bấm nút dưới đây, hoặc gõ câu hỏi cho cháu nhé."
GOODBYE = 'Cháu chào bác ạ! Bài học của bác đã được lưu; lúc nào rảnh bác nhắn "học tiếp" cho cháu nhé.'
STOPPED = 'Dạ, bác nghỉ nhé. Bài đang học dở được giữ lại; lần sau bác gõ "học tiếp" là học tiếp ạ.'
CARD_WHERE = 'Bác đang đọc thẻ {number} của bài "{lesson}". Bác bấm 1 (hoặc gõ "tiếp") để đọc tiếp ạ.'
CHOOSE_NUMBER = "Bác gõ số từ 1 đến {count} ạ."
QUIZ_STILL_OPEN = "Bác đang làm bài kiểm tra dở, mình làm tiếp nhé:"
QUIZ_CHOOSE = "Bác chọn một đáp án: gõ số, hoặc chữ a, b, c."
NO_QUIZ_OPEN = "Bác chưa mở bài nào để làm bài kiểm tra ạ. Bác chọn chủ đề để học trước nhé."
BTN_ASK_PERSON = "🙋 Không phải, nhờ Đại sứ số trả lời"
QUESTION_SENT = (
    "Cháu đã gửi câu hỏi của bác cho Đại sứ số hoặc cán bộ xã. Khi có câu trả lời, cháu sẽ nhắn lại bác ạ."
)
QUESTION_ALREADY_SENT = (
    "Câu hỏi này cháu đã gửi rồi, hoặc bác đã hỏi câu khác sau đó ạ. Bác cần hỏi gì, bác cứ gõ nhé."
)
ANSWER_UNKNOWN = (
    "Cháu xin lỗi, cháu chưa có câu trả lời cho câu hỏi này trong các bài học, nên cháu không dám đoán ạ. "
    "Cháu đã ghi lại câu hỏi để Đại sứ số hoặc cán bộ xã trả lời bác sau."
)
ANSWER_UNKNOWN_WAITING = (
    "Cháu xin lỗi, cháu chưa có câu trả lời cho câu hỏi này trong các bài học. Bác đã có mấy câu hỏi "
    "đang chờ Đại sứ số hoặc cán bộ xã trả lời; khi có trả lời, cháu nhắn lại bác ạ."
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
CHOOSE_HINT_MENU = "👉 Bác gõ số để chọn, số 0 về menu."

# --- mentors ("Đại sứ số"; a mentor is addressed as "bạn") and learners joining them -------------------
MENTOR_JOINED = "✅ Bác đã kết nối với Đại sứ số {mentor}. Khi cần giúp, Đại sứ số sẽ nhắn cho bác qua đây ạ."
MENTOR_CHANGED = "✅ Bác đã chuyển sang Đại sứ số {mentor} ạ."
MENTOR_ALREADY = "Bác đang được Đại sứ số {mentor} hướng dẫn rồi ạ."
MENTOR_CODE_UNKNOWN = "Cháu không tìm thấy mã {code} ạ. Bác kiểm tra lại mã với Đại sứ số giúp cháu nhé."
MENTOR_CODE_SELF = "Đây là mã của chính bạn — người học dùng mã này để kết nối với bạn."
MENTOR_NONE = (
    "Bác chưa kết nối với Đại sứ số nào ạ. Khi có mã của Đại sứ số, bác gõ: ma <mã> (ví dụ: ma AB3CDE)."
)
MENTOR_MINE = "Đại sứ số của bác là {mentor}. Bác muốn đổi thì gõ: ma <mã mới>."
MENTOR_LEFT = "Bác đã rời Đại sứ số {mentor}. Muốn kết nối lại, bác gõ: ma <mã>."
BTN_LEAVE_MENTOR = "🚪 Rời Đại sứ số"
MENTOR_BECAME = (
    "🎉 Chào Đại sứ số {name}! Bạn đã được {commune} ghi nhận là Đại sứ số.\n"
    "Mã của bạn: {code}. Người học gõ «ma {code}» (hoặc mở đường dẫn bạn gửi) để kết nối với bạn.\n"
    "Gõ /hocvien để xem người học của bạn."
)
MENTOR_ONLY = "Lệnh này dành cho Đại sứ số ạ. Nếu bác là Đại sứ số, bác gõ: ma <mã mời của xã>."
MENTOR_PANEL = (
    "👥 Đại sứ số {name}: bạn đang hướng dẫn {count}/{target} người học{flag}.\n"
    "Mã của bạn: {code} (trên Zalo, người học nhắn «ma {code}» cho trợ lý){link}"
)
MENTOR_BELOW_TARGET = " (cần thêm {missing} người nữa)"
MENTOR_LINK = "\nĐường dẫn Telegram: {link}"
MENTOR_NO_LEARNERS = "Chưa có ai kết nối với bạn. Gửi mã của bạn cho người học: họ gõ «ma {code}»."
MENTOR_LEARNER_LINE = "{number}. {name} — {village}: cốt lõi {done}/{total}, {active}{stuck}"
MENTOR_PAGE = "(trang {page}/{pages}; gõ số thứ tự hoặc tên để mở một người học)"
BTN_PAGE_NEXT = "▶ Trang sau"
BTN_PAGE_PREV = "◀ Trang trước"
MENTOR_FOUND_SEVERAL = "Có {count} người học trùng tên này, bạn chọn một người:"
MENTOR_PUSH_FEEDBACK = (
    "📤 Lần gửi gần nhất «{lesson}»: đã tới {sent}/{total} người, {opened}/{total} đã mở bài."
)
MENTOR_PUSH_SKIPPED = " Bỏ qua {count} người đã học xong bài này."
MENTOR_PUSH_ALL_DONE = "Mọi người học của bạn đều đã học xong bài «{lesson}» rồi, cháu không gửi nữa."
BTN_MENTOR_QR = "🖨 Mã QR để in"
MENTOR_QR = (
    "Mã QR này mở trợ lý trên Telegram và nối người học với bạn. In ra để dán ở nhà văn hóa thôn.\n"
    "Trên Zalo: người học nhắn «ma {code}» cho trợ lý.\nĐường dẫn: {link}"
)
MENTOR_ZALO_JOIN = "Người học nhắn «ma {code}» cho trợ lý (trên Zalo hay Telegram đều được) để nối với bạn."
MENTOR_ACTIVE_TODAY = "hoạt động hôm nay"
MENTOR_ACTIVE_DAYS = "hoạt động {days} ngày trước"
MENTOR_STUCK = " ⚠️ cần giúp"
MENTOR_LEARNER = (
    "👤 {name} — {village}\nĐã xong {done}/{total} bài (cốt lõi {core_done}/{core_total}).\n{active}{stuck}"
    "\nBài đã xong: {lessons}"
)
MENTOR_NOT_YOURS = "Không tìm thấy người học này trong danh sách của bạn."
BTN_PUSH_ALL = "📤 Gửi bài cho tất cả"
BTN_PUSH_ONE = "📤 Gửi bài cho {name}"
BTN_MENTOR_QUESTIONS = "❓ Câu hỏi chờ trả lời ({count})"
BTN_MENTOR_HOME = "👥 Người học của tôi"
BTN_MENTOR_LEARNER = "👤 {name}"
MENTOR_CHOOSE_TOPIC = "Chọn chủ đề của bài muốn gửi:"
MENTOR_CHOOSE_LESSON = "Chọn bài muốn gửi cho {who}:"
MENTOR_EVERYONE = "tất cả người học của bạn"
MENTOR_PUSHED = "📤 Đã gửi bài «{lesson}» cho {count} người học. Họ sẽ nhận được tin nhắn trong ít phút."
MENTOR_PUSHED_ALREADY = "Bạn vừa gửi bài «{lesson}» rồi, cháu không gửi lại lần nữa."
MENTOR_PUSH_NOBODY = "Chưa có người học nào để gửi bài."
PUSH_MESSAGE = "📚 Đại sứ số {mentor} gửi bác bài học: «{lesson}». Bác bấm nút dưới đây để học nhé."
BTN_PUSH_OPEN = "📖 Học bài này"
MENTOR_NO_QUESTIONS = "Không có câu hỏi nào đang chờ trả lời. 👍"
MENTOR_QUESTION_LINE = "{number}. {name} ({when}): «{text}»"
MENTOR_QUESTIONS = "Câu hỏi người học của bạn gửi mà trợ lý chưa trả lời được:"
BTN_ANSWER_QUESTION = "✍️ Trả lời câu {number}"
MENTOR_QUESTION_GONE = "Câu hỏi này không còn chờ trả lời (hoặc không thuộc người học của bạn)."
MENTOR_TYPE_ANSWER = "Bạn gõ câu trả lời cho {name}. Câu hỏi: «{text}»\n(Gõ 0 để hủy.)"
MENTOR_ANSWER_EMPTY = "Câu trả lời đang trống. Bạn gõ câu trả lời, hoặc gõ 0 để hủy."
MENTOR_ANSWER_SENT = "✅ Đã gửi câu trả lời cho {name}."
ANSWER_FROM_MENTOR = "💬 Trả lời câu hỏi của bác «{question}»:\n\n{answer}\n\n— {who}"
ANSWER_FROM_COMMUNE = "cán bộ {commune}"
# told to a mentor (through the outbox, once per question) when one of their learners' questions waits
# (no name and no question in it: the message is stored in the outbox, and a learner who deletes their
# data must not stay named there)
MENTOR_QUESTION_WAITING = (
    "🔔 Người học của bạn vừa gửi {count} câu hỏi mà trợ lý chưa trả lời được. "
    "Bạn bấm nút dưới đây để xem và trả lời nhé."
)
BTN_MENTOR_SEE_QUESTIONS = "❓ Xem câu hỏi chờ trả lời"
# the first line of every announcement of the commune: who speaks ("UBND xã Tân Học thông báo:")
ANNOUNCEMENT_SENDER = "{authority} thông báo:"

# --- personal data (/xoadulieu) ------------------------------------------------------------------------
MY_DATA = (
    "🔒 Thông tin cháu đang lưu về bác:\n"
    "• Tên: {name}\n• Xã/phường: {commune}\n• Thôn/tổ dân phố: {village}\n• Nhóm tuổi: {age}\n"
    "• Kênh: {channel}\n• Ngày đăng ký: {registered}\n• Số bài đã học xong: {completed}\n"
    "• Số câu hỏi đã gửi: {questions}\n• Đại sứ số: {mentor}"
)
MY_DATA_NONE = "(không có)"
MY_DATA_ASKED = "• Câu hỏi đang chờ trả lời: {questions}"
DELETE_ASK = (
    "Bác có muốn xóa thông tin cá nhân của mình không ạ? Cháu sẽ xóa tên, tài khoản, nhóm tuổi, câu hỏi "
    "và chỗ bác đang học. Xã chỉ giữ lại con số thống kê không có tên (ví dụ: một người ở {village} đã học "
    "xong bài). Việc này không hoàn tác được."
)
BTN_DELETE_CONFIRM = "🗑 Xóa thông tin của tôi"
BTN_DELETE_CANCEL = "↩ Không xóa"
DELETE_DONE = (
    "Cháu đã xóa thông tin cá nhân của bác. Cảm ơn bác đã học cùng cháu! "
    "Nếu bác muốn học lại, bác cứ nhắn cho cháu bất cứ lúc nào."
)
DELETE_CANCELLED = "Cháu giữ nguyên thông tin của bác ạ."

# --- certificate -------------------------------------------------------------------------------------
CERTIFICATE_SENT = "📜 Đây là giấy chứng nhận của bác. Mã xác minh: {code}."
CERTIFICATE_TITLE = "GIẤY CHỨNG NHẬN"
CERTIFICATE_SUBTITLE = "Hoàn thành chương trình kiến thức số cơ bản"
CERTIFICATE_CAMPAIGN = "«Bình dân học vụ số»"
CERTIFICATE_AWARDED = "Chứng nhận Ông/Bà"
CERTIFICATE_COMMUNE = "{commune}, {province}"
CERTIFICATE_DATE = "Ngày {day:02d} tháng {month:02d} năm {year}"
CERTIFICATE_CODE = "Mã xác minh: {code}"

# --- the terminal chat ------------------------------------------------------------------------------
CONSOLE_HELLO = "Gõ tin nhắn rồi nhấn Enter. Nhấn Ctrl-D hoặc Ctrl-C để thoát."
CONSOLE_BYE = "\nTạm biệt bác! Tiến độ học đã được lưu lại."
CONSOLE_PREPARING = "Đang chuẩn bị trợ lý (lần đầu, hoặc khi bài học thay đổi, mất khoảng nửa phút)…"


# --- reminders, review questions and the mentors' weekly digest (bot.reminders)
# (what learners and mentors read (the learner is "bác", the assistant "cháu", a mentor "bạn") -------
REMINDER_CONTINUE = "Cháu chào bác{name}! Bác đang học dở bài «{title}». Bác học tiếp vài phút cùng cháu nhé?"
REMINDER_NEXT = "Cháu chào bác{name}! Bài «{title}» đang chờ bác, chỉ khoảng {minutes} phút thôi ạ."
REMINDER_REVIEW = "Cháu chào bác{name}! Bác thử trả lời một câu ôn bài «{title}» nhé:\n❓ {question}"
REMINDER_FOOTER = "(Bác không muốn cháu nhắc nữa thì gõ «tắt nhắc» ạ.)"
REMINDER_LAST = "(Cháu tạm thôi nhắc. Khi nào bác nhắn, cháu lại nhắc bác học ạ. Gõ «tắt nhắc» để thôi hẳn.)"
NUDGE = "Cháu chào bác{name}! Đại sứ số {mentor} nhắc bác học tiếp bài «{title}» ạ."
NUDGE_DONE = "Cháu chào bác{name}! Đại sứ số {mentor} hỏi thăm bác. Bác cần giúp gì cứ nhắn cháu nhé."
REVIEW_RIGHT = "✅ Đúng rồi ạ! {explanation}"
REVIEW_WRONG = "Chưa đúng ạ. Đáp án đúng là: «{correct}». {explanation}"
REVIEW_LEARNED = "Bác đã nhớ chắc câu này rồi, cháu sẽ không hỏi lại nữa ạ."
REVIEW_LATER = "Ít hôm nữa cháu hỏi lại bác câu này để bác nhớ lâu hơn nhé."
REVIEW_AGAIN = "Lần nhắc sau cháu hỏi lại bác câu này nhé."
REMINDER_OFFER = "Cháu nhắc bác học bài mới mỗi tuần nhé? Bác chọn cách cháu nhắc:"
BTN_RHYTHM = {"weekly": "🔔 Mỗi tuần một lần", "3d": "🔔 Hai, ba ngày một lần", "off": "🔕 Không cần nhắc"}
RHYTHM_LABEL = {"weekly": "mỗi tuần một lần", "3d": "hai, ba ngày một lần", "off": "không nhắc"}
RHYTHM_SET = "Dạ, cháu sẽ nhắc bác {label}, không nhắn ban đêm hay giờ cơm. Bác gõ «tắt nhắc» để thôi ạ."
RHYTHM_OFF = "Dạ, cháu sẽ không nhắc nữa. Khi nào muốn, bác gõ «bật nhắc» nhé."
SETTING_LINE = "• Nhắc học: {label}"
SETTING_PAUSED = "• Nhắc học: {label}, đang tạm dừng vì bác chưa trả lời; cháu nhắc lại khi bác nhắn"
SETTING_NEVER = "• Nhắc học: không nhắc (gõ «bật nhắc» nếu bác muốn)"
DIGEST_HEAD = "📋 Tuần qua của người học của bạn:"
DIGEST_FINISHED = "✅ Đã học xong:"
DIGEST_FINISHED_LINE = "• {name}: {lessons}"
DIGEST_STUCK = "⚠️ Chưa học từ {days} ngày trở lên:"
DIGEST_STUCK_LINE = "• {name}: {days} ngày chưa học"
DIGEST_STOPPED = "🔕 Đã thôi nhận nhắc học:"
DIGEST_STOPPED_LINE = "• {name} ({why})"
DIGEST_WHY = {"off": "tự tắt", "paused": "không trả lời {stop} lần nhắc"}
DIGEST_NUDGE_HINT = "Bấm «🔔 Nhắc giúp» để cháu nhắn người đó học tiếp."
BTN_NUDGE = "🔔 Nhắc giúp {name}"
MENTOR_NUDGED = "🔔 Cháu đã nhắn {name} học tiếp, kèm tên bạn. Tin sẽ tới trong ít phút."
MENTOR_NUDGED_ALREADY = "Bạn vừa nhắc {name} rồi, cháu không nhắn lại ngay kẻo làm phiền người học."
NO_NAME = "(chưa có tên)"
