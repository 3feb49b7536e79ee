"""Geometry of the campaign's inline-SVG charts.

Charts are drawn on the server as SVG so that they need no script, no third-party library and
no web font, scale to any width and print. Each chart also comes with a data table for screen
readers and for citing the numbers.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from releasenow.lib import l10n

if TYPE_CHECKING:
    from .models import Chart, ChartPoint

# Keyed by models.Qualifier values.
SHORT_QUALIFIER = {"about": "≈", "more_than": ">", "at_least": "≥"}


def short_value(point: ChartPoint) -> str:
    """A compact label for a point inside the chart ("≈1,200"); the table spells it out."""
    return SHORT_QUALIFIER.get(point.qualifier, "") + point.formatted_number()


def nice_ceiling(value: float) -> int:
    """The next round number above `value` (1, 2 or 5 times a power of ten) for an axis top."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


@dataclass
class Bar:
    label: str
    value_label: str
    y: float
    width: float
    value_x: float
    highlight: bool


def bar_geometry(chart: Chart, highlight_country: str = "BY") -> dict:
    """Horizontal bars, the label above each bar so long country names never collide."""
    points = list(chart.points.all())
    width, left, value_room, row = 420, 2, 64, 64
    top = max((float(p.value) for p in points), default=1) or 1
    bars = []
    for index, point in enumerate(points):
        bar_width = round(max(2.0, (width - left - value_room) * float(point.value) / top), 1)
        bars.append(
            Bar(
                label=point.label,
                value_label=short_value(point),
                y=index * row,
                width=bar_width,
                value_x=left + bar_width + 8,
                highlight=point.country.code == highlight_country,
            )
        )
    return {"width": width, "height": max(row, len(bars) * row), "left": left, "bars": bars}


def line_geometry(chart: Chart, narrow: bool = False) -> dict:
    """A line over time with year ticks, horizontal grid lines and labelled points.

    `narrow` draws it for phones (down to 320 px) at the same type size, not scaled down."""
    points = [p for p in chart.points.all() if p.date]
    width, height = (320, 300) if narrow else (560, 320)
    left, right, top, bottom = (46, 68, 30, 36) if narrow else (52, 64, 30, 36)
    plot_w, plot_h = width - left - right, height - top - bottom
    if not points:
        return {"width": width, "height": height, "points": [], "path": "", "grid": [], "ticks": []}

    first, last = points[0].date, points[-1].date
    span = max((last - first).days, 1)
    y_max = nice_ceiling(max(float(p.value) for p in points) * 1.1)

    def x_of(day: datetime.date) -> float:
        return round(left + plot_w * (day - first).days / span, 1)

    def y_of(value: float) -> float:
        return round(top + plot_h * (1 - value / y_max), 1)

    # On a phone, points closer than a label's width to the next labelled one stay unlabelled
    # (the table below the chart has every value); the newest is always labelled.
    labelled, next_x = set(), None
    for index in range(len(points) - 1, -1, -1):
        x = x_of(points[index].date)
        if not narrow or next_x is None or next_x - x >= 34:
            labelled.add(index)
            next_x = x
    drawn, labelled_before = [], []
    for index, p in enumerate(points):
        x, y = x_of(p.date), y_of(float(p.value))
        label = {
            "x": x,
            "y": y,
            "value": short_value(p),
            "label": short_value(p) if index in labelled else "",
            "date": p.label,
            "dx": 0,
            "dy": -12,
            "anchor": "middle",
        }
        if index == len(points) - 1 and index > 0:
            # The newest point is labelled to its right, where nothing else is drawn.
            label.update(dx=9, dy=5, anchor="start")
        elif (
            labelled_before and x - labelled_before[-1]["x"] < 56 and labelled_before[-1]["dy"] < 0
        ):
            # Neighbours closer than a label's width take turns above and below the line.
            label["dy"] = 26
        drawn.append(label)
        if label["label"]:
            labelled_before.append(label)
    step = nice_ceiling(y_max / 4)
    grid = [{"y": y_of(v), "label": l10n.number(v)} for v in range(0, y_max + 1, step)]
    ticks = [
        {"x": x_of(datetime.date(year, 1, 1)), "label": str(year)}
        for year in range(first.year + 1, last.year + 1)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
        "points": drawn,
        "path": " ".join(f"{p['x']},{p['y']}" for p in drawn),
        "grid": grid,
        "ticks": ticks,
    }
