"""Gentle reminders and spaced review (issue 17): the scheduler, what a reminder says, the mentors'
weekly digest, and the small API the conversation calls.

What a learner receives, when, and how it stops:
- nothing until they choose a rhythm ("3d": every three days, or "weekly"); "off" is the default;
- at most one reminder per period, and none while they learn on their own: the next one is due a period
  after their last reminder or their last message, whichever is later (so never within a day of it);
- never in the quiet hours of their commune (`Commune.quiet_hours`, Vietnam time; by default
  21:00-07:00, 11:00-13:00 and 17:30-19:00), with `margin` to spare so the outbox delivers in time;
- one short message with one button: "▶ Học tiếp: ‹bài›" for the lesson in progress (payload
  "continue"), else "📖 Mở bài: ‹bài›" for the next core lesson ("lesson:<id>"); every second reminder is
  a review question instead: a quiz question they missed (or one from a lesson finished 21+ days ago)
  with its options as buttons ("rv:<lesson_id>:<question_id>:<option, 0-based>");
- after two reminders without a reply the interval doubles; the third says it is the last and
  reminders pause until the learner writes again; "tắt nhắc" (the engine calls `set_rhythm(..., "off")`)
  stops them for good, "bật nhắc" (`"on"`) brings back the rhythm chosen before.

Reminders and digests are outbox rows of broadcasts of kind "reminder" / "digest" (`data.outbox`):
the outbox worker sends them behind the conversation's replies and within each channel's rate. A
reminder is claimed and queued in one transaction, guarded by the learner's reminder count and a
unique (learner, n-th reminder) key, so neither a restart nor a second scheduler sends it twice.

API for the engine (each takes the event's `SqlStore` or an `AsyncSession`; none commits):
- `await set_rhythm(store, learner_id, rhythm, now=None) -> Setting`: "off" | "3d" | "weekly" | "on";
- `await on_activity(store, learner_id, now)`: on every message or button from the learner;
- `await answer_review(store, curriculum, learner_id, lesson_id, question_id, option, now)
  -> ReviewResult | None` (None: the question no longer exists); `ReviewResult.text` is the reply;
  `parse_review_payload("rv:...")` reads the button;
- `await setting(store, learner_id) -> Setting`, and `setting_line(setting)` for /dulieu;
- `await record_miss(store, learner_id, lesson_id, question_id, now)`: a quiz question answered wrongly;
- `offer_buttons()`, `parse_rhythm_payload("rm:weekly")`, `rhythm_set_text(rhythm)`: the opt-in question;
- `await nudge_reply(store, curriculum, learner_id, mentor_name) -> Reply`: what "🔔 Nhắc giúp" sends.
The scheduler: `Scheduler(sessions, curriculum, communes, clock, channels=...)`; `await run_once(now)`
or `run_forever(stop)`; `weekly_digest(session, mentor_id, now)` builds one mentor's digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.messages import Button, Reply, reply_to_json
from bot.ports import Clock
from data import reminders as store
from data.commune import DEFAULT_QUIET_HOURS, VIETNAM_TIME, CommuneConfig, is_quiet_time
from data.models import Learner
from data.reminders import (
    STOP_AFTER,
    Candidate,
    LearnerContext,
    MenteeFacts,
    Queued,
    Setting,
)
from data.repository import SqlStore
from data.stats import utc
from lessons.models import Curriculum, Lesson
from quizzes.models import Question

log = logging.getLogger(__name__)

__all__ = [
    "ReviewResult",
    "RunReport",
    "Scheduler",
    "Setting",
    "answer_review",
    "nudge_reply",
    "offer_buttons",
    "on_activity",
    "parse_review_payload",
    "parse_rhythm_payload",
    "record_miss",
    "rhythm_set_text",
    "set_rhythm",
    "setting",
    "setting_line",
]


PAYLOAD_LIMIT = 64  # bytes: Telegram's limit for a button's callback data
ACTIVE_WINDOW = timedelta(hours=24)  # a learner active this recently is never reminded
LONG_AGO = timedelta(days=21)  # a lesson finished this long ago offers its questions for review
MAX_NUDGE_BUTTONS = 10


def _session(where: AsyncSession | SqlStore) -> AsyncSession:
    return where.session if isinstance(where, SqlStore) else where


def _call(name: str | None) -> str:
    """The name to greet with, after "bác": Vietnamese address people by the last word of their name
    (" An" for "Nguyễn Văn An"); nothing when there is no name."""
    words = (name or "").split()
    return f" {words[-1]}" if words else ""


# --- the API for the engine -----------------------------------------------------------------------------
async def set_rhythm(
    where: AsyncSession | SqlStore, learner_id: int, rhythm: str, now: datetime | None = None
) -> Setting:
    """Choose "off", "3d", "weekly", or "on" (back to the rhythm chosen before, weekly if none).
    `now` defaults to the store's event time."""
    when = now if now is not None else where.now if isinstance(where, SqlStore) else None
    if when is None:
        raise ValueError("set_rhythm needs `now` when given a session")
    return await store.set_rhythm(_session(where), learner_id, rhythm, when)


async def on_activity(where: AsyncSession | SqlStore, learner_id: int, now: datetime) -> None:
    """The learner wrote or pressed a button: unanswered reminders are answered, paused ones restart."""
    await store.on_activity(_session(where), learner_id, now)


async def setting(where: AsyncSession | SqlStore, learner_id: int) -> Setting:
    return await store.get_setting(_session(where), learner_id)


async def record_miss(
    where: AsyncSession | SqlStore, learner_id: int, lesson_id: str, question_id: str, now: datetime
) -> None:
    """A quiz question answered wrongly: it becomes a review question, first asked a day later."""
    await store.record_miss(_session(where), learner_id, lesson_id, question_id, now)


@dataclass(frozen=True)
class ReviewResult:
    """The outcome of a review question answered from a reminder."""

    correct: bool
    explanation: str
    correct_option_text: str
    counted: bool = True  # False: this reminder's question was answered before; nothing moved
    next_in_days: int | None = None  # earliest it is asked again; None when learned

    @property
    def text(self) -> str:
        """The reply: right or not, the right answer, the explanation, and what comes next."""
        if self.correct:
            first = texts.REVIEW_RIGHT.format(explanation=self.explanation)
            then = texts.REVIEW_LEARNED if self.counted and self.next_in_days is None else texts.REVIEW_LATER
        else:
            first = texts.REVIEW_WRONG.format(correct=self.correct_option_text, explanation=self.explanation)
            then = texts.REVIEW_AGAIN
        return f"{first}\n{then}" if self.counted else first


def parse_review_payload(payload: str) -> tuple[str, str, int] | None:
    """("lesson_id", "question_id", option) from "rv:<lesson_id>:<question_id>:<option>"."""
    parts = payload.split(":")
    if len(parts) != 4 or parts[0] != "rv" or not parts[3].isdigit() or len(parts[3]) > 2:
        return None
    return parts[1], parts[2], int(parts[3])


def find_question(curriculum: Curriculum, lesson_id: str, question_id: str) -> tuple[Lesson, Question] | None:
    lesson = curriculum.lesson(lesson_id)
    if lesson is None:
        return None
    question = next((q for q in lesson.quiz.questions if q.id == question_id), None)
    return (lesson, question) if question is not None else None


async def answer_review(
    where: AsyncSession | SqlStore,
    curriculum: Curriculum,
    learner_id: int,
    lesson_id: str,
    question_id: str,
    option: int,
    now: datetime,
) -> ReviewResult | None:
    """Grade a review answer (`option` 0-based) and move the question: further out when right, back to
    one day when wrong. None when the lesson or question is gone or the option does not exist."""
    found = find_question(curriculum, lesson_id, question_id)
    if found is None or not 0 <= option < len(found[1].options):
        return None
    question = found[1]
    correct = option == question.correct_index
    outcome = await store.review_answer(_session(where), learner_id, lesson_id, question_id, correct, now)
    return ReviewResult(
        correct=correct,
        explanation=question.explanation,
        correct_option_text=question.options[question.correct_index],
        counted=outcome.counted,
        next_in_days=outcome.next_in_days,
    )


def setting_line(current: Setting) -> str:
    """One line for /dulieu."""
    if current.rhythm == "off":
        return texts.SETTING_NEVER
    label = texts.RHYTHM_LABEL[current.rhythm]
    return (texts.SETTING_PAUSED if current.paused else texts.SETTING_LINE).format(label=label)


def offer_buttons() -> list[Button]:
    """The choices after the first finished lesson: weekly, every two or three days, never."""
    return [Button(texts.BTN_RHYTHM[r], f"rm:{r}") for r in ("weekly", "3d", "off")]


def parse_rhythm_payload(payload: str) -> str | None:
    rhythm = payload.removeprefix("rm:")
    return rhythm if payload.startswith("rm:") and rhythm in texts.BTN_RHYTHM else None


def rhythm_set_text(rhythm: str) -> str:
    """The confirmation after a choice (`rhythm` as stored: "off", "3d" or "weekly")."""
    return texts.RHYTHM_OFF if rhythm == "off" else texts.RHYTHM_SET.format(label=texts.RHYTHM_LABEL[rhythm])


# --- what a reminder says ---------------------------------------------------------------------------------
def _fits(payload: str) -> bool:
    return len(payload.encode()) <= PAYLOAD_LIMIT


def lesson_to_suggest(curriculum: Curriculum, ctx: LearnerContext) -> tuple[Lesson, str] | None:
    """The lesson in progress ("continue" resumes it, as the menu's button does), else the first core
    lesson not done, else any lesson not done; with the button's payload."""
    candidates = [ctx.open_lesson] if ctx.open_lesson else []
    for lesson_id in [*candidates, *ctx.started]:
        lesson = curriculum.lesson(lesson_id)
        if lesson is not None and lesson.id not in ctx.done:
            return lesson, "continue"
    for lesson in [*curriculum.core_lessons, *curriculum.lessons]:
        if lesson.id not in ctx.done and _fits(f"lesson:{lesson.id}"):
            return lesson, f"lesson:{lesson.id}"
    return None


def review_to_ask(
    curriculum: Curriculum, ctx: LearnerContext, now: datetime
) -> tuple[Lesson, Question] | None:
    """The review question due the longest, else a question not yet reviewed from the lesson finished
    the longest ago (at least `LONG_AGO`)."""
    due = sorted((when, key) for key, when in ctx.reviews.items() if when is not None and when <= now)
    for _, (lesson_id, question_id) in due:
        found = find_question(curriculum, lesson_id, question_id)
        if found is not None and _fits(_review_payload(*found, len(found[1].options) - 1)):
            return found
    for lesson_id, _ in sorted(ctx.done.items(), key=lambda item: item[1]):
        lesson = curriculum.lesson(lesson_id)
        if lesson is None or now - ctx.done[lesson_id] < LONG_AGO:
            continue
        for question in lesson.quiz.questions:
            payload = _review_payload(lesson, question, len(question.options) - 1)
            if (lesson.id, question.id) not in ctx.reviews and _fits(payload):
                return lesson, question
    return None


def _review_payload(lesson: Lesson, question: Question, option: int) -> str:
    return f"rv:{lesson.id}:{question.id}:{option}"


def _with_footer(text: str, last: bool) -> str:
    return f"{text}\n{texts.REMINDER_LAST if last else texts.REMINDER_FOOTER}"


def lesson_reply(name: str | None, lesson: Lesson, payload: str, *, last: bool = False) -> Reply:
    if payload == "continue":
        text = texts.REMINDER_CONTINUE.format(name=_call(name), title=lesson.title)
        button = Button(texts.BTN_CONTINUE.format(title=lesson.title), payload)
    else:
        text = texts.REMINDER_NEXT.format(name=_call(name), title=lesson.title, minutes=lesson.minutes)
        button = Button(texts.BTN_OPEN_LESSON.format(title=lesson.title), payload)
    return Reply(_with_footer(text, last), (button,))


def review_reply(name: str | None, lesson: Lesson, question: Question, *, last: bool = False) -> Reply:
    text = texts.REMINDER_REVIEW.format(name=_call(name), title=lesson.title, question=question.text)
    buttons = tuple(
        Button(option, _review_payload(lesson, question, i)) for i, option in enumerate(question.options)
    )
    return Reply(_with_footer(text, last), buttons)


async def nudge_reply(
    where: AsyncSession | SqlStore, curriculum: Curriculum, learner_id: int, mentor_name: str | None
) -> Reply:
    """What a mentor's "🔔 Nhắc giúp" sends the learner: the lesson in progress or the next one."""
    session = _session(where)
    ctx = (await store.contexts(session, [learner_id]))[learner_id]
    learner = await session.get(Learner, learner_id)
    name = _call(learner.name if learner is not None else None)
    found = lesson_to_suggest(curriculum, ctx)
    if found is None:
        return Reply(
            texts.NUDGE_DONE.format(name=name, mentor=mentor_name or ""), (Button(texts.BTN_MENU, "menu"),)
        )
    lesson, payload = found
    label = texts.BTN_CONTINUE if payload == "continue" else texts.BTN_OPEN_LESSON
    return Reply(
        texts.NUDGE.format(name=name, mentor=mentor_name or "", title=lesson.title),
        (Button(label.format(title=lesson.title), payload),),
    )


# --- the scheduler --------------------------------------------------------------------------------------
@dataclass
class RunReport:
    """What one pass of the scheduler did."""

    reminders: int = 0
    reviews: int = 0  # of which review questions
    postponed: int = 0  # due, but active lately or nothing to say: moved later
    digests: int = 0
    expired: int = 0  # queued earlier and still unsent near quiet hours: cancelled, to go again later
    quiet: bool = False  # every commune was in (or near) quiet hours: nothing was looked at


class Scheduler:
    """Queues due reminders and the mentors' weekly digests into the outbox; safe to run in several
    processes at once and to restart at any moment.

    `channels`: only learners on these channels (those the process can deliver to); None for all.
    `margin`: nothing is queued unless the next `margin` is free of quiet hours, and what is still
    unsent after `expire_after` is cancelled (and given back), so nothing lands in quiet hours even if a
    channel is slow or down; keep `expire_after` + the run interval below `margin`. A cancelled reminder
    is tried again after `retry_after`.
    `max_per_run`, `chunk`, `digest_chunk`: reminders per pass, and learners and mentors per transaction,
    so the outbox drains a pass well within `margin` and, on SQLite, where these queries run in the
    chats' event loop, no chat waits for more than one short batch."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        curriculum: Curriculum,
        communes: CommuneConfig,
        clock: Clock,
        *,
        channels: Collection[str] | None = None,
        stuck_days: int = 7,
        margin: timedelta = timedelta(minutes=30),
        expire_after: timedelta = timedelta(minutes=20),
        retry_after: timedelta = timedelta(hours=1),
        max_per_run: int = 1000,
        chunk: int = 100,
        digest_chunk: int = 20,
        digest_weekday: int = 0,
    ) -> None:
        self.sessions = sessions
        self.curriculum = curriculum
        self.communes = communes
        self.clock = clock
        self.channels = set(channels) if channels is not None else None
        self.stuck_days = stuck_days
        self.margin = margin
        self.expire_after = expire_after
        self.retry_after = retry_after
        self.max_per_run = max_per_run
        self.chunk = chunk
        self.digest_chunk = digest_chunk
        self.digest_weekday = digest_weekday  # 0 = Monday, in Vietnam time
        self._known = [c.id for c in communes.communes]
        self._core = [lesson.id for lesson in curriculum.core_lessons]
        # (week, communes whose digests are all queued or skipped this week): saves the mentors' query
        # on every later pass of the week; "*" stands for learners of no commune in the file
        self._digested: tuple[str, set[str]] = ("", set())

    # --- running --------------------------------------------------------------------------------------
    async def run_once(self, now: datetime | None = None) -> RunReport:
        """Expire what could land in quiet hours, queue due reminders, and this week's digests."""
        now = utc(now if now is not None else self.clock.now())
        report = RunReport()
        async with self.sessions() as session, session.begin():
            report.expired = await store.expire_pending(
                session, now - self.expire_after, now, self.retry_after
            )
        if report.expired:  # an expired digest goes again
            self._digested = ("", set())
        where, keys = self._allowed(now)
        if where is None:
            report.quiet = True
            return report
        await self._reminders(now, where, report)
        if now.astimezone(VIETNAM_TIME).weekday() >= self.digest_weekday:
            await self._digests(now, where, keys, report)
        return report

    async def run_forever(self, stop: asyncio.Event, every: float = 300.0) -> None:
        """A pass every `every` seconds until `stop`; a failed pass is logged and the next one tries again."""
        while not stop.is_set():
            try:
                report = await self.run_once()
            except Exception as error:  # the type only: nothing personal may reach the logs
                log.error("reminders: the pass failed (%s)", type(error).__name__)
            else:
                if report.reminders or report.digests or report.expired:
                    log.info(
                        "reminders: queued %d (%d review), %d digest(s); %d expired",
                        report.reminders,
                        report.reviews,
                        report.digests,
                        report.expired,
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    def _allowed(self, now: datetime) -> tuple[Any, set[str]]:
        """The SQL condition for learners whose commune may be written to now (None: nobody), and
        those communes' ids ("*": learners of no commune in the file)."""
        allowed = [c.id for c in self.communes.communes if not c.is_quiet(now, self.margin)]
        others = not is_quiet_time(DEFAULT_QUIET_HOURS, now, self.margin)
        keys = {*allowed, "*"} if others else set(allowed)
        return store.commune_filter(allowed, self._known, others), keys

    # --- reminders ------------------------------------------------------------------------------------
    async def _reminders(self, now: datetime, where: Any, report: RunReport) -> None:
        while report.reminders < self.max_per_run:
            limit = min(self.chunk, self.max_per_run - report.reminders)
            async with self.sessions() as session, session.begin():
                candidates = await store.due(session, now, where, self.channels, limit)
                if not candidates:
                    return
                contexts = await store.contexts(session, [c.learner_id for c in candidates])
                moves: list[tuple[int, datetime]] = []
                queued: list[Queued] = []
                for candidate in candidates:
                    decision = self.decide(candidate, contexts[candidate.learner_id], now)
                    if isinstance(decision, datetime):
                        moves.append((candidate.learner_id, decision))
                    elif await store.claim(session, candidate, now):
                        queued.append(decision)
                await store.postpone(session, moves)
                written = await store.write_reminders(session, queued, now)
            report.postponed += len(moves)
            report.reminders += len(written)
            report.reviews += sum(1 for q in written if q.kind == "review")
            if not moves and not queued:  # every candidate was taken by another process meanwhile
                return
            await asyncio.sleep(0)  # the chats go first between batches

    def decide(self, candidate: Candidate, ctx: LearnerContext, now: datetime) -> Queued | datetime:
        """The reminder for a due learner, or when to look again: a period after their last activity
        when they were active lately, a period from now when there is nothing to say."""
        period = store.interval(candidate.rhythm, candidate.unanswered) or timedelta(days=7)
        rested = candidate.last_active_at + max(period, ACTIVE_WINDOW)
        if rested > now:
            return rested
        last = candidate.unanswered + 1 >= STOP_AFTER
        lesson = lesson_to_suggest(self.curriculum, ctx)
        review_turn = (candidate.sent + 1) % 2 == 0
        review = review_to_ask(self.curriculum, ctx, now) if review_turn or lesson is None else None
        if review is not None:
            reply = review_reply(candidate.name, *review, last=last)
            return Queued(candidate, "review", review[0].id, review[1].id, reply_to_json(reply))
        if lesson is not None:
            reply = lesson_reply(candidate.name, *lesson, last=last)
            return Queued(candidate, "lesson", lesson[0].id, None, reply_to_json(reply))
        return now + period

    # --- the mentors' weekly digest ---------------------------------------------------------------------
    async def _digests(self, now: datetime, where: Any, keys: set[str], report: RunReport) -> None:
        week = store.week_of(now)
        if self._digested[0] == week and keys <= self._digested[1]:
            return
        while True:
            async with self.sessions() as session, session.begin():
                mentors = await store.mentors_without_digest(
                    session, week, where, self.channels, self.digest_chunk
                )
                if not mentors:
                    done = self._digested[1] if self._digested[0] == week else set()
                    self._digested = (week, done | keys)
                    return
                facts = await store.mentee_facts(
                    session, [m.mentor_id for m in mentors], now - timedelta(days=7), self._core
                )
                for mentor in mentors:
                    if not await store.claim_digest(session, mentor.mentor_id, week, now):
                        continue
                    reply = self.digest_reply(facts.get(mentor.mentor_id, []), now)
                    if reply is not None:  # nothing to tell this week: recorded as done, nothing sent
                        await store.write_digest(session, mentor, week, reply_to_json(reply), now)
                        report.digests += 1
            await asyncio.sleep(0)

    async def weekly_digest(self, session: AsyncSession, mentor_id: int, now: datetime) -> Reply | None:
        """One mentor's digest of the last seven days, as it would be sent now; None when there is
        nothing to tell (nobody finished, got stuck or stopped the reminders)."""
        now = utc(now)
        facts = await store.mentee_facts(session, [mentor_id], now - timedelta(days=7), self._core)
        return self.digest_reply(facts.get(mentor_id, []), now)

    def digest_reply(self, mentees: list[MenteeFacts], now: datetime) -> Reply | None:
        finished = [m for m in mentees if m.finished]
        stuck = [
            (m, (now - m.last_active_at).days)
            for m in mentees
            if (now - m.last_active_at).days >= self.stuck_days and m.core_done < len(self._core)
        ]
        stopped = [m for m in mentees if m.stopped]
        if not (finished or stuck or stopped):
            return None
        lines = [texts.DIGEST_HEAD]
        if finished:
            lines.append(texts.DIGEST_FINISHED)
            for m in finished:
                titles = [self._title(lesson_id) for lesson_id in m.finished]
                lines.append(
                    texts.DIGEST_FINISHED_LINE.format(name=m.name or texts.NO_NAME, lessons=", ".join(titles))
                )
        if stuck:
            lines.append(texts.DIGEST_STUCK.format(days=self.stuck_days))
            lines.extend(
                texts.DIGEST_STUCK_LINE.format(name=m.name or texts.NO_NAME, days=days) for m, days in stuck
            )
        if stopped:
            lines.append(texts.DIGEST_STOPPED)
            lines.extend(
                texts.DIGEST_STOPPED_LINE.format(
                    name=m.name or texts.NO_NAME,
                    why=texts.DIGEST_WHY[m.stopped or "off"].format(stop=STOP_AFTER),
                )
                for m in stopped
            )
        buttons = [
            Button(texts.BTN_NUDGE.format(name=m.name or texts.NO_NAME), f"m:nudge:{m.learner_id}")
            for m, _ in stuck[:MAX_NUDGE_BUTTONS]
        ]
        if buttons:
            lines.append(texts.DIGEST_NUDGE_HINT)
        return Reply("\n".join(lines), (*buttons, Button(texts.BTN_MENTOR_HOME, "m:home")))

    def _title(self, lesson_id: str) -> str:
        lesson = self.curriculum.lesson(lesson_id)
        return lesson.title if lesson is not None else lesson_id
