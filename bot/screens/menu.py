"""The main menu, help, progress and the small talk every screen answers the same way."""

from __future__ import annotations

from bot import texts
from bot.messages import Button
from bot.screens.base import Conversation, Screens
from lessons.models import Curriculum, Lesson


class MenuScreen:
    """Main menu (with "▶ Học tiếp" while a lesson is open), help, progress, greetings and goodbyes."""

    def __init__(self, curriculum: Curriculum, screens: Screens) -> None:
        self.curriculum = curriculum
        self.screens = screens

    def open_lesson(self, c: Conversation) -> Lesson | None:
        """The lesson the learner left unfinished (reading or in its quiz), if any."""
        lesson = self.curriculum.lesson(str(c.state.get("open", "")))
        return lesson

    def buttons(self, c: Conversation) -> list[Button]:
        opened = self.open_lesson(c)
        first = [Button(texts.BTN_CONTINUE.format(title=opened.title), "continue")] if opened else []
        return [
            *first,
            Button(texts.BTN_LEARN, "learn"),
            Button(texts.BTN_ASK, "ask"),
            Button(texts.BTN_PROGRESS, "progress"),
            Button(texts.BTN_HELP, "help"),
            Button(texts.BTN_CHECK_SCAM, "scam"),
        ]

    def show(self, c: Conversation, *, greet: bool = False, text: str | None = None) -> None:
        c.state["step"] = "menu"
        if text is None:
            text = texts.MENU_GREETING.format(name=c.learner.name) if greet else texts.MENU
        c.say(text, self.buttons(c))

    def help(self, c: Conversation) -> None:
        c.say(texts.HELP, self.buttons(c))
        c.state["step"] = "menu"

    def back_buttons(self, c: Conversation) -> list[Button]:
        """Where a side reply leads: back to the card or quiz, or the menu."""
        if c.step == "card":
            return [Button(texts.BTN_RESUME, "resume"), Button(texts.BTN_MENU, "menu")]
        if c.step == "quiz":
            return [Button(texts.BTN_RESUME_QUIZ, "resume"), Button(texts.BTN_MENU, "menu")]
        return self.buttons(c)

    async def small_talk(self, c: Conversation, kind: str) -> None:
        """Greeting, thanks, acknowledgement or goodbye: a kind word, and the way on."""
        if kind == "greeting":
            opened = self.open_lesson(c)
            text = texts.HELLO_BACK.format(name=c.learner.name)
            if opened is not None:
                text += "\n" + texts.HELLO_OPEN.format(title=opened.title)
            self.show(c, text=text)
            return
        if kind == "goodbye":
            c.say(texts.GOODBYE, self.buttons(c))
            c.state["step"] = "menu"
            return
        reply = texts.THANKS_REPLY if kind == "thanks" else texts.ACK_REPLY
        if c.step in {"card", "quiz"}:  # a word of thanks mid-lesson: say so, and show where they are
            c.say(reply.split("!")[0] + "!")
            await self.screens.lesson.resume(c)
            return
        c.say(reply, self.back_buttons(c))

    def stop(self, c: Conversation) -> None:
        c.say(texts.STOPPED if self.open_lesson(c) else texts.GOODBYE, self.buttons(c))
        c.state["step"] = "menu"

    # --- progress ------------------------------------------------------------------------------
    def suggest(self, done: set[str], started: dict[str, int], after: Lesson | None = None) -> Lesson | None:
        """The next lesson: one in progress, then the next in the same topic, then core, then any."""
        for lesson_id in started:
            lesson = self.curriculum.lesson(lesson_id)
            if lesson is not None and lesson.id not in done:
                return lesson
        if after is not None:
            topic = self.curriculum.topic(after.topic)
            for lesson in topic.lessons if topic else []:
                if lesson.order > after.order and lesson.id not in done:
                    return lesson
        for lesson in self.curriculum.core_lessons:
            if lesson.id not in done:
                return lesson
        return next((lesson for lesson in self.curriculum.lessons if lesson.id not in done), None)

    async def progress(self, c: Conversation) -> None:
        done = await c.store.completed(c.learner.id)
        started = await c.store.lessons_in_progress(c.learner.id)
        lessons = self.curriculum.lessons
        core = self.curriculum.core_lessons
        lines = [
            texts.PROGRESS.format(
                name=c.learner.name,
                done=sum(1 for le in lessons if le.id in done),
                total=len(lessons),
                core_done=sum(1 for le in core if le.id in done),
                core_total=len(core),
            )
        ]
        for topic in self.curriculum.topics:
            finished = sum(1 for lesson in topic.lessons if lesson.id in done)
            lines.append(
                texts.PROGRESS_TOPIC.format(
                    icon=topic.icon, title=topic.title, done=finished, total=len(topic.lessons)
                )
            )
        buttons = []
        opened = self.open_lesson(c)
        suggestion = opened if opened is not None and opened.id not in done else self.suggest(done, started)
        if suggestion is not None:
            lines.append("\n" + texts.PROGRESS_NEXT.format(title=suggestion.title))
            payload = "continue" if suggestion is opened else f"lesson:{suggestion.id}"
            buttons.append(Button(texts.BTN_OPEN_LESSON.format(title=suggestion.title), payload))
        else:
            lines.append("\n" + texts.ALL_LESSONS_DONE)
        c.state["step"] = "menu"
        c.say("\n".join(lines), [*buttons, Button(texts.BTN_MENU, "menu")])
