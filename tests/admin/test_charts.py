"""The overview chart: horizontal bars with the target as a marker line, a "Toàn xã" bar, Vietnamese numbers,
an SVG that needs no style (the CSP blocks inline style), and a PNG drawn from the same layout."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from admin.charts import (
    GREEN,
    TARGET,
    TOTAL_GREEN,
    Line,
    Rect,
    Text,
    font_file,
    layout,
    to_png,
    villages_chart,
)
from data.stats import Overview, VillageRow

NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


@pytest.fixture
def data() -> Overview:
    villages = [
        VillageRow("thon-dong", "Thôn Đông", 820, 120, 85, 30, 0.8),
        VillageRow("thon-tay", "Thôn Tây", 640, 90, 66, 20, 0.8),
        VillageRow("thon-bac", "Thôn <Bắc> & Nam", 455, 0, 0, 0, 0.8),
    ]
    return Overview(210, 100, 150, 900, 151, villages, 0.8, 2026)


def test_bars_show_each_village_and_the_commune_with_the_target_as_a_marker(data: Overview) -> None:
    chart = layout(data, "Xã Tân Học", NOW)
    labels = [s.text for s in chart.shapes if isinstance(s, Text)]
    assert labels[labels.index("Toàn xã") + 1] == "7,9 %"  # 151 of 1,915 adults
    assert labels[labels.index("Thôn Đông") + 1] == "10,4 %" and "Chỉ tiêu năm 2026: 80 %" in labels
    bars = [s for s in chart.shapes if isinstance(s, Rect) and s.fill in {GREEN, TOTAL_GREEN}][
        1:
    ]  # 0: legend
    assert [round(b.width / 98, 4) for b in bars] == [
        round(151 / 1915, 4),
        round(85 / 820, 4),
        round(66 / 640, 4),
        0,
    ]
    assert bars[0].fill == TOTAL_GREEN
    markers = [s for s in chart.shapes if isinstance(s, Line)][1:]  # 0: legend
    assert (
        len(markers) == 4
        and {m.x for m in markers} == {1 + 98 * 0.8}
        and {m.stroke for m in markers} == {TARGET}
    )
    # no red anywhere: the target is a goal, not an alarm
    colours = {getattr(s, "fill", None) for s in chart.shapes} | {
        getattr(s, "stroke", None) for s in chart.shapes
    }
    assert not [c for c in colours if c and c.lower() in {"#c0392b", "#b01e23", "red", "#ff0000"}]


def test_the_svg_needs_no_style_and_its_text_is_at_least_13_px(data: Overview) -> None:
    for standalone in (False, True):
        svg = villages_chart(data, "Xã Tân Học", NOW, standalone)
        assert "<style" not in svg and "style=" not in svg and "<script" not in svg
        assert 'width="100%"' in svg and "Thôn &lt;Bắc&gt; &amp; Nam" in svg
        assert min(int(size) for size in re.findall(r'font-size="(\d+)"', svg)) >= 13
    alone = villages_chart(data, "Xã Tân Học", NOW, standalone=True)
    assert 'xmlns="http://www.w3.org/2000/svg"' in alone and 'fill="#ffffff"' in alone  # white, not black
    assert "số liệu ngày 02/12/2026" in alone


def test_the_png_is_drawn_from_the_same_layout(data: Overview) -> None:
    chart = layout(data, "Xã Tân Học", NOW, standalone=True)
    image = Image.open(io.BytesIO(to_png(chart, width=1400, scale=2)))
    assert image.format == "PNG" and image.size == (1400, chart.height * 2)
    rgb = image.convert("RGB")
    # the Thôn Đông bar: green from its start to 10.4 % of the track, grey after; the marker at 80 %
    bars = [s for s in chart.shapes if isinstance(s, Rect) and s.fill == GREEN][1:]
    y = int((bars[0].y + bars[0].height / 2) * 2)
    assert rgb.getpixel((int(1400 * 0.01) + 20, y)) == (0x3A, 0x7D, 0x5C)
    assert rgb.getpixel((int(1400 * (0.01 + 0.98 * 0.2)), y)) == (0xE3, 0xE7, 0xEB)
    assert rgb.getpixel((round(1400 * (0.01 + 0.98 * 0.8)), y)) == (0x1F, 0x3A, 0x5F)


def test_a_font_with_vietnamese_letters_is_found() -> None:
    path = font_file()
    if path is None:
        pytest.skip("no DejaVu or Noto font on this machine (Debian: fonts-dejavu-core)")
    from PIL import ImageFont

    font = ImageFont.truetype(str(path), 20)
    # "ệ" and "ữ" have glyphs of their own (not the missing-glyph box shared by unknown letters)
    boxes = {font.getmask(ch).getbbox() for ch in "ệữ"}
    assert len(boxes) == 2 and font.getmask("\U0010ffff").getbbox() not in boxes
