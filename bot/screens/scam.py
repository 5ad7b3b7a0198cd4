""" "Cháu xem giúp tin này có phải lừa đảo không?": the scam check in the conversation (issue 16).

Ways in: a forwarded message (always checked, never a command or a question), a link pasted alone or in
a message, a text sent after "🛡️ Kiểm tra tin nhắn lạ" in the menu, or a message that asks "có phải lừa
đảo không" about something pasted with it. The check itself is `safety.check` (offline, explainable).

Nothing of the checked text is stored: it waits in this process's memory only, for a few minutes, in
case the learner taps "Gửi Đại sứ số xem giúp" — then, and only then, it goes to the question queue.
What is counted for the commune (`data.scams`): the day, the learner's village, the kind of scam, the
verdict and the links' domains — for consented learners only, and the same learner's same report once a
day (a hash keyed by a random key that lives in memory for that day only).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict

from bot import texts
from bot.messages import Button
from bot.screens.base import Conversation, Screens
from data import scams
from data.repository import SqlStore
from lessons.models import Curriculum
from retrieval.normalize import fold
from safety.check import ScamCheck, check
from safety.render import render

HOLD_SECONDS = 15 * 60  # how long a checked text waits (in memory) for "send it to my mentor"
HOLD_MAX = 5_000
_LINK = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(?:vn|com|net|org|top|xyz|click|info|io|me|ly|cc)\b)", re.I
)
_ASKS_IF_SCAM = (
    "lua dao khong",
    "co phai lua dao",
    "lua dao ko",
    "xem giup tin",
    "tin nay co that",
    "that hay gia",
)


def wants_check(text: str, *, forwarded: bool) -> bool:
    """A forwarded message, a link, or "is this a scam?" with something pasted to look at."""
    if forwarded or _LINK.search(text):
        return True
    folded = fold(text)
    return len(folded.split()) >= 12 and any(phrase in folded for phrase in _ASKS_IF_SCAM)


class ScamScreen:
    """Checks what the learner forwards or pastes, and says what to do now."""

    def __init__(self, curriculum: Curriculum, screens: Screens) -> None:
        self.curriculum = curriculum
        self.screens = screens
        self._held: OrderedDict[int, tuple[float, str]] = OrderedDict()
        self._day_key: tuple[str, bytes] = ("", b"")  # today's key for counting a report once a day

    def prompt(self, c: Conversation) -> None:
        c.state["step"] = "scam_wait"
        c.say(texts.SCAM_PROMPT, [Button(texts.BTN_MENU, "menu")])

    async def check(self, c: Conversation, text: str) -> None:
        result: ScamCheck = await asyncio.to_thread(check, text[:4000])
        self._hold(c.learner.id, text)
        await self._count(c, result)
        if isinstance(c.store, SqlStore):  # the verdict quotes the message: never kept for a crash
            c.store.replies_private = True
        buttons = []
        lesson = self.curriculum.lesson(result.lesson_id or "")
        if lesson is not None:
            buttons.append(Button(texts.BTN_OPEN_LESSON.format(title=lesson.title), f"lesson:{lesson.id}"))
        buttons += [Button(texts.BTN_SCAM_TO_MENTOR, "scam:send"), Button(texts.BTN_SCAM_AGAIN, "scam")]
        if c.step == "scam_wait":
            c.state["step"] = "menu"
        c.turn.private = True
        c.say(render(result), [*buttons, Button(texts.BTN_MENU, "menu")])

    async def send_to_mentor(self, c: Conversation) -> None:
        """The learner chose to show the message to a person: only now is its text stored."""
        held = self._held.pop(c.learner.id, None)
        if held is None or time.monotonic() - held[0] > HOLD_SECONDS:
            c.say(texts.SCAM_GONE, [Button(texts.BTN_SCAM_AGAIN, "scam"), Button(texts.BTN_MENU, "menu")])
            return
        await c.store.queue_question(c.learner.id, texts.SCAM_QUEUED_PREFIX + held[1][:300], [])
        c.say(texts.QUESTION_SENT, self.screens.menu.buttons(c))

    async def _count(self, c: Conversation, result: ScamCheck) -> None:
        """Count the check for the commune: kind, verdict, domains, village; nothing for a learner who has
        not consented, nothing of the text, the sender or the learner."""
        store = c.store
        if not isinstance(store, SqlStore) or store.nothing_to_keep or c.learner.consent_at is None:
            return
        day = scams.vietnam_day(store.now)
        kind, domains = result.stats()
        if self._day_key[0] != day.isoformat():  # a new day, a new key: yesterday's hashes match nothing
            self._day_key = (day.isoformat(), secrets.token_bytes(32))
        what = f"{c.learner.id}|{kind}|{' '.join(sorted(domains))}".encode()
        reporter = hmac.new(self._day_key[1], what, hashlib.sha256).hexdigest()[:32]
        await scams.record(
            store.session,
            day=day,
            commune_id=c.learner.commune_id,
            village_id=c.learner.village_id,
            kind=kind,
            level=str(result.level),
            domains=domains,
            reporter=reporter,
        )

    def _hold(self, learner_id: int, text: str) -> None:
        self._held[learner_id] = (time.monotonic(), text)
        self._held.move_to_end(learner_id)
        while len(self._held) > HOLD_MAX:
            self._held.popitem(last=False)
