""" "Cháu xem giúp tin này có phải lừa đảo không?": the scam check in the conversation (issue 16).

Ways in: a forwarded message (always checked, never a command or a question), a link pasted alone or in
a message, a text sent after "🛡️ Kiểm tra tin nhắn lạ" in the menu, or a message that asks "có phải lừa
đảo không" about something pasted with it. The check itself is `safety.check` (offline, explainable).

Nothing of the checked text is stored: it waits in this process's memory only, for a few minutes, in
case the learner taps "Gửi Đại sứ số xem giúp" — then, and only then, it goes to the question queue.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict

from bot import texts
from bot.messages import Button
from bot.screens.base import Conversation, Screens
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

    def prompt(self, c: Conversation) -> None:
        c.state["step"] = "scam_wait"
        c.say(texts.SCAM_PROMPT, [Button(texts.BTN_MENU, "menu")])

    async def check(self, c: Conversation, text: str) -> None:
        result: ScamCheck = await asyncio.to_thread(check, text[:4000])
        self._hold(c.learner.id, text)
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

    def _hold(self, learner_id: int, text: str) -> None:
        self._held[learner_id] = (time.monotonic(), text)
        self._held.move_to_end(learner_id)
        while len(self._held) > HOLD_MAX:
            self._held.popitem(last=False)
