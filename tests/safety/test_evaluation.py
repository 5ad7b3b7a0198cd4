"""The labelled message set and the issue's targets on it (dev set; the held-out twin is not read here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safety.check import ScamChecker, ScamKind
from safety.evaluation import DEFAULT_MESSAGES, evaluate_scam, load_messages

LEGIT_KINDS = {
    "bank_otp",
    "balance",
    "bank_notice",
    "gov_notice",
    "delivery",
    "family",
    "neighbour",
    "commune",
    "shop",
    "bill",
}


def test_the_dev_set_is_large_labelled_and_sourced() -> None:
    data = yaml.safe_load(DEFAULT_MESSAGES.read_text(encoding="utf-8"))
    messages = data["messages"]
    assert len(messages) >= 320
    sources = data["sources"]
    for item in messages:
        assert item["label"] in ("scam", "legit")
        if item["label"] == "scam":
            assert item["kind"] in {kind.value for kind in ScamKind}
            assert item["source"] in sources, item
        else:
            assert item["kind"] in LEGIT_KINDS, item
    for source in sources.values():
        assert source["title"] and source["publisher"] and source["url"].startswith("http")
    scams = [m for m in messages if m["label"] == "scam"]
    assert {m["kind"] for m in scams} == {kind.value for kind in ScamKind}
    # mostly as received, with diacritics, some typed without
    plain = sum(1 for m in messages if m["text"].isascii())
    assert 0.1 * len(messages) < plain < 0.4 * len(messages)


def test_targets_on_the_dev_set(checker: ScamChecker) -> None:
    report = evaluate_scam(DEFAULT_MESSAGES, checker)
    assert report.recall >= 0.95
    assert report.false_alarm_rate <= 0.03
    assert all(flagged / n >= 0.9 for flagged, n in report.per_kind.values())


def test_a_bare_list_is_accepted_and_bad_labels_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("- {text: 'Mẹ ơi', label: legit, kind: family}\n", encoding="utf-8")
    assert [m.label for m in load_messages(good)] == ["legit"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("messages:\n  - {text: 'x', label: maybe}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"scam\|legit"):
        load_messages(bad)


def test_the_tuning_set_is_large_labelled_and_meets_the_targets(checker: ScamChecker) -> None:
    """The second-round tuning set: ≥ 150 legitimate messages that look alarming, ≥ 80 scams, every kind."""
    tune = DEFAULT_MESSAGES.with_name("scam_messages_tune.yaml")
    data = yaml.safe_load(tune.read_text(encoding="utf-8"))
    messages = data["messages"]
    legit = [m for m in messages if m["label"] == "legit"]
    scams = [m for m in messages if m["label"] == "scam"]
    assert len(legit) >= 150 and len(scams) >= 80
    assert {m["kind"] for m in scams} == {kind.value for kind in ScamKind}
    assert all(m["kind"] in LEGIT_KINDS for m in legit)
    assert all(m["source"] in data["sources"] for m in scams)
    report = evaluate_scam(tune, checker)
    assert report.recall >= 0.95 and report.false_alarm_rate <= 0.03
