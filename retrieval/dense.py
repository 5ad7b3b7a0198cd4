"""The dense index: a FAISS inner-product index with one row per indexed row (`retrieval.passages.Row`):
each passage embedded as written, and each of its asks embedded as a question.

A question typed without diacritics gets them back from the curriculum's own phrases before it is
embedded (`retrieval.restore`), so it is compared with the written passages. (Index format 1 also
stored a copy of every passage with its diacritics stripped; against restored questions it changed
the dev-set ranking by one question in two hundred and doubled the build time, so it was dropped.)

An ask is a question, so it is embedded with the encoder's query side (e5's "query: " prefix), the
same side as the learner's question: e5 was trained to compare queries with queries that way.

The index is kept in `<data_dir>/index/` with one manifest naming the encoder, the dimension and a
hash of every row (cards, glossary entries and asks); when any of them differs from what is running,
the index is rebuilt and replaced atomically (temporary files, then rename, manifest last), so a
reader never sees half an index.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from retrieval.encoders import Encoder, Vectors
from retrieval.passages import Embeddable, content_hash

log = logging.getLogger(__name__)

INDEX_FILE = "dense.faiss"
MANIFEST_FILE = "manifest.json"
INDEX_FORMAT = 3  # 3: asks rows, embedded as queries; 2: one row per passage; 1: a stripped copy of each
BATCH = 16

Progress = Callable[[int, int], None]  # (texts embedded so far, total)


@dataclass(frozen=True)
class Manifest:
    """What a stored index was built from."""

    encoder: str
    dimension: int
    content_hash: str
    passages: int  # rows in the index: passages and asks
    asks: int = 0  # how many of those rows are asks
    built_at: str = ""
    build_seconds: float = 0.0
    format: int = INDEX_FORMAT

    def matches(self, other: Manifest) -> bool:
        return (self.format, self.encoder, self.dimension, self.content_hash, self.passages) == (
            other.format,
            other.encoder,
            other.dimension,
            other.content_hash,
            other.passages,
        )

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


class DenseIndex:
    """Inner-product search over row embeddings; index row i is row i."""

    def __init__(self, index: faiss.Index, passages: int) -> None:
        if index.ntotal != passages:
            raise ValueError(f"index has {index.ntotal} rows, expected {passages}")
        self.index = index
        self.passages = passages

    @classmethod
    def build(
        cls, encoder: Encoder, rows: Sequence[Embeddable], progress: Progress | None = None
    ) -> DenseIndex:
        vectors = np.zeros((len(rows), encoder.dimension), dtype=np.float32)
        # asks and passages are embedded by different sides of the encoder, each in batches
        groups = (
            ([i for i, r in enumerate(rows) if not _is_ask(r)], encoder.passages),
            ([i for i, r in enumerate(rows) if _is_ask(r)], encoder.queries),
        )
        done = 0
        for numbers, embed in groups:
            for start in range(0, len(numbers), BATCH):
                chunk = numbers[start : start + BATCH]
                vectors[chunk] = embed([rows[i].text for i in chunk])
                done += len(chunk)
                if progress is not None:
                    progress(done, len(rows))
        index = faiss.IndexFlatIP(encoder.dimension)
        if len(vectors):
            index.add(vectors)
        return cls(index, len(rows))

    def scores(self, query: Vectors) -> npt.NDArray[np.float32]:
        """Cosine similarity of one L2-normalised query vector to every row, in row order."""
        out = np.full(self.passages, -1.0, dtype=np.float32)
        if self.passages == 0:
            return out
        # flat search over every row: exact, and microseconds for a few thousand rows
        found, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1)), int(self.index.ntotal))
        valid = ids[0] >= 0
        out[ids[0][valid]] = found[0][valid]
        return out


def _is_ask(row: Embeddable) -> bool:
    return bool(getattr(row, "ask", False))


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_text(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


def load_or_build(
    encoder: Encoder,
    passages: Sequence[Embeddable],
    directory: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> tuple[DenseIndex, Manifest, bool]:
    """The stored index over `passages` (rows: `retrieval.passages.build_rows`, or bare passages) if it
    is current, else a freshly built and stored one; True when built."""
    wanted = Manifest(
        encoder=encoder.name,
        dimension=encoder.dimension,
        content_hash=content_hash(passages),
        passages=len(passages),
        asks=sum(_is_ask(p) for p in passages),
    )
    manifest_path, index_path = directory / MANIFEST_FILE, directory / INDEX_FILE
    stored = None if force else Manifest.read(manifest_path)
    if stored is not None and stored.matches(wanted) and index_path.exists():
        try:
            return DenseIndex(faiss.read_index(str(index_path)), len(passages)), stored, False
        except (RuntimeError, ValueError) as error:  # a damaged file: rebuild rather than fail
            log.warning("stored dense index unreadable (%s); rebuilding", error)
    if stored is not None and not stored.matches(wanted):
        log.info(
            "dense index out of date (encoder %s -> %s, content %s -> %s); rebuilding",
            stored.encoder,
            wanted.encoder,
            stored.content_hash[:8],
            wanted.content_hash[:8],
        )
    started = datetime.now(UTC)
    dense = DenseIndex.build(encoder, passages, progress)
    seconds = (datetime.now(UTC) - started).total_seconds()
    manifest = Manifest(
        **{
            **wanted.__dict__,
            "built_at": started.isoformat(timespec="seconds"),
            "build_seconds": round(seconds, 2),
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(index_path, lambda tmp: faiss.write_index(dense.index, tmp))
    text = json.dumps(manifest.__dict__, ensure_ascii=False, indent=2)
    _atomic_write(manifest_path, lambda tmp: _write_text(tmp, text))
    return dense, manifest, True
