"""The "Người học" pages (issue 18): search, filters, paging, a learner's page, the exports, the print
view, "Cần gọi tuần này" on the overview, and the village heads' read-only, one-village accounts."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from admin import commands
from admin import store as admin_store
from bot.app import App
from bot.settings import Settings
from data import learners as learner_data
from data.models import AdminUser, Broadcast, Learner, LessonProgress, UnansweredQuestion
from tests.admin.dashboard.conftest import PASSWORD, Seeded, add_learner, add_question, csrf_of, login

LIST = "/admin/c/tan-hoc/learners"


def names(html: str) -> list[str]:
    """The learners' names listed on a page, in order."""
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    found = []
    for part in rows.split('data-label="Họ và tên"><a href="')[1:]:
        found.append(part.split(">", 1)[1].split("</a>", 1)[0])
    return found


async def set_learner(app: App, learner_id: int, **values: object) -> None:
    async with app.assistant.sessions() as session, session.begin():
        await session.execute(update(Learner).where(Learner.id == learner_id).values(**values))


async def village_head(app: App, username: str = "truongthon", village: str = "thon-dong") -> None:
    async with app.assistant.sessions() as session, session.begin():
        await admin_store.create_admin(
            session, username, PASSWORD, "tan-hoc", app.assistant.clock.now(), village_id=village
        )


@pytest.fixture
async def more(app: App, seeded: Seeded) -> dict[str, int]:
    """Beside the seeded four (An, Bình, Dung finished the core; Cúc has one lesson, idle 20 days): one who
    never started, one with an accented name and a mentor, one who opened a lesson yesterday."""
    ids = dict(seeded.learners)
    ids["Mới"] = await add_learner(app, "Mới", "tan-hoc", "thon-tay")
    ids["Đức"] = await add_learner(app, "Nguyễn Văn Đức", "tan-hoc", "thon-tay", ("dien-thoai-wifi",))
    ids["Mở"] = await add_learner(app, "Mở", "tan-hoc", "thon-dong", active_days_ago=1)
    now = app.assistant.clock.now()
    async with app.assistant.sessions() as session, session.begin():
        session.add(
            LessonProgress(
                learner_id=ids["Mở"], lesson_id="an-toan-otp", card_number=2, started_at=now, updated_at=now
            )
        )
    await set_learner(app, ids["Đức"], age_group="60-69", mentor_id=ids["An"])
    await set_learner(app, ids["Cúc"], mentor_id=ids["An"], age_group="70-plus")
    return ids


async def test_the_list_shows_the_communes_registered_learners_and_never_the_erased(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await set_learner(app, more["Bình"], deleted_at=app.assistant.clock.now(), name=None)
    await login(client, "canbo")
    page = await client.get(LIST)
    assert page.status_code == 200
    assert sorted(names(page.text)) == sorted(["An", "Cúc", "Dung", "Mới", "Nguyễn Văn Đức", "Mở"])
    assert "Khác" not in names(page.text)  # another commune's
    assert "<strong>6</strong> người" in page.text
    assert (await client.get(f"{LIST}/{more['Bình']}")).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "nguyen van"}, ["Nguyễn Văn Đức"]),
        ({"q": "NGUYỄN  văn đức"}, ["Nguyễn Văn Đức"]),
        ({"q": "duc"}, ["Nguyễn Văn Đức"]),
        ({"q": "khong ai"}, []),
        ({"village": "thon-tay"}, ["Dung", "Mới", "Nguyễn Văn Đức"]),
        ({"age": "60-69"}, ["Nguyễn Văn Đức"]),
        ({"age": "none", "village": "thon-tay"}, ["Dung", "Mới"]),
        ({"status": "finished"}, ["An", "Bình", "Dung"]),
        ({"status": "not-started"}, ["Mới"]),
        ({"status": "stuck"}, ["Cúc"]),  # one lesson, idle 20 days
        ({"status": "learning"}, ["Mở", "Nguyễn Văn Đức"]),  # Mở only opened a lesson
        ({"status": "stuck", "days": "30"}, []),
        ({"status": "learning", "days": "30"}, ["Cúc", "Mở", "Nguyễn Văn Đức"]),
        ({"mentor": "MENTOR"}, ["Cúc", "Nguyễn Văn Đức"]),
        ({"mentor": "0", "village": "thon-tay"}, ["Dung", "Mới"]),
        ({"period": "2026-Q3"}, ["An", "Bình", "Cúc", "Dung", "Mới", "Mở", "Nguyễn Văn Đức"]),  # registered
        ({"period": "2026-Q4"}, []),
        ({"period": "2026-Q4", "status": "finished"}, ["An", "Bình", "Dung"]),  # finished in the period
        ({"period": "2026-Q3", "status": "finished"}, []),
        ({"q": "an", "status": "finished", "village": "thon-dong"}, ["An"]),
    ],
)
async def test_search_and_filters(
    client: httpx.AsyncClient, more: dict[str, int], query: dict[str, str], expected: list[str]
) -> None:
    if query.get("mentor") == "MENTOR":
        query = {**query, "mentor": str(more["An"])}
    await login(client, "canbo")
    page = await client.get(LIST, params=query)
    assert page.status_code == 200, page.text
    assert sorted(names(page.text)) == sorted(expected)
    assert f"<strong>{len(expected)}</strong> người" in page.text


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"village": "thon-a"}, 404),  # another commune's village
        ({"age": "99"}, 400),
        ({"mentor": "x"}, 400),
        ({"status": "asleep"}, 400),
        ({"days": "0"}, 400),
        ({"days": "1000"}, 400),
        ({"period": "2026-Q9"}, 400),
        ({"page": "0"}, 400),
        ({"page": "2"}, 404),
    ],
)
async def test_values_out_of_range_are_vietnamese_errors(
    client: httpx.AsyncClient, seeded: Seeded, query: dict[str, str], status: int
) -> None:
    await login(client, "canbo")
    page = await client.get(LIST, params=query)
    assert page.status_code == status and 'id="error"' in page.text


async def test_fifty_a_page_with_the_total(client: httpx.AsyncClient, app: App, seeded: Seeded) -> None:
    for n in range(116):
        await add_learner(app, f"Người {n:03d}", "tan-hoc", "thon-tay")
    await login(client, "canbo")
    first = await client.get(LIST, params={"village": "thon-tay"})
    assert "<strong>117</strong> người · trang 1/3" in first.text
    assert len(names(first.text)) == 50 and names(first.text)[0] == "Dung"
    third = await client.get(LIST, params={"village": "thon-tay", "page": "3"})
    assert len(names(third.text)) == 17 and names(third.text)[-1] == "Người 115"
    assert 'href="?village=thon-tay&amp;days=7&amp;page=2"' in third.text  # the filter carried on
    searched = await client.get(LIST, params={"q": "nguoi 1"})  # "Người 100" to "Người 115"
    assert "<strong>16</strong> người" in searched.text and searched.text.count('data-label="STT"') == 16
    assert (await client.get(LIST, params={"q": "nguoi 1", "page": "2"})).status_code == 404


async def test_a_learners_page_is_read_only_and_shows_no_channel_ids(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await add_question(app, more["Cúc"], "Làm sao chặn số lạ?")
    await login(client, "canbo")
    page = await client.get(f"{LIST}/{more['Cúc']}")
    assert page.status_code == 200
    text = page.text
    assert 'id="core">1/2<' in text and "Dừng ≥ 7 ngày" in text
    assert 'id="mentor">An<' in text and "Từ 70 tuổi trở lên" in text
    assert "Làm sao chặn số lạ?" in text and "Đang chờ" in text
    assert (
        'data-lesson="dien-thoai-wifi" class="done"' in text
        and 'data-lesson="an-toan-otp" class="todo"' in text
    )
    assert "u-Cúc" not in text  # the channel's user and chat ids
    assert '<form method="post"' not in text.split("<main>", 1)[1]  # nothing to post but logging out
    other = await client.get(f"{LIST}/{more['Khác']}")  # another commune's learner through this commune
    assert other.status_code == 404
    assert (await client.get(f"/admin/c/xa-khac/learners/{more['Khác']}")).status_code == 403
    assert (await client.get(f"{LIST}/999999")).status_code == 404
    assert (await client.get(f"{LIST}/abc")).status_code == 404


async def test_the_xlsx_export_holds_the_filtered_list_as_numbers_dates_and_safe_text(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await set_learner(app, more["Mới"], name='=HYPERLINK("http://x","y")')
    await login(client, "canbo")
    response = await client.get(f"{LIST}/export", params={"village": "thon-tay", "format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="nguoi-hoc-tan-hoc-')
    sheet = load_workbook(io.BytesIO(response.content))["Người học"]
    assert "XÃ TÂN HỌC" in str(sheet["A1"].value) and "Thôn Tây" in str(sheet["A2"].value)
    assert "tổng số: 3 người" in str(sheet["A3"].value)
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert rows[0][:3] == ("STT", "Họ và tên", "Thôn / tổ dân phố")
    body = {r[1]: r for r in rows[1:]}
    assert set(body) == {"Dung", "Nguyễn Văn Đức", '=HYPERLINK("http://x","y")'}
    duc = body["Nguyễn Văn Đức"]
    assert duc[3:8] == ("Từ 60 đến 69", "An", 1, 50.0, 1)
    assert duc[8].strftime("%d/%m/%Y") == "23/09/2026" and duc[11] == "Đang học"
    assert body["Dung"][5:7] == (2, 100.0) and body["Dung"][11] == "Xong bài cốt lõi"
    formula = next(c for c in sheet["B"] if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s" and formula.quotePrefix  # text, never a formula
    assert [r[0] for r in rows[1:]] == [1, 2, 3]
    assert sheet.freeze_panes == "C6" and sheet.print_title_rows == "$5:$5"  # the header on every page
    assert sheet.page_setup.orientation == "landscape" and sheet.cell(6, 9).number_format == "dd/mm/yyyy"


async def test_the_csv_export_reads_as_a_vietnamese_excel_does(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await set_learner(app, more["Mới"], name="@SUM(A1)")
    await login(client, "canbo")
    response = await client.get(f"{LIST}/export", params={"status": "learning", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = next(i for i, line in enumerate(lines) if line and line[0] == "STT")
    table = {line[1]: line for line in lines[header + 1 :]}
    assert set(table) == {"Mở", "Nguyễn Văn Đức"}
    duc = table["Nguyễn Văn Đức"]
    assert duc[6] == "50,0" and float(duc[6].replace(",", ".")) == 50.0  # a decimal comma
    assert duc[8] == "23/09/2026" and duc[5] == "1"
    assert all(len(line) == 12 for line in lines[header:])  # ";" splits every row into its 12 cells
    stuck = await client.get(f"{LIST}/export", params={"status": "stuck", "format": "csv"})
    cells = [line for line in csv.reader(io.StringIO(stuck.text.lstrip("\ufeff")), delimiter=";")]
    assert any(line[:2] == ["1", "Cúc"] for line in cells)
    safe = await client.get(f"{LIST}/export", params={"status": "not-started", "format": "csv"})
    assert ";'@SUM(A1);" in safe.text  # a formula start gets an apostrophe
    assert (await client.get(f"{LIST}/export", params={"format": "pdf"})).status_code == 400


async def test_the_print_view_lists_every_match(client: httpx.AsyncClient, more: dict[str, int]) -> None:
    await login(client, "canbo")
    page = await client.get(f"{LIST}/print", params={"status": "finished"})
    assert page.status_code == 200
    table = page.text.split('id="print-table"', 1)[1]
    assert table.count("<tr>") == 4  # the header and three learners
    assert "xong bài cốt lõi" in page.text and "100,0" in table


async def test_the_overview_says_who_to_call_this_week(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc")
    block = page.text.split('id="to-call"', 1)[1].split("</section>", 1)[0]
    assert "Cúc" in block and "Đại sứ số: An" in block and "20 ngày chưa quay lại" in block
    assert "Nguyễn Văn Đức" not in block and "Mới" not in block


# --- village heads --------------------------------------------------------------------------------------
async def test_a_village_head_sees_only_their_village_everywhere(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await village_head(app)  # Thôn Đông: An, Bình, Cúc, Mở
    await login(client, "truongthon")
    listed = await client.get(LIST)
    assert sorted(names(listed.text)) == ["An", "Bình", "Cúc", "Mở"]
    assert (await client.get(LIST, params={"village": "thon-dong"})).status_code == 200
    overview = await client.get("/admin/c/tan-hoc")
    assert overview.status_code == 200
    assert 'id="registered">4<' in overview.text  # not the commune's 7
    assert 'data-village="thon-tay"' not in overview.text
    assert 'href="/admin/c/tan-hoc/mentors"' not in overview.text  # the menu offers only what they reach
    report = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4", "format": "csv"})
    assert report.status_code == 200 and "Thôn Tây" not in report.text
    xlsx = await client.get(f"{LIST}/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content))["Người học"]
    assert sorted(str(r[1]) for r in sheet.iter_rows(min_row=6, values_only=True)) == [
        "An",
        "Bình",
        "Cúc",
        "Mở",
    ]
    assert (await client.get(f"{LIST}/{more['Cúc']}")).status_code == 200


async def test_a_village_head_gets_403_for_another_villages_learner_and_exports(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await village_head(app)
    await login(client, "truongthon")
    for path, params in (
        (f"{LIST}/{more['Dung']}", {}),
        (LIST, {"village": "thon-tay"}),
        (f"{LIST}/export", {"village": "thon-tay", "format": "xlsx"}),
        (f"{LIST}/export", {"village": "thon-tay", "format": "csv"}),
        (f"{LIST}/print", {"village": "thon-tay"}),
    ):
        response = await client.get(path, params=params)
        assert response.status_code == 403, path
        assert "Không được phép" in response.text and "của thôn mình" in response.text
        assert "Dung" not in response.text
    assert (await client.get(f"/admin/c/xa-khac/learners/{more['Khác']}")).status_code == 403


@pytest.mark.parametrize(
    "path", ["/lessons", "/mentors", "/questions", "/announcements", "/certificates", "/kb", "/kb/new"]
)
async def test_a_village_head_cannot_open_the_staffs_pages(
    client: httpx.AsyncClient, app: App, seeded: Seeded, path: str
) -> None:
    await village_head(app)
    await login(client, "truongthon")
    response = await client.get(f"/admin/c/tan-hoc{path}")
    assert response.status_code == 403 and "Tổng quan, Người học và Báo cáo" in response.text


async def test_a_village_head_cannot_post_anything(
    client: httpx.AsyncClient, app: App, seeded: Seeded
) -> None:
    await village_head(app)
    await login(client, "truongthon")
    page = await client.get(LIST)
    csrf = csrf_of(page.text)  # the logout form's: a valid token does not help
    question = seeded.questions["tan-hoc"]
    for path, form in (
        (f"/questions/{question}", {"action": "answer", "answer": "Trả lời"}),
        (f"/questions/{question}", {"action": "handled"}),
        ("/questions/group", {"q": str(question), "action": "answer", "answer": "x"}),
        ("/announcements/preview", {"text": "Họp thôn"}),
        ("/announcements", {"text": "Họp thôn", "confirm": "yes"}),
        ("/mentors/invite", {"count": "1"}),
        ("/kb", {"question": "Câu?", "answer": "Đáp.", "action": "approve"}),
    ):
        response = await client.post(f"/admin/c/tan-hoc{path}", data={"csrf": csrf, **form})
        assert response.status_code == 403 and "chỉ được xem" in response.text, path
    async with app.assistant.sessions() as session:
        row = await session.get(UnansweredQuestion, question)
        assert row is not None and row.status == "open"
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
    logout = await client.post("/admin/logout", data={"csrf": csrf})
    assert logout.status_code == 303  # logging out is the one thing they may post


async def test_the_commune_admin_still_sees_every_village_after_a_village_head(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    """The village scope belongs to one request: the next account's request sees the whole commune."""
    await village_head(app)
    await login(client, "truongthon")
    await client.get(LIST)
    client.cookies.clear()
    await login(client, "canbo")
    assert len(names((await client.get(LIST)).text)) == 7


async def test_the_admin_command_creates_a_village_head(settings: Settings) -> None:
    made = await commands.create_admin(settings, "truong.dong", PASSWORD, "tan-hoc", False, "thon-dong")
    assert "village head of thon-dong" in made
    with pytest.raises(commands.CommandError, match="no village"):
        await commands.create_admin(settings, "truong.x", PASSWORD, "tan-hoc", False, "thon-a")
    with pytest.raises(commands.CommandError, match="exclude"):
        await commands.create_admin(settings, "truong.y", PASSWORD, None, True, "thon-dong")
    from data.db import create_engine, session_factory

    engine = create_engine(settings.db_url)
    try:
        async with session_factory(engine)() as session:
            user = await session.scalar(select(AdminUser).where(AdminUser.username == "truong.dong"))
            assert user is not None and (user.commune_id, user.village_id, user.is_super) == (
                "tan-hoc",
                "thon-dong",
                False,
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  Nguyễn  Văn Đức", "nguyen van duc"),
        ("TRẦN THỊ Ỷ", "tran thi y"),
        ("Nguye\u0302\u0303n", "nguyen"),  # typed decomposed
        ("Ưng Ơn", "ung on"),
    ],
)
def test_names_fold_without_diacritics(text: str, folded: str) -> None:
    assert learner_data.fold(text) == folded


async def test_the_staff_make_a_village_heads_account_and_its_password_works(
    client: httpx.AsyncClient, app: App, more: dict[str, int]
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/village-heads")
    assert page.status_code == 200 and "Chưa có tài khoản trưởng thôn nào" in page.text
    url = "/admin/c/tan-hoc/village-heads"
    form = {"csrf": csrf_of(page.text), "username": "truong.tay", "village": "thon-tay"}
    assert (await client.post(url, data={**form, "csrf": "wrong"})).status_code == 403
    assert (
        await client.post(url, data={**form, "village": "thon-a"})
    ).status_code == 404  # another commune's
    bad = await client.post(url, data={**form, "username": "trưởng thôn"})
    assert bad.status_code == 400 and "chữ không dấu" in bad.text
    made = await client.post(url, data=form)
    assert made.status_code == 200
    password = made.text.split('id="created-password">', 1)[1].split("<", 1)[0]
    assert len(password) == 12 and 'data-label="Thôn / tổ">Thôn Tây<' in made.text
    again = await client.post(url, data=form)  # a reload of the form: the name is taken, nothing made
    assert again.status_code == 400 and 'id="created-password"' not in again.text
    async with app.assistant.sessions() as session:
        heads = (await session.scalars(select(AdminUser).where(AdminUser.village_id.is_not(None)))).all()
        assert [(h.username, h.village_id, h.commune_id, h.is_super) for h in heads] == [
            ("truong.tay", "thon-tay", "tan-hoc", False)
        ]
    client.cookies.clear()
    assert (await login(client, "truong.tay", password)).status_code == 303
    assert sorted(names((await client.get(LIST)).text)) == ["Dung", "Mới", "Nguyễn Văn Đức"]
    assert (await client.get(url)).status_code == 403  # a village head makes no accounts
    response = await client.post(url, data={**form, "csrf": csrf_of((await client.get(LIST)).text)})
    assert response.status_code == 403


MY_PAGES = ["/learners", "/learners/export?format=csv", "/learners/print", "/village-heads"]


@pytest.mark.parametrize("path", MY_PAGES)
async def test_the_pages_need_a_login_and_the_right_commune(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    response = await client.get(f"/admin/c/tan-hoc{path}")
    assert response.status_code == 303 and response.headers["location"].endswith("/admin/login")
    await login(client, "khac")
    assert (await client.get(f"/admin/c/tan-hoc{path}")).status_code == 403
    assert (await client.get(f"/admin/c/tan-hoc/learners/{seeded.learners['An']}")).status_code == 403
    client.cookies.clear()
    await login(client, "tinh")  # the super-admin reaches every commune
    assert (await client.get(f"/admin/c/xa-khac{path}")).status_code == 200
