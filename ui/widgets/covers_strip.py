"""Covers per slot against the limit ('5/10'), a cell a slot; slots over the limit in warning."""

from __future__ import annotations

from datetime import datetime

from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

from console.floor import SlotCovers
from ui.plain_text import plain_tooltip
from ui.theme import WARN, tabular_font

CELL_MIN_W = 34
ROW_H = 18


class CoversStrip(QWidget):
    """A row of slots: the time on top, covers booked / limit under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slots: tuple[SlotCovers, ...] = ()
        self.now: datetime | None = None
        self.setFont(tabular_font(self.font()))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_slots(self, slots: tuple[SlotCovers, ...] | list[SlotCovers],
                  now: datetime | None = None) -> None:
        self.slots, self.now = tuple(slots), now
        over = [s for s in self.slots if s.over]
        self.setToolTip(plain_tooltip(
            "Over the covers limit: " + ", ".join(f"{s.start.astimezone():%H:%M} ({s.text})"
                                                 for s in over) if over
            else "Covers booked per slot against the kitchen's limit"))
        self.updateGeometry()
        self.update()

    def texts(self) -> list[str]:
        """What each cell says, as 'HH:MM 5/10' (for tests and screen readers)."""
        return [f"{s.start.astimezone():%H:%M} {s.text}" for s in self.slots]

    def sizeHint(self) -> QSize:
        return QSize(max(1, len(self.slots)) * CELL_MIN_W, ROW_H * 2 + 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, ROW_H * 2 + 6)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        if not self.slots:
            return
        p = QPainter(self)
        text = self.palette().text().color()
        muted = QColor(text)
        muted.setAlpha(140)
        width = self.width() / len(self.slots)
        for i, s in enumerate(self.slots):
            x = int(i * width)
            w = int((i + 1) * width) - x
            if s.start.astimezone().minute == 0:
                p.setPen(muted)
                p.drawText(QRect(x + 2, 0, 60, ROW_H), int(Qt.AlignmentFlag.AlignVCenter),
                           f"{s.start.astimezone():%H:%M}")
            cell = QRect(x + 1, ROW_H + 2, w - 2, ROW_H + 2)
            if s.over:
                p.fillRect(cell, QColor(WARN))
            p.setPen(QColor("#1d232b") if s.over else (text if s.covers else muted))
            if w >= CELL_MIN_W or s.covers:
                p.drawText(cell, int(Qt.AlignmentFlag.AlignCenter),
                           s.text if w >= CELL_MIN_W else str(s.covers))
        p.end()
