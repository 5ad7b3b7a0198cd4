"""Free questions: answered only from the lessons (or the commune's reviewed answers), never guessed.

Confident: the card that answers, with its continuation when it leads into the next card, and a
button to open its lesson. Urgent (money or a code already gone, a lost phone): the what-to-do-now
card first. Borderline: the closest lessons to choose from, and one tap to ask a person instead.
Unknown: an honest "cháu chưa có câu trả lời", and the question goes to the mentor or the commune.
While a quiz is open the answer carries no buttons and the quiz question follows, so its numbers stay.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot import texts
from bot.messages import Button
from bot.ports import Answerer, Knowledge
from bot.screens.base import Conversation, Screens
from data.commune import CommuneConfig
from lessons.models import Curriculum, Lesson
from retrieval.answers import Outcome
from retrieval.knowledge import KnowledgeMatch
from retrieval.normalize import has_words
from retrieval.urgent import default_urgency

MAX_QUESTION = 300  # a question is cut to this for retrieval and the queue


class QuestionScreen:
    """Answers a learner's free question."""

    def __init__(
        self,
        curriculum: Curriculum,
        screens: Screens,
        answerer: Answerer | None,
        communes: CommuneConfig,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.curriculum = curriculum
        self.screens = screens
        self.answerer = answerer
        self.communes = communes
        self.knowledge = knowledge

    def prompt(self, c: Conversation) -> None:
        c.state["step"] = "ask"
        c.say(texts.ASK_PROMPT, [Button(texts.BTN_MENU, "menu")])

    async def ask(self, c: Conversation, text: str) -> None:
        quiz = self.screens.quiz.running(c)
        if quiz is not None:  # the answer without buttons, then the quiz question as it was
            before = len(c.turn.replies)
            await self._answer(c, text)
            c.turn.replies[before:] = [
                type(r)(text=r.text, image=r.image, audio=r.audio) for r in c.turn.replies[before:]
            ]
            self.screens.quiz.ask(c, quiz, texts.QUIZ_STILL_OPEN)
            return
        if c.step == "card":  # "tiếp" after this shows the card again before moving on
            c.state["aside"] = True
        await self._answer(c, text)

    async def _answer(self, c: Conversation, text: str) -> None:
        back = self.screens.menu.back_buttons(c)
        if not has_words(text):
            c.say(texts.NO_WORDS, back)
            return
        if len(text) > MAX_QUESTION:
            c.say(texts.TOO_LONG.format(limit=MAX_QUESTION))
            text = text[:MAX_QUESTION]
        if self.knowledge is not None and not default_urgency().lessons(text):
            # the commune's reviewed answers first; an urgent story still gets the action card
            found = await self.knowledge.match(c.learner.commune_id, text)
            if found is not None:
                self._commune_answer(c, text, found, back)
                return
        if self.answerer is None:
            c.say(texts.ANSWER_UNKNOWN_NOT_QUEUED, back)
            return
        answer = await asyncio.to_thread(self.answerer.answer, text)
        best = answer.best
        c.state.pop("pending_question", None)
        candidates: list[dict[str, Any]] = [
            {
                "passage": x.passage_id,
                "lesson": x.lesson_id,
                "card": x.card_number,
                "score": round(x.score, 4),
            }
            for x in answer.candidates[:5]
        ]
        urgent = bool(getattr(answer, "urgent", False))
        if (answer.outcome is Outcome.CONFIDENT or urgent) and best is not None:
            lesson = self.curriculum.lesson(best.lesson_id)
            if lesson is not None and 1 <= best.card_number <= len(lesson.cards):
                shown = tuple(getattr(answer, "cards", ()) or (best.card_number,))
                body = "\n\n".join(
                    f"{lesson.card(n).title}\n{lesson.card(n).text}"
                    for n in shown
                    if 1 <= n <= len(lesson.cards)
                )
                template = texts.ANSWER_URGENT if urgent else texts.ANSWER_CONFIDENT
                c.say(
                    template.format(lesson=lesson.title, text=body),
                    [Button(texts.BTN_OPEN_LESSON.format(title=lesson.title), f"lesson:{lesson.id}"), *back],
                )
                return
            entry = next((g for g in self.curriculum.glossary if g.term == best.term), None)
            if entry is not None:
                c.say(f"💡 {entry.term}\n{entry.text}", back)
                return
        if answer.outcome is Outcome.BORDERLINE:
            lessons: list[Lesson] = []
            for candidate in answer.candidates:
                lesson = self.curriculum.lesson(candidate.lesson_id)
                if lesson is not None and lesson not in lessons:
                    lessons.append(lesson)
            if lessons:
                # none of the suggestions may fit: one tap sends the question to a person instead
                c.state["pending_question"] = {"text": text, "candidates": candidates}
                c.say(
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
        queued = await c.store.queue_question(c.learner.id, text, candidates)
        c.say(texts.ANSWER_UNKNOWN if queued else texts.ANSWER_UNKNOWN_WAITING, back)

    def _commune_answer(self, c: Conversation, text: str, found: KnowledgeMatch, back: list[Button]) -> None:
        commune = self.communes.commune(found.commune_id)
        lesson = self.curriculum.lesson(found.lesson_id or "")
        buttons = (
            [Button(texts.BTN_OPEN_LESSON.format(title=lesson.title), f"lesson:{lesson.id}")]
            if lesson
            else []
        )
        # a wrong match can still reach a person with one tap
        c.state["pending_question"] = {"text": text, "candidates": [{"entry": found.entry_id}]}
        c.say(
            texts.KB_ANSWER.format(commune=commune.name if commune else "xã", answer=found.answer),
            [*buttons, Button(texts.BTN_ASK_PERSON, "askperson"), *back],
        )

    async def ask_person(self, c: Conversation) -> None:
        pending = c.state.pop("pending_question", None)
        back = self.screens.menu.back_buttons(c)
        if isinstance(pending, dict) and pending.get("text"):
            await c.store.queue_question(
                c.learner.id, str(pending["text"]), list(pending.get("candidates", []))
            )
            c.say(texts.QUESTION_SENT, back)
        else:  # pressed twice, or on an old message: it went already (or there is nothing to send)
            c.say(texts.QUESTION_ALREADY_SENT, back)
