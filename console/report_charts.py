"""Report charts as plain shapes (boxes, lines, texts) the report template draws as inline SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The console's state colours (the same as ui.theme; colour carries meaning only).
STATE_COLOURS = {"ok": "#2e7d32", "warn": "#e69f00", "fail": "#c62828", "info": "#0072B2",
                 "stale": "#8a8a8a"}
TEXT = "#1d232b"
MUTED = "#5b6573"
GRID = "#d7dbe0"

#: The chart font's size in pixels and a generous average advance of one of its characters
#: (labels are cut to a number of characters; the viewer's own font draws them).
FONT_PX = 12
CHAR_PX = 7


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle, filled and/or outlined (an empty colour draws nothing)."""

    x: float
    y: float
    width: float
    height: float
    fill: str = ""
    stroke: str = ""


@dataclass(frozen=True, slots=True)
class Label:
    """A line of text whose baseline starts (or ends, or centres) at x, y; ``hint`` is the
    whole text when ``words`` had to be cut (shown on hover)."""

    x: float
    y: float
    words: str
    colour: str = TEXT
    anchor: str = "start"  # "start", "middle" or "end"
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """A polyline through ``points``."""

    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 2.0


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: its shapes in a ``width`` x ``height`` box, with a title and
    a text alternative saying what it shows."""

    title: str
    width: int
    height: int
    alt: str = ""
    boxes: tuple[Box, ...] = ()
    lines: tuple[Line, ...] = ()
    labels: tuple[Label, ...] = ()


def _label(x: float, y: float, words: str, chars: int, colour: str = TEXT,
           anchor: str = "start") -> Label:
    """``words`` cut to ``chars`` characters, the whole of them as the hint when cut."""
    if len(words) <= chars:
        return Label(x, y, words, colour, anchor)
    return Label(x, y, words[:max(1, chars - 1)] + "…", colour, anchor, hint=words)


def _figure(value: float, unit: str) -> str:
    """'16.0 ms' under a hundred, '1,240 ms' above (the unit as the caller writes it)."""
    figure = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{figure} {unit}".strip()


def bar_chart(title: str, bars: Sequence[tuple[str, float | None, str]], *, unit: str = "ms",
              alt: str = "", width: int = 760, label_chars: int = 24) -> Chart:
    """Horizontal bars, one per (label, value or None, state); the value written after it.

    A None value (e.g. a check that never answered) draws no bar and writes "no answer".
    """
    row_h = 26
    top = 8
    height = top * 2 + row_h * max(1, len(bars))
    label_w = CHAR_PX * label_chars + 8
    value_w = CHAR_PX * len("00,000 ms") + 12
    area = max(40, width - label_w - value_w)
    finite = [v for _l, v, _s in bars if v is not None and math.isfinite(v) and v > 0]
    scale_max = max(finite, default=1.0)
    boxes = [Box(label_w - 1, top - 2, 1, height - 2 * top + 4, fill=GRID)]
    labels: list[Label] = []
    for i, (label, value, state) in enumerate(bars):
        y = top + i * row_h
        baseline = y + row_h / 2 + FONT_PX * 0.35
        labels.append(_label(4, baseline, label, label_chars))
        if value is None or not math.isfinite(value):
            labels.append(Label(label_w + 6, baseline, "no answer", MUTED))
            continue
        length = max(2, round(area * max(value, 0.0) / scale_max))
        colour = STATE_COLOURS.get(str(state), STATE_COLOURS["stale"])
        boxes.append(Box(label_w, y + 4, length, row_h - 8, fill=colour))
        labels.append(Label(label_w + length + 6, baseline, _figure(value, unit)))
    return Chart(title, width, height, alt, tuple(boxes), (), tuple(labels))


def line_chart(title: str, points: Sequence[tuple[float, float]], *, unit: str, start: float,
               end: float, colour: str, alt: str = "", width: int = 760,
               height: int = 170) -> Chart:
    """One series as a line over [start, end] (seconds), its title above, its highest and
    lowest figure (from 0) on the left, the window's length and "now" below."""
    left, right, top, bottom = 64, 12, 24, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    plot_bottom = top + plot_h
    values = [v for _t, v in points]
    low, high = min([0.0, *values]), max(values, default=0.0)
    if high <= low:
        high = low + 1.0
    span = (end - start) or 1.0
    path = tuple((left + (t - start) / span * plot_w,
                  plot_bottom - (v - low) / (high - low) * plot_h) for t, v in points)
    axis_chars = (left - 8) // CHAR_PX
    labels = (
        _label(left, 16, title, plot_w // CHAR_PX),
        _label(left - 6, top + 4, f"{high:,.0f} {unit}".strip(), axis_chars, MUTED, "end"),
        _label(left - 6, plot_bottom + 4, f"{low:,.0f} {unit}".strip(), axis_chars, MUTED, "end"),
        Label(left, plot_bottom + 16, f"-{span / 60:.0f} min", MUTED),
        Label(left + plot_w, plot_bottom + 16, "now", MUTED, "end"),
    )
    frame = Box(left, top, plot_w, plot_h, stroke=GRID)
    return Chart(title, width, height, alt, (frame,), (Line(path, colour),), labels)
