"""Interpret once: (screen, message) -> what the learner means.

Every message is read here, in one place, before any screen acts on it. The result is a `Meaning`: a
choice among the options shown, yes / no, small talk (greeting, thanks, acknowledgement, goodbye), a
navigation wish (menu, progress, help, learn, ask, continue, back, again, quiz, stop, skip, change of
name / village / age, my data), a name, an age group, a village, a free question, or "unclear".
Navigation and small talk are recognised on every screen before anything is taken as a question, so a
"cảm ơn cháu" never reaches a mentor's queue and "xem tiến độ" is never searched in the lessons.

The phrases live in `bot/phrases.yaml`, written folded (no diacritics). A message is folded the same
way, its digits of any script made ASCII (NFKC: "②" -> 2), telex leftovers repaired ("tieps" -> tiep),
repeated letters squashed ("alooo" -> alo) and chat shorthand expanded ("ko" -> khong). Fillers and
address forms ("ạ", "nhé", "cháu ơi", "cho bác") are allowed around every phrase.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.messages import Incoming, Kind
from retrieval.normalize import expand_shorthand, fold, repair_telex

PHRASES_FILE = Path(__file__).with_name("phrases.yaml")
MAX_TOKENS = 40  # a longer message is a question or a story, never a menu wish
NAVIGATION = (
    "menu",
    "progress",
    "help",
    "learn",
    "ask",
    "continue",
    "back",
    "again",
    "quiz",
    "stop",
    "skip",
    "change_name",
    "change_village",
    "change_age",
    "reminders_off",
    "reminders_on",
    "my_data",
)
SMALL_TALK = ("goodbye", "thanks", "greeting", "ack")  # the first one present wins
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
    r"(uye|uya|uyu|ieu|yeu|uoi|uou|oai|oay|oeo|uay|uoi|[aeiouy]{1,3})"
    r"(ch|ng|nh|[cmnpt])?$"
)
_QUESTION_WORDS = (
    "sao",
    "the nao",
    "nhu the nao",
    "la gi",
    "gi",
    "o dau",
    "dau",
    "bao nhieu",
    "co phai",
    "cach",
    "lam sao",
    "tai sao",
    "vi sao",
    "khi nao",
    "bao gio",
    "ai",
    "nao",
    "khong",
    "chua",
    "duoc khong",
)


def _to_int(digits: str) -> int:
    """Digits of any script as a number ("²" and "٣" are digits too)."""
    return int("".join(str(unicodedata.digit(ch)) for ch in digits))


def clean_text(text: str) -> str:
    """NFKC (other scripts' digits become ASCII), control and direction marks and lone surrogate halves
    removed, trimmed."""
    text = _SURROGATES.sub("", text)
    return _CONTROL.sub("", unicodedata.normalize("NFKC", text)).strip()


@dataclass(frozen=True)
class Screen:
    """Where the learner is: the screen's name and the labels of the options shown, in order."""

    name: str
    options: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # what each option stands for, where a meaning names it (village ids)


@dataclass(frozen=True)
class Meaning:
    """What a message means. `value` holds the option number, name, age group, village id, button
    payload or command; `text` the cleaned message (for a question)."""

    kind: str
    value: str = ""
    text: str = ""

    @property
    def label(self) -> str:
        """ "choice:2", "yes", "name:Tran Van Ba": the form evaluation sets use."""
        return f"{self.kind}:{self.value}" if self.value and self.kind in _VALUED else self.kind


_VALUED = frozenset({"choice", "name", "age", "village"})


@dataclass(frozen=True)
class _Phrases:
    fillers: frozenset[str]
    lead_ins: frozenset[str]
    trailing: frozenset[str]
    small_talk: dict[str, frozenset[str]]
    yes: frozenset[str]
    yes_words: frozenset[str]
    no: frozenset[str]
    no_markers: frozenset[str]
    navigation: dict[str, frozenset[str]]
    choice_prefixes: frozenset[str]
    number_words: dict[str, int]
    letters: tuple[str, ...]
    name_lead_ins: frozenset[str]
    name_trailing: frozenset[str]
    not_names: frozenset[str]
    village_kinds: frozenset[str]
    village_lead_ins: frozenset[str]
    age_words: frozenset[str]
    topic_words: frozenset[str]
    anchors: dict[str, tuple[str, ...]]
    question_markers: frozenset[str]
    generic: frozenset[str]
    known: frozenset[str]
    longest: int


def _set(values: Any) -> frozenset[str]:
    return frozenset(" ".join(fold(str(v)).split()) for v in values or ())


@cache
def phrases(path: Path = PHRASES_FILE) -> _Phrases:
    """The phrase lists, loaded once."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    small_talk = {kind: _set(raw["small_talk"][kind]) for kind in SMALL_TALK}
    navigation = {kind: _set(raw["navigation"].get(kind, ())) for kind in NAVIGATION}
    every = [
        *raw["fillers"],
        *raw["lead_ins"],
        *raw["trailing"],
        *raw["agree"],
        *raw["refuse"],
        *raw["choice_prefixes"],
        *raw["number_words"],
        *raw["name_lead_ins"],
        *raw["village_kinds"],
        *raw["village_lead_ins"],
        *raw["age_words"],
        *raw["topic_words"],
        *(p for group in raw["anchors"].values() for p in group),
        *(p for group in raw["small_talk"].values() for p in group),
        *(p for group in raw["navigation"].values() for p in group),
    ]
    known = frozenset(word for phrase in every for word in fold(str(phrase)).split())
    sets = [*small_talk.values(), *navigation.values(), _set(raw["agree"]), _set(raw["refuse"])]
    return _Phrases(
        fillers=_set(raw["fillers"]),
        lead_ins=_set(raw["lead_ins"]),
        trailing=_set(raw["trailing"]),
        small_talk=small_talk,
        yes=_set(raw["agree"]),
        yes_words=_set(raw["agree_words"]),
        no=_set(raw["refuse"]),
        no_markers=_set(raw["refuse_markers"]),
        navigation=navigation,
        choice_prefixes=_set(raw["choice_prefixes"]),
        number_words={fold(k): int(v) for k, v in raw["number_words"].items()},
        letters=tuple(raw["letters"]),
        name_lead_ins=_set(raw["name_lead_ins"]),
        name_trailing=_set(raw["name_trailing"]),
        not_names=_set(raw["not_names"]),
        village_kinds=_set(raw["village_kinds"]),
        village_lead_ins=_set(raw["village_lead_ins"]),
        age_words=_set(raw["age_words"]),
        topic_words=_set(raw["topic_words"]),
        anchors={kind: tuple(_set(group)) for kind, group in raw["anchors"].items()},
        question_markers=_set(raw["question_markers"]),
        generic=_set(raw["generic"]),
        known=known,
        longest=max(len(p.split()) for group in sets for p in group),
    )


def tokens(text: str, extra_known: frozenset[str] = frozenset()) -> list[str]:
    """Folded words with telex leftovers repaired, repeated letters squashed, shorthand expanded."""
    p = phrases()
    known = p.known | extra_known
    out: list[str] = []
    for word in fold(text).split():
        if word not in known and not word.isdigit():
            squashed = _REPEATS.sub(r"\1", word)
            if squashed in known:
                word = squashed
            else:
                word = repair_telex(squashed, known)
                if word not in known:
                    single = re.sub(r"(\w)\1+", r"\1", word)
                    word = single if single in known else word
        out.extend(expand_shorthand(word))
    return out


def _segmentable(words: list[str], allowed: frozenset[str], longest: int) -> bool:
    """Whether the words split wholly into phrases of `allowed`."""
    n = len(words)
    ok = [False] * (n + 1)
    ok[0] = True
    for end in range(1, n + 1):
        for size in range(1, min(longest, end) + 1):
            if ok[end - size] and " ".join(words[end - size : end]) in allowed:
                ok[end] = True
                break
    return ok[n]


def _small_talk_kinds(words: list[str]) -> list[str]:
    """The small-talk kinds found by longest match, when the words are small talk and fillers only."""
    p = phrases()
    found: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(p.longest, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            kind = next((k for k in SMALL_TALK if phrase in p.small_talk[k]), None)
            if kind is not None:
                found.append(kind)
                i += size
                break
            if phrase in p.fillers:
                i += size
                break
        else:
            return []
    return found


def _wish(words: list[str]) -> str | None:
    """A navigation wish said with any fillers, lead-ins, small talk or trailing words around it."""
    p = phrases()
    if not words or len(words) > MAX_TOKENS:
        return None
    around = p.fillers | p.lead_ins | frozenset().union(*p.small_talk.values())
    after = p.fillers | p.trailing | frozenset().union(*p.small_talk.values())
    starts = [i for i in range(len(words) + 1) if _segmentable(words[:i], around, p.longest)]
    ends = [j for j in range(len(words) + 1) if _segmentable(words[j:], after, p.longest)]
    windows = sorted(((i, j) for i in starts for j in ends if j > i), key=lambda w: w[0] - w[1])
    for i, j in windows:
        phrase = " ".join(words[i:j])
        for kind in NAVIGATION:
            if phrase in p.navigation[kind]:
                return kind
    return None


def _has(words: list[str], phrase: str) -> bool:
    size = len(phrase.split())
    return any(" ".join(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def asks_something(words: list[str]) -> bool:
    """Whether the words hold a question marker ("cach", "lam sao") or name a topic ("vneid")."""
    p = phrases()
    return any(_has(words, m) for m in p.question_markers) or any(w in p.topic_words for w in words)


def _anchored(words: list[str]) -> str | None:
    """A wish or goodbye said inside a short sentence, found by its anchor phrase."""
    p = phrases()
    if len(words) > 16 or asks_something(words):
        return None
    for kind, anchors in p.anchors.items():
        if any(_has(words, a) for a in anchors):
            return kind
    return None


def _number(words: list[str], letters: bool) -> int | None:
    """The option number a reply names: "2", "so 2", "cau b", "dap an hai", "cai thu ba"."""
    whole = _number_core(words, letters)
    if whole is not None:
        return whole
    core = list(words)
    polite = {"a", "nhe", "nha", "oi", "chau oi", "voi", "di", "vay", "a chau", "nhe chau", "ak", "ah"}
    while len(core) > 1 and core[-1] in polite:
        core.pop()
    while len(core) > 1 and core[0] in {"chau oi", "bac", "toi", "em", "chau", "oi"}:
        core.pop(0)
    if not core:
        return None
    return _number_core(core, letters)


def _number_core(core: list[str], letters: bool) -> int | None:
    p = phrases()
    # strip the prefix words ("dap an", "cai thu", "chon so")
    i = 0
    while i < len(core) - 1:
        two = " ".join(core[i : i + 2])
        if two in p.choice_prefixes:
            i += 2
        elif core[i] in p.choice_prefixes:
            i += 1
        else:
            break
    rest = core[i:]
    if len(rest) != 1:
        return None
    word = rest[0]
    if word.isdigit() and len(word) <= 3:
        return _to_int(word)
    if letters and word in p.letters:
        return p.letters.index(word) + 1
    if word in p.number_words and (i > 0 or len(core) == 1):
        return p.number_words[word]
    return None


def _option_words(words: list[str], options: tuple[str, ...]) -> int | None:
    """An option named by its words: all of them, or some that no other option has."""
    labels = [fold(label).split() for label in options]
    if not words:
        return None
    exact = [n for n, label in enumerate(labels, 1) if label == words]
    if exact:
        return exact[0]
    p = phrases()
    for content in (words, [w for w in words if w not in p.fillers and w not in p.generic]):
        short = sum(len(w) for w in content) < 3 and not any(ch.isdigit() for w in content for ch in w)
        if not content or (short and content != ["ai"]):  # "la" (lạ? là?) picks nothing; "4t", "AI" do
            continue
        within = [n for n, label in enumerate(labels, 1) if set(content) <= set(label)]
        if len(within) == 1:
            return within[0]
    # a short reply sharing most of its words with one option only ("bam link cai ngay")
    content = [w for w in words if w not in p.fillers]
    if len(content) < 2 or len(content) > 6 or asks_something(content):
        return None
    shares = sorted(
        ((len(set(content) & set(label)) / len(set(content)), n) for n, label in enumerate(labels, 1)),
        reverse=True,
    )
    if len(shares) > 1 and shares[0][0] >= 0.6 and shares[0][0] - shares[1][0] >= 0.3:
        return shares[0][1]
    return None


def _yes_no(words: list[str]) -> str | None:
    """Agreement or refusal, said any way ("vang a", "ok toi dong y", "ko", "thoi khong can")."""
    p = phrases()
    if asks_something(words) or any(w in {"gi", "sao", "nao"} for w in words):
        return None
    thanks = p.small_talk["thanks"] | p.small_talk["greeting"]
    if any(_has(words, t) for t in thanks if len(t.split()) > 1):
        words = [w for w in words if w not in {"cam", "on", "chao"}]
    text = " ".join(words)
    if text in p.no:
        return "no"
    if text in p.yes:
        return "yes"
    core = [w for w in words if w not in p.fillers or w in p.yes_words]
    if not core:
        return None
    no_words = frozenset(w for phrase in p.no for w in phrase.split())
    if any(w in p.no_markers for w in core) or "tu choi" in text:
        return "no" if all(w in p.yes_words | no_words for w in core) else None
    if all(w in p.yes_words for w in core) or "dong y" in text:
        return "yes"
    return None


def age_group_of(age: int) -> str:
    if age < 40:
        return "duoi-40"
    if age < 60:
        return "40-59"
    return "60-69" if age < 70 else "70-plus"


def _spoken_number(words: list[str]) -> int | None:
    """ "bay muoi ba" -> 73, "sau muoi tam" -> 68 (ages said in words)."""
    p = phrases()
    digits = {k: v for k, v in p.number_words.items() if v < 10} | {"lam": 5, "mot": 1, "tu": 4, "nam": 5}
    for i, w in enumerate(words[:-1]):
        if w in digits and words[i + 1] in {"muoi", "chuc"}:
            unit = digits.get(words[i + 2], 0) if i + 2 < len(words) else 0
            return digits[w] * 10 + unit
    return None


def _age(words: list[str], today: date, options: int) -> Meaning | None:
    numbers = [_to_int(w) for w in words if w.isdigit() and len(w) <= 4]
    if not numbers:
        spoken = _spoken_number(words)
        numbers = [spoken] if spoken is not None else []
    if not numbers or (len(numbers) > 1 and not _has(words, "den")):
        return None
    value = numbers[0] - (1 if "duoi" in words and len(numbers) == 1 and numbers[0] > 20 else 0)
    if 1900 <= value <= today.year:
        value = today.year - value
    elif len(words) == 1 and value <= options:
        return Meaning("choice", str(value))
    if not 10 <= value <= 120:
        return None
    return Meaning("age", age_group_of(value))


def _village(words: list[str], options: tuple[str, ...]) -> int | None:
    p = phrases()

    def distinctive(ws: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(ws):
            for size in (3, 2, 1):
                if " ".join(ws[i : i + size]) in p.village_kinds:
                    i += size
                    break
            else:
                w = ws[i]
                out.append(str(p.number_words[w]) if w in p.number_words and w != "nam" else w)
                i += 1
        return out

    names = [distinctive(fold(label).split()) for label in options]
    naming = frozenset(w for name in names for w in name)
    core = list(words)
    while core and core[-1] in p.fillers and core[-1] not in naming:
        core.pop()
    for _ in range(3):
        for size in (3, 2, 1):
            if " ".join(core[:size]) in p.village_lead_ins | p.fillers:
                core = core[size:]
                break
    typed = distinctive(core)
    if not typed:
        return None
    exact = [n for n, name in enumerate(names, 1) if name and name == typed]
    if len(exact) == 1:
        return exact[0]
    within = [n for n, name in enumerate(names, 1) if name and set(name) <= set(typed)]
    if len(within) == 1 and len(typed) <= len(names[within[0] - 1]) + 3:
        return within[0]
    return None


_NAME_LEAD = frozenset(
    [
        "toi",
        "tui",
        "bac",
        "ong",
        "ba",
        "co",
        "chu",
        "anh",
        "chi",
        "em",
        "con",
        "chau",
        "minh",
        "cu",
        "cua",
        "ho",
        "va",
        "ten",
        "la",
        "goi",
        "day",
        "ghi",
        "giup",
        "voi",
    ]
)


def _name(text: str) -> Meaning | None:
    """A name with its lead-ins and particles removed, each word capitalised; None if not a name."""
    p = phrases()
    originals = [w for w in re.sub(r"[^\w\s'-]", " ", text).split() if fold(w)]
    folded = [fold(w) for w in originals]
    # "ông tên là …", "bà là …", "cháu cứ gọi bác là …": address words up to a naming word
    run = 0
    while run < len(folded) - 1 and folded[run] in _NAME_LEAD:
        run += 1
    last_naming = max((i for i in range(run) if folded[i] in {"ten", "la", "goi"}), default=-1)
    if last_naming >= 0:
        originals, folded = originals[last_naming + 1 :], folded[last_naming + 1 :]
    changed = True
    while changed and folded:
        changed = False
        for size in range(min(5, len(folded)), 0, -1):
            head = " ".join(folded[:size])
            if (
                head in p.name_lead_ins
                or head in p.fillers - {"ba", "ong", "con", "em"}
                or any(head in group for group in p.small_talk.values())
            ):
                if size == len(folded):
                    break
                originals, folded, changed = originals[size:], folded[size:], True
                break
        for size in range(min(3, len(folded)), 0, -1):
            tail = " ".join(folded[-size:])
            if (tail in p.name_trailing or tail in p.small_talk["thanks"]) and size < len(folded):
                originals, folded, changed = originals[:-size], folded[:-size], True
                break
    if not originals or len(originals) > 6 or not any(ch.isalpha() for w in originals for ch in w):
        return None
    mixed = any(
        any(ch.isdigit() for ch in w) and (any(ch.isalpha() for ch in w) or len(w) > 3) for w in originals
    )
    if mixed:  # "Ơn1", "5ma", a long number: not part of anyone's name
        return None
    if all(w in p.not_names for w in folded):
        return None
    if asks_something(folded) or _has(folded, "khong muon") or _has(folded, "bi mat"):
        return None
    name = " ".join(w[:1].upper() + w[1:].lower() for w in originals)
    return Meaning("name", name)


def _looks_like_question(words: list[str]) -> bool:
    p = phrases()
    content = [w for w in words if w not in p.fillers]
    if not content:
        return False
    if len(content) == 1:
        return content[0] in p.topic_words
    plausible = sum(1 for w in content if _SYLLABLE.match(w) or w in p.known or w.isdigit())
    return plausible >= 0.6 * len(content)


def interpret(event: Incoming, screen: Screen, *, today: date | None = None) -> Meaning:
    """What the learner means by this event on this screen."""
    if event.kind is Kind.BUTTON:
        return Meaning("button", event.payload)
    if event.kind is Kind.COMMAND:
        return Meaning("command", event.text.lower(), event.payload)
    if event.kind is not Kind.TEXT:
        return Meaning("media", event.media)
    return interpret_text(event.text, screen, today=today)


def interpret_text(text: str, screen: Screen, *, today: date | None = None) -> Meaning:
    """The meaning of a typed text on a screen (see `interpret`)."""
    text = clean_text(text)
    if not text:
        return Meaning("empty")
    option_words = frozenset(w for label in screen.options for w in fold(label).split())
    words = tokens(text, option_words)
    if not words:
        return Meaning("unclear", "nowords", text)
    options = screen.options
    name = screen.name
    if len(words) == 1 and words[0].isdigit() and _to_int(words[0]) == 0:
        return Meaning("menu", text=text)
    if name in {"consent", "confirm"}:
        if len(words) == 1 and words[0].isdigit() and 1 <= _to_int(words[0]) <= len(options):
            return Meaning("choice", str(_to_int(words[0])), text)
        verdict = _yes_no(words)
        if verdict is not None:
            return Meaning(verdict, text=text)
    if name == "age":
        age = _age(words, today or date.today(), len(options))
        if age is not None:
            return Meaning(age.kind, age.value, text)
    if name == "village" and options:
        village = _village(words, options)
        if village is not None:
            ids = screen.ids
            return Meaning("village", ids[village - 1] if len(ids) == len(options) else str(village), text)
    number = _number(words, letters=name == "quiz") if len(words) <= 6 else None
    if number is not None:
        if 1 <= number <= len(options):
            return Meaning("choice", str(number), text)
        if name != "name":
            return Meaning("unclear", "range", text)
    kinds = _small_talk_kinds(words) if len(words) <= MAX_TOKENS else []
    if kinds and name not in {"consent", "confirm"}:
        return Meaning(next(k for k in SMALL_TALK if k in kinds), text=text)
    wish = _wish(words)
    if wish is not None:
        return Meaning(wish, text=text)
    labels = [fold(o).split() for o in options]
    if labels.count(words) == 1:
        return Meaning("choice", str(labels.index(words) + 1), text)
    if kinds:
        return Meaning(next(k for k in SMALL_TALK if k in kinds), text=text)
    if name == "name":
        found = _name(text)
        if found is not None:
            return Meaning(found.kind, found.value, text)
        if _has(words, "khong muon") or _has(words, "bi mat"):
            return Meaning("skip", text=text)
    if options and name not in {"name", "ask"}:
        chosen = _option_words(words, options)
        if chosen is not None:
            return Meaning("choice", str(chosen), text)
    if name in {"consent", "confirm"} and "dong y" in " ".join(words):
        return Meaning("yes", text=text)
    anchored = _anchored(words) if name != "name" else None
    if anchored is not None:
        return Meaning(anchored, text=text)
    if _looks_like_question(words):
        return Meaning("question", text=text)
    return Meaning("unclear", text=text)
