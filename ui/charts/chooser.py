"""The series chooser's parts: a clickable text on the chart and a legend line as an icon."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

if TYPE_CHECKING:
    from ui.charts.panel_parts import SeriesStyle


def line_icon(style: SeriesStyle) -> QIcon:
    pix = QPixmap(22, 12)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    pen = QPen(QColor(style.colour), 2)
    pen.setStyle(style.dash)
    painter.setPen(pen)
    painter.drawLine(1, 6, 21, 6)
    painter.end()
    return QIcon(pix)


class ClickLabel(pg.LabelItem):
    """A text item that calls back with the screen position when clicked."""

    def __init__(self, on_click: Callable[[QPoint], None]) -> None:
        super().__init__("", justify="right")
        self._on_click = on_click
        self.setAcceptHoverEvents(True)

    def mouseClickEvent(self, event: Any) -> None:
        event.accept()
        self._on_click(event.screenPos().toPoint())

    def hoverEvent(self, event: Any) -> None:
        if not event.isExit():
            event.acceptClicks(Qt.MouseButton.LeftButton)
