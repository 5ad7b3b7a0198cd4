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
    "1",
    "thon bac",
    "bo qua",  # consent, name (confirmed), village, skip age
    "1",
    "2",
    "1",  # Học bài -> An toàn -> Giữ kín mã OTP
    "tiep",
    "1",
    "lam bai kiem tra",  # cards 2 and 3 (1 always goes forward), then the quiz
    "2",
    "1",
    "1",  # three right answers
    "0",
    "3",  # menu -> progress
]

# A learner who never types a number: every step in words, as people say them, without diacritics.
WORDS_ONLY = [
    "chao chau",
    "dong y a",
    "toi ten la nguyen thi hoa",
    "dung roi chau",
    "o thon bac",
    "khong muon noi",  # the age group is optional
    "cho bac hoc bai",
    "an toan",
    "giu kin ma otp",
    "tiep",
    "doc tiep",
    "lam bai kiem tra",
    "khong bao gio",
    "mot lan",
    "goi ngay cho ngan hang",  # three answers in the options' own words: the lesson is passed
    "hoc bai",
    "an toan",
    "duong link la",
    "tiep di chau",  # the next lesson, left at card 2 when the terminal closes
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


def test_a_learner_who_types_only_words_passes_a_quiz_and_continues_after_a_restart(tmp_path: Path) -> None:
    out = run_chat(WORDS_ONLY, tmp_path)
    assert "Cháu ghi tên bác là Nguyen Thi Hoa, đúng không ạ?" in out
    assert "Cháu đã ghi nhận bác Nguyen Thi Hoa, Thôn Bắc" in out
    assert 'Bác đã hoàn thành bài "Giữ kín mã OTP", đúng 3/3 câu.' in out
    assert "Đường link lạ · thẻ 2/3" in out
    assert "Cháu chưa hiểu" not in out and "chưa có câu trả lời" not in out

    again = run_chat(["xin chao", "hoc tiep"], tmp_path)  # a new process: the database is all it has
    assert 'Bác đang học dở bài "Đường link lạ"' in again
    assert "1. ▶ Học tiếp: Đường link lạ" in again
    assert "Đường link lạ · thẻ 2/3" in again
