"""A report's charts as SVG, drawn on the server with pygal: no script in the picture (pygal's small
config script is removed), labels in the reader's language through the callables the caller passes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from archive.reports.views import Chart, Report

KINDS = {"bar": "Bar", "hbar": "HorizontalBar", "stacked": "StackedBar", "stacked_hbar": "HorizontalStackedBar",
         "line": "Line"}
SCRIPT = re.compile(rb"<script[^>]*>.*?</script>|<script[^>]*/>", re.S)


def render_svg(report: Report, chart: Chart, *, text: Callable[[str], str],
               value: Callable[[str, Any], Any], width: int = 760) -> bytes:
    import pygal  # only what draws charts pays for importing it
    from pygal.style import Style

    table = report.table(chart.table)
    keys = [c.key for c in table.columns]
    rows = table.rows[:chart.limit]
    horizontal = chart.kind in ("hbar", "stacked_hbar")
    height = 80 + 26 * max(3, len(rows)) if horizontal else 340
    style = Style(background="white", plot_background="white", font_family="WenQuanYi Zen Hei, sans-serif",
                  colors=("#2f6f9f", "#e0913a", "#5aa469", "#c0504d", "#8064a2", "#4bacc6", "#9b9b9b"),
                  label_font_size=12, major_label_font_size=12, legend_font_size=12, title_font_size=14)
    drawn = getattr(pygal, KINDS[chart.kind])(
        width=width, height=height, js=[], style=style, title=text(f"chart.{chart.key}"),
        show_legend=True, legend_at_bottom=True, x_label_rotation=0 if horizontal else 30,
        print_values=False, margin=12, truncate_label=40, show_y_guides=not horizontal)
    labels = []
    for row in rows:
        parts = [value(table.columns[i].kind, row[i]) for i in chart.label_columns]
        labels.append(" · ".join(str(p) for p in parts))
    drawn.x_labels = labels
    for series in chart.series:
        index = keys.index(series)
        drawn.add(text(series), [row[index] for row in rows])
    return SCRIPT.sub(b"", drawn.render())
