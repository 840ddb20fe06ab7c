"""The crosshair: one time under the cursor, a line on every panel and each panel's values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PyQt6.QtCore import QPointF

from ui.charts.panel import ChartPanel


def clock_text(ts: float, span_s: float) -> str:
    """Local time of ``ts`` as a readout shows it: seconds for short views, date for long."""
    moment = datetime.fromtimestamp(ts)
    if span_s > 2 * 86_400:
        return moment.strftime("%a %d %b %H:%M")
    return moment.strftime("%H:%M:%S")


class Crosshair:
    """Moves one vertical line across all panels and writes each panel's values at that
    time into its title line; with no cursor the titles show the latest values."""

    def __init__(self, panels: Callable[[], Sequence[ChartPanel]]) -> None:
        self._panels = panels
        self.ts: float | None = None

    def panel_at(self, scene_pos: QPointF) -> ChartPanel | None:
        for panel in self._panels():
            if panel.plot.isVisible() and panel.view_box.sceneBoundingRect().contains(scene_pos):
                return panel
        return None

    def show_at(self, ts: float, span_s: float) -> None:
        self.ts = ts
        when = clock_text(ts, span_s)
        for panel in self._panels():
            panel.crosshair.setPos(ts)
            panel.crosshair.show()
            panel.set_readout(panel.values_at(ts), when)

    def hide(self, latest_ts: float | None = None) -> None:
        self.ts = None
        for panel in self._panels():
            panel.crosshair.hide()
        self.show_latest(latest_ts)

    def show_latest(self, latest_ts: float | None) -> None:
        """Titles show the newest value of each series (when no cursor is over the charts)."""
        if self.ts is not None:
            return
        for panel in self._panels():
            values = [(c, c.buffer.value_at(latest_ts if latest_ts is not None
                                             else (c.buffer.last_ts() or 0.0)))
                      for c in panel.curves.values() if c.style.visible]
            panel.set_readout(values)
