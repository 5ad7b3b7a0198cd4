"""`hocvuso scam check` and `hocvuso eval --scam` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app as cli


def test_scam_check_prints_json() -> None:
    result = CliRunner().invoke(
        cli, ["scam", "check", "Bác đọc giúp cháu mã OTP vừa gửi về máy, gấp lắm", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["level"] == "very_likely"
    assert data["verdict"] == "⚠️ Rất có thể là lừa đảo"
    assert data["kind"] == "otp_theft"
    assert data["lesson_id"] == "an-toan-so-ma-otp"
    assert any(s["kind"] == "asks_code" and "mã OTP" in s["fragment"] for s in data["signals"])
    assert data["reply"].startswith("⚠️ Rất có thể là lừa đảo")


def test_scam_check_prints_signals_and_reply_as_text() -> None:
    result = CliRunner().invoke(cli, ["scam", "check", "Mẹ ơi chiều con về ăn cơm nhé"])
    assert result.exit_code == 0, result.output
    assert "Cháu chưa thấy dấu hiệu lừa đảo rõ ràng" in result.output


def test_eval_scam_on_a_given_set(tmp_path: Path) -> None:
    messages = tmp_path / "messages.yaml"
    messages.write_text(
        "messages:\n"
        "  - {label: scam, kind: otp_theft, text: 'Bác đọc giúp cháu mã OTP vừa gửi về máy'}\n"
        "  - {label: scam, kind: relative, text: 'Có tiền không cho mượn 10 triệu, chiều trả'}\n"
        "  - {label: legit, kind: family, text: 'Mẹ ơi chiều con về ăn cơm nhé'}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["eval", "--scam", "--messages", str(messages), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["scams"] == 2 and report["legit"] == 1
    assert report["recall_per_kind"]["otp_theft"] == {"flagged": 1, "n": 1, "recall": 1.0}
    assert report["false_alarm_rate"] == 0.0
    assert report["confusion"]["legit"]["no_clear_sign"] == 1

    table = CliRunner().invoke(cli, ["eval", "--scam", "--messages", str(messages)])
    assert table.exit_code == 0, table.output
    assert "label × level" in table.output and "scams flagged 2/2" in table.output
