"""The overview's commune total, Vietnamese numbers, chart (inline SVG, SVG alone, PNG) and the period list;
the report's age-group sheet and both CSV conventions, through the dashboard."""

from __future__ import annotations

import csv
import io
import re

import httpx
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import update

from admin.reports import HEADER_ROW
from bot.app import App
from data.models import Learner
from tests.admin.dashboard.conftest import Seeded, login


def row_cells(html: str, village_id: str) -> list[str]:
    match = re.search(rf'<tr data-village="{village_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, village_id
    return re.findall(r"<td[^>]*>([^<]*)</td>", match.group(1))


async def test_the_overview_shows_the_commune_total_in_vietnamese_numbers(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    page = (await client.get("/admin/c/tan-hoc")).text
    # 3 of the commune's 150 adults finished the core; the target is 80 %
    assert re.search(r'id="commune-share">2,0 %<', page) and "chỉ tiêu năm 2026: 80 %" in page
    assert row_cells(page, "toan-xa") == ["Toàn xã", "150", "4", "3", "2,0 %", "2,5 %"]
    assert 'data-label="% chỉ tiêu"' in page and 'class="cards"' in page
    assert not re.search(r"\d\.\d%", page)  # no "2.0%" left anywhere on the page
    # the chart is inline, with attributes only (the CSP blocks inline style)
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "style" not in svg and "Toàn xã" in svg and "2,0 %" in svg
    # the report form: the current quarter is the default; past quarters since the first registration
    periods = re.findall(r'<option value="(20[^"]+)"( selected)?>([^<]+)</option>', page)
    assert periods == [
        ("2026-Q4", " selected", "Quý IV năm 2026"),
        ("2026-Q3", "", "Quý III năm 2026"),
        ("2026", "", "Năm 2026"),
    ]
    assert 'value="csv"' in page and 'value="csv-en"' in page


async def test_the_chart_opens_alone_and_downloads_as_a_png(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    svg = await client.get("/admin/c/tan-hoc/chart.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "style" not in svg.text and 'fill="#ffffff"' in svg.text and "Thôn Tây" in svg.text
    png = await client.get("/admin/c/tan-hoc/chart.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="bieu-do-tan-hoc-2026-11-02.png"'
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.width == 1400
    assert (await client.get("/admin/c/xa-khac/chart.png")).status_code == 403


async def test_the_report_breaks_down_by_age_group(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    async with app.assistant.sessions() as session, session.begin():
        for name, group in (("An", "60-69"), ("Bình", "70-plus"), ("Cúc", "60-69")):
            await session.execute(
                update(Learner).where(Learner.id == seeded.learners[name]).values(age_group=group)
            )
    await login(client, "canbo")
    response = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4"})
    book = load_workbook(io.BytesIO(response.content))
    ages = {r[1]: r[2:] for r in book["Theo nhóm tuổi"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    # registered, finished the core, finished in the period, share of the registered
    assert ages["Từ 60 đến 69"][:3] == (2, 1, 1) and ages["Từ 70 tuổi trở lên"][:3] == (1, 1, 1)
    assert ages["Chưa khai báo"][:3] == (1, 1, 1) and ages["Dưới 40 tuổi"][:3] == (0, 0, 0)
    assert ages["Toàn xã"][:3] == (4, 3, 3)  # as on the village sheet: the other commune is not counted
    for sheet in book.worksheets:
        assert "Toàn xã" in [c.value for c in sheet["B"]], sheet.title


async def test_both_csv_conventions_download(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    vietnamese = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4", "format": "csv"})
    assert 'filename="bao-cao-tan-hoc-2026-Q4.csv"' in vietnamese.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(vietnamese.content.decode("utf-8-sig")), delimiter=";"))
    dong = next(r for r in rows if len(r) == 9 and r[1] == "Thôn Đông")
    assert dong[2:] == ["100", "3", "2", "2", "2,00", "80,00", "2,50"]
    english = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4", "format": "csv-en"})
    assert 'filename="bao-cao-tan-hoc-2026-Q4-en.csv"' in english.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    dong = next(r for r in rows if len(r) == 9 and r[1] == "Thôn Đông")
    assert dong[6:] == ["2.00", "80.00", "2.50"]
    wrong = await client.get("/admin/c/tan-hoc/report", params={"period": "2026-Q4", "format": "ods"})
    assert wrong.status_code == 400 and "csv-en" in wrong.text
