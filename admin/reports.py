"""Quarterly and yearly reports for a commune: per village, per topic and per mentor, as XLSX or CSV.

The campaign's plans ask communes to report each quarter (before the 10th of the quarter's last month)
and each year. "Registered" and "finished the core curriculum" are counted up to the end of the period
(cumulative, as the targets are shares of all adults); completions, quiz attempts and pushes are those
made within the period.

Names people typed (mentors', villages', the commune's) go into the files as text, never as formulas:
a cell that starts with = + - @ or a tab or carriage return is written with a leading apostrophe in
the CSV and as a string cell with Excel's "quote prefix" in the XLSX (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from data import stats
from data.commune import Commune
from data.stats import VIETNAM, MentorRow, Period, VillageRow, utc
from lessons.models import Curriculum

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_period(text: str) -> Period:
    """`Period.parse` limited to years a report can be about (year 0001 or 9999 is a ValueError)."""
    text = text.strip()[:20]
    year = text[:4]
    # checked before the dates are built: year 1 in Vietnam's time zone is before datetime.min in UTC
    if not (year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return Period.parse(text)


def as_text(value: object) -> object:
    """A string a spreadsheet would read as a formula gets a leading apostrophe; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class TopicRow:
    """One topic's lessons, completions and quiz results in the period."""

    topic_id: str
    title: str
    lessons: int
    completions: int
    attempts: int
    passed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class Report:
    """Everything one report file holds."""

    commune: Commune
    period: Period
    generated_at: datetime
    villages: list[VillageRow]
    topics: list[TopicRow]
    mentors: list[MentorRow]
    village_names: dict[str, str]

    @property
    def filename_stem(self) -> str:
        return f"bao-cao-{self.commune.id}-{self.period.label}"


async def build_report(
    session: AsyncSession, commune: Commune, curriculum: Curriculum, period: Period, now: datetime
) -> Report:
    """Compute the report; a period still running is counted up to `now`."""
    until = min(period.end, utc(now) + timedelta(seconds=1))  # "up to now" includes this very second
    core = [lesson.id for lesson in curriculum.core_lessons]
    villages = await stats.villages(session, commune, core, until, since=period.start)
    lessons = await stats.lessons(session, commune.id, period.start, period.end)
    topics = []
    for topic in curriculum.topics:
        rows = [lessons[le.id] for le in topic.lessons if le.id in lessons]
        topics.append(
            TopicRow(
                topic_id=topic.id,
                title=topic.title,
                lessons=len(topic.lessons),
                completions=sum(r.completions for r in rows),
                attempts=sum(r.attempts for r in rows),
                passed=sum(r.passed for r in rows),
            )
        )
    mentors = await stats.mentors(session, commune, core, until, start=period.start)
    return Report(
        commune=commune,
        period=period,
        generated_at=utc(now),
        villages=villages,
        topics=topics,
        mentors=mentors,
        village_names={v.id: v.name for v in commune.villages},
    )


# --- the tables, shared by both formats --------------------------------------------------------------
COUNT, SHARE = "#,##0", "0.0%"

VILLAGE_HEADER = (
    "Thôn / tổ dân phố",
    "Số người trưởng thành",
    "Đã đăng ký",
    "Hoàn thành chương trình cốt lõi",
    "Hoàn thành trong kỳ",
    "Tỷ lệ hoàn thành",
    "Chỉ tiêu năm",
    "% so với chỉ tiêu",
)
VILLAGE_FORMATS = (None, COUNT, COUNT, COUNT, COUNT, SHARE, SHARE, SHARE)
TOPIC_HEADER = ("Chủ đề", "Số bài", "Lượt hoàn thành bài", "Lượt làm bài kiểm tra", "Lượt đạt", "Tỷ lệ đạt")
TOPIC_FORMATS = (None, COUNT, COUNT, COUNT, COUNT, SHARE)
MENTOR_HEADER = (
    "Đại sứ số",
    "Thôn / tổ dân phố",
    "Số người hướng dẫn",
    "Chỉ tiêu",
    "Đạt chỉ tiêu",
    "Người học hoàn thành cốt lõi",
    "Lượt gửi bài trong kỳ",
)
MENTOR_FORMATS = (None, None, COUNT, COUNT, None, COUNT, COUNT)


def village_rows(report: Report) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (
            v.name,
            v.adults,
            v.registered,
            v.finished_core,
            v.finished_core_in_period,
            v.share,
            v.target_share,
            v.of_target,
        )
        for v in report.villages
    ]
    adults = sum(v.adults for v in report.villages)
    finished = sum(v.finished_core for v in report.villages)
    target = report.villages[0].target_share if report.villages else 0.0
    share = finished / adults if adults else 0.0
    rows.append(
        (
            "Toàn xã",
            adults,
            sum(v.registered for v in report.villages),
            finished,
            sum(v.finished_core_in_period for v in report.villages),
            share,
            target,
            share / target if target else 0.0,
        )
    )
    return rows


def topic_rows(report: Report) -> list[tuple[object, ...]]:
    return [(t.title, t.lessons, t.completions, t.attempts, t.passed, t.pass_rate) for t in report.topics]


def mentor_rows(report: Report) -> list[tuple[object, ...]]:
    return [
        (
            m.name,
            report.village_names.get(m.village_id or "", ""),
            m.learners,
            m.target,
            "Chưa đạt" if m.below_target else "Đạt",
            m.finished_core,
            m.pushes,
        )
        for m in report.mentors
    ]


def _heading(report: Report) -> list[str]:
    generated = report.generated_at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
    return [
        f"BÁO CÁO KẾT QUẢ «BÌNH DÂN HỌC VỤ SỐ» — {report.period.title.upper()}",
        f"{report.commune.name}, {report.commune.province}",
        f"Kỳ báo cáo: {report.period.title} ({report.period.label}); lập lúc {generated}",
    ]


# --- XLSX ------------------------------------------------------------------------------------------
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def _text_cell(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    """A cell holding `text` as a string, whatever it starts with: openpyxl would store a value starting
    with "=" as a formula; the string type and Excel's quote prefix keep it text, also when edited."""
    cell = sheet.cell(row=row, column=column)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def _sheet(
    sheet: Worksheet,
    report: Report,
    title: str,
    header: tuple[str, ...],
    formats: tuple[str | None, ...],
    rows: list[tuple[object, ...]],
    total_row: bool = False,
) -> None:
    for number, line in enumerate([*_heading(report), title], 1):
        _text_cell(sheet, number, 1, line).font = Font(bold=number in {1, 4}, size=13 if number == 1 else 11)
    header_row = 6
    for column, name in enumerate(header, 1):
        cell = sheet.cell(row=header_row, column=column, value=name)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    sheet.row_dimensions[header_row].height = 45
    for offset, row in enumerate(rows, 1):
        last = total_row and offset == len(rows)
        for column, (value, number_format) in enumerate(zip(row, formats, strict=True), 1):
            if isinstance(value, str):
                cell = _text_cell(sheet, header_row + offset, column, value)
            else:
                cell = sheet.cell(row=header_row + offset, column=column, value=value)
            cell.border = _BORDER
            if number_format:
                cell.number_format = number_format
            if last:
                cell.font = Font(bold=True)
    for column, name in enumerate(header, 1):
        longest = max([len(str(r[column - 1])) for r in rows] + [min(len(name), 18)])
        sheet.column_dimensions[get_column_letter(column)].width = min(max(12, longest + 3), 40)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = "Trang &P / &N"


def to_xlsx(report: Report) -> bytes:
    """A workbook with three printable sheets: villages, topics, mentors."""
    book = Workbook()
    villages = book.active
    assert villages is not None
    villages.title = "Theo thôn"
    _sheet(
        villages,
        report,
        "Kết quả theo thôn / tổ dân phố",
        VILLAGE_HEADER,
        VILLAGE_FORMATS,
        village_rows(report),
        True,
    )
    _sheet(
        book.create_sheet("Theo chủ đề"),
        report,
        "Kết quả theo chủ đề",
        TOPIC_HEADER,
        TOPIC_FORMATS,
        topic_rows(report),
    )
    _sheet(
        book.create_sheet("Theo Đại sứ số"),
        report,
        "Đại sứ số và người được hướng dẫn",
        MENTOR_HEADER,
        MENTOR_FORMATS,
        mentor_rows(report),
    )
    book.properties.title = _heading(report)[0]
    book.properties.creator = "hocvuso"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- CSV ---------------------------------------------------------------------------------------------
def to_csv(report: Report) -> str:
    """One file, three tables one after another, each under its title; shares as numbers (0.85)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _heading(report):
        writer.writerow([as_text(line)])
    for title, header, rows in (
        ("Kết quả theo thôn / tổ dân phố", VILLAGE_HEADER, village_rows(report)),
        ("Kết quả theo chủ đề", TOPIC_HEADER, topic_rows(report)),
        ("Đại sứ số và người được hướng dẫn", MENTOR_HEADER, mentor_rows(report)),
    ):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        for row in rows:
            writer.writerow([round(v, 4) if isinstance(v, float) else as_text(v) for v in row])
    # a byte order mark so spreadsheet programs open the Vietnamese text as UTF-8
    return "\ufeff" + buffer.getvalue()
