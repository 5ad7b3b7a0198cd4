"""Numbers, shares, dates and periods written the Vietnamese way, in one place for the dashboard (as Jinja
filters), the report files and the chart.

Vietnamese writes "12.345" (a dot groups thousands) and "10,4" (a comma before decimals); shares get a
space before the percent sign ("10,4 %", the form issue 18 asks for). Dates are day first ("02/12/2026");
in the date line of an administrative document a day below 10 and the months 1 and 2 take a leading
zero ("ngày 02 tháng 01 năm 2027", as Decree 30/2020/NĐ-CP asks). A quarter is written in Roman
numerals: "Quý IV năm 2026".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from data.stats import Period

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving time in Vietnam
QUARTERS = ("I", "II", "III", "IV")
# how commune and ward names begin in the commune file ("Xã Tân Học", "Phường Hải Dương")
_UNIT_WORDS = ("thị trấn", "phường", "xã", "đặc khu")
_SWAP = str.maketrans(",.", ".,")
_BRACKETS = re.compile(r"\s*\([^)]*\)\s*")


def number(value: float, decimals: int = 0) -> str:
    """12345 → "12.345"; number(1234.5, 1) → "1.234,5"; a negative number keeps its minus sign."""
    text = f"{value:,.{decimals}f}"  # "12,345.6" in Python's own convention
    return text.translate(_SWAP)


def percent(share: float, decimals: int = 1) -> str:
    """A share (0.104) as a percentage: "10,4 %"."""
    return f"{number(share * 100, decimals)} %"


def decimal(value: float, decimals: int = 2) -> str:
    """A number for a spreadsheet cell in the Vietnamese convention, without grouping: 0.1037 → "0,10";
    the CSV for a Vietnamese Excel uses it, since "12.345" would be read back as a date or text there."""
    return f"{value:.{decimals}f}".replace(".", ",")


def _local(moment: date) -> date:
    """A date as is; a moment as its date in Vietnam (a naive moment, as SQLite returns them, is UTC)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(VIETNAM).date()
    return moment


def day(moment: date) -> str:
    """A date (or a moment, in Vietnam's time) as "02/12/2026"."""
    return _local(moment).strftime("%d/%m/%Y")


def moment(value: datetime) -> str:
    """A moment in Vietnam's time: "02/12/2026 09:45"."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def date_line(place: str, when: date) -> str:
    """The place and date line of an administrative document: "Tân Học, ngày 02 tháng 12 năm 2026"."""
    local = _local(when)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{place}, ngày {local.day:02d} tháng {month} năm {local.year}"


def period_title(period: Period | str) -> str:
    """ "2026-Q4" → "Quý IV năm 2026"; "2026" → "Năm 2026"."""
    label = period.label if isinstance(period, Period) else Period.parse(period).label
    year, _, quarter = label.partition("-Q")
    return f"Quý {QUARTERS[int(quarter) - 1]} năm {year}" if quarter else f"Năm {year}"


def place_name(commune_name: str) -> str:
    """The commune's name without its unit word or a remark in brackets: "Xã Tân Học (xã mẫu)" → "Tân Học"."""
    name = _BRACKETS.sub(" ", commune_name).strip()
    lowered = name.lower()
    for word in _UNIT_WORDS:
        if lowered.startswith(word + " "):
            return name[len(word) + 1 :].strip()
    return name


def unit_word(commune_name: str) -> str:
    """ "xã", "phường", "thị trấn" or "đặc khu", from how the commune's name begins ("xã" if it says none)."""
    lowered = commune_name.strip().lower()
    return next((word for word in _UNIT_WORDS if lowered.startswith(word + " ")), "xã")


def commune_line(commune_name: str) -> str:
    """The issuing body: "UBND xã Tân Học" (from "Xã Tân Học (xã mẫu)")."""
    return f"UBND {unit_word(commune_name)} {place_name(commune_name)}"
