"""Learners who type their whole journey (registration, then a lesson and its quiz) in bursts, without
waiting for replies, as phones do after regaining signal; and a webhook sender that behaves like
Telegram and Zalo: it sends each update until some process answers 200 (trying the next address of a
round-robin when one fails), and now and then delivers an update a second time.

Typed words only (no button ids), so a script is known before any reply: if one learner's updates were
handled out of order, a name would be taken for a village or a quiz answer for a card, and the checks
on names, villages and completions fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tests.channels.fake_zalo import FakeZalo
from tests.channels.local_server import Call


class Telegram(Protocol):
    """A fake Telegram here (`FakeTelegram`) or in a process of its own (`TelegramProcess`)."""

    calls: list[Call]

    def message_update(self, user_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]: ...

    def rendered(self, params: dict[str, Any], key: str = "text") -> str | None: ...


TELEGRAM_SECRET = "telegram-secret-for-cluster-tests"
ZALO_SECRET = "zalo-secret-for-cluster-tests"
PRIVACY_KEY = "privacy-key-for-cluster-tests-0123456789"
MEDIA_KEY = "media-key-for-cluster-tests-0123456789"

VILLAGES = (
    ("thôn đông", "thon-dong"),
    ("thôn tây", "thon-tay"),
    ("thôn trung", "thon-trung"),
    ("thôn bắc", "thon-bac"),
)
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
_MIDDLE = ("Văn", "Thị", "Hữu", "Minh")
_GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Oanh", "Phúc")
LESSON = "an-toan-otp"


def names() -> list[str]:
    """Distinct full names, in a fixed order."""
    return [f"{f} {m} {g}" for f, m, g in itertools.product(_FAMILY, _MIDDLE, _GIVEN)]


def script(name: str, village: str, double_taps: bool) -> list[str]:
    """What the learner types, in order: registration, the OTP lesson of the fixture curriculum, its quiz.
    A double tap repeats a step whose repetition changes nothing (the greeting, the topic list)."""
    words = ["xin chào", "đồng ý", name, "đúng", village, "bỏ qua", "học bài", "an toàn", "giữ kín mã otp"]
    words += ["tiếp", "tiếp", "tiếp", "không bao giờ", "một lần", "gọi ngay cho ngân hàng"]
    if double_taps:
        words.insert(1, "xin chào")
        words.insert(words.index("học bài"), "học bài")
    return words


def event_ref(channel: str, event_id: str, key: str = PRIVACY_KEY) -> str:
    """The processed-event id the assistant stores for an update (`Assistant.event_ref`)."""
    return hmac.new(key.encode(), f"{channel}:{event_id}".encode(), hashlib.sha256).hexdigest()[:40]


@dataclass
class Learner:
    """One simulated learner and what was acknowledged of what they sent."""

    channel: str  # telegram | zalo
    user_id: str
    name: str
    village: str  # the village id the learner must end up in
    words: list[str]
    acknowledged: list[str] = field(default_factory=list)  # event ids answered 200, in order sent
    sent: int = 0  # how far through `words`

    @property
    def chat(self) -> str:
        return self.user_id


def learners(count: int, seed: int = 15, zalo_share: float = 0.2, double_taps: float = 0.3) -> list[Learner]:
    rng = random.Random(seed)
    people = []
    for index, name in enumerate(names()[:count]):
        village_text, village_id = VILLAGES[index % len(VILLAGES)]
        on_zalo = rng.random() < zalo_share
        user_id = f"zalo-{9000 + index}" if on_zalo else str(700_000 + index)
        words = script(name, village_text, rng.random() < double_taps)
        people.append(Learner("zalo" if on_zalo else "telegram", user_id, name, village_id, words))
    return people


class Webhooks:
    """Sends updates to the processes' webhooks like the platforms do: until one answers 200."""

    def __init__(self, bases: list[str], telegram: Telegram, zalo: FakeZalo, seed: int = 7) -> None:
        self.bases = bases
        self.telegram = telegram
        self.zalo = zalo
        self._turn = itertools.count()
        self.rng = random.Random(seed)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        self.failures = 0  # requests that got no 200 (a process killed, a 503), sent again
        self.duplicates = 0

    async def close(self) -> None:
        await self.client.aclose()

    def update(self, learner: Learner, text: str) -> tuple[str, dict[str, Any]]:
        """A new update for `text` and its event id, as the assistant will name it."""
        if learner.channel == "telegram":
            update = self.telegram.message_update(int(learner.user_id), text)
            message = update["message"]
            return f"{message['chat']['id']}:{message['message_id']}", update
        event = self.zalo.event(learner.user_id, text=text)
        return f"{learner.user_id}:{event['message']['message_id']}", event

    async def post(self, channel: str, body: dict[str, Any], limit: float = 60.0) -> None:
        """One delivery: retried on the next address until some process answers 200."""
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            if channel == "telegram"
            else {"X-Bot-Api-Secret-Token": ZALO_SECRET}
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        failed_in_a_row = 0
        while True:
            base = self.bases[next(self._turn) % len(self.bases)]
            try:
                response = await self.client.post(f"{base}/webhooks/{channel}", json=body, headers=headers)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            self.failures += 1
            failed_in_a_row += 1
            if loop.time() > deadline:
                raise AssertionError(f"no process accepted a {channel} update within {limit:.0f} s")
            if failed_in_a_row % len(self.bases) == 0:  # every address failed: wait a little
                await asyncio.sleep(0.2)

    async def send(self, learner: Learner, count: int, duplicates: float = 0.0) -> None:
        """The learner's next `count` messages, back to back (each acknowledged before the next)."""
        for text in learner.words[learner.sent : learner.sent + count]:
            event_id, body = self.update(learner, text)
            await self.post(learner.channel, body)
            learner.acknowledged.append(event_id)
            learner.sent += 1
            if self.rng.random() < duplicates:  # the platform did not see our 200: the same again
                self.duplicates += 1
                await self.post(learner.channel, body)

    async def journey(self, learner: Learner, duplicates: float, until: int | None = None) -> None:
        """Bursts of 2-5 messages with short pauses, up to word `until` (default: all)."""
        stop = len(learner.words) if until is None else until
        while learner.sent < stop:
            burst = min(self.rng.randint(2, 5), stop - learner.sent)
            await self.send(learner, burst, duplicates)
            await asyncio.sleep(self.rng.uniform(0.05, 0.6))


def replies(learner: Learner, telegram: Telegram, zalo: FakeZalo) -> list[str]:
    """Every text the learner received, in order."""
    if learner.channel == "zalo":
        return list(zalo.inbox[learner.chat])
    out = []
    for call in telegram.calls:
        if str(call.params.get("chat_id")) == learner.chat and call.method in {
            "sendMessage",
            "editMessageText",
        }:
            out.append(telegram.rendered(call.params) or "")
    return out
