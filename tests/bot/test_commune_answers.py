"""The commune's reviewed answers reach learners through the question screen (issue 12): an approved
entry is answered and marked as the commune's answer, with one tap left to ask a person; an urgent story
still gets the lessons' action card; a question no entry answers goes on to the lessons."""

from __future__ import annotations

from pathlib import Path

from bot import texts
from bot.app import App, build_app
from bot.settings import Settings
from retrieval.knowledge import KnowledgeMatch
from tests.driver import ChatDriver, FakeAnswerer, FakeClock


class FakeKnowledge:
    """Answers one question of one commune, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str]] = []

    async def match(self, commune_id: str | None, question: str) -> KnowledgeMatch | None:
        self.asked.append((commune_id, question))
        if commune_id == "tan-hoc" and "thue dat" in question:
            return KnowledgeMatch(
                entry_id=7,
                commune_id="tan-hoc",
                question="Nộp thuế đất ở đâu?",
                answer="Bác nộp ở bộ phận một cửa của xã, sáng thứ Hai đến thứ Sáu.",
                lesson_id="an-toan-otp",
                score=0.97,
                overlap=0.9,
                phrasing="nop thue dat o dau",
            )
        return None


async def test_an_approved_entry_is_answered_as_the_communes_answer(tmp_path: Path) -> None:
    knowledge = FakeKnowledge()
    answerer = FakeAnswerer()
    app: App = await build_app(
        Settings(data_dir=tmp_path / "var", content_dir=Path("tests/data/curriculum")),
        clock=FakeClock(),
        answerer=answerer,
    )
    app.assistant.dialogue.screens.questions.knowledge = knowledge
    try:
        chat = ChatDriver(app.assistant, "kb")
        await chat.register()
        await chat.say("cho bac hoi nop thue dat o dau")
        assert chat.text.startswith("📌 Câu trả lời của Xã Tân Học (xã mẫu)") and "một cửa" in chat.text
        assert texts.BTN_ASK_PERSON in chat.buttons() and answerer.questions == []
        await chat.say("cong an goi bat chuyen tien, bac lo chuyen roi thue dat")  # urgent: not the entry
        assert not chat.text.startswith("📌")
        await chat.say("cach cai vneid")
        assert answerer.questions[-1] == "cach cai vneid"
        assert all(commune == "tan-hoc" for commune, _ in knowledge.asked)
    finally:
        await app.close()
