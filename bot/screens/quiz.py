"""The quiz after a lesson: one question at a time, instant feedback, pass or review, completion once.

A quiz survives slips: while it is open, every reply that is not an answer ends with the current
question and its options again, so a number typed after a side question still answers the quiz.
"""

from __future__ import annotations

from bot import reminders, texts
from bot.certificate import Certificates
from bot.messages import Button
from bot.screens.base import Conversation, Screens
from data.repository import SqlStore
from lessons.models import Curriculum, Lesson
from quizzes.grading import grade, needed_to_pass
from retrieval.normalize import has_diacritics


class QuizScreen:
    """Runs a lesson's quiz and records its result."""

    def __init__(self, curriculum: Curriculum, screens: Screens, certificates: Certificates | None) -> None:
        self.curriculum = curriculum
        self.screens = screens
        self.certificates = certificates

    def running(self, c: Conversation) -> Lesson | None:
        if c.step != "quiz" or "attempt" not in c.state:
            return None
        return self.curriculum.lesson(str(c.state.get("lesson", "")))

    async def start(self, c: Conversation, lesson_id: str) -> None:
        lesson = self.curriculum.lesson(lesson_id)
        if lesson is None:
            c.say(texts.LESSON_GONE)
            self.screens.menu.show(c)
            return
        if self.running(c) is lesson:  # a second tap on "start quiz": keep the running attempt
            self.ask(c, lesson)
            return
        questions = lesson.quiz.questions
        # a quiz left halfway (to read a card again, to ask something) goes on where it stopped
        attempt = await c.store.open_attempt(c.learner.id, lesson.id, len(questions))
        answered = await c.store.attempt_answers(attempt) if attempt is not None else {}
        unanswered = [index for index, q in enumerate(questions) if q.id not in answered]
        if attempt is None or not unanswered:
            attempt = await c.store.start_attempt(c.learner.id, lesson.id, len(questions))
            unanswered = [0]
        c.state.update(step="quiz", lesson=lesson.id, attempt=attempt, q=unanswered[0], topic=lesson.topic)
        c.state["open"] = lesson.id
        c.state["open_quiz"] = lesson.id
        if unanswered[0] > 0:
            c.say(texts.QUIZ_RESUMED.format(number=unanswered[0] + 1))
        else:
            c.say(texts.QUIZ_INTRO.format(count=len(questions), needed=needed_to_pass(lesson.quiz)))
        self.ask(c, lesson)

    def ask(self, c: Conversation, lesson: Lesson, lead: str = "") -> None:
        index = int(c.state["q"])
        question = lesson.quiz.questions[index]
        buttons = [
            Button(option, f"ans:{c.state['attempt']}:{index}:{n}")
            for n, option in enumerate(question.options)
        ]
        text = texts.QUESTION.format(number=index + 1, total=len(lesson.quiz.questions), text=question.text)
        c.say(f"{lead}\n\n{text}" if lead else text, [*buttons, Button(texts.BTN_MENU, "menu")])

    async def answer(self, c: Conversation, args: list[str]) -> None:
        attempt_s, index_s, option_s = args
        if not (attempt_s.isdecimal() and index_s.isdecimal() and option_s.isdecimal()):
            c.say(texts.STALE_BUTTON)
            await self.screens.lesson.resume(c)
            return
        attempt, index, option = int(attempt_s), int(index_s), int(option_s)
        lesson = self.running(c)
        if lesson is None or c.state.get("attempt") != attempt or index != c.state.get("q"):
            same_attempt = lesson is not None and c.state.get("attempt") == attempt
            if (same_attempt and index < int(c.state.get("q", 0))) or attempt == c.state.get("last_attempt"):
                c.say(texts.ALREADY_ANSWERED)
            elif c.step != "quiz":
                c.say(texts.NOTHING_TO_ANSWER)
            else:
                c.say(texts.STALE_BUTTON)
            await self.screens.lesson.resume(c)
            return
        question = lesson.quiz.questions[index]
        if not 0 <= option < len(question.options):
            c.say(texts.STALE_BUTTON)
            self.ask(c, lesson)
            return
        is_correct = option == question.correct_index
        if not await c.store.record_answer(attempt, lesson.id, question.id, option, is_correct):
            c.say(texts.ALREADY_ANSWERED)
            return
        if is_correct:
            c.say(texts.ANSWER_RIGHT.format(explanation=question.explanation))
        else:
            if isinstance(c.store, SqlStore):  # to come back to in a spaced review
                await reminders.record_miss(c.store, c.learner.id, lesson.id, question.id, c.store.now)
            c.say(
                texts.ANSWER_WRONG.format(
                    correct=question.options[question.correct_index], explanation=question.explanation
                )
            )
        if index + 1 < len(lesson.quiz.questions):
            c.state["q"] = index + 1
            self.ask(c, lesson)
            return
        await self._finish(c, lesson, attempt)

    async def _finish(self, c: Conversation, lesson: Lesson, attempt: int) -> None:
        answers = await c.store.attempt_answers(attempt)
        result = grade(lesson.quiz, answers)
        await c.store.finish_attempt(attempt, result.correct, result.passed)
        c.state.pop("attempt", None)
        c.state.pop("q", None)
        c.state.pop("open_quiz", None)
        c.state["last_attempt"] = attempt
        if not result.passed:
            c.state.update(step="failed", lesson=lesson.id)
            buttons = [
                Button(texts.BTN_RETRY_QUIZ, f"quiz:{lesson.id}"),
                *(
                    Button(
                        texts.BTN_REVIEW_CARD.format(title=lesson.card(n).title), f"review:{lesson.id}:{n}"
                    )
                    for n in result.review_cards
                ),
                Button(texts.BTN_MENU, "menu"),
            ]
            c.say(
                texts.QUIZ_FAILED.format(correct=result.correct, total=result.total, needed=result.needed),
                buttons,
            )
            return
        done_before = await c.store.completed(c.learner.id)
        newly = await c.store.record_completion(
            c.learner.id, lesson.id, attempt, result.correct, result.total
        )
        if c.state.get("open") == lesson.id:
            c.state.pop("open", None)
        template = texts.QUIZ_PASSED if newly else texts.QUIZ_PASSED_AGAIN
        c.state.update(step="passed", lesson=lesson.id)
        c.say(template.format(lesson=lesson.title, correct=result.correct, total=result.total))
        done = done_before | {lesson.id}
        core = {le.id for le in self.curriculum.core_lessons}
        if newly and core and core <= done and not core <= done_before:
            c.say(texts.CORE_DONE)
            if self.certificates is not None:
                if not has_diacritics(c.learner.name or ""):
                    # the certificate prints the name: offer to write it with its diacritics first
                    c.state["step"] = "cert_name"
                    c.say(
                        texts.CERT_NAME_CHECK.format(name=c.learner.name),
                        [Button(texts.BTN_KEEP_NAME, "cert:keep"), Button(texts.BTN_FIX_NAME, "cert:fix")],
                    )
                    return
                await self.certificate(c)
        suggestion = self.screens.menu.suggest(done, {}, after=lesson)
        buttons = []
        if suggestion is not None:
            buttons.append(
                Button(texts.BTN_NEXT_LESSON.format(title=suggestion.title), f"lesson:{suggestion.id}")
            )
        else:
            c.say(texts.ALL_LESSONS_DONE)
        if (
            newly
            and isinstance(c.store, SqlStore)
            and not (await reminders.setting(c.store, c.learner.id)).asked
        ):
            # after the first finished lesson: may the assistant remind them? (nothing sent till they choose)
            c.state["step"] = "reminder_offer"
            offer = [*reminders.offer_buttons(), *buttons, Button(texts.BTN_MENU, "menu")]
            c.say(texts.REMINDER_OFFER, offer)
            return
        c.say(texts.MENU, [*buttons, Button(texts.BTN_TOPICS, "learn"), Button(texts.BTN_MENU, "menu")])

    async def certificate(self, c: Conversation) -> None:
        issued = await self.certificates.issue(c.store, c.learner) if self.certificates else None
        if issued is not None:
            c.turn.replies.append(issued)
