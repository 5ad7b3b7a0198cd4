"""Reading a question before scoring: fillers removed, the asking clause, the shape; card continuations."""

from __future__ import annotations

import pytest

from retrieval.shape import Pattern, Shape, default_reader


@pytest.mark.parametrize(
    ("wrapped", "plain"),
    [
        ("chào cháu, cho bác hỏi mã otp là gì ạ, cảm ơn cháu nhé", "mã otp là gì"),
        ("chao chau cho bac hoi ma otp la gi a cam on chau nhe", "ma otp la gi"),
        ("Cháu ơi, làm sao cài VNeID vậy cháu?", "làm sao cài VNeID"),
        ("chau oi lam sao cai vneid vay chau", "lam sao cai vneid"),
        ("cài vneid thế nào hả cháu", "cài vneid thế nào"),
        ("cai vneid the nao ha chau", "cai vneid the nao"),
        ("dạ cho bác hỏi, quét mã QR trả tiền thế nào với ạ", "quét mã QR trả tiền thế nào"),
        ("bac hoi ti: quet ma qr tra tien the nao vs a. cam on chau nhieu", "quet ma qr tra tien the nao"),
        ("cám ơn cháu! mật khẩu wifi hỏi ai nhé", "mật khẩu wifi hỏi ai"),
        ("dạ cháu ơi, bác đã bấm vào link lạ rồi", "đã bấm vào link lạ rồi"),  # "dạ" goes, "đã" stays
        ("quẹt thẻ thế nào thế", "quẹt thẻ thế nào"),  # the particle "thế" goes, "thẻ" (a card) stays
        ("quet the", "quet the"),  # typed plain, "the" may be "thẻ": kept
    ],
)
def test_greetings_thanks_address_forms_and_particles_are_removed(wrapped: str, plain: str) -> None:
    assert default_reader().read(wrapped).text == plain


@pytest.mark.parametrize(
    "question",
    [
        "mã otp đưa cho người khác được không",  # "không", "được" ask the question
        "con cháu nhắn zalo vay tiền",  # "cháu" inside "con cháu" is a grandchild, not the assistant
        "gọi video với con cháu thế nào",  # a "với" inside the clause means "with"
        "vậy thì cài ứng dụng ở đâu",
        "da bam vao link roi",  # typed plain, "da" is more likely "đã" than "dạ"
        "gửi ảnh cho con cháu",  # "cháu" ends a clause, inside "con cháu"
        "cháu tôi nhắn zalo hỏi vay",  # a grandchild, and a loan: "vay" is not "vậy" here
    ],
)
def test_words_that_carry_meaning_stay(question: str) -> None:
    text = default_reader().read(question).text
    assert text.split()[-2:] == question.split()[-2:]
    for word in ("không", "con cháu", "với con", "ở đâu", "cháu tôi", "hỏi vay"):
        if word in question:
            assert word in text


def test_a_question_of_only_greetings_and_thanks_is_empty() -> None:
    assert default_reader().read("chào cháu, cảm ơn cháu nhé").text == ""


def test_a_long_story_weighs_the_clause_that_asks() -> None:
    story = (
        "sáng nay có đứa gọi điện xưng là công an nói bác dính vào vụ án rồi bắt bác đọc mã số gửi về "
        "điện thoại, bác đọc cho nó rồi, giờ bác phải làm gì hả cháu"
    )
    read = default_reader().read(story)
    assert read.focus.startswith("giờ bác phải làm gì") or read.focus.endswith("giờ bác phải làm gì")
    assert read.shape is Shape.PROBLEM
    # voice typing leaves no commas: the clause that asks is still found
    run_on = "con trai bac hom qua nhan zalo hoi vay muoi trieu noi can gap bac muon hoi lam sao biet no that"
    focus = default_reader().read(run_on).focus
    assert focus and focus.endswith("lam sao biet no that") and "zalo" not in focus
    # a short question has no focus: all of it asks
    assert default_reader().read("lỡ đọc mã otp rồi giờ làm sao").focus == ""


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("lam sao cai vneid", Shape.HOWTO),
        ("quét mã qr để trả tiền đi chợ làm thế nào", Shape.HOWTO),
        ("cach chuyen khoan", Shape.HOWTO),
        ("vneid muc 2 la gi", Shape.WHAT),
        ("OTP là cái gì vậy cháu", Shape.WHAT),
        ("lo doc ma otp roi gio lam sao", Shape.PROBLEM),
        ("bác đã bấm vào link rồi", Shape.PROBLEM),
        ("bi mat dien thoai", Shape.PROBLEM),
        ("ngan hang goi hoi ma otp co dung khong", None),
    ],
)
def test_the_shape_of_a_question(question: str, shape: Shape | None) -> None:
    assert default_reader().read(question).shape is shape


def test_a_card_takes_its_shape_from_its_asks_then_its_title_then_its_steps() -> None:
    reader = default_reader()
    asks = ("lo doc ma otp roi gio lam sao", "da dua ma cho nguoi la phai lam gi", "ma otp la gi")
    assert reader.card_shape("Mã OTP", "…", asks) is Shape.PROBLEM  # two of three
    assert reader.card_shape("VNeID là gì", "Ứng dụng của Bộ Công an.", ()) is Shape.WHAT
    assert reader.card_shape("Tải ứng dụng", "1. Mở CH Play.\n2. Gõ VNeID.", ()) is Shape.HOWTO
    assert reader.card_shape("Ghi nhớ", "Không đưa mã cho ai.", ()) is None


def test_which_cards_lead_into_the_next_or_follow_on_from_the_last() -> None:
    reader = default_reader()
    assert reader.leads_on("Bác cần xem bằng các cách dưới đây.")
    assert reader.leads_on("Làm theo các bước:")
    assert not reader.leads_on("1. Mở Cài đặt.\n2. Chọn Wi-Fi.")
    assert not reader.leads_on("Danh sách dưới đây giúp bác:\n- gọi 113\n- báo ngân hàng")  # shown here
    assert reader.follows_on("Sau đó, bác bấm Tiếp tục.")
    assert reader.follows_on("4. Chụp ảnh khuôn mặt.\n5. Bấm Xác nhận.")
    assert not reader.follows_on("1. Mở ứng dụng.\n2. Bấm Đăng nhập.")


def test_patterns_need_every_group_and_any_phrase_of_each() -> None:
    pattern = Pattern.parse("lo | da + roi")
    assert pattern.matches(["bac", "lo", "bam", "roi"])
    assert pattern.matches(["da", "bam", "roi"])
    assert not pattern.matches(["da", "bam"])
    with pytest.raises(ValueError, match="empty"):
        Pattern.parse("lo | + roi")
