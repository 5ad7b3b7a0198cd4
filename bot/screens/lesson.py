"""Topics, a topic's lessons, and the lesson player: one card at a time with stable controls.

On every card option 1 goes forward (Tiếp ▶, or 📝 Làm bài kiểm tra on the last card), option 2 goes
back (◀ Lại, or 📚 Các bài on the first card) and option 3 is the main menu, so a typed number means the
same on every card and Telegram's buttons keep their places.
"""

from __future__ import annotations

from bot import texts
from bot.messages import Button
from bot.screens.base import Conversation, Screens
from lessons.models import Curriculum

LIST_CHARS = 520  # a list longer than this is sent as two messages
SHORT_TITLE = 42  # a card's header names its lesson in at most this many characters (phones are narrow)


def short(title: str, limit: int = SHORT_TITLE) -> str:
    """The title, cut at a word with "…" when longer than `limit`."""
    if len(title) <= limit:
        return title
    return title[: limit - 1].rsplit(" ", 1)[0].rstrip(":,;–-") + "…"


class LessonScreen:
    """Choosing and reading lessons; resuming the one left open."""

    def __init__(self, curriculum: Curriculum, screens: Screens) -> None:
        self.curriculum = curriculum
        self.screens = screens

    async def topics(self, c: Conversation) -> None:
        done = await c.store.completed(c.learner.id)
        c.state["step"] = "topics"
        buttons = []
        for topic in self.curriculum.topics:
            finished = sum(1 for lesson in topic.lessons if lesson.id in done)
            mark = " ✅" if finished == len(topic.lessons) else ""
            buttons.append(
                Button(f"{topic.label} ({finished}/{len(topic.lessons)}){mark}", f"topic:{topic.id}")
            )
        c.say(texts.TOPICS, [*buttons, Button(texts.BTN_MENU, "menu")])

    async def topic(self, c: Conversation, topic_id: str) -> None:
        topic = self.curriculum.topic(topic_id)
        if topic is None:
            c.say(texts.LESSON_GONE)
            await self.topics(c)
            return
        done = await c.store.completed(c.learner.id)
        started = await c.store.lessons_in_progress(c.learner.id)
        c.state["step"] = "lessons"
        c.state["topic"] = topic.id
        buttons = []
        for lesson in topic.lessons:
            mark = "✅ " if lesson.id in done else ("▶ " if lesson.id in started else "")
            star = " ⭐" if lesson.core else ""
            buttons.append(Button(f"{mark}{lesson.title}{star}", f"lesson:{lesson.id}"))
        buttons += [Button(texts.BTN_TOPICS, "learn"), Button(texts.BTN_MENU, "menu")]
        header = texts.TOPIC_LESSONS.format(icon=topic.icon, title=topic.title, summary=topic.summary)
        # a long list goes out as two messages (numbered on): each fits a phone screen
        if len(header) + sum(len(b.label) + 4 for b in buttons) > LIST_CHARS:
            half = (len(buttons) + 1) // 2
            c.say(header, buttons[:half])
            c.say(texts.LIST_MORE, buttons[half:])
        else:
            c.say(header, buttons)

    async def open(self, c: Conversation, lesson_id: str) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            c.say(texts.LESSON_GONE)
            await self.topics(c)
            return
        reached = await c.store.card_reached(c.learner.id, lesson.id)
        if lesson.id in await c.store.completed(c.learner.id):
            c.say(texts.LESSON_DONE_ALREADY)
            await self.show(c, lesson.id, 1)
        elif reached and 1 < reached <= len(lesson.cards):
            c.say(texts.RESUMING.format(number=reached))
            await self.show(c, lesson.id, reached)
        else:
            await self.show(c, lesson.id, 1)

    async def show(self, c: Conversation, lesson_id: str, number: int, *, replaces: bool = False) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            c.say(texts.LESSON_GONE)
            self.screens.menu.show(c)
            return
        number = max(1, min(number, len(lesson.cards)))
        card = lesson.card(number)
        c.state.update(step="card", lesson=lesson.id, card=number, topic=lesson.topic)
        c.state.pop("attempt", None)
        c.state.pop("q", None)
        c.state.pop("aside", None)
        if lesson.id not in await c.store.completed(c.learner.id):
            c.state["open"] = lesson.id
        await c.store.reach_card(c.learner.id, lesson.id, number)
        last = number == len(lesson.cards)
        buttons = [
            Button(texts.BTN_START_QUIZ, f"quiz:{lesson.id}")
            if last
            else Button(texts.BTN_NEXT, f"next:{lesson.id}:{number}"),
            Button(texts.BTN_PREV, f"prev:{lesson.id}:{number}")
            if number > 1
            else Button(texts.BTN_LESSONS, f"topic:{lesson.topic}"),
            Button(texts.BTN_MENU, "menu"),
        ]
        c.say(
            texts.CARD.format(
                lesson=short(lesson.title),
                number=number,
                total=len(lesson.cards),
                title=card.title,
                text=card.text,
            ),
            buttons,
            replaces=replaces,
            image=card.image,
            audio=card.audio,
        )

    async def navigate(self, c: Conversation, action: str, lesson_id: str, card: str) -> None:
        current = c.step == "card" and c.state.get("lesson") == lesson_id and str(c.state.get("card")) == card
        if not current:
            c.say(texts.STALE_BUTTON)
            await self.resume(c)
            return
        await self.show(c, lesson_id, int(card) + (1 if action == "next" else -1), replaces=True)

    async def step(self, c: Conversation, forward: bool) -> None:
        """ "tiếp" / "lại" typed on a card: the same as its first or second button."""
        lesson = self.curriculum.lesson(str(c.state.get("lesson", "")))
        number = int(c.state.get("card", 1))
        if c.state.pop("aside", False) and lesson is not None:  # back from a side question: that card
            await self.show(c, lesson.id, number)
        elif lesson is None:
            self.screens.menu.show(c)
        elif forward and number >= len(lesson.cards):
            await self.screens.quiz.start(c, lesson.id)
        elif not forward and number <= 1:
            await self.topic(c, lesson.topic)
        else:
            await self.show(c, lesson.id, number + (1 if forward else -1))

    def review(self, c: Conversation, lesson_id: str, number_s: str) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None or not number_s.isdecimal() or not 1 <= int(number_s) <= len(lesson.cards):
            c.say(texts.LESSON_GONE)
            return
        card = lesson.card(int(number_s))
        c.say(
            texts.REVIEW_CARD.format(lesson=lesson.title, title=card.title, text=card.text),
            [Button(texts.BTN_RETRY_QUIZ, f"quiz:{lesson.id}"), Button(texts.BTN_MENU, "menu")],
            image=card.image,
            audio=card.audio,
        )

    async def resume(self, c: Conversation) -> None:
        """Show where the learner is: the card or quiz question on screen, else the menu."""
        lesson = self.curriculum.lesson(str(c.state.get("lesson", "")))
        if c.step == "card" and lesson is not None:
            await self.show(c, lesson.id, int(c.state.get("card", 1)))
        elif c.step == "quiz" and lesson is not None and "attempt" in c.state:
            self.screens.quiz.ask(c, lesson)
        elif c.step == "lessons" and c.state.get("topic"):
            await self.topic(c, str(c.state["topic"]))
        else:
            self.screens.menu.show(c)

    async def continue_learning(self, c: Conversation) -> None:
        """ "Học tiếp": the lesson left open (at its card, or its quiz where it stopped), else the next."""
        opened = self.screens.menu.open_lesson(c)
        if opened is not None:
            if c.state.get("open_quiz") == opened.id:
                await self.screens.quiz.start(c, opened.id)
                return
            reached = await c.store.card_reached(c.learner.id, opened.id) or 1
            await self.show(c, opened.id, reached)
            return
        done = await c.store.completed(c.learner.id)
        started = await c.store.lessons_in_progress(c.learner.id)
        suggestion = self.screens.menu.suggest(done, started)
        if suggestion is None:
            c.say(texts.ALL_LESSONS_DONE)
            await self.topics(c)
            return
        await self.open(c, suggestion.id)
