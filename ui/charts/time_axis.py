"""The shared time axis (local time, readable ticks), value axes with units, grid lines."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QLineF, QRectF
from PyQt6.QtGui import QFont, QFontMetrics, QPainter

from ui.charts.units import Unit, format_number
from ui.theme import Theme


def _axis_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    return font


class TimeAxis(pg.DateAxisItem):
    """pyqtgraph's date axis in the console's colours and font, local time."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(orientation="bottom")
        self.setPen(pg.mkPen(theme.border))
        self.setTextPen(pg.mkPen(theme.muted))
        self.setStyle(tickFont=_axis_font(), tickTextOffset=4, tickLength=-4)
        # set at paint time by pyqtgraph; the grid asks for ticks before the first paint
        self.fontMetrics = QFontMetrics(_axis_font())


class ValueAxis(pg.AxisItem):
    """A left axis whose label is the unit and whose ticks read like the readout (1,250)."""

    def __init__(self, unit: Unit, theme: Theme) -> None:
        super().__init__(orientation="left")
        self.unit = unit
        self.enableAutoSIPrefix(False)
        self.setPen(pg.mkPen(theme.border))
        self.setTextPen(pg.mkPen(theme.muted))
        self.setStyle(tickFont=_axis_font(), tickTextOffset=4, tickLength=-4)
        if unit.label:
            self.setLabel(unit.label, color=theme.muted, **{"font-size": "8pt"})

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if spacing >= 1:
            decimals = 0
        elif spacing >= 0.1:
            decimals = 1
        elif spacing >= 0.01:
            decimals = 2
        else:
            decimals = 3
        return [format_number(v * scale, decimals) for v in values]


class GridLines(pg.GraphicsObject):
    """Opaque grid lines at the axes' major ticks, painted inside the view.

    pyqtgraph's own grid blends every tick level of both axes over the whole plot, which
    costs more than all the curves together; one pass of solid 1 px lines is cheap. Tick
    positions are worked out when the view changes, not on every paint.
    """

    def __init__(self, x_axis: pg.AxisItem, y_axis: pg.AxisItem, colour: str) -> None:
        super().__init__()
        self._x_axis = x_axis
        self._y_axis = y_axis
        self._pen = pg.mkPen(colour, width=1)
        self._pen.setCosmetic(True)
        self._lines: list[QLineF] = []
        self._key: tuple[float, ...] = ()
        self.setZValue(-100)

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        return QRectF() if vb is None else vb.viewRect()

    def view_changed(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def _layout(self) -> list[QLineF]:
        vb = self.getViewBox()
        if vb is None:
            return []
        rect = vb.viewRect()
        key = (rect.left(), rect.right(), rect.top(), rect.bottom(), vb.width(), vb.height())
        if key != self._key:
            self._key = key
            lines = [QLineF(x, rect.top(), x, rect.bottom())
                     for x in self._major(self._x_axis, rect.left(), rect.right(), vb.width())]
            lines += [QLineF(rect.left(), y, rect.right(), y)
                      for y in self._major(self._y_axis, rect.top(), rect.bottom(), vb.height())]
            self._lines = lines
        return self._lines

    def paint(self, painter: QPainter, *_: object) -> None:
        lines = self._layout()
        if lines:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(self._pen)
            painter.drawLines(lines)  # type: ignore[call-overload]

    @staticmethod
    def _major(axis: pg.AxisItem, lo: float, hi: float, size: float) -> list[float]:
        if size <= 0 or not hi > lo:
            return []
        levels = axis.tickValues(lo, hi, size)
        if not levels:
            return []
        return [v for v in levels[0][1] if lo <= v <= hi]
