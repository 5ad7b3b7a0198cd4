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

import difflib
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
_QUESTION_WORDS = frozenset(
    {
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
    }
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
    yes_markers: frozenset[str]
    yes_idioms: frozenset[str]
    unsure: frozenset[str]
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
    spoken_letters: dict[str, int]
    positions: dict[str, str]
    dialect: dict[str, tuple[str, ...]]
    topic_subjects: dict[str, frozenset[str]]
    edit_verbs: frozenset[str]
    edit_objects: dict[str, frozenset[str]]
    data_verbs: frozenset[str]
    data_objects: frozenset[str]
    not_knowing: tuple[frozenset[str], frozenset[str], frozenset[str]]
    question_markers: frozenset[str]
    question_endings: frozenset[str]
    domain_words: frozenset[str]
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
        *raw["domain_words"],
        *(p for group in raw["anchors"].values() for p in group),
        *(p for group in raw["small_talk"].values() for p in group),
        *(p for group in raw["navigation"].values() for p in group),
        *raw["dialect"],
        *raw["positions"],
        *(p for group in raw["topic_subjects"].values() for p in group),
        *(p for group in raw["edits"].values() for p in group),
        *(p for group in raw["my_data_wish"].values() for p in group),
        *(p for group in raw["not_knowing"].values() for p in group),
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
        yes_markers=_set(raw["agree_markers"]),
        yes_idioms=_set(raw["agree_idioms"]),
        unsure=_set(raw["unsure"]),
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
        spoken_letters={fold(k): int(v) for k, v in raw["spoken_letters"].items()},
        positions={fold(k): str(v) for k, v in raw["positions"].items()},
        dialect={fold(k): tuple(fold(str(v)).split()) for k, v in raw["dialect"].items()},
        topic_subjects={fold(k): _set(v) for k, v in raw["topic_subjects"].items()},
        edit_verbs=_set(raw["edits"]["verbs"]),
        edit_objects={k: _set(v) for k, v in raw["edits"].items() if k != "verbs"},
        data_verbs=_set(raw["my_data_wish"]["verbs"]),
        data_objects=_set(raw["my_data_wish"]["objects"]),
        not_knowing=(
            _set(raw["not_knowing"]["negations"]),
            _set(raw["not_knowing"]["verbs"]),
            _set(raw["not_knowing"]["after"]),
        ),
        question_markers=_set(raw["question_markers"]),
        question_endings=_set(raw["question_endings"]),
        domain_words=_set(raw["domain_words"]),
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
            elif len(word) == 2 and word[1] in "sfrxj" and word[0] in known:  # "ys" (ý typed in telex)
                word = word[0]
            else:
                word = repair_telex(squashed, known)
                if word not in known:
                    single = re.sub(r"(\w)\1+", r"\1", word)
                    word = single if single in known else word
        out.extend(expand_shorthand(word))
    while len(out) > 1 and out[-1] in _SPOKEN_PUNCTUATION:  # voice typing writes "chấm", "phẩy"
        out.pop()
    return _dialect(out)


_SPOKEN_PUNCTUATION = frozenset({"cham", "phay", "cham than", "xuong dong"})


# "hỏng" after these is "broken", not the Southern "hông" (không)
_BROKEN_AFTER = frozenset({"bi", "da", "lam", "hu", "may", "xe", "do", "cung"})
# "rửa" before these is "wash" ("rửa tiền"), not the Central "rứa" (vậy)
_WASH_BEFORE = frozenset({"tien", "tay", "mat", "chen", "bat", "xe", "rau", "bo"})
# "mô" after these is "where" ("ở mô"); "chi" after these is "what" ("làm chi")
_WHERE_AFTER = frozenset({"o", "nam", "di", "den", "ve", "cho", "tu", "dau", "chon"})
_WHAT_AFTER = frozenset({"lam", "cai", "chuyen", "de", "la", "hoi", "noi", "viec"})


def _dialect(words: list[str]) -> list[str]:
    """Regional and chat forms read as the standard word ("hổng biết" -> khong biet, "răng rứa" -> sao
    vay, "ở mô" -> o dau, "lm s" -> lam sao), each ambiguous one only where its place decides it."""
    p = phrases()
    out: list[str] = []
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        before = out[-1] if out else ""
        if word in p.dialect:
            out.extend(p.dialect[word])
            continue
        if word == "hong" and before not in _BROKEN_AFTER:
            word = "khong"
        elif word == "rua" and after not in _WASH_BEFORE:
            word = "vay"
        elif word == "rang" and all(w in p.fillers for w in out) and after not in {"mieng", "cua", "gia"}:
            word = "sao"
        elif word == "mo" and before in _WHERE_AFTER:
            word = "dau"
        elif word == "chi" and before in _WHAT_AFTER:
            word = "gi"
        elif word == "s" and before == "lam":
            word = "sao"
        out.append(word)
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
                found.append("address" if phrase in _ADDRESSES else kind)
                i += size
                break
            if phrase in p.fillers:
                i += size
                break
        else:
            return []
    said = [kind for kind in found if kind != "address"]
    return said if said else ["greeting"] * bool(found)  # "cháu ơi" alone greets; "hay quá cháu ơi" does not


_ADDRESSES = frozenset({"chau oi", "em oi", "oi", "con oi", "ban oi"})


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
    """Whether the words ask for something the lessons could answer: a question word or phrase anywhere
    ("cach", "lam sao", "co ... duoc khong") or a subject the lessons teach ("vneid", "mat khau")."""
    p = phrases()
    return any(_has(words, m) for m in p.question_markers) or _names_subject(words) or _co_khong(words)


def _ends_asking(words: list[str]) -> bool:
    """A question word ends the message once particles are set aside ("bam vao dau a", "xong chua chau");
    "dau" only after a verb or place word ("o dau", "bam dau": not "tu dau", "co dau"), "sao nua" is
    "what next", "gi ca" is "nothing at all"."""
    p = phrases()
    core = list(words)
    while len(core) > 1 and core[-1] in _PARTICLES:
        core.pop()
    if len(core) < 2 or core[-1] not in p.question_endings or _has(core, "gi ca"):
        return False
    if core[-1] == "dau" and core[-2] not in _WHERE_VERBS:
        return False
    if core[-1] == "ai" and core[-2] not in {
        "la",
        "cua",
        "voi",
        "cho",
        "hoi",
        "goi",
        "biet",
        "gap",
        "tin",
        "nho",
    }:
        return False  # "video gia lam bang ai" (AI), not "who"
    return not (core[-1] == "khong" and core[-2] == "khoe")  # "chau co khoe khong" greets


# "… ở đâu", "bấm đâu": after these, a final "dau" is "where" (not "đầu" / "dấu")
_WHERE_VERBS = frozenset(
    [
        "o",
        "bam",
        "di",
        "nam",
        "de",
        "tim",
        "cho",
        "vao",
        "mua",
        "lay",
        "nop",
        "xem",
        "kiem",
        "den",
        "ve",
        "tai",
        "cai",
        "gui",
        "bao",
        "goi",
        "lam",
        "chon",
        "an",
        "nhan",
    ]
)


# particles that may follow the question word that ends a question ("co mat phi khong chau a")
_PARTICLES = frozenset(
    [
        "a",
        "ha",
        "nhe",
        "nha",
        "nhen",
        "chau",
        "vay",
        "the",
        "oi",
        "ak",
        "ah",
        "em",
        "con",
        "ban",
        "voi",
        "nhi",
        "ne",
        "day",
        "do",
        "bac",
        "toi",
        "minh",
        "ong",
        "ba",
        "co",
        "chu",
        "anh",
        "chi",
    ]
)


def _names_subject(words: list[str]) -> bool:
    """Whether the words name a subject of the lessons (one or several words: "mat khau", "ho so")."""
    p = phrases()
    for size in (1, 2, 3, 4, 5):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            if phrase in p.topic_words or phrase in p.domain_words:
                return True
    return False


def _anchored(words: list[str]) -> str | None:
    """A wish or goodbye said inside a short sentence, found by its anchor phrase."""
    p = phrases()
    if len(words) > 16 or asks_something(words) or _starts_asking(words):
        return None
    if _ends_asking(words) and words[-1] not in {"khong", "chua"}:  # "... thi chon sao" asks
        return None
    for kind, anchors in p.anchors.items():
        if any(_has(words, a) for a in anchors):
            return kind
    return None


def _position(words: list[str], options: tuple[str, ...]) -> int | None:
    """ "cái đầu tiên", "cái cuối", "cái giữa": an option by its place among the answers (a trailing
    "🏠 Menu chính" or "📚 Các chủ đề" is a way out, not an answer)."""
    p = phrases()
    core = [w for w in words if w not in p.fillers or w in {"dau"}]
    while core and core[0] in p.choice_prefixes | {"cai", "bai", "cau", "so"}:
        core = core[1:]
    where = p.positions.get(" ".join(core))
    if where is None or not options:
        return None
    answers = len(options)
    while answers > 1 and any(mark in options[answers - 1] for mark in ("🏠", "📚")):
        answers -= 1
    if where == "first":
        return 1
    if where == "last":
        return answers
    return (answers + 1) // 2 if answers % 2 == 1 else None


def _number(words: list[str], letters: bool) -> int | None:
    """The option number a reply names: "2", "so 2", "cau b", "dap an hai", "cai thu ba"."""
    whole = _number_core(words, letters)
    if whole is not None:
        return whole
    core = list(words)
    polite = {
        "a",
        "nhe",
        "nha",
        "oi",
        "voi",
        "di",
        "vay",
        "ak",
        "ah",
        "chu",
        "ne",
        "do",
        "day",
        "thoi",
        "nhi",
    }
    while len(core) > 1 and (core[-1] in polite or core[-1] == "chau"):
        core.pop()
    # "ừ thì c", "vâng, số 2", "cháu ơi câu 3": a yes or an address before the choice
    leading = {
        "oi",
        "bac",
        "toi",
        "em",
        "chau",
        "u",
        "thi",
        "vang",
        "da",
        "o",
        "uh",
        "ok",
        "the",
        "vay",
        "con",
    }
    leading |= {"hoc", "mo", "vao", "xem", "lam", "chon"}  # "HOC CAI THU NAM", "mo bai 2"
    while len(core) > 1 and core[0] in leading:
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
        if i < len(core) - 2 and " ".join(core[i : i + 3]) in p.choice_prefixes:
            i += 3
        elif two in p.choice_prefixes:
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
    if letters and i > 0 and word in p.spoken_letters:  # "dap an be", "cau xe" (voice typing)
        return p.spoken_letters[word]
    if word in p.number_words and (i > 0 or len(core) == 1):
        return p.number_words[word]
    return None


def _label_words(label: str) -> list[str]:
    """An option's words, folded, with a hyphenated compound also written whole ("Wi-Fi" -> wi, fi,
    wifi), since learners type it either way."""
    compounds = ["".join(fold(part).split()) for part in re.findall(r"\w+(?:-\w+)+", label)]
    return fold(label).split() + compounds


def _option_words(words: list[str], options: tuple[str, ...]) -> int | None:
    """An option named by its words: all of them, or some that no other option has, or most of one
    option's words in a reply that asks nothing ("video gia lam bang ai", "theo toi thi xem ai dang")."""
    labels = [_label_words(label) for label in options]
    if not words:
        return None
    exact = [n for n, label in enumerate(options, 1) if fold(label).split() == words]
    if exact:
        return exact[0]
    p = phrases()
    for content in (words, [w for w in words if w not in p.fillers and w not in p.generic]):
        short = sum(len(w) for w in content) < 3 and not any(ch.isdigit() for w in content for ch in w)
        if not content or (short and content != ["ai"]):  # "la" (lạ? là?) picks nothing; "4t", "AI" do
            continue
        if all(w in _QUESTION_WORDS or w == "la" for w in content):  # "cai do la gi" picks no "AI là gì?"
            continue
        within = [n for n, label in enumerate(labels, 1) if set(content) <= set(label)]
        if len(within) == 1:
            return within[0]
        if len(within) > 1 and len(content) > 1:  # "chu to": in that order in one label only
            ordered = [n for n in within if _has(labels[n - 1], " ".join(content))]
            if len(ordered) == 1:
                return ordered[0]
    # most of a reply's words in one option only; fillers count when an option holds them ("cai")
    vocabulary = frozenset(w for label in labels for w in label)
    content = [w for w in words if w not in p.fillers or w in vocabulary]
    if len(set(content)) < 2 or len(content) > 12:
        return None
    if any(_has(words, m) for m in p.question_markers) or _starts_asking(words) or _co_khong(words):
        return None
    if _ends_asking(words):
        return None
    shares = sorted(
        ((len(set(content) & set(label)) / len(set(content)), n) for n, label in enumerate(labels, 1)),
        reverse=True,
    )
    if len(shares) > 1 and shares[0][0] >= 0.6 and shares[0][0] - shares[1][0] >= 0.25:
        return shares[0][1]
    return None


def _co_khong(words: list[str]) -> bool:
    """The yes/no question "có … không": "co mat phi khong chau", "4g co ton tien khong"."""
    p = phrases()
    core = list(words)
    while len(core) > 1 and (core[-1] in p.fillers or core[-1] in _PARTICLES):
        core.pop()
    if len(core) >= 2 and core[-2] == "khoe":  # "chau co khoe khong" greets
        return False
    return len(core) >= 3 and core[-1] in {"khong", "chua"} and "co" in core[:-2]


def _yes_no(words: list[str]) -> str | None:
    """Agreement or refusal, said any way ("vang a", "ok toi dong y", "ko", "hổng chịu đâu", "không,
    bác ngại lắm", "cứ lưu đi, bác không sao"); None for a question or an unsure reply."""
    p = phrases()
    idiom = [i for i in p.yes_idioms if _has(words, i)]
    for phrase in idiom:
        size = len(phrase.split())
        at = next(i for i in range(len(words)) if " ".join(words[i : i + size]) == phrase)
        words = words[:at] + words[at + size :]
    if _phrase_in(words, _REFUSALS):
        return "no"
    if len(words) > 14 or any(_has(words, m) for m in p.question_markers) or _starts_asking(words):
        return None
    if _co_khong(words):
        return None
    thanks = p.small_talk["thanks"] | p.small_talk["greeting"]
    if any(_has(words, t) for t in thanks if len(t.split()) > 1):
        words = [w for w in words if w not in {"cam", "on", "chao"}]
    text = " ".join(words)
    if text in p.no:
        return "no"
    if text in p.yes:
        return "yes"
    if any(_has(words, u) for u in p.unsure):
        return None
    if any(_has(words, m) for m in p.no_markers):
        return "no"
    if idiom or any(_has(words, m) for m in p.yes_markers):
        return "yes"
    return None


# a refusal however the rest of the message reads ("rang phai luu, thoi khong dong y")
_REFUSALS = frozenset(
    {"khong dong y", "khong chiu", "tu choi", "dung luu", "khong cho luu", "khong muon luu"}
)


def _starts_asking(words: list[str]) -> bool:
    """ "sao phải chọn thôn", "rang phai luu" ... a message opening with "why"."""
    p = phrases()
    core = [w for w in words if w not in p.fillers]
    return bool(core) and (
        core[0] in {"sao", "rang"} or core[:2] == ["tai", "sao"] or core[:2] == ["vi", "sao"]
    )


def age_group_of(age: int) -> str:
    if age < 40:
        return "duoi-40"
    if age < 60:
        return "40-59"
    return "60-69" if age < 70 else "70-plus"


def _spoken_number(words: list[str]) -> int | None:
    """An age or a year said in words: "bay muoi ba" -> 73, "sau muoi tam" -> 68, "bay lam" (bảy lăm) -> 75,
    "mot chin nam hai" (one-nine-five-two, as voice typing writes a year) -> 1952."""
    p = phrases()
    digits = {k: v for k, v in p.number_words.items() if v < 10} | {"lam": 5, "mot": 1, "tu": 4, "nam": 5}
    for i, w in enumerate(words[:-1]):
        if w in digits and words[i + 1] in {"muoi", "chuc"}:
            unit = digits.get(words[i + 2], 0) if i + 2 < len(words) else 0
            century = words[i - 2 : i] in (["mot", "chin"], ["hai", "khong"])  # "một chín năm mươi hai"
            return (1900 if words[i - 2 : i] == ["mot", "chin"] else 2000) * century + digits[w] * 10 + unit
        if w in digits and w != "nam" and words[i + 1] == "may":  # "bảy mấy": seventy-something
            return digits[w] * 10 + 5
    run: list[int] = []
    for w in words:
        if w in digits or w == "khong":
            run.append(0 if w == "khong" else digits[w])
            if len(run) >= 4 and run[-4] in (1, 2):  # a year: "mot chin nam hai", "sinh nam mot chin ..."
                return int("".join(map(str, run[-4:])))
        elif len(run) == 2:
            break
        else:
            run = []
    if len(run) == 2 and run[0] >= 2 and sum(1 for w in words if w not in p.fillers) <= 4:
        return run[0] * 10 + run[1]  # "bay lam", "sau tam": tens and units without "muoi"
    return None


def _age(words: list[str], today: date, options: int) -> Meaning | None:
    if len(words) > 4 and _asking(words):  # "dang ky bhyt cho nguoi tren 80 tuoi the nao" asks
        return None
    numbers = [_to_int(w) for w in words if w.isdigit() and len(w) <= 4]
    if not numbers:
        spoken = _spoken_number(words)
        numbers = [spoken] if spoken is not None else []
    if not numbers or (len(numbers) > 1 and not _has(words, "den")):
        return None
    value = numbers[0] - (1 if "duoi" in words and len(numbers) == 1 and numbers[0] > 20 else 0)
    if "sinh" in words and 10 <= value < 100:  # "sinh năm bốn tám", "sinh năm 48": a year of the 1900s
        value += 1900
    if 1900 <= value <= today.year:
        value = today.year - value
    elif len(words) == 1 and value <= options:
        return Meaning("choice", str(value))
    if not 10 <= value <= 120:
        return None
    return Meaning("age", age_group_of(value))


def _village(words: list[str], options: tuple[str, ...]) -> int | None:
    p = phrases()
    if len(words) > 5 and _asking(words):  # "ho khau o thon dong nhung o nha con thi chon cai nao"
        return None

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

    words = [
        part
        for w in words
        for part in (re.findall(r"[a-z]+|\d+", w) if re.fullmatch(r"[a-z]+\d+", w) else [w])
    ]
    names = [distinctive(fold(label).split()) for label in options]
    # "thôn tây bác ở": the word after a kind of place names it ("bác" here is not "Thôn Bắc")
    after_kind = [
        words[i + 1]
        for i in range(len(words) - 1)
        if words[i] in p.village_kinds and words[i + 1] not in p.village_kinds
    ]
    if after_kind:
        named = [n for n, name in enumerate(names, 1) if name and name[0] in after_kind]
        if len(named) == 1:
            return named[0]
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
    # one letter off ("thon trug"): the distinctive word closest to one village's, if only one is close
    spelled = {w for name in names for w in name if len(w) >= 4}
    typed = [w if w in spelled else (difflib.get_close_matches(w, spelled, 1, 0.8) or [w])[0] for w in typed]
    exact = [n for n, name in enumerate(names, 1) if name and name == typed]
    if len(exact) == 1:
        return exact[0]
    within = [n for n, name in enumerate(names, 1) if name and set(name) <= set(typed)]
    if len(within) == 1 and len(typed) <= len(names[within[0] - 1]) + 3:
        return within[0]
    return None


# address and naming words that open "ông tên là …", "dạ tên mụ là …", "cháu cứ gọi bác là …"
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
        "da",
        "vang",
        "mu",
        "tau",
        "o",
        "di",
        "nhap",
        "noi",
        "ngoai",
        "me",
        "bo",
        "cha",
        "ta",
    ]
)
# how people are addressed before a name ("bà Tư", "ông Hai", "bác Thanh"): not part of the name
_HONORIFICS = frozenset(["ong", "ba", "bac", "co", "chu", "anh", "chi", "em", "cu", "mu", "di", "thim"])
_NAMING = frozenset({"ten", "la", "goi"})
_PRONOUNS = frozenset({"toi", "tui", "ta", "minh", "tao"})  # "TEN TOI NONG VAN CHUNG": "Tôi" is nobody's name


def _naming_clause(text: str) -> str:
    """Of a message in several clauses, the one that gives the name: "tui tên Lợi, ở ngoài Huế vô",
    "Tôi là giáo viên về hưu, tên là Chiến.", "cháu nhập giúp bà: bà tên là Hoa"."""
    clauses = [c for c in re.split(r"[,.;:!?\n]+", text) if fold(c).strip()]
    if len(clauses) < 2:
        return text
    for cue in ({"ten", "goi"}, {"la"}):
        found = [i for i, c in enumerate(clauses) if cue & set(fold(c).split())]
        if found:
            at = found[-1]
            # "họ tên: Vũ Thị Thu", "Tên tôi: Đoàn Văn Quang": the name is in the clause after the label
            if set(fold(clauses[at]).split()) <= _NAME_LEAD | {"ho"} and at + 1 < len(clauses):
                return clauses[at + 1]
            return clauses[at]
    return clauses[0]


def _name(text: str) -> Meaning | None:
    """A name with its lead-ins, address words and particles removed, each word capitalised; None if
    not a name."""
    p = phrases()
    text = _naming_clause(text)
    originals = [w for w in re.sub(r"[^\w\s'-]", " ", text).split() if fold(w)]
    folded = [fold(w) for w in originals]
    # a question is not a name; names may hold words the lessons use ("Ái", "Sim"), so only its form counts
    if any(_has(folded, m) for m in p.question_markers) or _starts_asking(folded) or _co_khong(folded):
        return None
    # "ông tên là …", "bà là …", "cháu cứ gọi bác là …": address words up to a naming word
    run = 0
    while run < len(folded) - 1 and folded[run] in _NAME_LEAD:
        run += 1
    last_naming = max((i for i in range(run) if folded[i] in _NAMING), default=-1)
    if last_naming >= 0:
        # after "tên là" everything is the name ("Đỗ", "Hà Thị" are not fillers here), but for an
        # address word typed in lower case before it ("bà Tư", "ông Hai")
        originals, folded = originals[last_naming + 1 :], folded[last_naming + 1 :]
        while len(folded) > 1 and (
            folded[0] in _PRONOUNS
            or (folded[0] in _HONORIFICS and (not originals[0][:1].isupper() or text.isupper()))
        ):
            originals, folded = originals[1:], folded[1:]
    changed = True
    while changed and folded:
        changed = False
        for size in range(min(5, len(folded)), 0, -1):
            if last_naming >= 0:
                break
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
    capitalised = all(w[:1].isupper() for w in originals) and not text.isupper()
    if all(w in p.not_names for w in folded) and not (last_naming >= 0 and capitalised):  # "tên là Lài"
        return None
    if _has(folded, "khong muon") or _has(folded, "bi mat"):
        return None
    name = " ".join(w[:1].upper() + w[1:].lower() for w in originals)
    return Meaning("name", name)


def _looks_like_question(words: list[str], text: str = "", *, asked: bool = False) -> bool:
    """A question: it asks something (`asks_something`), or it is a sentence of real words ending in "?",
    or a long one (a story with the question inside). Short words without either are not sent to search
    or to a mentor: "hay ghê", "bác mới vào" ask nothing."""
    p = phrases()
    content = [w for w in words if w not in p.fillers]
    if not content:
        return False
    if len(content) == 1:
        return content[0] in p.topic_words or _names_subject(content)
    plausible = sum(1 for w in content if _SYLLABLE.match(w) or w in p.known or w.isdigit())
    strongly = any(_has(words, m) for m in p.question_markers)  # "gov.vn là cái gì": a web address asked
    if plausible < (0.4 if strongly else 0.6) * len(content):
        return False
    if asked and len(content) >= 3 and _loose_small_talk(words) is None:
        return True  # the learner was asked to type a question: a sentence of real words is one
    return (
        asks_something(words)
        or _ends_asking(words)
        or _starts_asking(words)
        or (text.rstrip().endswith("?") and len(content) >= 3)
        or len(content) >= 9
    )


def _asking(words: list[str]) -> bool:
    """Whether a message asks something, by any sign (`asks_something`, or a why opening it, or a
    question word ending it)."""
    return asks_something(words) or _starts_asking(words) or _ends_asking(words)


def _phrase_in(words: list[str], phrases_: frozenset[str]) -> bool:
    return any(_has(words, phrase) for phrase in phrases_)


def _change(words: list[str]) -> str | None:
    """A change of what the learner told us, their data, or not knowing how to use the assistant, said in
    a short sentence that asks nothing else (see `edits`, `my_data_wish`, `not_knowing` in the phrases)."""
    p = phrases()
    if len(words) > 14 or _names_subject(words):
        return None
    negations, verbs, after = p.not_knowing
    for i in range(len(words) - 1):
        if words[i] in negations and words[i + 1] in verbs:
            rest = words[i + 2 : i + 5]
            if words[i + 1] == "hieu":  # "chua hieu lam" is "not much", not "how to do"
                rest = [w for w in rest if w != "lam"]
            if rest and _phrase_in(rest, after):
                return "help"
    data = _phrase_in(words, p.data_verbs) and _phrase_in(words, p.data_objects)
    if data and _phrase_in(words, frozenset({"cua bac", "cua toi", "ve bac", "ve toi", "bac da", "toi da"})):
        return "my_data"  # "thông tin của bác cháu lưu những gì" asks about the learner's own data
    if any(_has(words, m) for m in p.question_markers) or _starts_asking(words) or _ends_asking(words):
        return None
    if _phrase_in(words, p.edit_verbs):
        found = [kind for kind, objects in p.edit_objects.items() if _phrase_in(words, objects)]
        if len(found) == 1:
            return found[0]
    if _phrase_in(words, p.data_verbs) and _phrase_in(words, p.data_objects):
        return "my_data"
    return None


# single small-talk words too common inside other sentences to mean small talk there ("bac da hoc")
_LOOSE_SKIP = frozenset(
    {"da", "u", "uh", "um", "a", "o", "roi", "duoc", "xong", "oi", "hi", "the", "chau", "cam"}
)


def _loose_small_talk(words: list[str]) -> str | None:
    """Small talk inside a short sentence that asks nothing ("chào cháu, bác mới vào", "rứa hả, hay
    ghê", "đậu rồi hả, mừng quá"): the kind of the first phrase found, goodbye before thanks before
    greeting before acknowledgement."""
    p = phrases()
    if len(words) > 12:
        return None
    for kind in SMALL_TALK:
        for phrase in p.small_talk[kind]:
            if phrase not in _LOOSE_SKIP and _has(words, phrase):
                return kind
    return None


def _wants_to_learn(words: list[str]) -> bool:
    """ "bac muon hoc bai ve thanh toan", "cho tui hoc cai zalo": a wish to study a subject, asking nothing
    (the topics list answers it; "hoc cach chuyen tien" asks "cach" and stays a question)."""
    p = phrases()
    if len(words) > 16 or any(_has(words, m) for m in p.question_markers) or _co_khong(words):
        return False
    if _starts_asking(words) or _ends_asking(words):
        return False
    return any(
        _has(words, cue)
        for cue in (
            "muon hoc",
            "duoc hoc",
            "hoc them",
            "hoc ve",
            "hoc bai ve",
            "hoc cai",
            "cho bac hoc",
            "cho toi hoc",
            "mo bai",
        )
    )


def topic_named(text: str, labels: tuple[str, ...]) -> int | None:
    """The one topic (1-based, of `labels`) a learning wish names by its words or by a subject its
    lessons teach ("bác muốn học về lừa đảo" -> An toàn trên mạng); None when none or several."""
    words = tokens(clean_text(text))
    return _option_words(words, labels) or _subject_option(words, labels)


def _subject_option(words: list[str], options: tuple[str, ...]) -> int | None:
    """On the topics screen, the one topic whose label names, or whose lessons teach, the subject the
    learner names ("bac muon hoc ve lua dao" -> "An toàn trên mạng")."""
    p = phrases()
    labels = [" ".join(fold(label).split()) for label in options]
    found = set()
    for key, subjects in p.topic_subjects.items():
        if _phrase_in(words, subjects | {key}):
            found |= {n for n, label in enumerate(labels, 1) if _has(label.split(), key)}
    return found.pop() if len(found) == 1 else None


def interpret(event: Incoming, screen: Screen, *, today: date | None = None) -> Meaning:
    """What the learner means by this event on this screen."""
    if event.kind is Kind.BUTTON:
        return Meaning("button", event.payload)
    if event.kind is Kind.COMMAND:
        return Meaning("command", event.text.lower(), event.payload)
    if event.kind is not Kind.TEXT:
        return Meaning("media", event.media)
    return interpret_text(event.text, screen, today=today)


# arrows typed or pasted alone: the card's own "◀ Lại" / "Tiếp ▶"
_ARROWS = {"back": frozenset("◀◁⬅←«‹"), "continue": frozenset("▶▷➡→»›")}


def interpret_text(text: str, screen: Screen, *, today: date | None = None) -> Meaning:
    """The meaning of a typed text on a screen (see `interpret`)."""
    text = clean_text(text)
    if not text:
        return Meaning("empty")
    for kind, arrows in _ARROWS.items():
        if all(ch in arrows or ch.isspace() or ch == "\ufe0f" for ch in text):
            return Meaning(kind, text=text)
    option_words = frozenset(w for label in screen.options for w in fold(label).split())
    words = tokens(text, option_words)
    if not words:
        return Meaning("unclear", "nowords", text)
    options = screen.options
    name = screen.name
    single_number = len(words) == 1 and words[0].isdigit()
    if single_number and _to_int(words[0]) == 0:
        return Meaning("menu", text=text)
    if name in {"consent", "confirm"}:
        if single_number and 1 <= _to_int(words[0]) <= len(options):
            return Meaning("choice", str(_to_int(words[0])), text)
        verdict = _yes_no(words)
        if verdict is not None:
            return Meaning(verdict, text=text)
    if name == "age":
        age = _age(words, today or date.today(), len(options))
        if age is not None:
            return Meaning(age.kind, age.value, text)
    if name == "village" and options and not single_number:
        village = _village(words, options)
        if village is not None:
            ids = screen.ids
            return Meaning("village", ids[village - 1] if len(ids) == len(options) else str(village), text)
    number = _number(words, letters=name == "quiz") if len(words) <= 6 else None
    if number is None and len(words) <= 4:
        number = _position(words, options)
    if (
        number is None
        and 2 <= len(words) <= 5
        and words[0].isdigit()
        and name in {"quiz", "lessons", "topics"}
    ):
        rest = words[1:]  # "2 chứ dễ mà": a number, then a remark that asks nothing and counts nothing
        labelled = {w for label in options for w in fold(label).split()} - phrases().fillers
        if (
            not any(w.isdigit() or w in labelled for w in rest)  # "4 chu so" names an option's words
            and not _asking(rest)
            and _to_int(words[0]) <= len(options)
        ):
            number = _to_int(words[0])
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
    if name in {"name", "age"} and _skips(words):
        return Meaning("skip", text=text)
    if name == "name":
        found = _name(text)
        if found is not None:
            return Meaning(found.kind, found.value, text)
    change = _change(words)
    if change is not None:
        return Meaning(change, text=text)
    if options and name not in {"name", "ask"}:
        chosen = _option_words(words, options)
        strong = any(_has(words, m) for m in phrases().question_markers) or _co_khong(words)
        if (
            chosen is None
            and name == "topics"
            and not (strong or _starts_asking(words) or _ends_asking(words))
        ):
            chosen = _subject_option(words, options)
        if chosen is not None:
            return Meaning("choice", str(chosen), text)
    if name in {"consent", "confirm"} and _has(words, "dong y") and not _asking(words):
        return Meaning("yes", text=text)
    anchored = _anchored(words)
    if anchored is not None:
        return Meaning(anchored, text=text)
    if name != "topics" and _wants_to_learn(words):
        return Meaning("learn", text=text)
    first = _first_clause(text, screen, today)
    if first is not None:
        return first
    if _looks_like_question(words, text, asked=name == "ask"):
        return Meaning("question", text=text)
    loose = _loose_small_talk(words)
    if loose is not None:
        return Meaning(loose, text=text)
    return Meaning("unclear", text=text)


# what a short first clause may settle on its own, the rest being a remark ("3 chứ, dễ mà", "rõ. tiếp")
_CLAUSE_KINDS = frozenset({"choice", "yes", "no", "skip", "village", "age", *NAVIGATION})


def _first_clause(text: str, screen: Screen, today: date | None) -> Meaning | None:
    """A message of several clauses whose first (or, when that says nothing, second) clause is a choice,
    a yes / no or a wish and whose other clauses ask nothing: the meaning of that clause."""
    clauses = [c for c in re.split(r"[,.;!]+", text) if c.strip()]
    if len(clauses) < 2 or len(clauses) > 4:
        return None
    for at in (0, 1):
        meaning = interpret_text(clauses[at], screen, today=today)
        if meaning.kind == "skip" and screen.name not in {"name", "age"}:
            return None  # "qua bài rồi hả, mừng ghê": "qua" skips a question, it does not pass a lesson
        if (
            meaning.kind == "choice"
            or (meaning.kind in _CLAUSE_KINDS and at == 0)
            or meaning.kind in NAVIGATION
        ):
            others = [tokens(c) for n, c in enumerate(clauses) if n != at]
            if any(any(_has(w, m) for m in phrases().question_markers) or _ends_asking(w) for w in others):
                return None
            if meaning.kind != "choice" and any(_names_subject(w) for w in others):
                return None  # "trợ giúp bác với, zalo gọi không nghe thấy tiếng" is a question
            return Meaning(meaning.kind, meaning.value, text)
        if meaning.kind not in {"unclear", "greeting", "ack", "thanks"}:
            return None
    return None


def _skips(words: list[str]) -> bool:
    """ "không muốn nói", "hổng nói đâu", "bí mật": the learner would rather not say (name, age)."""
    return any(
        _has(words, phrase)
        for phrase in (
            "khong muon",
            "bi mat",
            "khong noi",
            "khong khai",
            "khong tiet lo",
            "khoi noi",
            "bo qua",
            "skip",
        )
    )
