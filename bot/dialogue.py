"""The dialogue engine: (learner state, one incoming event) -> replies.

It holds the whole conversation — registration, menu, lesson player, quiz runner, progress and free
questions — and does no I/O except through the ports in `bot.ports`. The conversation state is a small
dict saved in the database after every event, so any process can continue any conversation.

Buttons carry payloads that name what they act on ("next:<lesson>:<card>", "ans:<attempt>:<q>:<opt>"),
so a press from an old message or a second fast tap is recognised as stale instead of acting twice.
Channels without buttons show them numbered; the last offered buttons are kept in the state so that a
typed "2" or the option's words (with or without diacritics) select the same thing.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from bot.certificate import Certificates
from bot.mentoring import Mentoring
from bot.messages import Button, Incoming, Kind, Reply
from bot.ports import Answerer, Clock, Store
from bot.privacy import Privacy
from data.commune import Commune, CommuneConfig
from data.models import Learner
from lessons.models import Curriculum, Lesson
from quizzes.grading import grade, needed_to_pass
from retrieval.answers import Outcome
from retrieval.normalize import fold, has_words, repair_telex, syllables

MAX_TEXT = 1000  # longer messages are cut before any processing
MAX_QUESTION = 300  # a question is cut to this for retrieval and the queue
MAX_NAME = 60
CONTINUE_WORDS = {"tiep", "tiep tuc", "hoc tiep", "lai", "quay lai", "hoc lai"}
CONTINUE_VOCABULARY = frozenset(word for phrase in CONTINUE_WORDS for word in phrase.split())
# things people say in a chat that are neither a choice nor a question
THANKS_WORDS = {"cam on", "cam on chau", "cam on nhe", "thank", "thanks", "tks"}
HELLO_WORDS = {
    "chau oi",
    "alo",
    "a lo",
    "oi",
    "ok",
    "oke",
    "okay",
    "vang",
    "da",
    "u",
    "uh",
    "um",
    "chao chau",
}
MENU_WORDS = {"menu", "/menu", "0", "trang chu", "ve menu", "menu chinh"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def age_group(text: str) -> str:
    """The age group of a typed age or range ("65", "60-69", "70 tuoi"); "skip" when there is none."""
    match = re.search(r"\d{1,3}", text)
    age = int(match.group()) if match else 0
    if not 10 <= age <= 120:
        return "skip"
    if age < 40:
        return "duoi-40"
    if age < 60:
        return "40-59"
    return "60-69" if age < 70 else "70-plus"


def clean_text(text: str) -> str:
    """NFC, control and direction characters removed, surrounding space trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


@dataclass
class Turn:
    """What one event produces: the replies, and the buttons to remember for typed choices."""

    replies: list[Reply] = field(default_factory=list)

    def say(
        self,
        text: str,
        buttons: list[Button] | None = None,
        *,
        replaces: bool = False,
        image: str | None = None,
        audio: str | None = None,
    ) -> None:
        self.replies.append(
            Reply(text=text, buttons=tuple(buttons or ()), replaces=replaces, image=image, audio=audio)
        )


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
    ) -> None:
        self.curriculum = curriculum
        self.communes = communes
        self.answerer = answerer
        self.clock = clock
        self.mentoring = mentoring or Mentoring(curriculum, communes, clock)
        self.privacy = Privacy(communes)
        self.certificates = certificates

    # --- entry point ---------------------------------------------------------------------------
    async def handle(self, store: Store, event: Incoming) -> list[Reply]:
        learner = await store.learner(event.channel, event.user_id)
        turn = Turn()
        if learner is None or learner.consent_at is None:
            await self._consent(store, event, turn)
            return turn.replies
        state = await store.state(learner.id)
        event = self._resolve_typed_choice(event, state)
        if learner.registered_at is None:
            await self._registration(store, learner, state, event, turn)
        else:
            await self._main(store, learner, state, event, turn)
        self._remember_buttons(state, turn)
        await store.save_state(learner.id, state)
        return turn.replies

    # --- typed choices -------------------------------------------------------------------------
    @staticmethod
    def _resolve_typed_choice(event: Incoming, state: dict[str, Any]) -> Incoming:
        """Turn "2" or an option's words into the press of that button.

        The words may come without diacritics, with telex leftovers ("tieps"), or as some of one
        option's words ("an toan" for "🛡️ An toàn trên mạng (0/9)", "khong doc ma tat may" for "Không
        đọc và tắt máy, vì ngân hàng không bao giờ hỏi mã OTP") as long as no other option has them all.
        """
        if event.kind is not Kind.TEXT:
            return event
        options: list[list[str]] = state.get("options", [])
        text = clean_text(event.text)

        def press(payload: str) -> Incoming:
            return Incoming(**{**event.__dict__, "kind": Kind.BUTTON, "payload": payload})

        if text.isdigit() and 1 <= int(text) <= len(options):
            return press(options[int(text) - 1][1])
        labels = [(fold(label).split(), payload) for label, payload in options]
        known = frozenset(word for words, _ in labels for word in words) | CONTINUE_VOCABULARY
        typed = [repair_telex(word, known) for word in fold(text).split()]
        if not typed:
            return event
        exact = [payload for words, payload in labels if words == typed]
        if exact:
            return press(exact[0])
        if sum(len(word) for word in typed) >= 3:  # its words all in one label, and in no other
            within = [payload for words, payload in labels if set(typed) <= set(words)]
            if len(within) == 1:
                return press(within[0])
        # "tiep" after a side question: the learner means the lesson they were in
        if " ".join(typed) in CONTINUE_WORDS and any(payload == "resume" for _, payload in labels):
            return press("resume")
        return event

    @staticmethod
    def _remember_buttons(state: dict[str, Any], turn: Turn) -> None:
        buttons = [b for reply in turn.replies for b in reply.buttons]
        state["options"] = [[b.label, b.payload] for b in buttons]

    # --- consent and registration --------------------------------------------------------------
    def _default_commune(self) -> Commune:
        return self.communes.communes[0]

    async def _consent(self, store: Store, event: Incoming, turn: Turn) -> None:
        # Nothing is stored before consent, so a mentor's invite (/start <code>) rides in the button.
        choice, _, invite = (
            (event.payload if event.kind is Kind.BUTTON else "").partition(":")[2].partition(":")
        )
        if event.kind is Kind.TEXT:
            folded = fold(clean_text(event.text))
            if folded in {"1", "dong y", "co", "ok", "dong"}:
                choice = "yes"
            elif folded in {"2", "khong dong y", "khong"}:
                choice = "no"
        if choice == "yes":
            learner = await store.create_learner(
                event.channel, event.user_id, event.reply_to, clean_text(event.display_name)[:100]
            )
            state: dict[str, Any] = {"step": "name"}
            if invite:
                state["invite"] = invite[:40]
            turn.say(texts.ASK_NAME)
            await store.save_state(learner.id, state)
            return
        if choice == "no":
            turn.say(texts.CONSENT_DECLINED)
            return
        code = event.payload[:40] if event.kind is Kind.COMMAND and event.payload.isprintable() else ""
        buttons = [
            Button(texts.BTN_CONSENT_YES, f"consent:yes:{code}" if code else "consent:yes"),
            Button(texts.BTN_CONSENT_NO, "consent:no"),
        ]
        if event.kind is Kind.TEXT and fold(clean_text(event.text)).isdigit():
            turn.say(texts.CONSENT_REPEAT, buttons)
            return
        commune = self._default_commune() if len(self.communes.communes) == 1 else None
        turn.say(
            texts.WELCOME.format(
                assistant=texts.ASSISTANT_NAME, commune=commune.name if commune else "xã/phường"
            )
        )
        turn.say(texts.CONSENT, buttons)

    async def _registration(
        self, store: Store, learner: Learner, state: dict[str, Any], event: Incoming, turn: Turn
    ) -> None:
        step = state.get("step", "name")
        if step == "name":
            if event.kind is not Kind.TEXT:
                turn.say(texts.ASK_NAME if event.kind is Kind.OTHER else texts.REGISTRATION_FIRST)
                if event.kind is not Kind.OTHER:
                    turn.say(texts.ASK_NAME)
                return
            name = " ".join(clean_text(event.text).split())
            if not name:
                turn.say(texts.NAME_EMPTY)
            elif len(name) > MAX_NAME:
                turn.say(texts.NAME_TOO_LONG)
            elif not any(ch.isalpha() for ch in name):
                turn.say(texts.NAME_INVALID)
            else:
                # "tran thi nhung" is how a phone keyboard leaves it; the certificate wants "Tran Thi Nhung"
                learner.name = (
                    " ".join(w[:1].upper() + w[1:] for w in name.split()) if name.islower() else name
                )
                if len(self.communes.communes) > 1:
                    state["step"] = "commune"
                    self._ask_commune(turn)
                else:
                    learner.commune_id = self._default_commune().id
                    state["step"] = "village"
                    self._ask_village(learner, turn)
            return
        if step == "commune":
            commune = (
                self.communes.commune(event.payload.removeprefix("commune:"))
                if (event.kind is Kind.BUTTON and event.payload.startswith("commune:"))
                else None
            )
            if commune is None:
                turn.say(texts.CHOOSE_FROM_LIST)
                self._ask_commune(turn)
                return
            learner.commune_id = commune.id
            state["step"] = "village"
            self._ask_village(learner, turn)
            return
        if step == "village":
            commune = self.communes.commune(learner.commune_id or "") or self._default_commune()
            village = (
                commune.village(event.payload.removeprefix("village:"))
                if (event.kind is Kind.BUTTON and event.payload.startswith("village:"))
                else None
            )
            if village is None:
                turn.say(texts.CHOOSE_FROM_LIST)
                self._ask_village(learner, turn)
                return
            learner.village_id = village.id
            state["step"] = "age"
            self._ask_age(turn)
            return
        # step == "age": optional, so a learner is never held here
        groups = dict(texts.AGE_GROUPS)
        if event.kind is Kind.TEXT:
            event = Incoming(
                **{**event.__dict__, "kind": Kind.BUTTON, "payload": f"age:{age_group(event.text)}"}
            )
        if event.kind is Kind.BUTTON and event.payload.startswith("age:"):
            group = event.payload.removeprefix("age:")
            learner.age_group = group if group in groups else None
            learner.registered_at = self.clock.now()
            invite = state.get("invite")
            state.clear()
            state["step"] = "menu"
            commune = self.communes.commune(learner.commune_id or "") or self._default_commune()
            village = commune.village(learner.village_id or "")
            turn.say(
                texts.REGISTERED.format(name=learner.name, village=village.name if village else ""),
                self._menu_buttons(),
            )
            if invite:  # a mentor's code from the /start link, carried through consent
                await self.mentoring.apply_code(store, learner, str(invite), turn)
            return
        turn.say(texts.CHOOSE_FROM_LIST)
        self._ask_age(turn)

    def _ask_commune(self, turn: Turn) -> None:
        turn.say(texts.ASK_COMMUNE, [Button(c.name, f"commune:{c.id}") for c in self.communes.communes])

    def _ask_village(self, learner: Learner, turn: Turn) -> None:
        commune = self.communes.commune(learner.commune_id or "") or self._default_commune()
        turn.say(
            texts.ASK_VILLAGE.format(name=learner.name),
            [Button(v.name, f"village:{v.id}") for v in commune.villages],
        )

    @staticmethod
    def _ask_age(turn: Turn) -> None:
        buttons = [Button(label, f"age:{key}") for key, label in texts.AGE_GROUPS]
        turn.say(texts.ASK_AGE, [*buttons, Button(texts.BTN_SKIP, "age:skip")])

    # --- the registered learner ----------------------------------------------------------------
    @staticmethod
    def _menu_buttons() -> list[Button]:
        return [
            Button(texts.BTN_LEARN, "learn"),
            Button(texts.BTN_ASK, "ask"),
            Button(texts.BTN_PROGRESS, "progress"),
            Button(texts.BTN_HELP, "help"),
        ]

    def _menu(self, learner: Learner, state: dict[str, Any], turn: Turn, *, greet: bool = False) -> None:
        state["step"] = "menu"
        text = texts.MENU_GREETING.format(name=learner.name) if greet else texts.MENU
        turn.say(text, self._menu_buttons())

    async def _main(
        self, store: Store, learner: Learner, state: dict[str, Any], event: Incoming, turn: Turn
    ) -> None:
        if event.kind is Kind.OTHER:
            turn.say(texts.MEDIA.get(event.media, texts.MEDIA_DEFAULT), self._back_buttons(state))
            return
        if event.kind is Kind.COMMAND:
            await self._command(store, learner, state, event, turn)
            return
        if event.kind is Kind.BUTTON:
            await self._button(store, learner, state, event.payload, turn)
            return
        text = clean_text(event.text)
        if fold(text) in MENU_WORDS:
            self._menu(learner, state, turn)
            return
        if fold(text) in THANKS_WORDS or fold(text) in HELLO_WORDS:
            reply = texts.THANKS_REPLY if fold(text) in THANKS_WORDS else texts.HELLO_REPLY
            turn.say(reply, self._back_buttons(state))
            return
        if await self.mentoring.text(store, learner, state, text, turn):  # "ma <code>", a mentor's answer
            return
        await self._question(store, learner, state, text, turn)

    async def _command(
        self, store: Store, learner: Learner, state: dict[str, Any], event: Incoming, turn: Turn
    ) -> None:
        command = event.text.lower()
        if await self.mentoring.command(store, learner, state, event, turn):
            return
        if await self.privacy.command(store, learner, state, event, turn):
            return
        if command in {"start", "menu"}:
            self._menu(learner, state, turn, greet=command == "start")
        elif command == "hoc":
            await self._button(store, learner, state, "learn", turn)
        elif command == "hoi":
            await self._button(store, learner, state, "ask", turn)
        elif command == "tiendo":
            await self._button(store, learner, state, "progress", turn)
        elif command in {"trogiup", "help"}:
            await self._button(store, learner, state, "help", turn)
        else:
            turn.say(texts.UNKNOWN_COMMAND.format(command="/" + command[:30]), self._menu_buttons())
            state["step"] = "menu"

    async def _button(
        self, store: Store, learner: Learner, state: dict[str, Any], payload: str, turn: Turn
    ) -> None:
        action, _, rest = payload.partition(":")
        args = rest.split(":") if rest else []
        if await self.mentoring.button(store, learner, state, payload, turn):
            return
        if await self.privacy.button(store, learner, state, payload, turn):
            return
        if action == "menu":
            self._menu(learner, state, turn)
        elif action == "learn":
            self._topics(learner, state, await store.completed(learner.id), turn)
        elif action == "askperson":
            pending = state.pop("pending_question", None)
            if isinstance(pending, dict) and pending.get("text"):
                await store.queue_question(
                    learner.id, str(pending["text"]), list(pending.get("candidates", []))
                )
                turn.say(texts.QUESTION_SENT, self._back_buttons(state))
            else:  # pressed twice, or on an old message: it went already (or there is nothing to send)
                turn.say(texts.QUESTION_ALREADY_SENT, self._back_buttons(state))
        elif action == "ask":
            state["step"] = "ask"
            turn.say(texts.ASK_PROMPT, [Button(texts.BTN_MENU, "menu")])
        elif action == "help":
            turn.say(texts.HELP, self._menu_buttons())
            state["step"] = "menu"
        elif action == "progress":
            await self._progress(store, learner, state, turn)
        elif action == "topic" and args:
            await self._topic(store, learner, state, args[0], turn)
        elif action == "lesson" and args:
            await self._open_lesson(store, learner, state, args[0], turn)
        elif action == "restart" and args:
            await self._show_card(store, learner, state, args[0], 1, turn)
        elif action in {"next", "prev"} and len(args) == 2:
            await self._navigate(store, learner, state, action, args[0], args[1], turn)
        elif action == "quiz" and args:
            await self._start_quiz(store, learner, state, args[0], turn)
        elif action == "ans" and len(args) == 3:
            await self._answer(store, learner, state, args, turn)
        elif action == "review" and len(args) == 2:
            self._review(state, args[0], args[1], turn)
        elif action == "resume":
            await self._resume(store, learner, state, turn)
        elif action in {"consent", "village", "commune", "age"}:
            # a registration button pressed again after registering: nothing to redo
            turn.say(texts.STALE_BUTTON)
            await self._resume(store, learner, state, turn)
        else:
            turn.say(texts.STALE_BUTTON)
            await self._resume(store, learner, state, turn)

    # --- topics and lessons --------------------------------------------------------------------
    def _topics(self, learner: Learner, state: dict[str, Any], done: set[str], turn: Turn) -> None:
        state["step"] = "topics"
        buttons = []
        for topic in self.curriculum.topics:
            finished = sum(1 for lesson in topic.lessons if lesson.id in done)
            mark = " ✅" if finished == len(topic.lessons) else ""
            buttons.append(
                Button(f"{topic.label} ({finished}/{len(topic.lessons)}){mark}", f"topic:{topic.id}")
            )
        turn.say(texts.TOPICS, [*buttons, Button(texts.BTN_MENU, "menu")])

    async def _topic(
        self, store: Store, learner: Learner, state: dict[str, Any], topic_id: str, turn: Turn
    ) -> None:
        topic = self.curriculum.topic(topic_id)
        if topic is None:
            turn.say(texts.LESSON_GONE)
            self._topics(learner, state, await store.completed(learner.id), turn)
            return
        done = await store.completed(learner.id)
        started = await store.lessons_in_progress(learner.id)
        state["step"] = "lessons"
        state["topic"] = topic.id
        buttons = []
        for lesson in topic.lessons:
            mark = "✅ " if lesson.id in done else ("▶ " if lesson.id in started else "")
            buttons.append(Button(f"{mark}{lesson.title}", f"lesson:{lesson.id}"))
        turn.say(
            texts.TOPIC_LESSONS.format(icon=topic.icon, title=topic.title, summary=topic.summary),
            [*buttons, Button(texts.BTN_TOPICS, "learn"), Button(texts.BTN_MENU, "menu")],
        )

    async def _open_lesson(
        self, store: Store, learner: Learner, state: dict[str, Any], lesson_id: str, turn: Turn
    ) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            turn.say(texts.LESSON_GONE)
            self._topics(learner, state, await store.completed(learner.id), turn)
            return
        reached = await store.card_reached(learner.id, lesson.id)
        if lesson.id in await store.completed(learner.id):
            turn.say(texts.LESSON_DONE_ALREADY)
            await self._show_card(store, learner, state, lesson.id, 1, turn)
        elif reached and 1 < reached <= len(lesson.cards):
            turn.say(texts.RESUMING.format(number=reached))
            await self._show_card(store, learner, state, lesson.id, reached, turn)
        else:
            await self._show_card(store, learner, state, lesson.id, 1, turn)

    async def _show_card(
        self,
        store: Store,
        learner: Learner,
        state: dict[str, Any],
        lesson_id: str,
        number: int,
        turn: Turn,
        *,
        replaces: bool = False,
    ) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            turn.say(texts.LESSON_GONE)
            self._menu(learner, state, turn)
            return
        number = max(1, min(number, len(lesson.cards)))
        card = lesson.card(number)
        state.update(step="card", lesson=lesson.id, card=number, topic=lesson.topic)
        state.pop("attempt", None)
        state.pop("q", None)
        await store.reach_card(learner.id, lesson.id, number)
        buttons = []
        if number > 1:
            buttons.append(Button(texts.BTN_PREV, f"prev:{lesson.id}:{number}"))
        if number < len(lesson.cards):
            buttons.append(Button(texts.BTN_NEXT, f"next:{lesson.id}:{number}"))
        else:
            buttons.append(Button(texts.BTN_START_QUIZ, f"quiz:{lesson.id}"))
        buttons.append(Button(texts.BTN_MENU, "menu"))
        turn.say(
            texts.CARD.format(
                lesson=lesson.title, number=number, total=len(lesson.cards), title=card.title, text=card.text
            ),
            buttons,
            replaces=replaces,
            image=card.image,
            audio=card.audio,
        )

    async def _navigate(
        self,
        store: Store,
        learner: Learner,
        state: dict[str, Any],
        action: str,
        lesson_id: str,
        card: str,
        turn: Turn,
    ) -> None:
        current = (
            state.get("step") == "card"
            and state.get("lesson") == lesson_id
            and str(state.get("card")) == card
        )
        if not current:
            turn.say(texts.STALE_BUTTON)
            await self._resume(store, learner, state, turn)
            return
        step = 1 if action == "next" else -1
        await self._show_card(store, learner, state, lesson_id, int(card) + step, turn, replaces=True)

    # --- quiz ----------------------------------------------------------------------------------
    async def _start_quiz(
        self, store: Store, learner: Learner, state: dict[str, Any], lesson_id: str, turn: Turn
    ) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            turn.say(texts.LESSON_GONE)
            self._menu(learner, state, turn)
            return
        if state.get("step") == "quiz" and state.get("lesson") == lesson_id:
            # a second tap on "start quiz": keep the running attempt
            turn.say(texts.STALE_BUTTON)
            self._ask_question(lesson, state, turn)
            return
        questions = lesson.quiz.questions
        # a quiz left halfway (to read a card again, to ask something) goes on where it stopped
        attempt = await store.open_attempt(learner.id, lesson.id, len(questions))
        answered = await store.attempt_answers(attempt) if attempt is not None else {}
        unanswered = [index for index, q in enumerate(questions) if q.id not in answered]
        if attempt is None or not unanswered:
            attempt = await store.start_attempt(learner.id, lesson.id, len(questions))
            unanswered = [0]
        state.update(step="quiz", lesson=lesson.id, attempt=attempt, q=unanswered[0], topic=lesson.topic)
        if unanswered[0] > 0:
            turn.say(texts.QUIZ_RESUMED.format(number=unanswered[0] + 1))
        else:
            turn.say(texts.QUIZ_INTRO.format(count=len(questions), needed=needed_to_pass(lesson.quiz)))
        self._ask_question(lesson, state, turn)

    @staticmethod
    def _ask_question(lesson: Lesson, state: dict[str, Any], turn: Turn) -> None:
        index = int(state["q"])
        question = lesson.quiz.questions[index]
        buttons = [
            Button(option, f"ans:{state['attempt']}:{index}:{n}") for n, option in enumerate(question.options)
        ]
        turn.say(
            texts.QUESTION.format(number=index + 1, total=len(lesson.quiz.questions), text=question.text),
            [*buttons, Button(texts.BTN_MENU, "menu")],
        )

    async def _answer(
        self, store: Store, learner: Learner, state: dict[str, Any], args: list[str], turn: Turn
    ) -> None:
        attempt_s, index_s, option_s = args
        if not (attempt_s.isdigit() and index_s.isdigit() and option_s.isdigit()):
            turn.say(texts.STALE_BUTTON)
            await self._resume(store, learner, state, turn)
            return
        attempt, index, option = int(attempt_s), int(index_s), int(option_s)
        lesson = self.curriculum.lesson(state.get("lesson", ""))
        running = state.get("step") == "quiz" and state.get("attempt") == attempt and lesson is not None
        if not running or lesson is None or index != state.get("q"):
            same_attempt = running and index < int(state.get("q", 0))
            if same_attempt or attempt == state.get("last_attempt"):
                turn.say(texts.ALREADY_ANSWERED)
            elif state.get("step") != "quiz":
                turn.say(texts.NOTHING_TO_ANSWER)
            else:
                turn.say(texts.STALE_BUTTON)
            await self._resume(store, learner, state, turn)
            return
        question = lesson.quiz.questions[index]
        if not 0 <= option < len(question.options):
            turn.say(texts.STALE_BUTTON)
            self._ask_question(lesson, state, turn)
            return
        is_correct = option == question.correct_index
        if not await store.record_answer(attempt, lesson.id, question.id, option, is_correct):
            turn.say(texts.ALREADY_ANSWERED)
            return
        if is_correct:
            turn.say(texts.ANSWER_RIGHT.format(explanation=question.explanation))
        else:
            turn.say(
                texts.ANSWER_WRONG.format(
                    correct=question.options[question.correct_index], explanation=question.explanation
                )
            )
        if index + 1 < len(lesson.quiz.questions):
            state["q"] = index + 1
            self._ask_question(lesson, state, turn)
            return
        await self._finish_quiz(store, learner, state, lesson, attempt, turn)

    async def _finish_quiz(
        self, store: Store, learner: Learner, state: dict[str, Any], lesson: Lesson, attempt: int, turn: Turn
    ) -> None:
        answers = await store.attempt_answers(attempt)
        result = grade(lesson.quiz, answers)
        await store.finish_attempt(attempt, result.correct, result.passed)
        state.pop("attempt", None)
        state.pop("q", None)
        state["last_attempt"] = attempt
        if not result.passed:
            state.update(step="failed", lesson=lesson.id)
            buttons = [
                Button(texts.BTN_REVIEW_CARD.format(title=lesson.card(n).title), f"review:{lesson.id}:{n}")
                for n in result.review_cards
            ]
            turn.say(
                texts.QUIZ_FAILED.format(correct=result.correct, total=result.total, needed=result.needed),
                [*buttons, Button(texts.BTN_RETRY_QUIZ, f"quiz:{lesson.id}"), Button(texts.BTN_MENU, "menu")],
            )
            return
        done_before = await store.completed(learner.id)
        newly = await store.record_completion(learner.id, lesson.id, attempt, result.correct, result.total)
        template = texts.QUIZ_PASSED if newly else texts.QUIZ_PASSED_AGAIN
        state.update(step="passed", lesson=lesson.id)
        turn.say(template.format(lesson=lesson.title, correct=result.correct, total=result.total))
        done = done_before | {lesson.id}
        core = {le.id for le in self.curriculum.core_lessons}
        if newly and core and core <= done and not core <= done_before:
            turn.say(texts.CORE_DONE)
            certificate = await self.certificates.issue(store, learner) if self.certificates else None
            if certificate is not None:
                turn.replies.append(certificate)
        buttons = []
        suggestion = self._suggest(done, {}, after=lesson)
        if suggestion is not None:
            buttons.append(
                Button(texts.BTN_NEXT_LESSON.format(title=suggestion.title), f"lesson:{suggestion.id}")
            )
        else:
            turn.say(texts.ALL_LESSONS_DONE)
        turn.say(texts.MENU, [*buttons, Button(texts.BTN_TOPICS, "learn"), Button(texts.BTN_MENU, "menu")])

    def _review(self, state: dict[str, Any], lesson_id: str, number_s: str, turn: Turn) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None or not number_s.isdigit() or not 1 <= int(number_s) <= len(lesson.cards):
            turn.say(texts.LESSON_GONE)
            return
        card = lesson.card(int(number_s))
        turn.say(
            texts.REVIEW_CARD.format(lesson=lesson.title, title=card.title, text=card.text),
            [Button(texts.BTN_RETRY_QUIZ, f"quiz:{lesson.id}"), Button(texts.BTN_MENU, "menu")],
            image=card.image,
            audio=card.audio,
        )

    # --- progress ------------------------------------------------------------------------------
    def _suggest(self, done: set[str], started: dict[str, int], after: Lesson | None = None) -> Lesson | None:
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

    async def _progress(self, store: Store, learner: Learner, state: dict[str, Any], turn: Turn) -> None:
        done = await store.completed(learner.id)
        started = await store.lessons_in_progress(learner.id)
        lessons = self.curriculum.lessons
        core = self.curriculum.core_lessons
        lines = [
            texts.PROGRESS.format(
                name=learner.name,
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
        suggestion = self._suggest(done, started)
        if suggestion is not None:
            lines.append("\n" + texts.PROGRESS_NEXT.format(title=suggestion.title))
            buttons.append(
                Button(texts.BTN_OPEN_LESSON.format(title=suggestion.title), f"lesson:{suggestion.id}")
            )
        else:
            lines.append("\n" + texts.ALL_LESSONS_DONE)
        state["step"] = "menu"
        turn.say("\n".join(lines), [*buttons, Button(texts.BTN_MENU, "menu")])

    # --- resuming where the learner was --------------------------------------------------------
    def _back_buttons(self, state: dict[str, Any]) -> list[Button]:
        if state.get("step") == "card":
            return [Button(texts.BTN_RESUME, "resume"), Button(texts.BTN_MENU, "menu")]
        if state.get("step") == "quiz":
            return [Button(texts.BTN_RESUME_QUIZ, "resume"), Button(texts.BTN_MENU, "menu")]
        return self._menu_buttons()

    async def _resume(self, store: Store, learner: Learner, state: dict[str, Any], turn: Turn) -> None:
        step = state.get("step")
        lesson = self.curriculum.lesson(state.get("lesson", ""))
        if step == "card" and lesson is not None:
            await self._show_card(store, learner, state, lesson.id, int(state.get("card", 1)), turn)
        elif step == "quiz" and lesson is not None and "attempt" in state:
            self._ask_question(lesson, state, turn)
        elif step == "lessons" and state.get("topic"):
            await self._topic(store, learner, state, state["topic"], turn)
        else:
            self._menu(learner, state, turn)

    # --- free questions ------------------------------------------------------------------------
    async def _question(
        self, store: Store, learner: Learner, state: dict[str, Any], text: str, turn: Turn
    ) -> None:
        if not text:
            turn.say(texts.EMPTY, self._back_buttons(state))
            return
        if not has_words(text):
            turn.say(texts.NO_WORDS, self._back_buttons(state))
            return
        if len(text) > MAX_QUESTION:
            turn.say(texts.TOO_LONG.format(limit=MAX_QUESTION))
            text = text[:MAX_QUESTION]
        if self.answerer is None:
            turn.say(texts.ANSWER_UNKNOWN_NOT_QUEUED, self._back_buttons(state))
            return
        answer = await asyncio.to_thread(self.answerer.answer, text)
        back = self._back_buttons(state)
        best = answer.best
        state.pop("pending_question", None)
        candidates = [
            {
                "passage": c.passage_id,
                "lesson": c.lesson_id,
                "card": c.card_number,
                "score": round(c.score, 4),
            }
            for c in answer.candidates[:5]
        ]
        if answer.outcome is Outcome.CONFIDENT and best is not None:
            lesson = self.curriculum.lesson(best.lesson_id)
            if lesson is not None and 1 <= best.card_number <= len(lesson.cards):
                card = lesson.card(best.card_number)
                turn.say(
                    texts.ANSWER_CONFIDENT.format(lesson=lesson.title, title=card.title, text=card.text),
                    [Button(texts.BTN_OPEN_LESSON.format(title=lesson.title), f"lesson:{lesson.id}"), *back],
                )
                return
            entry = next((g for g in self.curriculum.glossary if g.term == best.term), None)
            if entry is not None:
                turn.say(f"💡 {entry.term}\n{entry.text}", back)
                return
        if answer.outcome is Outcome.BORDERLINE:
            lessons: list[Lesson] = []
            for candidate in answer.candidates:
                lesson = self.curriculum.lesson(candidate.lesson_id)
                if lesson is not None and lesson not in lessons:
                    lessons.append(lesson)
            if lessons:
                # none of the suggestions may fit: one tap sends the question to a person instead
                state["pending_question"] = {"text": text, "candidates": candidates}
                turn.say(
                    texts.ANSWER_BORDERLINE,
                    [
                        *(
                            Button(texts.BTN_OPEN_LESSON.format(title=le.title), f"lesson:{le.id}")
                            for le in lessons[:3]
                        ),
                        Button(texts.BTN_ASK_PERSON, "askperson"),
                        *back,
                    ],
                )
                return
        if len(syllables(text)) <= 1:  # one unknown word ("laj", a typo): ask again, queue nothing
            turn.say(texts.NOT_UNDERSTOOD, back)
            return
        await store.queue_question(learner.id, text, candidates)
        turn.say(texts.ANSWER_UNKNOWN, back)
