"""Dashboard scale check: a commune of 20,000 learners and 500,000 learning events on SQLite.

Run: `.venv/bin/python bench/bench_dashboard.py [--learners 20000 --events 500000]`.
Events are quiz attempts, quiz answers and completions, spread over 2026 on the real curriculum, with
500 mentors. It times the dashboard overview, the per-lesson and mentor pages' queries, and the quarterly
report (queries + XLSX), the "Người học" list with its filters, name search, export and "Cần gọi
tuần này" (issue 18), each the median of several runs, and prints them in milliseconds and as ratios
against a trivial `count(*)` over the learners measured in the same run. The target is 0.5 s for the
overview, the quarterly report and each learner-list measurement; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from admin import learners as learner_export
from admin.reports import build_report, to_xlsx
from data import learners as learner_list
from data import stats
from data.commune import load_commune_config
from data.db import create_engine, migrate, session_factory
from data.models import Learner
from data.stats import Period
from lessons.loader import load_curriculum

START = datetime(2026, 1, 5, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def generate(
    path: Path, learners: int, events: int, lesson_ids: list[str], villages: list[str], core: list[str]
) -> int:
    """Fill the database with plain sqlite3 (fast bulk inserts); returns the number of events written.

    One learner in five works through the whole core curriculum (so the share of core finishers per
    village, the campaign's measure, is far from zero); the remaining events fall on random lessons.
    """
    rng = random.Random(6)
    db = sqlite3.connect(path)
    span = (NOW - START).total_seconds()

    def when(offset: float = 0.0) -> str:
        moment = START + timedelta(seconds=min(span, rng.random() * span + offset))
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    mentors = 500
    rows = []
    for n in range(1, learners + 1):
        mentor = rng.randint(1, mentors) if n > mentors and rng.random() < 0.7 else None
        registered = when()
        rows.append(
            (
                n,
                "zalo",
                f"user{n}",
                f"user{n}",
                f"Người học {n}",
                "tan-hoc",
                rng.choice(villages),
                "mentor" if n <= mentors else "learner",
                mentor,
                registered,
                registered,
                registered,
                when(),
            )
        )
    db.executemany(
        "INSERT INTO learners (id, channel, channel_user_id, chat_id, name, commune_id, village_id, role,"
        " mentor_id, consent_at, registered_at, created_at, last_active_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    attempts, answers, completions = [], [], []
    attempt_id = 0
    written = 0
    done: set[tuple[int, str]] = set()
    diligent = ((n, lesson) for n in range(5, learners + 1, 5) for lesson in core)
    while written < events:
        learner, lesson = next(diligent, (0, ""))
        if not learner:
            learner, lesson = rng.randint(1, learners), rng.choice(lesson_ids)
        attempt_id += 1
        started = when()
        passed = (lesson in core and learner % 5 == 0) or rng.random() < 0.75
        attempts.append((attempt_id, learner, lesson, started, started, 3 if passed else 1, 3, passed))
        for q in range(3):
            answers.append((attempt_id, lesson, f"q{q + 1}", 0, passed or q == 0, started))
        new = passed and (learner, lesson) not in done
        if new:
            done.add((learner, lesson))
            completions.append((learner, lesson, attempt_id, 3, 3, started))
        written += 4 + new
    db.executemany(
        "INSERT INTO quiz_attempts"
        " (id, learner_id, lesson_id, started_at, finished_at, correct, total, passed)"
        " VALUES (?,?,?,?,?,?,?,?)",
        attempts,
    )
    db.executemany(
        "INSERT INTO quiz_answers (attempt_id, lesson_id, question_id, chosen, is_correct, answered_at)"
        " VALUES (?,?,?,?,?,?)",
        answers,
    )
    cursor = db.executemany(
        "INSERT OR IGNORE INTO completions (learner_id, lesson_id, attempt_id, correct, total, completed_at)"
        " VALUES (?,?,?,?,?,?)",
        completions,
    )
    kept = cursor.rowcount
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return len(attempts) + len(answers) + kept


async def timed(work: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median wall time of `repeat` runs after one warm-up, in seconds."""
    await work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    commune = load_commune_config().communes[0]
    curriculum = load_curriculum()
    core = [lesson.id for lesson in curriculum.core_lessons]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate, url)
        start = time.perf_counter()
        written = generate(
            path,
            args.learners,
            args.events,
            [le.id for le in curriculum.lessons],
            [v.id for v in commune.villages],
            core,
        )
        print(
            f"generated {args.learners:,} learners and {written:,} events"
            f" in {time.perf_counter() - start:.1f} s"
        )
        print(
            f"curriculum: {len(curriculum.lessons)} lessons, {len(core)} core;"
            f" SQLite {sqlite3.sqlite_version}"
        )

        engine = create_engine(url, in_loop=False)  # the dashboard's engine, as `hocvuso run` serves it
        sessions = session_factory(engine)
        period = Period.parse("2026-Q4")

        async def baseline() -> object:
            async with sessions() as session:
                return await session.scalar(select(func.count()).select_from(Learner))

        async def overview() -> object:
            async with sessions() as session:
                return await stats.overview(session, commune, core, NOW)

        async def lessons_page() -> object:
            async with sessions() as session:
                return (
                    await stats.lessons(session, commune.id),
                    await stats.hardest_questions(session, commune.id),
                )

        async def mentors_page() -> object:
            async with sessions() as session:
                return await stats.mentors(session, commune, core, NOW)

        async def report_queries() -> object:
            async with sessions() as session:
                return await build_report(session, commune, curriculum, period, NOW)

        village = commune.villages[0].id

        def learner_list_page(
            flt: learner_list.LearnerFilter, page: int = 1
        ) -> Callable[[], Awaitable[object]]:
            async def work() -> object:
                async with sessions() as session:
                    return await learner_list.learners(session, commune.id, core, flt, NOW, page=page)

            return work

        async def learners_to_call() -> object:
            async with sessions() as session:
                return await learner_list.learners(
                    session,
                    commune.id,
                    core,
                    learner_list.LearnerFilter(status="stuck"),
                    NOW,
                    size=10,
                    order="recently-idle",
                )

        async def learners_xlsx() -> object:
            async with sessions() as session:
                flt = learner_list.LearnerFilter(village_id=village)
                rows, total = await learner_list.learners(session, commune.id, core, flt, NOW, size=0)
                names = await learner_list.mentor_names(session, commune.id, [r.mentor_id or 0 for r in rows])
            return learner_export.to_xlsx(
                learner_export.Listing(commune, rows, total, names, "một thôn", 7, NOW)
            )

        async def report_xlsx() -> object:
            async with sessions() as session:
                return to_xlsx(await build_report(session, commune, curriculum, period, NOW))

        base = await timed(baseline, args.repeat * 4)
        results = {
            "overview (dashboard first page)": await timed(overview, args.repeat),
            "quarterly report: queries": await timed(report_queries, args.repeat),
            "quarterly report: queries + XLSX": await timed(report_xlsx, args.repeat),
            "lessons page (per lesson + hardest questions)": await timed(lessons_page, args.repeat),
            "mentors page": await timed(mentors_page, args.repeat),
            "learners: page 1, no filter": await timed(
                learner_list_page(learner_list.LearnerFilter()), args.repeat
            ),
            "learners: page 100, no filter": await timed(
                learner_list_page(learner_list.LearnerFilter(), 100), args.repeat
            ),
            "learners: village + stuck >= 7 days": await timed(
                learner_list_page(learner_list.LearnerFilter(village_id=village, status="stuck")), args.repeat
            ),
            "learners: finished core in Q4 + mentor": await timed(
                learner_list_page(learner_list.LearnerFilter(status="finished", period=period, mentor_id=7)),
                args.repeat,
            ),
            "learners: name search 'nguoi hoc 12'": await timed(
                learner_list_page(learner_list.LearnerFilter(search="nguoi hoc 12")), args.repeat
            ),
            "learners: name search + village + learning": await timed(
                learner_list_page(
                    learner_list.LearnerFilter(search="hoc 1", village_id=village, status="learning")
                ),
                args.repeat,
            ),
            "overview: who to call this week": await timed(learners_to_call, args.repeat),
            "learner list XLSX export, one village": await timed(learners_xlsx, args.repeat),
        }
        async with sessions() as session:
            data = await stats.overview(session, commune, core, NOW)
        await engine.dispose()

    print(
        f"overview figures: registered {data.registered:,}, completions {data.completions:,},"
        f" core finishers {data.finished_core:,}"
    )
    print(f"baseline: SELECT count(*) FROM learners = {base * 1000:.2f} ms (median of {args.repeat * 4})")
    print(f"{'measurement':48} {'ms':>9} {'x baseline':>11} {'target':>8}")
    for name, seconds in results.items():
        target = (
            "< 500" if name.startswith(("overview", "quarterly report: queries + XLSX", "learners:")) else ""
        )
        print(f"{name:48} {seconds * 1000:9.1f} {seconds / base:11.0f} {target:>8}")


if __name__ == "__main__":
    asyncio.run(main())
