"""`hocvuso eval --dialogue`: how well the interpreter reads what learners type, screen by screen.

An utterance set (`tests/data/utterances.yaml`; its separately written twin
`tests/data/utterances_holdout.yaml` is never used for tuning) labels each text with the screen it is
typed on, optionally the options shown, and the meaning expected ("choice:2", "yes", "continue",
"name:Tran Van Ba", "village:thon-dong", "question", ...). Each is interpreted exactly as the engine
does and compared. Besides accuracy per meaning and per screen, it counts the non-questions that would
reach question search and so a mentor's queue: the harm the interpreter exists to prevent.

Two readings that make the engine do the same thing count as the same: a village picked by its number or
by its name ("choice:2" and "village:thon-tay" when Thôn Tây is option 2), and an option picked by its
number or by the wish its label says ("choice:1" and "continue" when option 1 is "▶ Bài tiếp theo").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.understand import Screen, interpret_text

DEFAULT_UTTERANCES = Path(__file__).resolve().parent.parent / "tests" / "data" / "utterances.yaml"
# what each screen shows when an utterance gives no options of its own (as the engine shows them)
DEFAULT_OPTIONS: dict[str, tuple[str, ...]] = {
    "consent": ("✅ Đồng ý", "❌ Không đồng ý"),
    "confirm": ("✅ Đúng rồi", "✏️ Sửa lại"),
    "village": ("Thôn Đông", "Thôn Tây", "Thôn Trung", "Thôn Bắc", "Tổ dân phố 1"),
    "age": ("Dưới 40 tuổi", "Từ 40 đến 59", "Từ 60 đến 69", "Từ 70 tuổi trở lên", "Bỏ qua"),
    "menu": ("📚 Học bài", "❓ Hỏi đáp", "📈 Tiến độ", "🆘 Trợ giúp"),
    "topics": (
        "📱 Làm quen điện thoại và Internet",
        "🪪 Ứng dụng VNeID",
        "🏛️ Dịch vụ công trực tuyến",
        "💳 Thanh toán số và ngân hàng",
        "🛡️ An toàn trên mạng",
        "🩺 Sức khỏe số",
        "🛒 Chợ số – mô hình 4T",
        "💬 Mạng xã hội và thông tin",
        "🤖 Trí tuệ nhân tạo (AI)",
        "🏠 Menu chính",
    ),
    "card": ("Tiếp ▶", "◀ Lại", "🏠 Menu chính"),
    "ask": ("🏠 Menu chính",),
    "after_quiz": ("▶ Bài tiếp theo", "📚 Các chủ đề", "🏠 Menu chính"),
}
VILLAGE_IDS = ("thon-dong", "thon-tay", "thon-trung", "thon-bac", "to-dan-pho-1")


@dataclass
class DialogueReport:
    """Accuracy overall, per expected meaning and per screen; the non-questions taken as questions."""

    total: int = 0
    correct: int = 0
    per_meaning: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_screen: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    non_questions: int = 0
    non_questions_to_queue: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def queue_rate(self) -> float:
        return self.non_questions_to_queue / self.non_questions if self.non_questions else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "non_questions": self.non_questions,
            "non_questions_to_queue": self.non_questions_to_queue,
            "queue_rate": round(self.queue_rate, 4),
            "per_meaning": {k: {"n": v[1], "correct": v[0]} for k, v in sorted(self.per_meaning.items())},
            "per_screen": {k: {"n": v[1], "correct": v[0]} for k, v in sorted(self.per_screen.items())},
            "errors": self.errors,
        }


def load_utterances(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["utterances"] if isinstance(data, dict) else data
    return [item for item in items if isinstance(item, dict) and "text" in item and "meaning" in item]


def same_action(got: str, expected: str, options: tuple[str, ...], ids: tuple[str, ...]) -> bool:
    """Whether two readings lead the engine to the same step (see the module's docstring)."""
    for one, other in ((got, expected), (expected, got)):
        kind, _, value = one.partition(":")
        if kind != "choice" or not value.isdigit() or not 1 <= int(value) <= len(options):
            continue
        n = int(value)
        if ids and len(ids) == len(options) and other == f"village:{ids[n - 1]}":
            return True
        said = interpret_text(options[n - 1], Screen("menu")).label  # the label read as typed words
        if ":" not in other and said == other and said not in {"question", "unclear"}:
            return True
    return False


def evaluate_dialogue(path: Path, today: date = date(2026, 12, 2)) -> DialogueReport:
    """Interpret every utterance on its screen and compare with its label."""
    report = DialogueReport()
    for item in load_utterances(path):
        name = str(item["screen"])
        options = tuple(str(o) for o in item.get("options") or DEFAULT_OPTIONS.get(name, ()))
        ids = VILLAGE_IDS if name == "village" and "options" not in item else ()
        got = interpret_text(str(item["text"]), Screen(name, options, ids), today=today).label
        expected = str(item["meaning"])
        kind = expected.split(":", 1)[0]
        ok = got == expected or same_action(got, expected, options, ids)
        report.total += 1
        report.correct += ok
        report.per_meaning[kind][0] += ok
        report.per_meaning[kind][1] += 1
        report.per_screen[name][0] += ok
        report.per_screen[name][1] += 1
        if kind != "question":
            report.non_questions += 1
            report.non_questions_to_queue += got == "question"
        if not ok:
            report.errors.append(
                {"screen": name, "text": str(item["text"]), "expected": expected, "got": got}
            )
    return report


def confusions(report: DialogueReport, top: int = 15) -> list[tuple[str, int]]:
    pairs = Counter(f"{e['expected'].split(':')[0]} -> {e['got'].split(':')[0]}" for e in report.errors)
    return pairs.most_common(top)
