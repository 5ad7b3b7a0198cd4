"""The console chat as a new user meets it: a piped journey, then a second run that keeps progress."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_CURRICULUM

JOURNEY = [
    "xin chao",
    "1",
    "Nguyen Thi Hoa",
    "thon bac",
    "bo qua",  # consent, name, village, skip age
    "1",
    "2",
    "1",  # Học bài -> An toàn -> Giữ kín mã OTP
    "tiep",
    "2",
    "lam bai kiem tra",  # cards 2 and 3, then the quiz
    "2",
    "1",
    "1",  # three right answers
    "0",
    "3",  # menu -> progress
]


def run_chat(lines: list[str], data_dir: Path) -> str:
    env = {**os.environ, "HOCVUSO_DATA_DIR": str(data_dir), "HOCVUSO_CONTENT_DIR": str(FIXTURE_CURRICULUM)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "hoa", "--no-retrieval"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def test_piped_journey_then_progress_is_kept_across_runs(tmp_path: Path) -> None:
    out = run_chat(JOURNEY, tmp_path)
    assert "Cháu đã ghi nhận bác Nguyen Thi Hoa, Thôn Bắc" in out
    assert "thẻ 3/3" in out
    assert 'Chúc mừng bác! Bác đã hoàn thành bài "Giữ kín mã OTP", đúng 3/3 câu.' in out
    assert "Đã xong 1/3 bài" in out

    again = run_chat(["/tiendo"], tmp_path)
    assert "Tiến độ của bác Nguyen Thi Hoa" in again
    assert "Đã xong 1/3 bài" in again
    assert "Đồng ý" not in again  # not asked to register again
