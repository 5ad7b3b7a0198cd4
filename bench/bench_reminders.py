"""Reminders at scale: 10,000 learners over 60 days on a simulated clock, SQLite in a temporary directory.

Run: `.venv/bin/python bench/bench_reminders.py [--learners 10000 --days 60 --step 15]`.

The real scheduler (`bot.reminders.Scheduler`) runs every `--step` simulated minutes against the real
schema, with the real curriculum and two communes (the sample's default quiet hours, and one with later
evenings). Between passes the outbox is drained the way `bot.outbox.OutboxWorker` paces it (25 messages a
second on Telegram, 10 on Zalo), giving each message the moment it would land. Learners come back on their
own now and then (about one day in twelve, in waking hours) and after a reminder with some probability,
answer review questions, finish lessons, miss quiz questions and sometimes turn reminders off; Zalo is down
for twelve hours on day 20. It prints the reminders delivered per learner per week (by rhythm, with the
most any learner got in one week), the messages that would have landed in quiet hours (must be 0), the
dashboard's figures, and the scheduler's time per pass against a baseline measured in the same run (an
indexed count of due settings). This script reports; it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update

from bot.outbox import DEFAULT_RATES
from bot.reminders import Scheduler
from data import reminders as store
from data.commune import VIETNAM_TIME, Commune, CommuneConfig, load_commune_config
from data.db import create_engine, migrate, session_factory
from data.models import Broadcast, Learner, OutboxMessage, Reminder, ReminderSetting
from lessons.loader import load_curriculum

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 2 November 2026, 07:00 in Vietnam
FMT = "%Y-%m-%d %H:%M:%S.%f"
VISITS_PER_DAY = 1 / 12  # a learner comes back on their own about every twelve days
REPLY_CHANCE = {"lesson": 0.35, "review": 0.45}
OUTAGE = (timedelta(days=20, hours=1), timedelta(days=20, hours=13))  # Zalo down 08:00-20:00 in Vietnam


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def communes() -> CommuneConfig:
    sample = load_commune_config().communes[0]
    late = Commune(
        id="xa-muon",
        name="Xã Muộn",
        province=sample.province,
        villages=sample.villages,
        targets=sample.targets,
        quiet_hours=("22:00-06:30", "11:30-13:30", "18:00-19:30"),
    )
    return CommuneConfig(communes=[sample, late])


def waking(moment: datetime, rng: random.Random) -> datetime:
    """People write between 06:30 and 21:30: a moment outside moves to the next morning."""
    local = moment.astimezone(VIETNAM_TIME)
    minutes = local.hour * 60 + local.minute
    if 390 <= minutes <= 1290:
        return moment
    day = local.date() if minutes < 390 else local.date() + timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 6, 30, tzinfo=VIETNAM_TIME)
    return (morning + timedelta(minutes=rng.uniform(0, 180))).astimezone(UTC)


def generate(
    path: Path, learners: int, lessons: list[str], questions: dict[str, list[str]], rng: random.Random
) -> dict[int, str]:
    """Learners, their reminder choices, progress and missed questions, written with plain sqlite3.
    Returns each opted-in learner's rhythm."""
    db = sqlite3.connect(path)
    mentors = max(1, learners // 100)
    rows, settings, states, completions, items = [], [], [], [], []
    rhythms: dict[int, str] = {}
    for n in range(1, learners + 1):
        joined = START - timedelta(days=rng.uniform(1, 60))
        active = START - timedelta(hours=rng.uniform(0, 96))
        commune = "xa-muon" if n % 5 == 0 else "tan-hoc"
        channel = "zalo" if rng.random() < 0.6 else "telegram"
        mentor = rng.randint(1, mentors) if n > mentors and rng.random() < 0.7 else None
        rows.append(
            (
                n,
                channel,
                f"u{n}",
                f"c{n}",
                f"Người học {n}",
                commune,
                "thon-dong",
                "mentor" if n <= mentors else "learner",
                mentor,
                joined.strftime(FMT),
                joined.strftime(FMT),
                joined.strftime(FMT),
                active.strftime(FMT),
            )
        )
        draw = rng.random()
        rhythm = "weekly" if draw < 0.45 else "3d" if draw < 0.8 else "off" if draw < 0.9 else None
        if rhythm is not None:
            chosen = START - timedelta(days=rng.uniform(0, 10))
            due = chosen + timedelta(days=7 if rhythm == "weekly" else 3) if rhythm != "off" else None
            settings.append(
                (
                    n,
                    rhythm,
                    rhythm if rhythm != "off" else "weekly",
                    0,
                    0,
                    0,
                    due.strftime(FMT) if due else None,
                    chosen.strftime(FMT),
                    chosen.strftime(FMT),
                )
            )
            if rhythm != "off":
                rhythms[n] = rhythm
        done = rng.sample(lessons, rng.randint(0, 5))
        for lesson in done:
            completions.append((n, lesson, 2, 2, (joined + timedelta(days=rng.uniform(0, 1))).strftime(FMT)))
        if rng.random() < 0.3:
            lesson = rng.choice(lessons)
            for question in rng.sample(questions[lesson], 1):
                due = START + timedelta(days=rng.uniform(-5, 5))
                items.append(
                    (n, lesson, question, 0, due.strftime(FMT), 0, START.strftime(FMT), START.strftime(FMT))
                )
        if rng.random() < 0.2:
            open_lesson = rng.choice([le for le in lessons if le not in done])
            states.append((n, f'{{"step": "menu", "open": "{open_lesson}"}}', START.strftime(FMT)))
    db.executemany(
        "INSERT INTO learners (id, channel, channel_user_id, chat_id, name, commune_id, village_id, role,"
        " mentor_id, consent_at, registered_at, created_at, last_active_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.executemany(
        "INSERT INTO reminder_settings (learner_id, rhythm, preferred, unanswered, paused, sent, due_at,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        settings,
    )
    db.executemany("INSERT INTO conversation_states (learner_id, state, updated_at) VALUES (?,?,?)", states)
    db.executemany(
        "INSERT INTO completions (learner_id, lesson_id, correct, total, completed_at) VALUES (?,?,?,?,?)",
        completions,
    )
    db.executemany(
        "INSERT INTO review_items (learner_id, lesson_id, question_id, step, due_at, reviews, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?)",
        items,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return rhythms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--step", type=int, default=15, help="simulated minutes between scheduler passes")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    curriculum = load_curriculum()
    config = communes()
    by_id = {c.id: c for c in config.communes}
    lessons = [lesson.id for lesson in curriculum.lessons]
    questions = {lesson.id: [q.id for q in lesson.quiz.questions] for lesson in curriculum.lessons}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate, url)
        started = time.perf_counter()
        rhythms = generate(path, args.learners, lessons, questions, rng)
        weekly = sum(r == "weekly" for r in rhythms.values())
        print(
            f"generated {args.learners:,} learners ({len(rhythms):,} with reminders on: {weekly:,} weekly,"
            f" {len(rhythms) - weekly:,} every 3 days) in {time.perf_counter() - started:.1f} s;"
            f" SQLite {sqlite3.sqlite_version}"
        )
        engine = create_engine(url)  # in the event loop, as `hocvuso run` serves it
        sessions = session_factory(engine)
        clock = SimClock(START)
        scheduler = Scheduler(sessions, curriculum, config, clock, channels=["telegram", "zalo"])
        commune_of: dict[int, str] = {}
        channel_of: dict[int, str] = {}
        async with sessions() as session:
            for learner_id, commune_id, channel in await session.execute(
                select(Learner.id, Learner.commune_id, Learner.channel)
            ):
                commune_of[learner_id], channel_of[learner_id] = commune_id, channel

        # organic visits, known in advance; replies are added as reminders land
        events: list[tuple[datetime, int, str]] = []
        end = START + timedelta(days=args.days)
        for learner_id in range(1, args.learners + 1):
            moment = START
            while True:
                moment += timedelta(days=rng.expovariate(VISITS_PER_DAY))
                if moment >= end:
                    break
                events.append((waking(moment, rng), learner_id, "visit"))
        heapq.heapify(events)

        async def baseline() -> object:
            async with sessions() as session:
                return await session.scalar(
                    select(func.count())
                    .select_from(ReminderSetting)
                    .where(ReminderSetting.due_at <= clock.now())
                )

        async def timed(work: Callable[[], Awaitable[object]]) -> float:
            begin = time.perf_counter()
            await work()
            return time.perf_counter() - begin

        busy_runs: list[float] = []
        idle_runs: list[float] = []
        quiet_runs: list[float] = []
        base_times: list[float] = []
        delivered: list[tuple[int, datetime, str]] = []  # learner, landed, kind (lesson | review | digest)
        in_quiet = Counter[str]()
        pending_review: dict[int, tuple[str, str]] = {}
        expired = replies = visits = turned_off = answers = 0
        step = timedelta(minutes=args.step)
        outage = (START + OUTAGE[0], START + OUTAGE[1])
        sim_started = time.perf_counter()
        now = START
        while now < end:
            clock.current = now
            # what learners did since the last pass
            async with sessions() as session, session.begin():
                while events and events[0][0] <= now:
                    at, learner_id, kind = heapq.heappop(events)
                    await session.execute(
                        update(Learner).where(Learner.id == learner_id).values(last_active_at=at)
                    )
                    await store.on_activity(session, learner_id, at)
                    visits += kind == "visit"
                    replies += kind == "reply"
                    asked = pending_review.pop(learner_id, None) if kind == "reply" else None
                    if asked is not None:
                        await store.review_answer(session, learner_id, *asked, rng.random() < 0.6, at)
                        answers += 1
                    if rng.random() < 0.25:
                        await store.record_miss(session, learner_id, *_random_question(rng, questions), at)
                    if kind == "reply" and rng.random() < 0.04:
                        await store.set_rhythm(session, learner_id, "off", at)
                        turned_off += 1
            # one scheduler pass, timed
            begin = time.perf_counter()
            report = await scheduler.run_once(now)
            seconds = time.perf_counter() - begin
            expired += report.expired
            (
                busy_runs if report.reminders or report.digests else quiet_runs if report.quiet else idle_runs
            ).append(seconds)
            if len(base_times) < 300 and (now - START) // step % 20 == 0:
                base_times.append(await timed(baseline))
            # the outbox drains at each channel's pace; a message lands when its turn comes
            down = outage[0] <= now < outage[1]
            async with sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(
                            OutboxMessage.id,
                            OutboxMessage.learner_id,
                            OutboxMessage.channel,
                            Broadcast.kind,
                            Reminder.kind,
                            Reminder.lesson_id,
                            Reminder.question_id,
                        )
                        .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
                        .outerjoin(
                            Reminder,
                            (Reminder.broadcast_id == OutboxMessage.broadcast_id)
                            & (Reminder.learner_id == OutboxMessage.learner_id),
                        )
                        .where(OutboxMessage.status == "pending")
                        .order_by(OutboxMessage.id)
                    )
                ).all()
                turn = Counter[str]()
                sent: list[dict[str, object]] = []
                for row_id, learner_id, channel, broadcast_kind, kind, lesson_id, question_id in rows:
                    if down and channel == "zalo":
                        continue
                    turn[channel] += 1
                    landed = now + timedelta(seconds=turn[channel] / DEFAULT_RATES[channel])
                    sent.append({"id": row_id, "status": "sent", "sent_at": landed})
                    what = "digest" if broadcast_kind == "digest" else str(kind)
                    delivered.append((learner_id, landed, what))
                    if by_id[commune_of[learner_id]].is_quiet(landed):
                        in_quiet[what] += 1
                    if what == "review" and lesson_id and question_id:
                        pending_review[learner_id] = (lesson_id, question_id)
                    if what != "digest" and rng.random() < REPLY_CHANCE[what]:
                        heapq.heappush(
                            events,
                            (
                                waking(landed + timedelta(hours=rng.expovariate(1 / 8)), rng),
                                learner_id,
                                "reply",
                            ),
                        )
                if sent:
                    await session.execute(update(OutboxMessage), sent)
            now += step
            if (now - START) % timedelta(days=7) < step:  # a line a simulated week, on stderr
                print(
                    f"  day {(now - START).days}: {time.perf_counter() - sim_started:.0f} s", file=sys.stderr
                )
        simulated = time.perf_counter() - sim_started
        async with sessions() as session:
            paused = await session.scalar(select(func.count()).where(ReminderSetting.paused.is_(True)))
            figures = [
                (c.id, await store.reminder_stats(session, c.id, month))
                for month in ("2026-11", "2026-12")
                for c in config.communes
            ]
        await engine.dispose()

    print(
        f"simulated {args.days} days, a pass every {args.step} min"
        f" ({len(busy_runs) + len(idle_runs) + len(quiet_runs):,} passes) in {simulated:.0f} s;"
        f" {visits:,} visits, {replies:,} replies to reminders, {answers:,} review answers,"
        f" {turned_off:,} turned reminders off"
    )
    print_summary(args.days, rhythms, delivered, in_quiet, expired, paused or 0, figures)
    base = statistics.median(base_times)
    print(f"baseline: indexed count of due settings = {base * 1000:.2f} ms (median of {len(base_times)})")
    print(
        f"{'scheduler pass':28} {'passes':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
        f" {'x baseline':>11}"
    )
    for name, runs in (
        ("queued something", busy_runs),
        ("nothing due", idle_runs),
        ("quiet hours (expiry only)", quiet_runs),
    ):
        if runs:
            ordered = sorted(runs)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            median = statistics.median(runs)
            print(
                f"{name:28} {len(runs):7,} {median * 1000:10.2f} {p95 * 1000:8.2f}"
                f" {max(runs) * 1000:8.1f} {median / base:11.1f}"
            )


def print_summary(
    days: int,
    rhythms: dict[int, str],
    delivered: list[tuple[int, datetime, str]],
    in_quiet: Counter[str],
    expired: int,
    paused: int,
    figures: list[tuple[str, store.ReminderStats]],
) -> None:
    weeks = days / 7
    reminders = [(learner, at, kind) for learner, at, kind in delivered if kind != "digest"]
    per_learner = Counter(learner for learner, _, _ in reminders)
    per_week: defaultdict[tuple[int, int], int] = defaultdict(int)
    for learner, at, _ in reminders:
        per_week[(learner, (at - START).days // 7)] += 1
    reviews = sum(kind == "review" for _, _, kind in reminders)
    digests = sum(kind == "digest" for _, _, kind in delivered)
    print(
        f"reminders delivered: {len(reminders):,} ({reviews:,} review questions); digests: {digests:,};"
        f" cancelled unsent near quiet hours (and tried again later): {expired:,}"
    )
    print(f"{'rhythm':8} {'learners':>9} {'reminders per learner per week':>31} {'most in one week':>17}")
    for rhythm in ("weekly", "3d"):
        group = [learner for learner, r in rhythms.items() if r == rhythm]
        total = sum(per_learner[learner] for learner in group)
        most = max((n for (learner, _), n in per_week.items() if rhythms.get(learner) == rhythm), default=0)
        print(f"{rhythm:8} {len(group):9,} {total / max(1, len(group)) / weeks:31.2f} {most:17}")
    print(f"messages that would have landed in quiet hours: {sum(in_quiet.values())} {dict(in_quiet) or ''}")
    print(f"paused after {store.STOP_AFTER} reminders without a reply, at the end: {paused:,}")
    for commune_id, figure in figures:
        print(
            f"dashboard {figure.month} {commune_id}: {figure.reminders_sent:,} reminders,"
            f" {figure.share_back_48h:.0%} of {figure.learners_reminded:,} reminded learners"
            f" back within 48 h;"
            f" review questions right first try {figure.review_right_first_try:,}, later"
            f" {figure.review_right_later:,}"
        )


def _random_question(rng: random.Random, questions: dict[str, list[str]]) -> tuple[str, str]:
    lesson = rng.choice(list(questions))
    return lesson, rng.choice(questions[lesson])


if __name__ == "__main__":
    asyncio.run(main())
