"""Chart labels in lanes: event, alert and threshold labels placed so that none overlaps another."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PyQt6.QtCore import QRectF

#: Pixels kept between two labels on one lane, and above the first lane.
GAP_PX = 6.0
TOP_PX = 2.0
#: At most this share of a chart's height holds lanes of event labels (but always two
#: lanes); a label that finds no room is hidden (its line and tooltip stay).
MAX_LANE_SHARE = 0.45
MIN_LANES = 2


def place_event_labels(lines: Sequence[pg.InfiniteLine], x0: float, x1: float,
                       width: float, height: float) -> tuple[list[QRectF], float]:
    """Put the labels of vertical event lines on lanes across the top of the chart.

    Labels are taken from left to right, each on the highest lane where it does not touch
    the previous label; a label near the right edge goes to the left of its line so it is
    not cut off. Returns the labels' rectangles (view pixels, y down) and the share of the
    chart's height the lanes use.
    """
    if width <= 0 or height <= 0 or x1 <= x0:
        return [], 0.0
    spans = []
    lane_h = 0.0
    for line in lines:
        label = getattr(line, "label", None)
        if label is None:
            continue
        px = (float(line.value()) - x0) / (x1 - x0) * width
        if px < -width or px > 2 * width:
            continue  # far out of view: takes no lane
        box = label.boundingRect()
        w = box.width()
        lane_h = max(lane_h, box.height())
        leftward = px + w > width - GAP_PX
        left = px - w if leftward else px
        if left + w < 0 or left > width:
            continue  # out of view: takes no lane
        spans.append((left, w, leftward, line))
    if not spans:
        return [], 0.0
    max_lanes = max(MIN_LANES, int((height * MAX_LANE_SHARE - TOP_PX) // lane_h))
    spans.sort(key=lambda s: s[0])
    lane_ends: list[float] = []
    rects: list[QRectF] = []
    for left, w, leftward, line in spans:
        label = line.label
        lane = next((k for k, end in enumerate(lane_ends) if end + GAP_PX <= left), None)
        if lane is None and len(lane_ends) < max_lanes:
            lane = len(lane_ends)
            lane_ends.append(-1e9)
        if lane is None:
            label.setVisible(False)
            continue
        lane_ends[lane] = left + w
        top = TOP_PX + lane * lane_h
        _move(label, (1, 0) if leftward else (0, 0), 1.0 - top / height)
        rects.append(QRectF(left, top, w, lane_h))
    share = (TOP_PX + len(lane_ends) * lane_h + GAP_PX) / height if lane_ends else 0.0
    return rects, min(share, 0.6)


def place_threshold_labels(lines: Sequence[pg.InfiniteLine], taken: list[QRectF],
                           y0: float, y1: float, width: float, height: float) -> None:
    """Put each threshold's label on its line, as far right as it goes without touching
    a label already placed (``taken``, in view pixels); hidden where none fits."""
    if width <= 0 or height <= 0 or y1 <= y0:
        return
    for line in sorted(lines, key=lambda ln: -float(ln.value())):
        label = getattr(line, "label", None)
        if label is None:
            continue
        box = label.boundingRect()
        w, h = box.width(), box.height()
        y = height - (float(line.value()) - y0) / (y1 - y0) * height
        if y < 0 or y > height:
            continue  # out of view
        above = y - h >= 0  # the label sits on its line, or under it at the very top
        top = y - h if above else y
        right = width * 0.98
        spot: QRectF | None = None
        while right - w >= 0:
            rect = QRectF(right - w, top, w, h)
            hit = [r for r in taken if r.adjusted(-GAP_PX, 0, GAP_PX, 0).intersects(rect)]
            if not hit:
                spot = rect
                break
            right = min(r.left() for r in hit) - GAP_PX
        if spot is None:
            label.setVisible(False)
            continue
        _move(label, (1, 1) if above else (1, 0), spot.right() / width)
        taken.append(spot)


def _move(label: pg.InfLineLabel, anchor: tuple[int, int], position: float) -> None:
    """Put a line's label at ``position`` along it, with ``anchor``; shown. Untouched when
    already there (pyqtgraph keeps it in place as the view moves)."""
    if not label.isVisible():
        label.setVisible(True)
    elif tuple(label.anchors[0]) == anchor and abs(label.orthoPos - position) < 1e-4:
        return
    label.anchors = [anchor, anchor]
    label.orthoPos = position
    label.updatePosition()
