"""The dialogue engine's router: load state, interpret once, hand the meaning to the screen, save.

The path of a message: channel adapter -> `Incoming` -> `bot.understand.interpret` (given the screen the
learner is on and the options it showed) -> a `Meaning` -> the screen that acts on it -> replies.
Screens (`bot/screens/`) act on meanings, never on raw text. The conversation state is a small dict
saved in the database after every event, so any process can continue any conversation.

Buttons carry payloads that name what they act on ("next:<lesson>:<card>", "ans:<attempt>:<q>:<opt>"),
so a press from an old message or a second fast tap is recognised as stale instead of acting twice.
Channels without buttons show them numbered; the last offered buttons are kept in the state so that a
typed "2" or the option's words pick the same thing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import reminders, texts
from bot.certificate import Certificates
from bot.messages import Button, Incoming, Kind, Reply
from bot.ports import Answerer, Clock, Knowledge, Store
from bot.screens.base import Conversation, Screens
from bot.screens.lesson import LessonScreen
from bot.screens.mentoring import Mentoring
from bot.screens.menu import MenuScreen
from bot.screens.privacy import Privacy
from bot.screens.questions import QuestionScreen
from bot.screens.quiz import QuizScreen
from bot.screens.registration import RegistrationScreen
from bot.screens.scam import ScamScreen, wants_check
from bot.turn import Turn
from bot.understand import Meaning, Screen, clean_text, interpret, topic_named
from data.commune import CommuneConfig
from data.repository import SqlStore
from data.stats import VIETNAM
from lessons.models import Curriculum

_LEAVING = frozenset({"menu", "help", "learn", "progress", "stop", "goodbye", "thanks", "unclear", "empty"})
MAX_TEXT = 1000  # longer messages are cut before any processing
MAX_PROMPT = 700  # the last prompt kept in the state, to show again when a reply is not understood
# the screen the interpreter reads a reply on, for each step of the state
SCREEN_OF_STEP = {
    "name": "name",
    "confirm_name": "confirm",
    "cert_name": "confirm",
    "confirm_delete": "confirm",
    "reminder_offer": "confirm",
    "commune": "village",
    "village": "village",
    "age": "age",
    "card": "card",
    "quiz": "quiz",
    "ask": "ask",
    "topics": "topics",
    "lessons": "lessons",
    "passed": "after_quiz",
    "failed": "after_quiz",
}


class Dialogue:
    """The conversation engine; one instance serves every learner."""

    def __init__(
        self,
        curriculum: Curriculum,
        communes: CommuneConfig,
        answerer: Answerer | None,
        clock: Clock,
        *,
        mentoring: Mentoring | None = None,
        certificates: Certificates | None = None,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.curriculum = curriculum
        self.communes = communes
        self.clock = clock
        screens = Screens()
        screens.menu = MenuScreen(curriculum, screens)
        screens.lesson = LessonScreen(curriculum, screens)
        screens.quiz = QuizScreen(curriculum, screens, certificates)
        screens.questions = QuestionScreen(curriculum, screens, answerer, communes, knowledge)
        screens.registration = RegistrationScreen(communes, clock, screens)
        screens.mentoring = mentoring or Mentoring(curriculum, communes, clock)
        screens.privacy = Privacy(communes)
        screens.scam = ScamScreen(curriculum, screens)
        self.screens = screens

    @property
    def answerer(self) -> Answerer | None:
        return self.screens.questions.answerer

    @property
    def certificates(self) -> Certificates | None:
        return self.screens.quiz.certificates

    # --- entry point ---------------------------------------------------------------------------
    async def handle(self, store: Store, event: Incoming) -> list[Reply]:
        learner = await store.learner(event.channel, event.user_id)
        turn = Turn()
        if learner is None or learner.consent_at is None:
            await self.screens.registration.consent(store, event, turn)
            return turn.replies
        state = await store.state(learner.id)
        if isinstance(store, SqlStore):  # a reminder outstanding is now answered; a paused rhythm resumes
            await reminders.on_activity(store, learner.id, self.clock.now())
        c = Conversation(store, learner, state, turn)
        meaning = self.understand(event, state)
        if learner.registered_at is None or state.get("editing"):
            await self.screens.registration.handle(c, meaning)
        else:
            await self.route(c, meaning)
        buttons = turn.buttons
        state["options"] = [[b.label, b.payload] for b in buttons]
        prompt = next(
            (r.text for r in reversed(turn.replies) if r.buttons),
            turn.replies[-1].text if turn.replies else "",
        )
        state["prompt"] = "" if turn.private else prompt[:MAX_PROMPT]
        await store.save_state(learner.id, state)
        return turn.replies

    def understand(self, event: Incoming, state: dict[str, Any]) -> Meaning:
        """Interpret the event on the learner's screen; a typed choice becomes the press of its button."""
        options: list[list[str]] = [
            o for o in state.get("options", []) if isinstance(o, list) and len(o) == 2
        ]
        step = str(state.get("step", "menu"))
        if step == "mentor_reply" and event.kind is Kind.TEXT:
            return Meaning("mentor_reply", text=event.text)
        if event.kind is Kind.TEXT and (event.forwarded or step == "scam_wait"):
            # someone else's words passed on, or pasted to be checked: content, never a wish or a command
            text = clean_text(event.text)
            if event.forwarded or (text and interpret(event, Screen("scam_wait")).kind not in _LEAVING):
                return Meaning("scam_check", text=text)
        if step == "mentor_panel" and event.kind is Kind.TEXT and clean_text(event.text).isdecimal():
            return Meaning("unclear", "range", event.text)  # a learner's number in the mentor's list
        name = SCREEN_OF_STEP.get(step, "menu")
        ids = tuple(p.removeprefix("village:") for _, p in options) if name == "village" else ()
        screen = Screen(name, tuple(label for label, _ in options), ids)
        meaning = interpret(event, screen, today=self.clock.now().astimezone(VIETNAM).date())
        if meaning.kind == "choice":
            number = int(meaning.value)
            return Meaning("button", options[number - 1][1], meaning.text)
        if meaning.kind == "village" and name == "village" and not meaning.value.startswith("village:"):
            # a commune list: the interpreter matched the option; its payload says which
            match = next((p for _, p in options if p == f"village:{meaning.value}"), None)
            if match is None:
                match = next((p for _, p in options if p == f"commune:{meaning.value}"), None)
            if match is not None and match.startswith("commune:"):
                return Meaning("button", match, meaning.text)
        return meaning

    # --- a registered learner ------------------------------------------------------------------
    async def route(self, c: Conversation, meaning: Meaning) -> None:
        s = self.screens
        kind = meaning.kind
        if kind == "mentor_reply":
            await s.mentoring.text(c.store, c.learner, c.state, meaning.text, c.turn)
        elif kind == "scam_check":
            await s.scam.check(c, meaning.text)
        elif kind == "button":
            await self.button(c, meaning.value)
        elif kind == "command":
            await self.command(c, meaning)
        elif kind == "media":
            c.say(texts.MEDIA.get(meaning.value, texts.MEDIA_DEFAULT))
            await self._again(c)
        elif kind == "empty":
            c.say(texts.EMPTY, s.menu.back_buttons(c))
        elif kind in {"greeting", "thanks", "goodbye"}:
            await s.menu.small_talk(c, kind)
        elif kind in {"ack", "yes"}:
            await self._acknowledged(c)
        elif kind in {"unclear", "question"} and wants_check(meaning.text, forwarded=False):
            await s.scam.check(c, meaning.text)  # a link, or "có phải lừa đảo không" with a text to look at
        elif kind in {"unclear", "no", "name", "age", "village"}:
            # "ma AB3CDE" (a mentor's code) reads as unclear words: the mentoring screen knows it
            if not await s.mentoring.text(c.store, c.learner, c.state, meaning.text, c.turn):
                await self._unclear(c, meaning)
        elif kind == "question":
            if not await s.mentoring.text(c.store, c.learner, c.state, meaning.text, c.turn):
                await s.questions.ask(c, meaning.text)
        else:
            await self.navigate(c, kind, meaning.text)

    async def navigate(self, c: Conversation, wish: str, text: str = "") -> None:
        """A navigation wish, typed on any screen ("học về lừa đảo" opens the topic that teaches it)."""
        s = self.screens
        step = c.step
        lesson_id = str(c.state.get("lesson", ""))
        if wish == "menu":
            s.menu.show(c)
        elif wish == "progress":
            await s.menu.progress(c)
        elif wish == "help":
            s.menu.help(c)
        elif wish == "learn":
            labels = tuple(topic.label for topic in self.curriculum.topics)
            named = topic_named(text, labels) if text else None
            if named is not None:
                await s.lesson.topic(c, self.curriculum.topics[named - 1].id)
            else:
                await s.lesson.topics(c)
        elif wish == "ask":
            s.questions.prompt(c)
        elif wish == "stop":
            s.menu.stop(c)
        elif wish in {"reminders_off", "reminders_on"}:
            await self._set_reminders(c, "off" if wish == "reminders_off" else "on")
        elif wish == "my_data":
            await s.privacy.command(c.store, c.learner, c.state, _command("dulieu"), c.turn)
        elif wish in {"change_name", "change_village", "change_age"}:
            s.registration.start_edit(c, wish.removeprefix("change_"))
        elif wish in {"continue", "skip"}:
            if step == "card":
                await s.lesson.step(c, forward=True)
            elif step == "quiz" and (lesson := s.quiz.running(c)) is not None:
                s.quiz.ask(c, lesson, texts.QUIZ_CHOOSE)
            elif step == "failed" and lesson_id:
                await s.quiz.start(c, lesson_id)
            elif step == "passed" and c.turn is not None:
                await self._next_after(c, lesson_id)
            else:
                await s.lesson.continue_learning(c)
        elif wish == "back":
            if step == "card":
                await s.lesson.step(c, forward=False)
            elif step == "quiz" and (lesson := s.quiz.running(c)) is not None:
                s.quiz.ask(c, lesson, texts.QUIZ_CHOOSE)
            elif step == "lessons":
                await s.lesson.topics(c)
            elif s.menu.open_lesson(c) is not None and step not in {"card", "quiz"}:
                await s.lesson.continue_learning(c)
            else:
                s.menu.show(c)
        elif wish == "again":
            if step == "card" and lesson_id:
                await s.lesson.show(c, lesson_id, 1)
            elif step in {"failed", "passed"} and lesson_id:
                await s.quiz.start(c, lesson_id)
            else:
                await s.lesson.continue_learning(c)
        elif wish == "quiz":
            target = lesson_id if step in {"card", "failed", "passed", "quiz"} and lesson_id else ""
            opened = s.menu.open_lesson(c)
            if not target and opened is not None:
                target = opened.id
            if target:
                await s.quiz.start(c, target)
            else:
                c.say(texts.NO_QUIZ_OPEN)
                await s.lesson.topics(c)

    async def _review_answer(self, c: Conversation, lesson_id: str, question_id: str, option: int) -> None:
        """A review question from a reminder, answered in place with its explanation."""
        if not isinstance(c.store, SqlStore):
            return
        result = await reminders.answer_review(
            c.store, self.curriculum, c.learner.id, lesson_id, question_id, option, self.clock.now()
        )
        if result is None:
            c.say(texts.LESSON_GONE)
            self.screens.menu.show(c)
            return
        c.say(result.text, self.screens.menu.back_buttons(c))

    async def _set_reminders(self, c: Conversation, rhythm: str) -> None:
        if not isinstance(c.store, SqlStore):
            return
        chosen = await reminders.set_rhythm(c.store, c.learner.id, rhythm, self.clock.now())
        if c.step == "reminder_offer":
            c.state["step"] = "passed"
        self.screens.menu.show(c, text=reminders.rhythm_set_text(chosen.rhythm))

    async def _next_after(self, c: Conversation, lesson_id: str) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        done = await c.store.completed(c.learner.id)
        suggestion = self.screens.menu.suggest(done, {}, after=lesson)
        if suggestion is None:
            c.say(texts.ALL_LESSONS_DONE)
            await self.screens.lesson.topics(c)
        else:
            await self.screens.lesson.open(c, suggestion.id)

    async def _acknowledged(self, c: Conversation) -> None:
        """ "ok", "vâng", "hiểu rồi": on a card it means read on; elsewhere a kind word and the way on."""
        if c.step == "reminder_offer":  # "Cháu nhắc bác mỗi tuần nhé?" - "vâng"
            await self._set_reminders(c, "weekly")
        elif c.step == "card":
            await self.screens.lesson.step(c, forward=True)
        elif c.step == "cert_name":
            await self.button(c, "cert:keep")
        elif c.step == "confirm_delete":
            await self._unclear(c, Meaning("unclear"))
        else:
            await self.screens.menu.small_talk(c, "ack")

    async def _unclear(self, c: Conversation, meaning: Meaning) -> None:
        """Not understood: say so in one line and show the same options again (a quiz: its question)."""
        if c.step == "reminder_offer" and meaning.kind == "no":
            await self._set_reminders(c, "off")
            return
        if c.step in {"cert_name", "confirm_delete"} and meaning.kind == "no":
            await self.button(c, "cert:fix" if c.step == "cert_name" else "priv:keep")
            return
        options = [o for o in c.state.get("options", []) if isinstance(o, list) and len(o) == 2]
        if meaning.value == "range" and options:
            c.say(texts.CHOOSE_NUMBER.format(count=len(options)))
        elif meaning.value == "nowords":
            c.say(texts.NO_WORDS)
        else:
            c.say(texts.NOT_UNDERSTOOD)
        await self._again(c)

    async def _again(self, c: Conversation) -> None:
        """The last question asked, with its options, as it was."""
        lesson = self.screens.quiz.running(c)
        if lesson is not None:
            self.screens.quiz.ask(c, lesson)
            return
        options = [o for o in c.state.get("options", []) if isinstance(o, list) and len(o) == 2]
        prompt = str(c.state.get("prompt", ""))
        buttons = [Button(str(label), str(payload)) for label, payload in options]
        if c.step == "menu" or not buttons:
            self.screens.menu.show(c)
        elif c.step == "card":  # not the whole card again: where they are, and its three buttons
            lesson = self.curriculum.lesson(str(c.state.get("lesson", "")))
            title = lesson.title if lesson else ""
            c.say(texts.CARD_WHERE.format(number=c.state.get("card", 1), lesson=title), buttons)
        else:
            c.say(prompt, buttons)

    async def command(self, c: Conversation, meaning: Meaning) -> None:
        s = self.screens
        command = meaning.value
        event = _command(command, meaning.text)
        if await s.mentoring.command(c.store, c.learner, c.state, event, c.turn):
            return
        if await s.privacy.command(c.store, c.learner, c.state, event, c.turn):
            return
        if command in {"start", "menu"}:
            greet = command == "start"
            s.menu.show(c, greet=greet)
        elif command == "hoc":
            await s.lesson.topics(c)
        elif command == "hoi":
            s.questions.prompt(c)
        elif command == "tiendo":
            await s.menu.progress(c)
        elif command in {"trogiup", "help"}:
            s.menu.help(c)
        elif command in {"hoctiep", "tiep"}:
            await s.lesson.continue_learning(c)
        elif command in {"doiten", "doithon", "doituoi"}:
            s.registration.start_edit(c, {"doiten": "name", "doithon": "village", "doituoi": "age"}[command])
        else:
            s.menu.show(c, text=texts.UNKNOWN_COMMAND.format(command="/" + command[:30]))

    async def button(self, c: Conversation, payload: str) -> None:
        s = self.screens
        action, _, rest = payload.partition(":")
        args = rest.split(":") if rest else []
        if await s.mentoring.button(c.store, c.learner, c.state, payload, c.turn):
            return
        if await s.privacy.button(c.store, c.learner, c.state, payload, c.turn):
            return
        if action == "rm" and args and (rhythm := reminders.parse_rhythm_payload(payload)) is not None:
            await self._set_reminders(c, rhythm)
        elif action == "rv" and (review := reminders.parse_review_payload(payload)) is not None:
            await self._review_answer(c, *review)
        elif action == "menu":
            s.menu.show(c)
        elif action == "learn":
            await s.lesson.topics(c)
        elif action == "scam" and not args:
            s.scam.prompt(c)
        elif action == "scam" and args == ["send"]:
            await s.scam.send_to_mentor(c)
        elif action == "askperson":
            await s.questions.ask_person(c)
        elif action == "ask":
            s.questions.prompt(c)
        elif action == "help":
            s.menu.help(c)
        elif action == "progress":
            await s.menu.progress(c)
        elif action == "continue":
            await s.lesson.continue_learning(c)
        elif action == "edit" and args and args[0] in {"name", "village", "age"}:
            s.registration.start_edit(c, args[0])
        elif action == "topic" and args:
            await s.lesson.topic(c, args[0])
        elif action == "lesson" and args:
            await s.lesson.open(c, args[0])
        elif action == "restart" and args:
            await s.lesson.show(c, args[0], 1)
        elif action in {"next", "prev"} and len(args) == 2:
            await s.lesson.navigate(c, action, args[0], args[1])
        elif action == "quiz" and args:
            await s.quiz.start(c, args[0])
        elif action == "ans" and len(args) == 3:
            await s.quiz.answer(c, args)
        elif action == "review" and len(args) == 2:
            s.lesson.review(c, args[0], args[1])
        elif action == "resume":
            await s.lesson.resume(c)
        elif action == "cert" and args and c.step == "cert_name":
            if args[0] == "fix":
                c.state["editing"] = "cert"
                c.state["step"] = "name"
                c.say(texts.ASK_NAME_WITH_MARKS)
            else:
                c.state["step"] = "menu"
                await s.quiz.certificate(c)
                s.menu.show(c)
        else:
            # a registration button pressed again after registering, an old or forged one: nothing to redo
            c.say(texts.STALE_BUTTON)
            await s.lesson.resume(c)


def _command(name: str, payload: str = "") -> Incoming:
    """A command as the mentoring and privacy screens expect it."""
    return Incoming(channel="", user_id="", event_id="", kind=Kind.COMMAND, text=name, payload=payload)


__all__ = ["MAX_TEXT", "Dialogue", "date"]
