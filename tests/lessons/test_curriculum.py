"""The bundled curriculum itself: everything loads and holds the rules a learner relies on."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lessons.loader import DEFAULT_CONTENT_DIR, check_curriculum
from lessons.models import Curriculum

CARD_LIMIT = 500
# the only phone numbers a lesson may give: the national lines (111 child protection, 113 police,
# 114 fire, 115 ambulance) and the BHXH Việt Nam hotline its lessons cite; any other number is a risk
# (scammers spoof "hotlines") and needs an editor's decision, so this list is changed deliberately
KNOWN_NUMBERS = {"111", "113", "114", "115", "19009068"}
PHONE = re.compile(
    r"(?:gọi|số|đường dây|tổng đài|hotline)[^0-9\n]{0,20}(\d{3}\b)(?![/.,]\d|/)|\b(\d[\d .]{6,14}\d)\b", re.I
)


@pytest.fixture(scope="module")
def curriculum() -> Curriculum:
    loaded, problems = check_curriculum(DEFAULT_CONTENT_DIR)
    assert not problems, "\n".join(problems)
    return loaded


def test_every_topic_the_campaign_names_has_at_least_five_lessons(curriculum: Curriculum) -> None:
    assert len(curriculum.topics) >= 9
    assert len(curriculum.lessons) >= 45
    assert all(len(topic.lessons) >= 5 for topic in curriculum.topics), [
        (t.id, len(t.lessons)) for t in curriculum.topics
    ]


def test_each_lesson_is_bite_sized_with_a_small_quiz(curriculum: Curriculum) -> None:
    for lesson in curriculum.lessons:
        assert 3 <= len(lesson.cards) <= 6, lesson.id
        assert all(0 < len(card.text) <= CARD_LIMIT for card in lesson.cards), lesson.id
        assert 2 <= len(lesson.quiz.questions) <= 4, lesson.id


def test_every_question_has_one_correct_option_an_explanation_and_a_real_card(
    curriculum: Curriculum,
) -> None:
    for lesson in curriculum.lessons:
        for question in lesson.quiz.questions:
            assert 1 <= question.correct <= len(question.options), (lesson.id, question.id)
            assert len(set(question.options)) == len(question.options), (lesson.id, question.id)
            assert question.explanation.strip(), (lesson.id, question.id)
            assert 1 <= question.card <= len(lesson.cards), (lesson.id, question.id)


def test_every_lesson_names_its_sources(curriculum: Curriculum) -> None:
    for lesson in curriculum.lessons:
        assert lesson.sources, lesson.id
        assert all(s.title.strip() and s.publisher.strip() for s in lesson.sources), lesson.id


def test_the_core_curriculum_is_10_to_12_lessons_across_six_topics(curriculum: Curriculum) -> None:
    core = [lesson for lesson in curriculum.lessons if lesson.core]
    assert 10 <= len(core) <= 12
    assert len({lesson.topic for lesson in core}) >= 6
    assert all(lesson.level == 1 for lesson in core)


def test_no_two_lessons_share_an_id_or_a_title(curriculum: Curriculum) -> None:
    ids = Counter(lesson.id for lesson in curriculum.lessons)
    titles = Counter(lesson.title.casefold() for lesson in curriculum.lessons)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in titles.items() if n > 1] == []


def test_the_learner_is_always_addressed_the_same_way(curriculum: Curriculum) -> None:
    # "bác" throughout; "bạn" as a form of address (too casual for an elder) must not slip in from
    # another writer — while "bạn bè", "kết bạn" and "các bạn trẻ" are about other people
    address = re.compile(r"(?<!kết )(?<!các )(?<!người )\bbạn\b(?! bè| trẻ| của| thân)", re.IGNORECASE)
    for lesson in curriculum.lessons:
        texts = [card.text for card in lesson.cards] + [q.text for q in lesson.quiz.questions]
        texts += [option for q in lesson.quiz.questions for option in q.options]
        assert [t for t in texts if address.search(t)] == [], lesson.id


def test_no_phone_numbers_but_the_known_ones(curriculum: Curriculum) -> None:
    texts = [(lesson.id, card.text) for lesson in curriculum.lessons for card in lesson.cards]
    texts += [("glossary", entry.text) for entry in curriculum.glossary]
    found = []
    for where, text in texts:
        for short, long in PHONE.findall(text):
            digits = re.sub(r"\D", "", short or long)
            if len(digits) >= 8 or short:
                found.append((where, digits))
    assert [f for f in found if f[1] not in KNOWN_NUMBERS] == []
    assert {"113", "19009068"} <= {digits for _, digits in found}  # the check does find numbers


def test_the_glossary_explains_the_terms_lessons_rely_on(curriculum: Curriculum) -> None:
    terms = " ".join(entry.term for entry in curriculum.glossary).casefold()
    for term in ("otp", "qr", "ekyc", "vneid", "đường link", "ứng dụng", "nfc", "vssid"):
        assert term in terms, term
