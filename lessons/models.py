"""The curriculum's shapes: topics, lessons, cards, sources and glossary entries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, PrivateAttr, field_validator

from quizzes.models import Quiz

# about one screen in large font on a phone; headings, media and asks lines are not counted
MAX_CARD_CHARS = 450
MAX_ASK_CHARS = 150
MIN_CARDS = 3
MAX_CARDS = 6
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Source(BaseModel):
    """Where a lesson's facts come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3, max_length=300)
    publisher: str = Field(min_length=2, max_length=200)
    url: HttpUrl | None = None


class Card(BaseModel):
    """One screen of a lesson: a heading and up to 450 characters, with optional image/audio.

    `asks` holds the questions this card alone answers, as learners type them (`asks:` lines in the
    file); they are not part of `text` and are never shown as the card.
    """

    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    text: str
    image: str | None = None
    image_alt: str | None = None
    audio: str | None = None
    asks: tuple[str, ...] = ()
    line: int = 0


class LessonMeta(BaseModel):
    """The YAML front matter of a lesson file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG, max_length=40)  # button payloads carry it: Telegram allows 64 bytes
    topic: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=80)
    level: int = Field(ge=1, le=3)
    order: int = Field(ge=1, le=99)
    minutes: int = Field(ge=1, le=60)
    core: bool
    summary: str | None = Field(default=None, max_length=200)
    reviewed: date | None = None  # when an editor last checked the lesson against its sources
    sources: list[Source] = Field(min_length=1)
    quiz: Quiz

    @field_validator("reviewed")
    @classmethod
    def _not_in_the_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(f"the date {value.isoformat()} is in the future")
        return value


class Lesson(LessonMeta):
    """A whole lesson: its front matter plus its cards and where it was read from."""

    cards: list[Card]
    path: Path

    def card(self, number: int) -> Card:
        return self.cards[number - 1]


class TopicMeta(BaseModel):
    """The contents of a topic.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=40)
    order: int = Field(ge=1, le=99)
    icon: str = Field(min_length=1, max_length=8)
    summary: str = Field(min_length=3, max_length=200)


class Topic(TopicMeta):
    """A topic with its lessons in order."""

    lessons: list[Lesson]

    @property
    def label(self) -> str:
        return f"{self.icon} {self.title}"


class GlossaryEntry(BaseModel):
    """One term explained in plain words; `asks` as on a card (`asks:` lines under the entry)."""

    model_config = ConfigDict(frozen=True)

    term: str
    text: str
    asks: tuple[str, ...] = ()
    line: int = 0


class Curriculum(BaseModel):
    """Everything the learner can study; built by `lessons.loader.load_curriculum`."""

    model_config = ConfigDict(frozen=True)

    topics: list[Topic]
    glossary: list[GlossaryEntry] = []
    glossary_sources: list[Source] = []

    _lessons: dict[str, Lesson] = PrivateAttr(default_factory=dict)
    _topics: dict[str, Topic] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        self._lessons = {lesson.id: lesson for topic in self.topics for lesson in topic.lessons}
        self._topics = {topic.id: topic for topic in self.topics}

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._lessons.get(lesson_id)

    def topic(self, topic_id: str) -> Topic | None:
        return self._topics.get(topic_id)

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for topic in self.topics for lesson in topic.lessons]

    @property
    def core_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.core]
