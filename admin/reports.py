"""Quarterly and yearly reports for a commune in the administrative form staff file them in: per village,
per topic, per mentor and per age group, as XLSX or CSV.

The campaign's plans ask communes to report each quarter (before the 10th of the quarter's last month)
and each year. "Registered" and "finished the core curriculum" are counted up to the end of the period
(cumulative, as the targets are shares of all adults); completions, quiz attempts and pushes are those
made within the period.

Every sheet of the XLSX is a printable form (Decree 30/2020/NĐ-CP's layout, the statistical forms' signature
block): the issuing body ("UBND xã …") and the national header (Quốc hiệu, Tiêu ngữ), the title with the
period ("Quý IV năm 2026"), "Số liệu tính đến ngày …", the unit, a table with an STT column and a "Toàn xã"
total row, then the place and date line and the signatures (NGƯỜI LẬP BIỂU; TM. UBND XÃ …). The CSV
comes in the Vietnamese Excel convention (";" between cells, a decimal comma, percentages as "10,37") or,
for other programs, with "," and a decimal point; both start with a UTF-8 byte order mark.

Names people typed (mentors', villages', the commune's) go into the files as text, never as formulas:
a cell that starts with = + - @ or a tab or carriage return is written with a leading apostrophe in
the CSV and as a string cell with Excel's "quote prefix" in the XLSX (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin import formatting as vn
from bot.texts import AGE_GROUPS
from data import stats
from data.commune import Commune
from data.models import Completion, Learner
from data.stats import VIETNAM, MentorRow, Period, VillageRow, utc
from lessons.models import Curriculum

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PERIOD_YEARS = 10  # the period list goes back at most this far, however old the first record
# the campaign's own words for its reports ("báo cáo kết quả triển khai thực hiện Phong trào …")
TITLE = "BÁO CÁO KẾT QUẢ TRIỂN KHAI THỰC HIỆN PHONG TRÀO “BÌNH DÂN HỌC VỤ SỐ”"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TOTAL = "Toàn xã"
NO_AGE = "Chưa khai báo"
HEADER_ROW = 9  # every sheet's table header; the data rows follow it


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


# --- which periods can be reported --------------------------------------------------------------------
@dataclass(frozen=True)
class PeriodChoice:
    """One entry of the period list: its value in the URL ("2026-Q4") and its title ("Quý IV năm 2026")."""

    value: str
    title: str


def report_periods(first: datetime | None, now: datetime) -> tuple[list[PeriodChoice], list[PeriodChoice]]:
    """Quarters and years from the one holding `first` (the commune's first registration) up to the
    current one, newest first; the current quarter comes first, so a form shows it by default."""
    today = utc(now).astimezone(VIETNAM)
    start = utc(first).astimezone(VIETNAM) if first is not None else today
    start_year = max(start.year, today.year - MAX_PERIOD_YEARS + 1, FIRST_YEAR)
    start_quarter = (start.month - 1) // 3 + 1 if start.year == start_year else 1
    if start > today:  # a clock set wrong somewhere: offer the current quarter at least
        start_year, start_quarter = today.year, (today.month - 1) // 3 + 1
    quarters = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    while (year, quarter) >= (start_year, start_quarter):
        label = f"{year}-Q{quarter}"
        quarters.append(PeriodChoice(label, vn.period_title(label)))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    years = [PeriodChoice(str(y), vn.period_title(str(y))) for y in range(today.year, start_year - 1, -1)]
    return quarters, years


async def first_registration(session: AsyncSession, commune_id: str) -> datetime | None:
    """When the commune's first learner registered (None before anyone did)."""
    first = await session.scalar(
        select(func.min(Learner.registered_at)).where(
            Learner.commune_id == commune_id, Learner.registered_at.is_not(None)
        )
    )
    return utc(first) if first is not None else None


# --- the numbers ---------------------------------------------------------------------------------------
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
class AgeRow:
    """One age group: registered and core-curriculum finishers up to the period's end."""

    age_group: str
    label: str
    registered: int
    finished_core: int
    finished_core_in_period: int

    @property
    def share(self) -> float:
        """Share of the group's registered learners who finished the core curriculum."""
        return self.finished_core / self.registered if self.registered else 0.0


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
    ages: list[AgeRow] | None = None

    @property
    def filename_stem(self) -> str:
        return f"bao-cao-{self.commune.id}-{self.period.label}"

    @property
    def as_of(self) -> datetime:
        """The last moment the numbers cover: the period's end, or when the report was made."""
        return min(self.period.end - timedelta(microseconds=1), self.generated_at)

    @property
    def commune_line(self) -> str:
        return vn.commune_line(self.commune.name)


async def age_groups(
    session: AsyncSession, commune: Commune, core_ids: Sequence[str], until: datetime, since: datetime
) -> list[AgeRow]:
    """Registered learners and core finishers per age group, counted as the village sheet counts them
    (learners of the commune's villages), so both sheets' "Toàn xã" rows agree."""
    villages = [v.id for v in commune.villages]
    registered: dict[str | None, int] = {
        group: int(count)
        for group, count in await session.execute(
            select(Learner.age_group, func.count())
            .where(
                Learner.commune_id == commune.id,
                Learner.village_id.in_(villages),
                Learner.registered_at.is_not(None),
                Learner.registered_at < utc(until),
            )
            .group_by(Learner.age_group)
        )
    }
    finished: dict[str | None, tuple[int, int]] = {}
    if core_ids:
        finishers = (
            select(Completion.learner_id, func.max(Completion.completed_at).label("finished_at"))
            .join(Learner, Learner.id == Completion.learner_id)
            .where(
                Learner.commune_id == commune.id,
                Completion.lesson_id.in_(list(core_ids)),
                Completion.completed_at < utc(until),
            )
            .group_by(Completion.learner_id)
            .having(func.count(func.distinct(Completion.lesson_id)) == len(set(core_ids)))
            .subquery()
        )
        rows = await session.execute(
            select(
                Learner.age_group,
                func.count(),
                func.sum(case((finishers.c.finished_at >= utc(since), 1), else_=0)),
            )
            .join(finishers, finishers.c.learner_id == Learner.id)
            .where(Learner.village_id.in_(villages))
            .group_by(Learner.age_group)
        )
        finished = {group: (int(total), int(new or 0)) for group, total, new in rows}
    known = dict(AGE_GROUPS)
    result = []
    for key, label in [*AGE_GROUPS, ("", NO_AGE)]:
        # anything not one of today's groups (none given, a retired key) is "not given"
        keys = [key] if key else [k for k in set(registered) | set(finished) if k not in known]
        result.append(
            AgeRow(
                age_group=key,
                label=label,
                registered=sum(registered.get(k, 0) for k in keys),
                finished_core=sum(finished.get(k, (0, 0))[0] for k in keys),
                finished_core_in_period=sum(finished.get(k, (0, 0))[1] for k in keys),
            )
        )
    return result


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
        ages=await age_groups(session, commune, core, until, period.start),
    )


# --- the tables, shared by both formats --------------------------------------------------------------
COUNT, SHARE = "#,##0", "0.0 %"  # Excel shows these as 12.345 and 10,4 % where the locale is Vietnamese


@dataclass(frozen=True)
class Table:
    """One sheet of the report: its title, unit, columns (None: text; else the number format; SHARE
    columns hold a share such as 0.104) and rows, the last one the "Toàn xã" total."""

    sheet: str
    title: str
    unit: str
    header: tuple[str, ...]
    formats: tuple[str | None, ...]
    rows: list[tuple[object, ...]]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def village_table(report: Report) -> Table:
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
    target = report.commune.target_for(vn_year(report)).basic_skills_share
    share = _share(finished, adults)
    rows.append(
        (
            TOTAL,
            adults,
            sum(v.registered for v in report.villages),
            finished,
            sum(v.finished_core_in_period for v in report.villages),
            share,
            target,
            share / target if target else 0.0,
        )
    )
    return Table(
        "Theo thôn",
        "Biểu 1. Kết quả theo thôn / tổ dân phố",
        "Đơn vị tính: người; tỷ lệ: %",
        (
            "Thôn / tổ dân phố",
            "Số người trưởng thành",
            "Đã đăng ký",
            "Hoàn thành chương trình cốt lõi",
            "Hoàn thành trong kỳ",
            "Tỷ lệ hoàn thành",
            "Chỉ tiêu năm",
            "% so với chỉ tiêu",
        ),
        (None, COUNT, COUNT, COUNT, COUNT, SHARE, SHARE, SHARE),
        rows,
    )


def vn_year(report: Report) -> int:
    """The year whose target applies: the year of the last day the report covers."""
    return report.as_of.astimezone(VIETNAM).year


def topic_table(report: Report) -> Table:
    rows: list[tuple[object, ...]] = [
        (t.title, t.lessons, t.completions, t.attempts, t.passed, t.pass_rate) for t in report.topics
    ]
    attempts, passed = sum(t.attempts for t in report.topics), sum(t.passed for t in report.topics)
    rows.append(
        (
            TOTAL,
            sum(t.lessons for t in report.topics),
            sum(t.completions for t in report.topics),
            attempts,
            passed,
            _share(passed, attempts),
        )
    )
    return Table(
        "Theo chủ đề",
        "Biểu 2. Kết quả theo chủ đề bài học (trong kỳ)",
        "Đơn vị tính: bài; lượt; tỷ lệ: %",
        ("Chủ đề", "Số bài", "Lượt hoàn thành bài", "Lượt làm bài kiểm tra", "Lượt đạt", "Tỷ lệ đạt"),
        (None, COUNT, COUNT, COUNT, COUNT, SHARE),
        rows,
    )


def mentor_table(report: Report) -> Table:
    rows: list[tuple[object, ...]] = [
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
    reached = sum(1 for m in report.mentors if not m.below_target)
    rows.append(
        (
            TOTAL,
            f"{len(report.mentors)} Đại sứ số",
            sum(m.learners for m in report.mentors),
            report.commune.mentor_min_learners,
            f"{reached}/{len(report.mentors)} đạt",
            sum(m.finished_core for m in report.mentors),
            sum(m.pushes for m in report.mentors),
        )
    )
    return Table(
        "Theo Đại sứ số",
        "Biểu 3. Đại sứ số và người được hướng dẫn",
        "Đơn vị tính: người; lượt",
        (
            "Đại sứ số",
            "Thôn / tổ dân phố",
            "Số người hướng dẫn",
            "Chỉ tiêu (người)",
            "Đạt chỉ tiêu",
            "Người học hoàn thành cốt lõi",
            "Lượt gửi bài trong kỳ",
        ),
        (None, None, COUNT, COUNT, None, COUNT, COUNT),
        rows,
    )


def age_table(report: Report) -> Table:
    ages = report.ages or []
    rows: list[tuple[object, ...]] = [
        (a.label, a.registered, a.finished_core, a.finished_core_in_period, a.share) for a in ages
    ]
    registered, finished = sum(a.registered for a in ages), sum(a.finished_core for a in ages)
    rows.append(
        (
            TOTAL,
            registered,
            finished,
            sum(a.finished_core_in_period for a in ages),
            _share(finished, registered),
        )
    )
    return Table(
        "Theo nhóm tuổi",
        "Biểu 4. Kết quả theo nhóm tuổi",
        "Đơn vị tính: người; tỷ lệ: %",
        (
            "Nhóm tuổi",
            "Đã đăng ký",
            "Hoàn thành chương trình cốt lõi",
            "Hoàn thành trong kỳ",
            "Tỷ lệ hoàn thành (trên số đã đăng ký)",
        ),
        (None, COUNT, COUNT, COUNT, SHARE),
        rows,
    )


def tables(report: Report) -> list[Table]:
    return [village_table(report), topic_table(report), mentor_table(report), age_table(report)]


# --- XLSX ------------------------------------------------------------------------------------------
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
_TOTAL_FILL = PatternFill("solid", fgColor="F1F3F5")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_STYLE_OF = {None: "text", COUNT: "count", SHARE: "share"}
_FONT = "Times New Roman"  # the font of administrative documents (Decree 30/2020/NĐ-CP)


def _text_cell(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    """A cell holding `text` as a string, whatever it starts with: openpyxl would store a value starting
    with "=" as a formula; the string type and Excel's quote prefix keep it text, also when edited."""
    cell = sheet.cell(row=row, column=column)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def _block(
    sheet: Worksheet,
    row: int,
    first: int,
    last: int,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: int = 12,
    underline: bool = False,
    align: str = "center",
) -> None:
    """`text` across columns first..last of `row` (merged), as in a printed form."""
    cell = _text_cell(sheet, row, first, text)
    cell.font = Font(
        name=_FONT, bold=bold, italic=italic, size=size, underline="single" if underline else None
    )
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def _form_sheet(sheet: Worksheet, report: Report, table: Table) -> None:
    """One table as a printable administrative form (see the module's docstring)."""
    columns = len(table.header) + 1  # STT first
    split = max(2, columns // 2)  # left block: the issuing body and the preparer; right: nation, signer
    body = report.commune_line.upper()
    _block(sheet, 1, 1, split, body, bold=True)
    _block(sheet, 2, 1, split, "Số:        /BC-UBND")
    _block(sheet, 1, split + 1, columns, NATION, bold=True)
    _block(sheet, 2, split + 1, columns, MOTTO, bold=True, underline=True)
    _block(sheet, 4, 1, columns, TITLE, bold=True, size=13)
    _block(sheet, 5, 1, columns, vn.period_title(report.period), bold=True, size=13)
    _block(sheet, 6, 1, columns, table.title, bold=True)
    _block(sheet, 7, 1, columns, f"Số liệu tính đến ngày {vn.day(report.as_of)}", italic=True)
    _block(sheet, 8, max(1, columns - 2), columns, table.unit, italic=True, size=11, align="right")
    sheet.row_dimensions[4].height = 33
    for column, name in enumerate(("STT", *table.header), 1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=name)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = _CENTER
    sheet.row_dimensions[HEADER_ROW].height = 48
    for number, row in enumerate(table.rows, 1):
        is_total = number == len(table.rows)
        line = HEADER_ROW + number
        kind = "total" if is_total else "body"
        sheet.cell(row=line, column=1, value=None if is_total else number).style = f"hv-{kind}-stt"
        for column, (value, number_format) in enumerate(zip(row, table.formats, strict=True), 2):
            cell = sheet.cell(row=line, column=column)
            # one named style per kind of cell: setting font, border and format one by one costs a
            # style lookup each, which doubled the time of a report with 500 mentors
            cell.style = f"hv-{kind}-{_STYLE_OF[number_format]}"
            if isinstance(value, str):
                _text_cell(sheet, line, column, value)
            else:
                cell.value = value
    sheet.column_dimensions["A"].width = 6
    for column, name in enumerate(table.header, 2):
        longest = max([len(str(r[column - 2])) for r in table.rows] + [min(len(name), 18)])
        sheet.column_dimensions[get_column_letter(column)].width = min(max(12, longest + 3), 40)
    end = HEADER_ROW + len(table.rows)
    place = vn.place_name(report.commune.name)
    _block(sheet, end + 2, split + 1, columns, vn.date_line(place, report.generated_at), italic=True)
    _block(sheet, end + 3, 1, split, "NGƯỜI LẬP BIỂU", bold=True)
    _block(sheet, end + 3, split + 1, columns, f"TM. {body}", bold=True)
    _block(sheet, end + 4, 1, split, "(Ký, ghi rõ họ tên)", italic=True, size=11)
    _block(sheet, end + 4, split + 1, columns, "CHỦ TỊCH", bold=True)
    _block(sheet, end + 5, split + 1, columns, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=11)
    # the print setup staff already use: A4 landscape, one page wide, the header row on every page
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{get_column_letter(columns)}{end + 9}"  # room to sign under the titles
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "Trang &P / &N"


def _cell_styles() -> list[NamedStyle]:
    """The table cells' styles: body or total row; STT, text, count or share."""
    styles = []
    for kind, bold, fill in (("body", False, None), ("total", True, _TOTAL_FILL)):
        for name, number_format, align in (
            ("stt", "General", "center"),
            ("text", "General", None),
            ("count", COUNT, None),
            ("share", SHARE, None),
        ):
            style = NamedStyle(f"hv-{kind}-{name}", number_format=number_format)
            style.font, style.border = Font(name=_FONT, size=12, bold=bold), _BORDER
            style.alignment = Alignment(horizontal=align, vertical="center", wrap_text=name == "text")
            if fill is not None:
                style.fill = fill
            styles.append(style)
    return styles


def to_xlsx(report: Report) -> bytes:
    """A workbook with four printable forms: villages, topics, mentors, age groups."""
    book = Workbook()
    for style in _cell_styles():
        book.add_named_style(style)
    first = book.active
    assert first is not None
    for number, table in enumerate(tables(report)):
        sheet = first if number == 0 else book.create_sheet()
        sheet.title = table.sheet
        _form_sheet(sheet, report, table)
    book.properties.title = f"{TITLE} {vn.period_title(report.period)}"
    book.properties.creator = "hocvuso"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- CSV ---------------------------------------------------------------------------------------------
def to_csv(report: Report, vietnamese_excel: bool = True) -> str:
    """One file, the four tables one after another, each under its title, with STT and the total row;
    shares as percentages ("10,37" under a "(%)" heading). `vietnamese_excel`: ";" and decimal commas,
    which an Excel set to Vietnamese splits into columns; else "," and decimal points."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if vietnamese_excel else ",")

    def shown(value: object, number_format: str | None) -> object:
        if number_format == SHARE and isinstance(value, float):
            text = f"{value * 100:.2f}"
            return text.replace(".", ",") if vietnamese_excel else text
        return as_text(value)

    for line in (
        report.commune_line,
        f"{TITLE} {vn.period_title(report.period)}",
        f"Số liệu tính đến ngày {vn.day(report.as_of)}",
    ):
        writer.writerow([as_text(line)])
    for table in tables(report):
        writer.writerow([])
        writer.writerow([as_text(table.title)])
        writer.writerow([table.unit])
        writer.writerow(
            [
                "STT",
                *(
                    f"{name} (%)" if fmt == SHARE else name
                    for name, fmt in zip(table.header, table.formats, strict=True)
                ),
            ]
        )
        for number, row in enumerate(table.rows, 1):
            stt = "" if number == len(table.rows) else number
            writer.writerow([stt, *(shown(v, f) for v, f in zip(row, table.formats, strict=True))])
    writer.writerow([])
    writer.writerow([as_text(vn.date_line(vn.place_name(report.commune.name), report.generated_at))])
    # a byte order mark so spreadsheet programs open the Vietnamese text as UTF-8
    return "\ufeff" + buffer.getvalue()
