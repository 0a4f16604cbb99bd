"""Charts of the data-loop pages as inline SVG drawn on the server (no script, nothing fetched): a funnel, lines
over a live's minutes, a bar split in shares. Each has a <title> and <desc> for screen readers, and the page
shows the same numbers in a table beside it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
COLOURS = ("#2f6fde", "#e07b17", "#2e9d55", "#b03a8e", "#6b6b6b")


@dataclass(frozen=True)
class Series:
    """One line: its label and a value per point (the x axis is the point's index)."""

    label: str
    values: Sequence[Decimal]


def _svg(height: int, title: str, description: str, body: str, chart: str) -> SafeString:
    return format_html(
        '<svg class="chart" data-chart="{}" role="img" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{}-title {}-desc"><title id="{}-title">{}</title>'
        '<desc id="{}-desc">{}</desc>{}</svg>',
        chart, WIDTH, height, WIDTH, height, chart, chart, chart, title, chart, description, mark_safe(body))


def funnel(stages: Sequence[tuple[str, int]], title: str, chart: str = "funnel") -> SafeString:
    """Bars centred one under the other, each as wide as its count against the first (widest) stage."""
    row, label_width = 34, 200
    widest = max([count for _label, count in stages] + [1])
    room = WIDTH - label_width - 60
    parts = []
    for i, (label, count) in enumerate(stages):
        width = max(2.0, room * count / widest) if count else 0.0
        x, y = label_width + (room - width) / 2, i * row + 4
        parts.append(format_html(
            '<text x="{}" y="{}" class="label">{}</text><rect x="{}" y="{}" width="{}" height="{}" '
            'fill="{}" rx="3"><title>{}: {}</title></rect><text x="{}" y="{}" class="value">{}</text>',
            0, y + 18, label, f"{x:.1f}", y, f"{width:.1f}", row - 8, COLOURS[0], label, count, WIDTH - 50, y + 18,
            count))
    description = "; ".join(f"{label}: {count}" for label, count in stages)
    return _svg(len(stages) * row + 8, title, description, "".join(parts), chart)


def _points(values: Sequence[Decimal], top: Decimal, plot: tuple[int, int, int, int]) -> str:
    left, top_y, width, height = plot
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{left + i * step:.1f},{top_y + height - float(v / top) * height:.1f}"
                    for i, v in enumerate(values))


def lines(series: Sequence[Series], title: str, x_label: str, chart: str = "lines") -> SafeString:
    """Lines over the same x axis (0 to the last point), from 0 to the largest value, with both ends marked."""
    count = max([len(s.values) for s in series] + [0])
    top = max([v for s in series for v in s.values] + [Decimal(0)])
    top = top if top > 0 else Decimal(1)
    plot = (60, 10, WIDTH - 80, 170)
    left, top_y, width, height = plot
    parts = [format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/><line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>'
        '<text x="{}" y="{}" class="value">{}</text><text x="{}" y="{}" class="value">0</text>'
        '<text x="{}" y="{}" class="label">{}</text><text x="{}" y="{}" class="value">{}</text>',
        left, top_y, left, top_y + height, left, top_y + height, left + width, top_y + height,
        0, top_y + 10, top, 40, top_y + height, left, top_y + height + 18, x_label, left + width - 20,
        top_y + height + 18, max(count - 1, 0))]
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        if s.values:
            parts.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                                     _points(s.values, top, plot), colour))
        parts.append(format_html('<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                                 '<text x="{}" y="{}" class="label">{}</text>',
                                 left + i * 220, top_y + height + 30, colour, left + 18 + i * 220,
                                 top_y + height + 41, s.label))
    description = "; ".join(f"{s.label}: {s.values[-1] if s.values else 0}" for s in series)
    return _svg(top_y + height + 50, title, description, "".join(parts), chart)


def shares(parts: Sequence[tuple[str, Decimal]], title: str, chart: str = "shares") -> SafeString:
    """One bar split by percent (the parts add up to 100), each labelled with its percent."""
    x, drawn = 0.0, []
    for i, (label, percent) in enumerate(parts):
        width = WIDTH * float(percent) / 100
        colour = COLOURS[i % len(COLOURS)]
        drawn.append(format_html(
            '<rect x="{}" y="0" width="{}" height="34" fill="{}"><title>{}: {}%</title></rect>'
            '<text x="{}" y="22" class="on-bar">{}%</text>'
            '<rect x="{}" y="46" width="12" height="12" fill="{}"/><text x="{}" y="57" class="label">{}</text>',
            f"{x:.1f}", f"{width:.1f}", colour, label, percent, f"{x + 6:.1f}", percent, i * 260, colour,
            i * 260 + 18, label))
        x += width
    description = "; ".join(f"{label}: {percent}%" for label, percent in parts)
    return _svg(66, title, description, "".join(drawn), chart)



def bars(items: Sequence[tuple[str, Decimal, str]], title: str, chart: str = "bars") -> SafeString:
    """Horizontal bars, one per (label, value, value as shown), as long as the value against the largest."""
    row, label_width = 26, 200
    largest = max([value for _label, value, _shown in items] + [Decimal(0)])
    room = WIDTH - label_width - 120
    parts = []
    for i, (label, value, shown) in enumerate(items):
        width = room * float(value / largest) if largest > 0 else 0.0
        y = i * row + 4
        parts.append(format_html(
            '<text x="0" y="{}" class="label">{}</text><rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="2">'
            '<title>{}: {}</title></rect><text x="{}" y="{}" class="value">{}</text>',
            y + 14, label, label_width, y, f"{width:.1f}", row - 8, COLOURS[2], label, shown,
            f"{label_width + width + 6:.1f}", y + 14, shown))
    description = "; ".join(f"{label}: {shown}" for label, _value, shown in items)
    return _svg(max(len(items), 1) * row + 8, title, description, "".join(parts), chart)
