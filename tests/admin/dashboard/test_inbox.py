"""The question inbox (issue 18): the count and "new" badge in the menu, the three tabs with history,
answer templates, and the confirmation before a typed answer is dropped (mentors told in the chat:
`tests/admin/test_notices.py`)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from data.models import OutboxMessage, UnansweredQuestion
from tests.admin.dashboard.conftest import Seeded, add_learner, add_question, answer_directly, csrf_of, login
from tests.driver import FakeClock

INBOX = "/admin/c/tan-hoc/questions"


def menu_numbers(html: str) -> tuple[str | None, str | None]:
    waiting = re.search(r'id="menu-waiting"[^>]*>(\d+)<', html)
    new = re.search(r'id="menu-new">(\d+) mới<', html)
    return (waiting.group(1) if waiting else None, new.group(1) if new else None)


def tab_count(html: str, tab: str) -> int:
    match = re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    assert match, f"no tab {tab}"
    return int(match.group(1))


async def test_the_menu_counts_waiting_questions_and_marks_new_ones_until_the_inbox_is_opened(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    overview = await client.get("/admin/c/tan-hoc")
    assert menu_numbers(overview.text) == ("1", "1")  # never opened: everything is new
    inbox = await client.get(INBOX)
    assert inbox.text.count('class="badge new">mới<') == 1
    clock.advance(minutes=5)
    assert menu_numbers((await client.get("/admin/c/tan-hoc")).text) == ("1", None)  # seen now
    await add_question(app, seeded.learners["An"], "Mã OTP là gì?")
    assert menu_numbers((await client.get("/admin/c/tan-hoc/lessons")).text) == ("2", "1")
    inbox = await client.get(INBOX)
    cards = re.findall(r'<section class="card question".*?</section>', inbox.text, re.S)
    marked = [card for card in cards if 'class="badge new">mới<' in card]
    assert len(cards) == 2 and len(marked) == 1 and "Mã OTP là gì?" in marked[0]


async def test_answered_and_handled_questions_keep_their_history_in_their_tabs(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    handled = await add_question(app, seeded.learners["An"], "Câu hỏi không cần trả lời")
    by_mentor = await add_question(app, seeded.learners["Bình"], "Cách gọi video?")
    mentor = await add_learner(app, "Đại Sứ Hoa", "tan-hoc", "thon-dong")
    await answer_directly(app, by_mentor, "Bấm biểu tượng máy quay ạ.", by=f"mentor:{mentor}")
    page = await client.get(INBOX)
    csrf = csrf_of(page.text)
    clock.advance(minutes=1)  # answered after the mentor's answer: listed first
    await client.post(
        f"{INBOX}/{seeded.questions['tan-hoc']}",
        data={"csrf": csrf, "action": "answer", "answer": "Vào Cài đặt."},
    )
    await client.post(f"{INBOX}/group", data={"csrf": csrf, "q": str(handled), "action": "handled"})
    page = await client.get(INBOX)
    assert (
        tab_count(page.text, "open"),
        tab_count(page.text, "answered"),
        tab_count(page.text, "handled"),
    ) == (
        0,
        2,
        1,
    )
    answered = await client.get(INBOX, params={"tab": "answered"})
    assert 'data-tab="answered" aria-current="page"' in answered.text
    assert "Vào Cài đặt." in answered.text and "cán bộ canbo" in answered.text
    assert "Bấm biểu tượng máy quay ạ." in answered.text and "Đại sứ số Đại Sứ Hoa" in answered.text
    assert answered.text.index("Cách gọi video?") > answered.text.index(
        "Làm sao đổi mật khẩu Zalo?"
    )  # latest first
    done = await client.get(INBOX, params={"tab": "handled"})
    assert "Câu hỏi không cần trả lời" in done.text and "Xử lý bởi <strong>cán bộ canbo</strong>" in done.text
    assert "Câu hỏi của xã khác" not in answered.text + done.text
    assert (await client.get(INBOX, params={"tab": "rac"})).status_code == 404


async def test_templates_are_created_edited_deleted_and_fill_the_answer_box(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get(f"{INBOX}/templates")
    assert 'id="no-templates"' in page.text
    csrf = csrf_of(page.text)
    created = await client.post(
        f"{INBOX}/templates",
        data={"csrf": csrf, "title": "Đổi mật khẩu", "text": "Bác vào Cài đặt > Tài khoản ạ."},
    )
    assert created.status_code == 303  # POST/redirect/GET
    empty = await client.post(f"{INBOX}/templates", data={"csrf": csrf, "title": "", "text": "x"})
    assert empty.status_code == 400 and "Mẫu cần có tên và nội dung." in empty.text
    page = await client.get(f"{INBOX}/templates")
    template_id = int(re.findall(r'id="template-(\d+)"', page.text)[0])
    edited = await client.post(
        f"{INBOX}/templates/{template_id}",
        data={
            "csrf": csrf,
            "action": "save",
            "title": "Đổi mật khẩu Zalo",
            "text": "Bác mở Zalo > Cài đặt ạ.",
        },
    )
    assert edited.status_code == 303
    inbox = await client.get(INBOX)
    assert "Đổi mật khẩu Zalo</option>" in inbox.text
    question = seeded.questions["tan-hoc"]
    picked = await client.post(
        f"{INBOX}/group",
        data={"csrf": csrf, "q": str(question), "action": "template", "template_id": template_id},
    )
    assert picked.status_code == 303
    filled = await client.get(picked.headers["location"])
    assert re.search(r'<textarea name="answer"[^>]*>Bác mở Zalo &gt; Cài đặt ạ.</textarea>', filled.text)
    async with app.assistant.sessions() as session:  # picking a template answers nothing
        assert (await session.get(UnansweredQuestion, question)).status == "open"  # type: ignore[union-attr]
    # another commune's account cannot touch it
    other = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    async with other:
        await login(other, "khac")
        theirs = await other.get("/admin/c/xa-khac/questions/templates")
        stolen = await other.post(
            f"/admin/c/xa-khac/questions/templates/{template_id}",
            data={"csrf": csrf_of(theirs.text), "action": "delete"},
        )
        assert stolen.status_code == 404
    deleted = await client.post(f"{INBOX}/templates/{template_id}", data={"csrf": csrf, "action": "delete"})
    assert deleted.status_code == 303
    assert 'id="no-templates"' in (await client.get(f"{INBOX}/templates")).text


@pytest.mark.parametrize("route", ["group", "single"])
async def test_marking_handled_with_a_typed_answer_asks_first(
    client: httpx.AsyncClient, seeded: Seeded, app: App, route: str
) -> None:
    await login(client, "canbo")
    page = await client.get(INBOX)
    question = seeded.questions["tan-hoc"]
    url = f"{INBOX}/group" if route == "group" else f"{INBOX}/{question}"
    form = {
        "csrf": csrf_of(page.text),
        "q": str(question),
        "action": "handled",
        "answer": "Câu trả lời dài đã gõ",
    }
    asked = await client.post(url, data=form)
    assert asked.status_code == 200 and 'id="confirm-discard"' in asked.text
    assert "Câu trả lời dài đã gõ" in asked.text and 'id="send-instead"' in asked.text
    async with app.assistant.sessions() as session:
        assert (await session.get(UnansweredQuestion, question)).status == "open"  # type: ignore[union-attr]
    confirmed = await client.post(url, data={**form, "discard": "yes"})
    assert confirmed.status_code == 303
    async with app.assistant.sessions() as session:
        row = await session.get(UnansweredQuestion, question)
        assert row is not None and (row.status, row.answer_text) == ("handled", None)
        assert (await session.scalars(select(OutboxMessage))).all() == []  # nobody was sent anything


async def test_the_confirmation_can_send_the_typed_answer_instead(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get(INBOX)
    question = seeded.questions["tan-hoc"]
    form = {"csrf": csrf_of(page.text), "q": str(question), "action": "handled", "answer": "Gửi cái này"}
    asked = await client.post(f"{INBOX}/group", data=form)
    # the confirmation page's own form, as a browser would send it with "Gửi câu trả lời này"
    sent = await client.post(
        f"{INBOX}/group", data={**form, "csrf": csrf_of(asked.text), "action": "answer", "discard": "yes"}
    )
    assert sent.status_code == 303
    async with app.assistant.sessions() as session:
        row = await session.get(UnansweredQuestion, question)
        assert row is not None and (row.status, row.answer_text) == ("answered", "Gửi cái này")
