"""The "what moved first" side list: one sentence, then the ranked series with their moves."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from console.correlate import MIN_HEADLINE_SCORE, Mover, explain
from console.durations import format_duration
from ui.charts.units import COUNT, Unit
from ui.plain_text import plain_label, set_plain_text

#: Rows shown; the rest only move less.
MAX_ROWS = 12


def dot_icon(colour: str) -> QIcon:
    """A small filled circle in a series' colour."""
    pix = QPixmap(12, 12)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pix)


def _clip(value: float, limit: float = 99.0) -> float:
    if not math.isfinite(value):
        return limit if value > 0 else -limit
    return max(-limit, min(limit, value))


class MoversPanel(QFrame):
    """Shows a ranking from :func:`console.correlate.rank_movers` in a person's words."""

    def __init__(self, muted: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self._muted = muted
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 10, 12, 10)
        heading = QLabel("What moved first")
        heading.setStyleSheet("font-weight: 600;")
        self.headline = plain_label("Drag the shaded window over a spike.")
        self.headline.setWordWrap(True)
        self.rows = QListWidget()
        self.rows.setIconSize(QSize(10, 10))
        self.rows.setWordWrap(True)
        self.rows.setFrameShape(QFrame.Shape.NoFrame)
        box.addWidget(heading)
        box.addWidget(self.headline)
        box.addWidget(self.rows, 1)

    def show_busy(self) -> None:
        self.headline.setText("Ranking…")

    def show_movers(self, movers: list[Mover], humans: Mapping[str, str],
                    units: Mapping[str, Unit], colours: Mapping[str, str],
                    group: Callable[[str], str] | None = None) -> None:
        """``humans``: series -> words ('web p95 latency'); ``units`` and ``colours`` as on
        the charts; ``group`` keeps one source's quantiles from being set against each other."""
        self.rows.clear()
        set_plain_text(self.headline, explain(movers, lambda s: humans.get(s, s), group=group))
        for mover in movers[:MAX_ROWS]:
            unit = units.get(mover.series, COUNT)
            when = ""
            if mover.lead_s is not None and abs(mover.lead_s) >= 1 and mover is not movers[0]:
                when = (f" · {format_duration(mover.lead_s)} "
                        f"{'earlier' if mover.lead_s < 0 else 'later'}")
            text = (f"{humans.get(mover.series, mover.series)} {mover.direction} "
                    f"{unit.format(mover.before)} → {unit.format(mover.during)}{when}")
            item = QListWidgetItem(dot_icon(colours.get(mover.series, "#999999")), text)
            item.setToolTip(f"score {mover.score:.2f} (KS {mover.ks:.2f}, shift "
                            f"{_clip(mover.shift):+.1f} σ)")
            if mover.score < MIN_HEADLINE_SCORE:
                item.setForeground(QColor(self._muted))
            self.rows.addItem(item)
