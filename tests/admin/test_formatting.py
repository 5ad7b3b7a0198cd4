"""Numbers, shares, dates and periods are written the Vietnamese way, wherever the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from admin import formatting as vn
from data.stats import Period


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [(0, 0, "0"), (7, 0, "7"), (999, 0, "999"), (12345, 0, "12.345"), (1234567, 0, "1.234.567"),
     (1234.5, 1, "1.234,5"), (0.25, 2, "0,25"), (-4200, 0, "-4.200")],
)  # fmt: skip
def test_numbers_group_thousands_with_dots(value: float, decimals: int, text: str) -> None:
    assert vn.number(value, decimals) == text


@pytest.mark.parametrize(
    ("share", "decimals", "text"),
    [(0.1037, 1, "10,4 %"), (0.0, 1, "0,0 %"), (1.0, 0, "100 %"), (0.8, 0, "80 %"), (0.02, 1, "2,0 %"),
     (12.5, 1, "1.250,0 %")],
)  # fmt: skip
def test_percentages_have_a_comma_and_a_space_before_the_sign(share: float, decimals: int, text: str) -> None:
    assert vn.percent(share, decimals) == text


def test_a_decimal_for_a_spreadsheet_has_a_comma_and_no_grouping() -> None:
    assert vn.decimal(0.1037, 4) == "0,1037" and vn.decimal(12345.678) == "12345,68"


def test_dates_are_day_first_in_vietnams_time() -> None:
    assert vn.day(date(2026, 12, 2)) == "02/12/2026"
    # 20:00 UTC on 1 December is already 2 December in Vietnam; a naive value from SQLite is UTC
    assert vn.day(datetime(2026, 12, 1, 20, tzinfo=UTC)) == "02/12/2026"
    assert vn.day(datetime(2026, 12, 1, 20)) == "02/12/2026"
    assert vn.moment(datetime(2026, 12, 1, 20, 5, tzinfo=UTC)) == "02/12/2026 03:05"


def test_the_date_line_pads_days_below_ten_and_the_first_two_months() -> None:
    assert vn.date_line("Tân Học", date(2026, 12, 2)) == "Tân Học, ngày 02 tháng 12 năm 2026"
    assert vn.date_line("Tân Học", date(2027, 1, 15)) == "Tân Học, ngày 15 tháng 01 năm 2027"
    assert vn.date_line("Tân Học", date(2027, 2, 9)) == "Tân Học, ngày 09 tháng 02 năm 2027"
    assert vn.date_line("Tân Học", date(2027, 3, 31)) == "Tân Học, ngày 31 tháng 3 năm 2027"


@pytest.mark.parametrize(
    ("label", "title"),
    [("2026-Q1", "Quý I năm 2026"), ("2026-Q2", "Quý II năm 2026"), ("2026-Q3", "Quý III năm 2026"),
     ("2026-Q4", "Quý IV năm 2026"), ("2026", "Năm 2026")],
)  # fmt: skip
def test_periods_are_written_with_roman_quarters(label: str, title: str) -> None:
    assert vn.period_title(label) == title == vn.period_title(Period.parse(label))


@pytest.mark.parametrize(
    ("name", "place", "line"),
    [
        ("Xã Tân Học (xã mẫu)", "Tân Học", "UBND xã Tân Học"),
        ("Xã Tân Học", "Tân Học", "UBND xã Tân Học"),
        ("Phường Hải Dương", "Hải Dương", "UBND phường Hải Dương"),
        ("Thị trấn Đông Anh", "Đông Anh", "UBND thị trấn Đông Anh"),
        ("Tân Học", "Tân Học", "UBND xã Tân Học"),
    ],
)
def test_the_issuing_body_comes_from_the_communes_name(name: str, place: str, line: str) -> None:
    assert vn.place_name(name) == place and vn.commune_line(name) == line
    assert vn.commune_line(name).upper().startswith("UBND ")
