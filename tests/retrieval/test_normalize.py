"""Normalisation of Vietnamese typed with or without diacritics, in any Unicode form."""

from __future__ import annotations

import unicodedata

from retrieval.normalize import asks_definition, fold, has_diacritics, has_words, repair_telex, syllables


def test_fold_maps_d_with_stroke_and_removes_marks() -> None:
    assert fold("Điện thoại đã được") == "dien thoai da duoc"
    assert fold("ĐƯỜNG LINK lạ!!") == "duong link la"


def test_nfc_and_nfd_input_fold_the_same() -> None:
    text = "Mã OTP của bác ở đâu?"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text  # combining marks really are separate code points here
    assert fold(nfd) == fold(text) == "ma otp cua bac o dau"
    assert has_diacritics(nfd) and has_diacritics(text)


def test_combining_marks_typed_on_plain_letters_count_as_diacritics() -> None:
    typed = "ma\u0303 otp"  # "mã" built from 'a' + combining tilde, as some keyboards send it
    assert fold(typed) == "ma otp"
    assert has_diacritics(typed)


def test_text_without_diacritics_is_recognised() -> None:
    assert not has_diacritics("ma otp dua cho nguoi khac dc ko")
    assert not has_diacritics("OTP, QR & Wi-Fi?")
    assert has_diacritics("đ")  # đ alone is a diacritic letter


def test_emoji_and_punctuation_have_no_words() -> None:
    assert not has_words("😀😀👍")
    assert not has_words("?!...")
    assert has_words("ok 👍")
    assert fold("😀 otp 👍") == "otp"


def test_chat_shorthand_is_expanded() -> None:
    assert syllables("Mã OTP đưa cho người khác dc ko?") == [
        "ma",
        "otp",
        "dua",
        "cho",
        "nguoi",
        "khac",
        "duoc",
        "khong",
    ]
    assert syllables("mat dt thi lam j") == ["mat", "dien", "thoai", "thi", "lam", "gi"]


def test_telex_leftovers_are_repaired_only_into_known_words() -> None:
    known = frozenset({"cai", "dong", "vneid"})
    assert repair_telex("caif", known) == "cai"
    assert repair_telex("ddoongf", known) == "dong"
    assert repair_telex("vneid", known) == "vneid"
    assert repair_telex("xyzs", known) == "xyzs"  # nothing known to repair into


def test_definition_questions_are_recognised() -> None:
    assert asks_definition("otp la j")
    assert asks_definition("Deepfake là gì vậy cháu")
    assert asks_definition("mã QR nghĩa là sao")
    assert asks_definition("dai su so la ai vay")  # a role, which the glossary explains too
    assert not asks_definition("lo bam vao link la roi phai lam sao")
