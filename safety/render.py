"""The learner's reply to a checked message: verdict, what was found, what to do now, where to report.

Kind and short, for an elderly reader ("bác") on a phone: at most `MAX_REPLY_CHARS` characters and at most
three quoted signals, the strongest first, as many as fit. Never says a message is "safe": the mildest
verdict says only that no clear sign was found. The reporting channels are the ones the curriculum cites
(lessons/content/an-toan-so/10-bao-tin-rac-lua-dao.md): 5656 for messages, 156 for calls,
canhbao.khonggianmang.vn for websites.
"""

from __future__ import annotations

from safety.check import REPORT_CALL, REPORT_SMS, REPORT_WEB, Level, ScamCheck, Signal

MAX_REPLY_CHARS = 600
MAX_SIGNALS = 3
_FRAGMENT_CHARS = 36

ADVICE: dict[Level, str] = {
    Level.VERY_LIKELY: (
        "Bác đừng bấm link, đừng chuyển tiền, đừng đọc mã cho ai. Cần hỏi thì gọi số in trên thẻ, "
        "hóa đơn, không gọi số trong tin. Lỡ đưa tiền hay mã: gọi ngân hàng ngay, rồi gọi 113."
    ),
    Level.SUSPICIOUS: (
        "Bác chưa làm theo vội: đừng bấm link, chuyển tiền hay đọc mã. Hỏi con cháu hoặc gọi số in trên "
        "thẻ, hóa đơn, không gọi số trong tin. Lỡ đưa tiền hay mã: gọi ngân hàng ngay, rồi gọi 113."
    ),
    Level.NO_CLEAR_SIGN: (
        "Dù vậy, tin nào đòi tiền, đòi mã OTP, bảo bấm link hay cài ứng dụng thì bác đừng làm theo; "
        "hỏi con cháu hoặc gọi số in trên thẻ, hóa đơn."
    ),
}
_REPORT_TEXT = {
    REPORT_SMS: "nhắn tin báo về 5656",
    REPORT_CALL: "gọi 156 báo cuộc gọi lừa",
    REPORT_WEB: "báo trang lừa ở canhbao.khonggianmang.vn",
}


def _fragment(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _overlaps(a: str, b: str) -> bool:
    a, b = a.lower().rstrip("…"), b.lower().rstrip("…")
    return a in b or b in a


def _signal_line(signal: Signal, limit: int) -> str:
    return f"• “{_fragment(signal.fragment, limit)}”: {signal.explanation}"


def _report_line(result: ScamCheck) -> str:
    parts = [_REPORT_TEXT[channel] for channel in result.report_to if channel in _REPORT_TEXT]
    return "Báo cho cơ quan chức năng: " + ", ".join(parts) + "." if parts else ""


def render(result: ScamCheck) -> str:
    """The Vietnamese reply for one checked message (at most 600 characters, at most 3 signals)."""
    head = result.verdict + ("." if result.level is Level.NO_CLEAR_SIGN else "")
    tail: list[str] = [ADVICE[result.level]]
    if result.level is not Level.NO_CLEAR_SIGN:
        report = _report_line(result)
        if report:
            tail.append(report)
        if result.lesson_title:
            tail.append(f"📖 Bài học: {result.lesson_title}")
    shown: list[Signal] = []
    for signal in result.signals:
        # the same words quoted twice (a link that is both a look-alike and "bấm vào link") teach nothing new
        if signal.weight > 0 and not any(_overlaps(signal.fragment, s.fragment) for s in shown):
            shown.append(signal)
    shown = shown[:MAX_SIGNALS]
    intro = "Cháu thấy:" if result.level is not Level.NO_CLEAR_SIGN else "Lưu ý:"

    def compose(lines: list[str]) -> str:
        body = [head]
        if lines:
            body += [intro, *lines]
        return "\n".join([*body, *tail])

    # as many signals as fit, strongest first; shorter quotes before fewer signals
    for count in range(len(shown), -1, -1):
        for limit in (_FRAGMENT_CHARS, 24):
            reply = compose([_signal_line(s, limit) for s in shown[:count]])
            if len(reply) <= MAX_REPLY_CHARS:
                return reply
    # only reachable if the fixed parts alone are too long (a very long lesson title): drop the title
    return compose([])[:MAX_REPLY_CHARS]
