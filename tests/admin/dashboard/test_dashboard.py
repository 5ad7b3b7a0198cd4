"""The dashboard's pages show what the data implies; reports download with the right numbers;
announcements and answers reach the outbox."""

from __future__ import annotations

import csv
import io
import re

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from admin.reports import HEADER_ROW
from bot.app import App
from bot.outbox import OutboxWorker
from data.models import Broadcast, UnansweredQuestion
from tests.admin.dashboard.conftest import Seeded, csrf_of, login, token_of
from tests.admin.helpers import FakeSender


def cell(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]+)<', html)
    assert match, element_id
    return match.group(1)


def village_row(html: str, village_id: str) -> list[str]:
    match = re.search(rf'<tr data-village="{village_id}">(.*?)</tr>', html, re.S)
    assert match, village_id
    return re.findall(r"<td[^>]*>([^<]*)</td>", match.group(1))


async def test_login_then_the_overview_shows_the_communes_numbers(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await login(client, "canbo")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    page = await client.get(response.headers["location"], follow_redirects=True)
    assert page.status_code == 200 and "Xã Tân Học" in page.text
    assert [
        cell(page.text, i) for i in ("registered", "active7", "active30", "completions", "finished-core")
    ] == [
        "4",
        "3",
        "4",
        "7",
        "3",
    ]
    assert village_row(page.text, "thon-dong") == ["Thôn Đông", "100", "3", "2", "2,0 %", "2,5 %"]
    assert village_row(page.text, "thon-tay") == ["Thôn Tây", "50", "1", "1", "2,0 %", "2,5 %"]
    assert "Câu hỏi của xã khác" not in page.text and "script" not in page.text.lower()
    assert "script-src 'none'" in page.headers["content-security-policy"]
    chart = await client.get("/admin/c/tan-hoc/chart.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml") and "Thôn Đông" in chart.text


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    for _ in range(5):
        response = await login(client, "canbo", "sai-mat-khau-roi")
        assert response.status_code == 401
    assert "tạm khóa" in response.text
    response = await login(client, "canbo")
    assert response.status_code == 429 and "tạm khóa" in response.text
    assert "hocvuso_admin" not in response.headers.get("set-cookie", "")


async def test_the_lock_ends_after_fifteen_minutes(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    for _ in range(5):
        await login(client, "canbo", "sai-mat-khau-roi")
    app.assistant.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert (await login(client, "canbo")).status_code == 303


async def test_the_xlsx_report_holds_the_villages_topics_and_mentors(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    response = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4", "format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="bao-cao-tan-hoc-2026-Q4.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Theo thôn"]
    assert sheet["A1"].value == "UBND XÃ TÂN HỌC" and sheet["A5"].value == "Quý IV năm 2026"
    rows = {row[1]: row[1:] for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert rows["Thôn Đông"][:5] == ("Thôn Đông", 100, 3, 2, 2)
    assert rows["Thôn Đông"][5] == 0.02 and rows["Thôn Đông"][7] == 0.025
    assert rows["Toàn xã"][:4] == ("Toàn xã", 150, 4, 3)
    assert sheet["G10"].number_format == "0.0 %" and sheet.freeze_panes == "A10"
    topics = {
        row[1]: row[1:] for row in book["Theo chủ đề"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)
    }
    assert topics["Điện thoại (thử)"][2] == 4 and topics["An toàn (thử)"][2] == 3


async def test_a_report_for_an_earlier_quarter_counts_only_what_happened_by_then(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    response = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q2", "format": "csv"})
    text = response.content.decode("utf-8-sig")
    rows = {row[1]: row[1:] for row in csv.reader(io.StringIO(text), delimiter=";") if len(row) > 1}
    assert rows["Thôn Đông"][1:5] == ["100", "0", "0", "0"]  # everyone registered in the autumn
    assert (await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q9"})).status_code == 400


async def test_an_announcement_is_previewed_confirmed_and_its_delivery_watched(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/announcements")
    preview = await client.post(
        "/admin/c/tan-hoc/announcements/preview",
        data={
            "csrf": csrf_of(page.text),
            "text": "Ngày hội học tập số 10/10 <b>tại nhà văn hóa</b>",
            "village": "thon-dong",
        },
    )
    assert cell(preview.text, "count") == "3" and "&lt;b&gt;" in preview.text
    async with app.assistant.sessions() as session:
        assert (await session.scalars(select(Broadcast))).all() == []  # nothing queued before confirming
    sent = await client.post(
        "/admin/c/tan-hoc/announcements",
        data={
            "csrf": csrf_of(preview.text),
            "text": "Ngày hội học tập số 10/10 <b>tại nhà văn hóa</b>",
            "village": "thon-dong",
            "confirm": "yes",
            "token": token_of(preview.text),
        },
    )
    assert sent.status_code == 303
    progress = await client.get(sent.headers["location"])
    assert "Đã gửi: <strong>0</strong>" in progress.text and 'http-equiv="refresh"' in progress.text
    sender = FakeSender()
    await OutboxWorker(
        app.assistant.sessions, {"test": sender}, app.assistant.clock, rates={"test": 0}
    ).run_once()
    assert sorted(chat for chat, _ in sender.sent) == ["u-An", "u-Bình", "u-Cúc"]
    progress = await client.get(sent.headers["location"])
    assert "Đã gửi: <strong>3</strong>" in progress.text and 'http-equiv="refresh"' not in progress.text


async def test_answering_a_question_delivers_it_and_marking_handled_clears_it(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/questions")
    assert "Làm sao đổi mật khẩu Zalo?" in page.text and "Câu hỏi của xã khác" not in page.text
    question = seeded.questions["tan-hoc"]
    response = await client.post(
        f"/admin/c/tan-hoc/questions/{question}",
        data={"csrf": csrf_of(page.text), "action": "answer", "answer": "Bác vào Cài đặt > Tài khoản ạ."},
    )
    assert response.status_code == 303
    sender = FakeSender()
    await OutboxWorker(
        app.assistant.sessions, {"test": sender}, app.assistant.clock, rates={"test": 0}
    ).run_once()
    (reply,) = sender.to("u-Cúc")
    assert "Cài đặt > Tài khoản" in reply.text and "cán bộ Xã Tân Học" in reply.text
    page = await client.get("/admin/c/tan-hoc/questions")
    assert "Làm sao đổi mật khẩu Zalo?" not in page.text
    async with app.assistant.sessions() as session:
        row = await session.get(UnansweredQuestion, question)
        assert row is not None and (row.status, row.answered_by) == ("answered", "admin:canbo")


async def test_lessons_and_mentors_pages(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    lessons = await client.get("/admin/c/tan-hoc/lessons")
    assert "Kết nối Wi-Fi" in lessons.text and "Chưa có ai làm bài kiểm tra" in lessons.text
    mentors = await client.get("/admin/c/tan-hoc/mentors")
    assert "Chưa có Đại sứ số" in mentors.text
    created = await client.post(
        "/admin/c/tan-hoc/mentors/invite", data={"csrf": csrf_of(mentors.text), "count": "2"}
    )
    assert created.status_code == 303  # POST/redirect/GET: the new codes are shown on the page it leads to
    shown = await client.get(created.headers["location"])
    assert len(re.findall(r"<code>([A-Z0-9]{8})</code> ", shown.text)) == 2


async def test_logout_ends_the_session(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc")
    await client.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    assert (await client.get("/admin/c/tan-hoc")).status_code == 303
