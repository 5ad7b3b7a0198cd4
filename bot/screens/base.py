"""What every screen shares: the event's working set and the services screens call on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.messages import Button
from bot.ports import Store
from bot.turn import Turn
from data.models import Learner

if TYPE_CHECKING:  # the screens import this module; these names are for the type checker only
    from bot.screens.lesson import LessonScreen
    from bot.screens.mentoring import Mentoring
    from bot.screens.menu import MenuScreen
    from bot.screens.privacy import Privacy
    from bot.screens.questions import QuestionScreen
    from bot.screens.quiz import QuizScreen
    from bot.screens.registration import RegistrationScreen
    from bot.screens.scam import ScamScreen


@dataclass
class Conversation:
    """One event being handled: who, where they are (the saved state), and the replies so far."""

    store: Store
    learner: Learner
    state: dict[str, Any]
    turn: Turn

    @property
    def step(self) -> str:
        return str(self.state.get("step", "menu"))

    def say(self, text: str, buttons: list[Button] | None = None, **media: Any) -> None:
        self.turn.say(text, buttons, **media)


class Screens:
    """The screens of the engine, so one screen can hand the learner to another (set by the engine)."""

    menu: MenuScreen
    lesson: LessonScreen
    quiz: QuizScreen
    questions: QuestionScreen
    registration: RegistrationScreen
    mentoring: Mentoring
    privacy: Privacy
    scam: ScamScreen
