"""The quarterly report in the form staff file it: national header, the commune's body, title with the
period, STT, unit, "Toàn xã" totals and the signature block on every sheet; the CSV as a Vietnamese Excel
reads it; the period list."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from admin.reports import HEADER_ROW, AgeRow, Report, TopicRow, report_periods, to_csv, to_xlsx
from data.commune import load_commune_config
from data.stats import MentorRow, Period, VillageRow

COMMUNE = """
communes:
  - id: tan-hoc
    name: Xã Tân Học (xã mẫu)
    province: Tỉnh Mẫu
    targets: [{year: 2026, basic_skills_share: 0.8}]
    villages:
      - {id: thon-dong, name: Thôn Đông, adults: 820}
      - {id: thon-tay, name: Thôn Tây, adults: 640}
"""


@pytest.fixture
def report(tmp_path: Path) -> Report:
    path = tmp_path / "communes.yaml"
    path.write_text(COMMUNE, encoding="utf-8")
    commune = load_commune_config(path).communes[0]
    return Report(
        commune=commune,
        period=Period.parse("2026-Q4"),
        generated_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC),  # 10:00 on 2 December in Vietnam
        villages=[
            VillageRow("thon-dong", "Thôn Đông", 820, 120, 85, 30, 0.8),
            VillageRow("thon-tay", "Thôn Tây", 640, 90, 66, 20, 0.8),
        ],
        topics=[
            TopicRow("an-toan", "An toàn", 4, 100, 90, 81),
            TopicRow("dien-thoai", "Điện thoại", 3, 50, 40, 40),
        ],
        mentors=[
            MentorRow(1, "Lê Đại Sứ", "thon-dong", 6, 4, 3, 9, 5),
            MentorRow(2, "Phạm Văn Hai", "thon-tay", 2, 1, 1, 1, 5),
        ],
        village_names={"thon-dong": "Thôn Đông", "thon-tay": "Thôn Tây"},
        ages=[
            AgeRow("duoi-40", "Dưới 40 tuổi", 50, 40, 10),
            AgeRow("40-59", "Từ 40 đến 59", 80, 60, 20),
            AgeRow("60-69", "Từ 60 đến 69", 50, 35, 15),
            AgeRow("70-plus", "Từ 70 tuổi trở lên", 20, 10, 5),
            AgeRow("", "Chưa khai báo", 10, 6, 0),
        ],
    )


def texts(sheet: Worksheet) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def table(sheet: Worksheet) -> list[tuple[object, ...]]:
    """The rows under the header, up to the first empty row."""
    rows = []
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return rows


def test_every_sheet_is_an_administrative_form(report: Report) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == ["Theo thôn", "Theo chủ đề", "Theo Đại sứ số", "Theo nhóm tuổi"]
    for sheet in book.worksheets:
        lines = texts(sheet)
        assert sheet["A1"].value == "UBND XÃ TÂN HỌC"  # the issuing body, from the commune file
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines and "Độc lập - Tự do - Hạnh phúc" in lines
        assert "BÁO CÁO KẾT QUẢ TRIỂN KHAI THỰC HIỆN PHONG TRÀO “BÌNH DÂN HỌC VỤ SỐ”" in lines
        assert "Quý IV năm 2026" in lines and not [t for t in lines if "2026-Q4" in t or "(xã mẫu)" in t]
        assert "Số liệu tính đến ngày 02/12/2026" in lines
        assert [t for t in lines if t.startswith("Đơn vị tính: ")]
        assert sheet.cell(row=HEADER_ROW, column=1).value == "STT"
        rows = table(sheet)
        assert [r[0] for r in rows] == [*range(1, len(rows)), None]  # STT 1..n, none on the total
        assert rows[-1][1] == "Toàn xã"
        # the place and date line and the signature block, under the table
        assert "Tân Học, ngày 02 tháng 12 năm 2026" in lines
        assert "NGƯỜI LẬP BIỂU" in lines and "TM. UBND XÃ TÂN HỌC" in lines and "CHỦ TỊCH" in lines
        # the print setup: A4 landscape, one page wide, the header row repeated, page numbers
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
        assert (
            sheet.sheet_properties.pageSetUpPr.fitToPage
            and sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
        )
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}" and "&P" in sheet.oddFooter.center.text


def test_the_totals_add_up_on_every_sheet(report: Report) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    villages = table(book["Theo thôn"])
    assert villages[-1][1:6] == ("Toàn xã", 1460, 210, 151, 50)
    assert villages[-1][6] == pytest.approx(151 / 1460) and villages[-1][7] == 0.8
    assert villages[-1][8] == pytest.approx(151 / 1460 / 0.8)
    assert book["Theo thôn"].cell(row=HEADER_ROW + 1, column=7).number_format == "0.0 %"
    topics = table(book["Theo chủ đề"])
    assert topics[-1][1:6] == ("Toàn xã", 7, 150, 130, 121) and topics[-1][6] == pytest.approx(121 / 130)
    mentors = table(book["Theo Đại sứ số"])
    assert mentors[-1][1:] == ("Toàn xã", "2 Đại sứ số", 8, 5, "1/2 đạt", 4, 10)
    ages = table(book["Theo nhóm tuổi"])
    assert [r[1] for r in ages] == [
        "Dưới 40 tuổi",
        "Từ 40 đến 59",
        "Từ 60 đến 69",
        "Từ 70 tuổi trở lên",
        "Chưa khai báo",
        "Toàn xã",
    ]
    assert ages[-1][1:5] == ("Toàn xã", 210, 151, 50) and ages[-1][5] == pytest.approx(151 / 210)


def parse_vietnamese(cell: str) -> float | str:
    """How a spreadsheet set to Vietnamese reads a cell: "1.234,5" is 1234.5; anything else is text."""
    plain = cell.replace(".", "")
    try:
        return float(plain.replace(",", "."))
    except ValueError:
        return cell


def test_the_csv_splits_and_reads_as_numbers_in_a_vietnamese_excel(report: Report) -> None:
    data = to_csv(report).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")  # the byte order mark: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["UBND xã Tân Học"] and "Quý IV năm 2026" in rows[1][0]
    header = next(r for r in rows if r[:2] == ["STT", "Thôn / tổ dân phố"])
    assert header[6] == "Tỷ lệ hoàn thành (%)"
    parsed = {
        r[1]: [parse_vietnamese(c) for c in r]
        for r in rows
        if len(r) == 9 and r[1] in {"Thôn Đông", "Toàn xã"}
    }
    assert parsed["Thôn Đông"][:6] == [1.0, "Thôn Đông", 820.0, 120.0, 85.0, 30.0]
    assert parsed["Thôn Đông"][6] == pytest.approx(100 * 85 / 820, abs=0.005)  # "10,37": a percentage
    assert parsed["Toàn xã"][0] == "" and parsed["Toàn xã"][2] == 1460.0
    assert parsed["Toàn xã"][7] == 80.0
    assert not [c for r in rows for c in r if "." in c and c.replace(".", "").isdigit()]  # no decimal points
    # each of the four tables ends with its "Toàn xã" row; the file ends with the place and date
    assert sum(1 for r in rows if len(r) > 1 and r[1] == "Toàn xã") == 4
    assert rows[-1] == ["Tân Học, ngày 02 tháng 12 năm 2026"]


def test_the_international_csv_uses_commas_and_decimal_points(report: Report) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report, vietnamese_excel=False).lstrip("\ufeff"))))
    dong = next(r for r in rows if len(r) == 9 and r[1] == "Thôn Đông")
    assert dong[:6] == ["1", "Thôn Đông", "820", "120", "85", "30"] and dong[6] == "10.37"


def test_periods_run_from_the_first_registration_to_the_current_quarter_first() -> None:
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    quarters, years = report_periods(datetime(2025, 8, 15, tzinfo=UTC), now)
    assert [q.value for q in quarters] == ["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4", "2025-Q3"]
    assert quarters[0].title == "Quý IV năm 2026" and [y.title for y in years] == ["Năm 2026", "Năm 2025"]
    # nobody registered yet: the current quarter and year only
    quarters, years = report_periods(None, now)
    assert [q.value for q in quarters] == ["2026-Q4"] and [y.value for y in years] == ["2026"]
    # 31 December 20:00 UTC is already 1 January in Vietnam: the new quarter and year
    quarters, years = report_periods(None, datetime(2026, 12, 31, 20, tzinfo=UTC))
    assert quarters[0].value == "2027-Q1" and years[0].value == "2027"
    # a very old first record: at most ten years back
    quarters, years = report_periods(datetime(2001, 1, 1, tzinfo=UTC), now)
    assert len(years) == 10 and quarters[-1].value == "2017-Q1"
