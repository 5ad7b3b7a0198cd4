"""Charts for the dashboard, drawn on the server as SVG by pygal (no JavaScript reaches the browser)."""

from __future__ import annotations

import sys
from typing import Any

from data.stats import Overview


def _pygal() -> Any:
    import pygal

    # pygal appends a legacy import hook (for its map plugins, unused here) that lacks `find_spec`, so
    # every later import in the process raises an ImportWarning; drop it.
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
    return pygal


def villages_chart(data: Overview) -> str:
    """A bar chart: per village, the share of adults who finished the core curriculum, and the target."""
    pygal = _pygal()
    from pygal.style import Style

    style = Style(
        background="white",
        plot_background="white",
        colors=("#2f6f4f", "#c0392b"),
        font_family="DejaVu Sans, Arial, sans-serif",
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=14,
        value_font_size=12,
        title_font_size=16,
    )
    bar = pygal.Bar(
        style=style,
        js=[],
        width=900,
        height=420,
        range=(0, 1),
        legend_at_bottom=True,
        x_label_rotation=20,
        value_formatter=lambda v: f"{v * 100:.0f}%",
        y_labels=[0, 0.25, 0.5, 0.75, 1.0],
        print_values=True,
    )
    bar.title = f"Hoàn thành chương trình cốt lõi so với chỉ tiêu {data.year}"
    bar.x_labels = [v.name for v in data.villages]
    bar.add("Đã hoàn thành", [v.share for v in data.villages])
    bar.add("Chỉ tiêu", [v.target_share for v in data.villages])
    return str(bar.render(is_unicode=True))
