"""Each kind of signal, found on its own in a message that shows it, quoting the words that show it."""

from __future__ import annotations

import pytest

from safety.check import ScamChecker

# (signal kind, a message showing it, words the quoted fragment must contain)
CASES = [
    ("asks_code", "Bác đọc giúp cháu mã OTP vừa gửi về máy nhé", "mã OTP"),
    ("asks_code", "em gui nham ma vao may chi, chi doc lai giup em", "nham ma"),
    ("asks_code", "Chị gửi em ảnh hai mặt thẻ để em gia hạn", "hai mặt thẻ"),
    ("verify_via_link", "Vui lòng xác minh tài khoản tại link sau", "xác minh"),
    ("click_link", "Bấm vào đường link này xem ảnh", "Bấm vào đường link"),
    ("transfer_request", "Anh chuyển tiền vào số tài khoản sau giúp em", "chuyển tiền vào số tài khoản"),
    ("pay_first", "Chúc mừng, chị đóng phí 500 nghìn để nhận quà", "đóng phí"),
    ("pay_first", "Tài khoản lỗi thao tác, nạp thêm 10 triệu mới rút được", "lỗi thao tác"),
    ("safe_account", "Ông chuyển tiền vào tài khoản tạm giữ của cơ quan", "tài khoản tạm giữ"),
    ("borrow_money", "Có tiền không cho mượn 5 triệu, chiều trả", "cho mượn"),
    ("mistaken_transfer", "Em chuyển nhầm 500k vào tài khoản chị, chị chuyển trả lại giúp em", "chuyển nhầm"),
    ("relative_trouble", "Con chị bị tai nạn đang cấp cứu, chị chuyển ngay viện phí", "tai nạn"),
    ("new_number", "Mẹ ơi con đổi số rồi, mẹ lưu số này nhé", "đổi số"),
    ("video_call_cues", "Gọi video được vài giây thì nó bảo sóng yếu", "vài giây"),
    ("claims_police", "Tôi là cán bộ công an phường", "công an"),
    ("claims_court", "Viện kiểm sát gửi giấy triệu tập", "Viện kiểm sát"),
    ("claims_tax", "Chi cục thuế thông báo quyết toán thuế", "Chi cục thuế"),
    ("claims_bank", "Nhân viên ngân hàng gọi cho bác", "ngân hàng"),
    ("claims_power", "Điện lực thông báo lịch thu tiền điện", "Điện lực"),
    ("claims_bhxh", "Bảo hiểm xã hội thông báo về lương hưu", "Bảo hiểm xã hội"),
    ("claims_post", "Bưu điện báo có bưu phẩm gửi bác", "Bưu điện"),
    ("claims_telecom", "Nhà mạng thông báo chuẩn hóa thông tin thuê bao", "Nhà mạng"),
    ("claims_gov", "Cán bộ xã hướng dẫn cập nhật VNeID", "Cán bộ xã"),
    ("threat", "Bà có lệnh bắt vì liên quan đường dây rửa tiền", "lệnh bắt"),
    ("account_lock", "Tài khoản của bạn sẽ bị khóa vĩnh viễn", "bị khóa"),
    ("deadline", "Hoàn tất trong vòng 24h", "24h"),
    ("conditional_threat", "Nếu không cập nhật thì sẽ bị tạm ngừng dịch vụ", "Nếu không"),
    ("secrecy", "Việc này tuyệt đối không được nói với con cháu", "không được nói với con cháu"),
    ("prize", "Chúc mừng quý khách là khách hàng may mắn", "Chúc mừng quý khách"),
    ("refund", "Bạn được hoàn tiền đơn hàng 300 nghìn", "được hoàn"),
    ("job_offer", "Tuyển cộng tác viên việc nhẹ lương cao làm tại nhà", "cộng tác viên"),
    ("investment", "Đầu tư tiền ảo, cam kết lợi nhuận 30% mỗi tháng", "lợi nhuận 30"),
    ("loan_offer", "Hỗ trợ vay không thế chấp, chỉ cần căn cước", "Hỗ trợ vay"),
    ("other_chat_app", "Bác tải Telegram rồi vào nhóm nhé", "Telegram"),
    ("install_via_link", "Bác cài ứng dụng VNeID theo link cán bộ gửi", "cài ứng dụng VNeID theo link"),
    ("apk", "Tải file VNeID.apk về máy rồi mở ra cài", "apk"),
    ("install_app", "Bác tải ứng dụng này về để nhận thông báo", "tải ứng dụng"),
    ("remote_control", "Bác bật quyền trợ năng cho ứng dụng chạy", "trợ năng"),
    ("personal_info", "Bác chụp ảnh căn cước hai mặt gửi cháu", "chụp ảnh căn cước"),
    ("recovery", "Luật sư hỗ trợ lấy lại tiền bị lừa, phí 10%", "lấy lại tiền bị lừa"),
    ("delivery_fee", "Em shipper, chị chuyển em 5 nghìn phí xuất kho nhé", "phí xuất kho"),
    ("scan_qr", "Bác quét mã QR này để nhận tiền hỗ trợ", "quét mã QR"),
    ("lesson_script", "Chuyển giúp vào số tài khoản này, gấp lắm", "số tài khoản này, gấp lắm"),
    ("obfuscated", "B4m v4o day nh4n qua", "B4m"),
    ("obfuscated", "Mã O.T.P của bạn cần xác minh", "O.T.P"),
    ("lookalike_link", "Đăng nhập vietcombank-xacminh.com ngay", "vietcombank-xacminh.com"),
    ("gov_fake", "Tra cứu tại dichvucong.gov-vn.com", "gov-vn.com"),
    ("brand_mismatch", "Vietcombank thông báo: đăng nhập tại https://abc-login.com", "abc-login.com"),
    ("short_link", "Xem chi tiết bit.ly/3abcd", "bit.ly/3abcd"),
    ("ip_link", "Mở khóa tại http://103.45.6.7/unlock", "103.45.6.7"),
    ("punycode_link", "Xem tại https://xn--vitcombank-m7a.com", "xn--"),
    ("odd_tld", "Nhận quà tại quatang.top", "quatang.top"),
    ("free_host", "Trang mới: ho-tro.vercel.app", "vercel.app"),
    ("apk_link", "Cài bản mới: https://example-app.com/ban-moi.apk", ".apk"),
    ("unknown_link", "Xem thêm ở https://trangtinxyz.com/bai-viet", "trangtinxyz.com"),
]


@pytest.mark.parametrize(
    ("kind", "text", "quoted"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)]
)
def test_each_signal_is_found_and_quoted(checker: ScamChecker, kind: str, text: str, quoted: str) -> None:
    found = {signal.kind: signal for signal in checker.check(text).signals}
    assert kind in found, f"{kind} not found in {text!r}: {sorted(found)}"
    assert quoted.lower() in found[kind].fragment.lower()
    assert found[kind].explanation


def test_signals_apply_without_diacritics(checker: ScamChecker) -> None:
    with_marks = checker.check("Bác đọc giúp cháu mã OTP, chuyển tiền vào tài khoản tạm giữ")
    without = checker.check("bac doc giup chau ma OTP, chuyen tien vao tai khoan tam giu")
    assert {s.kind for s in with_marks.signals} == {s.kind for s in without.signals}


def test_hidden_characters_are_an_obfuscation(checker: ScamChecker) -> None:
    result = checker.check("Nh\u200bận t\u200biền thưởng tại đây")
    assert "obfuscated" in {s.kind for s in result.signals}


@pytest.mark.parametrize(
    "text",
    [
        "Mã OTP của Quý khách là 482913. Tuyệt đối không cung cấp mã này cho bất kỳ ai.",
        "Ngân hàng không bao giờ yêu cầu khách hàng cung cấp mã OTP.",
        "Bà con không chuyển tiền cho người lạ, không đọc mã OTP cho ai.",
    ],
)
def test_advice_not_to_do_something_is_not_a_request(checker: ScamChecker, text: str) -> None:
    kinds = {s.kind for s in checker.check(text).signals}
    assert not kinds & {"asks_code", "transfer_request"}


def test_diacritics_tell_apart_words_that_fold_alike(checker: ScamChecker) -> None:
    # "tài khoản … ứng dụng" is not "tải ứng dụng"; "đổi mật khẩu" is not "đòi mật khẩu"
    result = checker.check("Tài khoản ứng dụng của bác đã đổi mật khẩu thành công.")
    assert not {s.kind for s in result.signals} & {"install_app", "asks_code"}
    # typed without diacritics the words stay ambiguous, and the warning errs on the side of caution
    assert "asks_code" in {s.kind for s in checker.check("nhan vien doi mat khau cua bac").signals}


def test_a_number_before_a_date_is_not_a_fee_paid_first(checker: ScamChecker) -> None:
    kinds = {s.kind for s in checker.check("Hộ kinh doanh nộp 500 nghìn tiền thuế trước ngày 31/10.").signals}
    assert "pay_first" not in kinds
    kinds = {s.kind for s in checker.check("Chị đóng 250k tiền tài liệu trước nhé").signals}
    assert "pay_first" in kinds


def test_several_cues_of_one_script_add_up(checker: ScamChecker) -> None:
    one = checker.check("Cô ơi cho cháu mượn ít tiền")
    three = checker.check("Chú ơi có tiền không cho cháu mượn 5 triệu, chiều cháu trả")
    weight = {s.kind: s.weight for s in three.signals}["borrow_money"]
    assert weight > {s.kind: s.weight for s in one.signals}["borrow_money"]
    assert three.level.value == "very_likely"
