"""The overview's chart, drawn on the server (no JavaScript reaches the browser): per village and for the
whole commune, the share of adults who finished the core curriculum, as horizontal bars on a 0-100 %
track, with the year's target drawn as a dark marker line across each bar (not as a bar of its own, and
never in an alarm colour).

One layout (`layout`) is drawn two ways from the same numbers: as SVG (`to_svg`) and as a PNG for pasting
into a Word report (`to_png`, Pillow). The SVG uses presentation attributes only, never a style element
or attribute, so it shows the same inline in the page, as an image, and opened alone under the strict
Content-Security-Policy (style-src 'self'). Horizontal positions are percentages of the width and text
has a fixed size, so on a phone the bars shrink and the text stays 15 px.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from admin import formatting as vn
from data.stats import Overview

GREEN, TOTAL_GREEN, TRACK, TARGET, INK, MUTED = (
    "#3a7d5c",
    "#1f4d36",
    "#e3e7eb",
    "#1f3a5f",
    "#212529",
    "#5c636a",
)
FONT_FAMILY = "DejaVu Sans, Noto Sans, Arial, sans-serif"
LEFT, WIDTH = 1.0, 98.0  # the track, in percent of the chart's width
ROW, BAR = 52, 18  # a village's row and its bar, in px
TEXT, SMALL = 15, 13
# fonts with Vietnamese glyphs, in the order tried for the PNG (Debian's fonts-dejavu-core first)
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/noto"),
    Path("/usr/share/fonts/TTF"),
)
FONT_FILES = {
    False: ("DejaVuSans.ttf", "NotoSans-Regular.ttf"),
    True: ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf"),
}


@dataclass(frozen=True)
class Rect:
    x: float  # percent of the width
    y: float  # px
    width: float  # percent of the width
    height: float
    fill: str


@dataclass(frozen=True)
class Line:
    x: float  # percent of the width
    y1: float
    y2: float
    stroke: str
    width: float
    dash: bool = False


@dataclass(frozen=True)
class Text:
    x: float  # percent of the width
    y: float  # the baseline, px
    text: str
    size: int
    bold: bool = False
    anchor: Literal["start", "end"] = "start"
    fill: str = INK


Shape = Rect | Line | Text


@dataclass(frozen=True)
class Chart:
    """The shapes of one chart, its height in px and what it shows (for the SVG's title)."""

    title: str
    height: int
    shapes: list[Shape]


def layout(data: Overview, commune_name: str, as_of: datetime, standalone: bool = False) -> Chart:
    """The chart's shapes: a legend, then "Toàn xã" and each village as a labelled bar with the target
    marker; `standalone` adds a title and the date (for the SVG opened alone and the PNG)."""
    shapes: list[Shape] = []
    title = f"Hoàn thành chương trình cốt lõi so với chỉ tiêu năm {data.year}"
    y = 0.0
    if standalone:
        shapes.append(Text(LEFT, y + 22, "Hoàn thành chương trình cốt lõi", 17, bold=True))
        shapes.append(Text(LEFT, y + 44, f"{commune_name} · số liệu ngày {vn.day(as_of)}", SMALL, fill=MUTED))
        y += 56
    # legend, one item per line so it fits a phone
    shapes.append(Rect(LEFT, y + 6, 3.0, 12, GREEN))
    shapes.append(Text(LEFT + 4.5, y + 17, "Đã hoàn thành chương trình cốt lõi", SMALL, fill=MUTED))
    shapes.append(Line(LEFT + 1.5, y + 24, y + 42, TARGET, 3))
    shapes.append(
        Text(
            LEFT + 4.5,
            y + 38,
            f"Chỉ tiêu năm {data.year}: {vn.percent(data.target_share, 0)}",
            SMALL,
            fill=MUTED,
        )
    )
    y += 56
    adults = sum(v.adults for v in data.villages)
    rows = [("Toàn xã", data.finished_core / adults if adults else 0.0, True)]
    rows += [(v.name, v.share, False) for v in data.villages]
    for name, share, total in rows:
        shapes.append(Text(LEFT, y + 17, name, TEXT, bold=total))
        shapes.append(Text(LEFT + WIDTH, y + 17, vn.percent(share), TEXT, bold=True, anchor="end"))
        shapes.append(Rect(LEFT, y + 24, WIDTH, BAR, TRACK))
        shapes.append(
            Rect(LEFT, y + 24, WIDTH * min(max(share, 0.0), 1.0), BAR, TOTAL_GREEN if total else GREEN)
        )
        marker = LEFT + WIDTH * min(data.target_share, 1.0)
        shapes.append(Line(marker, y + 19, y + 24 + BAR + 5, TARGET, 3))
        y += ROW + (8 if total else 0)  # a little room between the commune and its villages
    return Chart(title=title, height=int(y + 8), shapes=shapes)


# --- SVG --------------------------------------------------------------------------------------------------
def _pct(value: float) -> str:
    return f"{value:.2f}%"


def to_svg(chart: Chart, standalone: bool = False) -> str:
    """The chart as SVG, fluid in width (100 %) and fixed in height;
    `standalone` paints a white background, for the file opened alone."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" height="{chart.height}" '
        f'role="img" aria-label="{escape(chart.title)}" font-family="{FONT_FAMILY}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    if standalone:
        parts.append('<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>')
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            parts.append(
                f'<rect x="{_pct(shape.x)}" y="{shape.y:g}" width="{_pct(shape.width)}" '
                f'height="{shape.height:g}" rx="3" fill="{shape.fill}"/>'
            )
        elif isinstance(shape, Line):
            dash = ' stroke-dasharray="4 3"' if shape.dash else ""
            parts.append(
                f'<line x1="{_pct(shape.x)}" x2="{_pct(shape.x)}" y1="{shape.y1:g}" y2="{shape.y2:g}" '
                f'stroke="{shape.stroke}" stroke-width="{shape.width:g}"{dash}/>'
            )
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            parts.append(
                f'<text x="{_pct(shape.x)}" y="{shape.y:g}" font-size="{shape.size}"{weight} '
                f'text-anchor="{shape.anchor}" fill="{shape.fill}">{escape(shape.text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def villages_chart(data: Overview, commune_name: str, as_of: datetime, standalone: bool = False) -> str:
    """The overview's chart as SVG (inline in the page, or `standalone` for chart.svg)."""
    return to_svg(layout(data, commune_name, as_of, standalone), standalone)


# --- PNG --------------------------------------------------------------------------------------------------
def font_file(bold: bool = False) -> Path | None:
    """A TrueType font with Vietnamese glyphs, if the system has one (Debian: fonts-dejavu-core)."""
    for folder in FONT_DIRS:
        for name in FONT_FILES[bold]:
            if (folder / name).is_file():
                return folder / name
    return None


def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_file(bold) or font_file(False)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    # Pillow's own font: readable Latin, but Vietnamese letters may be missing (README says which to install)
    return ImageFont.load_default(size)


def to_png(chart: Chart, width: int = 1400, scale: float = 2.0) -> bytes:
    """The same shapes drawn with Pillow: `width` px wide (the SVG's width at `scale`), white background."""
    height = int(chart.height * scale)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    fonts: dict[tuple[int, bool], ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def x_of(percent: float) -> float:
        return width * percent / 100

    for shape in chart.shapes:
        if isinstance(shape, Rect):
            if shape.width <= 0:
                continue
            box = (
                x_of(shape.x),
                shape.y * scale,
                x_of(shape.x + shape.width),
                (shape.y + shape.height) * scale,
            )
            draw.rounded_rectangle(box, radius=3 * scale, fill=shape.fill)
        elif isinstance(shape, Line):
            x = x_of(shape.x)
            draw.line(
                (x, shape.y1 * scale, x, shape.y2 * scale),
                fill=shape.stroke,
                width=round(shape.width * scale),
            )
        else:
            key = (round(shape.size * scale), shape.bold)
            font = fonts.get(key) or fonts.setdefault(key, _font(*key))
            anchor = "ls" if shape.anchor == "start" else "rs"
            draw.text((x_of(shape.x), shape.y * scale), shape.text, font=font, fill=shape.fill, anchor=anchor)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")  # optimize=True: 3-4 times slower for ~2 % smaller
    return buffer.getvalue()


def villages_png(data: Overview, commune_name: str, as_of: datetime) -> bytes:
    """The overview's chart as a PNG, with its title and date, for a Word report."""
    return to_png(layout(data, commune_name, as_of, standalone=True))
