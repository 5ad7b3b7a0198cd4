"""The classes of false alarms fixed in the second round (issue 16), each with the scam it must still
catch: a code notice is not a request for the code; advice and the commune's warnings describe scams
without being one; "phải không" asks, it does not negate; "hãy khóa tài khoản" is advice to the owner;
money handed over in person; a number to call in a "bank" message still warns. Written for the classes,
not copied from any set."""

from __future__ import annotations

import pytest

from safety.check import Level, ScamChecker

LEGIT = [
    # the code itself, with the bank's warning written in its own words
    "MB: Ma OTP cua quy khach la 219047. MB khong bao gio goi dien, nhan tin yeu cau cung cap OTP.",
    "HDBank: Ma OTP: 156208 de doi mat khau dang nhap. Neu khong phai quy khach, KHONG nhap ma.",
    "Cảnh báo: không cung cấp mã OTP, không bấm vào đường link trong tin nhắn lạ báo trúng thưởng.",
    # the commune's warning quoting a fake address, and saying not to open it
    "Cảnh báo lừa đảo: đối tượng lập trang giả mạo như dichvucong-gov.com. Bà con tuyệt đối không bấm vào.",
    # advice to the owner, and the notice every bank sends
    "Techcombank: Đăng nhập trên thiết bị mới lúc 21:05. Nếu không phải quý khách, hãy khóa tài khoản ngay.",
    # paid in person
    "UBND xã thu Quỹ phòng chống thiên tai: mỗi lao động đóng 20.000đ, nộp cho trưởng thôn có biên lai.",
    # two pieces of advice
    "Ngân hàng khuyến cáo: không bấm đường link lạ, không chuyển tiền vào “tài khoản an toàn”.",
    # "ứng dụng" and "công an" are not "đừng" and "ấn"
    "Xã hướng dẫn bà con cài đặt VNeID, VssID tại nhà văn hóa, không thu phí.",
    "Buổi tuyên truyền: nhận biết cuộc gọi giả công an, đường link giả. Mời bà con tham dự.",
]
SCAMS = [
    "Bác ơi cháu bên ngân hàng, bác vừa nhận được tin nhắn có 6 con số phải không, bác đọc giúp cháu.",
    "Tin nhắn từ Ngân hàng: có giao dịch đáng ngờ 15.000.000 VND. Vui lòng gọi ngay 0867123456 để hủy.",
    "Vietcombank: tài khoản bị tạm khóa. Xác thực ngay tại vietcombank-xacthuc.top để mở khóa.",
    "ong ba tai ung dung VssID Pro theo duong dan sau va dang nhap de nhan luong huu",
    "Chị ơi em gửi chị link sàn đầu tư, nạp 3 triệu hôm nay mai rút được 4 triệu rưỡi.",
]


@pytest.mark.parametrize("text", LEGIT)
def test_notices_warnings_and_advice_are_not_called_very_likely(checker: ScamChecker, text: str) -> None:
    assert checker.check(text).level is not Level.VERY_LIKELY


@pytest.mark.parametrize("text", SCAMS)
def test_the_scams_of_the_same_look_are_still_flagged(checker: ScamChecker, text: str) -> None:
    assert checker.check(text).flagged


def test_a_look_alike_address_without_a_warning_stays_very_likely(checker: ScamChecker) -> None:
    result = checker.check(
        "Cổng dịch vụ công: hồ sơ của ông đã duyệt, xác nhận tại dichvucong-gov.com hôm nay."
    )
    assert result.level is Level.VERY_LIKELY


def test_a_number_to_call_is_quoted(checker: ScamChecker) -> None:
    result = checker.check("Ngân hàng báo giao dịch lạ, gọi ngay 0867123456 để hủy.")
    assert "call_number" in {s.kind for s in result.signals}
    assert checker.check("Cần hỏi gì bác gọi tổng đài 1900545413 in trên thẻ.").level is Level.NO_CLEAR_SIGN
