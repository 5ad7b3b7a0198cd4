"""The pieces both channels share: splitting long texts, rate limits, and per-learner ordering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.channels.ratelimit import Limits, RateLimiter
from bot.channels.serial import SerialExecutor
from bot.channels.splitting import split_text, utf16_length


def test_short_text_is_one_piece() -> None:
    assert split_text("  Chào bác!  ", 2000) == ["Chào bác!"]


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    paragraphs = "Một hai ba.\n\nBốn năm sáu bảy."
    assert split_text(paragraphs, 20) == ["Một hai ba.", "Bốn năm sáu bảy."]
    sentences = "Câu thứ nhất khá dài. Câu thứ hai. Câu ba"
    assert split_text(sentences, 36) == ["Câu thứ nhất khá dài. Câu thứ hai.", "Câu ba"]
    words = "một hai ba bốn năm sáu bảy tám chín mười"
    pieces = split_text(words, 12)
    assert all(len(p) <= 12 for p in pieces)
    assert " ".join(pieces) == words


def test_a_word_longer_than_the_limit_is_cut_and_nothing_is_lost() -> None:
    text = "x" * 25
    assert split_text(text, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_emoji_count_double_for_telegram() -> None:
    text = "😀" * 10
    pieces = split_text(text, 8, utf16_length)
    assert pieces == ["😀" * 4, "😀" * 4, "😀" * 2]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_a_chat_gets_its_burst_then_one_message_a_second() -> None:
    clock = FakeTime()
    limiter = RateLimiter(Limits(100.0, 100, 1.0, 3), clock.monotonic, clock.sleep)
    for _ in range(5):
        await limiter.acquire("a")
    assert clock.slept == [1.0, 1.0]
    await limiter.acquire("b")  # another chat is not held back by the first
    assert clock.slept == [1.0, 1.0]


async def test_the_overall_rate_holds_across_chats_and_a_pause_holds_everything() -> None:
    clock = FakeTime()
    limiter = RateLimiter(Limits(2.0, 2, 0.0, 1), clock.monotonic, clock.sleep)
    for chat in "abcd":
        await limiter.acquire(chat)
    assert clock.slept == [0.5, 0.5]
    limiter.pause(3.0)
    await limiter.acquire("e")
    assert clock.slept[-1] == 3.0


async def test_events_of_one_learner_run_in_order_and_learners_run_together() -> None:
    executor = SerialExecutor()
    log: list[str] = []
    gate = asyncio.Event()

    def job(name: str, wait: bool = False) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if wait:
                await gate.wait()
            log.append(name)

        return run

    executor.submit("hoa", job("hoa-1", wait=True))
    executor.submit("hoa", job("hoa-2"))
    executor.submit("ba", job("ba-1"))
    await asyncio.sleep(0.01)
    assert log == ["ba-1"]  # Bà Hoa's first event is still running; Ông Ba was not held up
    gate.set()
    await executor.wait_idle()
    assert log == ["ba-1", "hoa-1", "hoa-2"]


async def test_a_failing_event_does_not_block_the_next_and_close_drains() -> None:
    executor = SerialExecutor()
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("bug")

    async def ok() -> None:
        await asyncio.sleep(0.01)
        done.append(1)

    executor.submit("x", boom)
    executor.submit("x", ok)
    await executor.close()
    assert done == [1]
    assert executor.submit("x", ok) is False  # shutting down: nothing new is taken


@pytest.mark.parametrize("limit", [5, 50, 500])
def test_split_never_exceeds_the_limit(limit: int) -> None:
    text = ("Bác bấm nút Tiếp. " * 40 + "\n\n") * 5
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
