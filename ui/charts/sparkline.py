"""A tiny line of the last minutes of one series, painted directly (no plot machinery)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PyQt6.QtCore import QPointF, QSize, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PyQt6.QtWidgets import QSizePolicy, QWidget


class Sparkline(QWidget):
    """Draws ``values`` over ``ts`` scaled to its own box; NaN (silence) breaks the line."""

    def __init__(self, colour: str = "#0072B2", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor(colour)
        self._segments: list[QPolygonF] = []
        self._ts: npt.NDArray[np.float64] = np.empty(0)
        self._values: npt.NDArray[np.float64] = np.empty(0)
        self._span: tuple[float, float] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(28)

    def sizeHint(self) -> QSize:
        return QSize(120, 28)

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour)
        self.update()

    def set_data(self, ts: npt.ArrayLike, values: npt.ArrayLike,
                 span: tuple[float, float] | None = None) -> None:
        """``span`` fixes the time range drawn (so silence at the end shows as empty)."""
        self._ts = np.asarray(ts, dtype=np.float64)
        self._values = np.asarray(values, dtype=np.float64)
        self._span = span
        self._segments = []
        self.update()

    def point_count(self) -> int:
        """How many real (non-NaN) points are drawn; for tests and tooltips."""
        return int(np.count_nonzero(np.isfinite(self._values)))

    def _build(self) -> list[QPolygonF]:
        finite = np.isfinite(self._values)
        if not finite.any():
            return []
        # empty buckets between a source's polls are not silence; a pause of more than
        # three poll intervals is, and breaks the line
        ts, values = self._ts[finite], self._values[finite]
        steps = np.diff(ts)
        typical = float(np.median(steps)) if steps.size else 1.0
        breaks = np.flatnonzero(steps > max(3.0 * typical, 3.0))
        t0, t1 = self._span or (float(ts[0]), float(ts[-1]))
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        if hi - lo < 1e-12:
            lo, hi = lo - 1.0, hi + 1.0
        w, h = max(self.width() - 2, 1), max(self.height() - 4, 1)
        xs = 1 + (ts - t0) / max(t1 - t0, 1e-9) * w
        ys = 2 + (1 - (values - lo) / (hi - lo)) * h
        segments = []
        start = 0
        for stop in [*(breaks + 1).tolist(), values.size]:
            poly = QPolygonF([QPointF(float(x), float(y))
                              for x, y in zip(xs[start:stop], ys[start:stop], strict=True)])
            segments.append(poly)
            start = stop
        return segments

    def paintEvent(self, event: QPaintEvent | None) -> None:
        if not self._segments:
            self._segments = self._build()
        if not self._segments:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self._colour, 1.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        for poly in self._segments:
            if poly.size() == 1:
                painter.drawPoint(poly.at(0))
            else:
                painter.drawPolyline(poly)
        painter.end()

    def resizeEvent(self, event: object) -> None:  # type: ignore[override]
        self._segments = []
        super().resizeEvent(event)  # type: ignore[arg-type]


def last_finite(values: npt.ArrayLike) -> float | None:
    """The newest real value of an array, None if all are NaN."""
    arr = np.asarray(values, dtype=np.float64)
    idx = np.flatnonzero(np.isfinite(arr))
    if idx.size == 0:
        return None
    value = float(arr[idx[-1]])
    return None if math.isnan(value) else value
