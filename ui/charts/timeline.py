"""The stack of chart panels on one linked time axis, with crosshair, region and markers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPointF, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QWidget

from ui.charts.coalesce import CoalescingTimer
from ui.charts.crosshair import Crosshair
from ui.charts.panel import ChartPanel
from ui.charts.panel_parts import PanelSpec
from ui.theme import Theme

#: Redraw at most this often while the user drags or zooms (about 60 frames a second).
VIEW_REDRAW_MS = 15


@dataclass(frozen=True, slots=True)
class Marker:
    """An event on the timeline: a scenario change, an alert firing or resolving."""

    ts: float
    text: str
    colour: str


class Timeline(pg.GraphicsLayoutWidget):
    """Panels stacked in one graphics view, their x axes linked (``setXLink``).

    The page owns the data and calls :meth:`render` on its coalescing timer; the timeline
    re-renders by itself when the user zooms or pans (throttled), and reports that through
    :attr:`sig_user_range` so the page can leave follow-live.
    """

    sig_user_range = pyqtSignal(float, float)
    """Emitted with (start, end) when the user zooms or pans any panel with the mouse."""
    sig_region_changed = pyqtSignal(float, float)
    """Emitted with (start, end) when the user has moved the selection region."""
    sig_crosshair = pyqtSignal(float)
    """Emitted with the time under the cursor while it moves over a panel."""
    sig_panels_made = pyqtSignal()
    """Emitted once the planned panels (:meth:`plan_panels`) have been made."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent, show=False, size=None, title=None)
        self.theme = theme
        self.setBackground(theme.base)
        self.ci.setContentsMargins(6, 4, 10, 4)
        self.ci.setSpacing(2)
        self._panels: list[ChartPanel] = []
        self._planned: list[PanelSpec] = []
        self._shown: list[ChartPanel] = []
        self._markers: list[Marker] = []
        self._rendered: tuple[float, float, int] | None = None
        self._syncing_region = False
        self._last_user_range: tuple[float, float] | None = None
        self.crosshair = Crosshair(lambda: self._shown)
        self._view_redraw = CoalescingTimer(VIEW_REDRAW_MS, self._redraw_view, self)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.points_drawn = 0

    # -- panels ---------------------------------------------------------------------------

    @property
    def panels(self) -> list[ChartPanel]:
        """Every panel in order; planned ones are made now if they were not yet."""
        if self._planned:
            self.make_panels()
        return self._panels

    def made_panels(self) -> list[ChartPanel]:
        """The panels made so far (none of the planned ones is made by asking)."""
        return list(self._panels)

    @property
    def panels_made(self) -> bool:
        """No planned panel is left to make."""
        return not self._planned

    def add_panel(self, spec: PanelSpec) -> ChartPanel:
        self.make_panels()  # in the order they were asked for
        panel = ChartPanel(spec, self.theme)
        panel.view_box.sigXRangeChanged.connect(lambda *_: self._view_redraw.request())
        panel.view_box.sigRangeChangedManually.connect(self._user_moved)
        self._panels.append(panel)
        return panel

    def plan_panels(self, specs: Iterable[PanelSpec]) -> None:
        """Panels made when first asked for (:attr:`panels`, :meth:`panel`) or by
        :meth:`make_panels`: a page whose charts are not on screen yet (no readings) opens
        without paying for them, some 5 ms a panel."""
        self._planned.extend(specs)

    def make_panels(self) -> None:
        """Make the planned panels now (then :attr:`sig_panels_made`)."""
        planned, self._planned = self._planned, []
        for spec in planned:
            self.add_panel(spec)
        if planned:
            self.sig_panels_made.emit()

    def panel(self, key: str) -> ChartPanel:
        for panel in self.panels:
            if panel.spec.key == key:
                return panel
        raise KeyError(key)

    def shown_panels(self) -> list[ChartPanel]:
        return list(self._shown)

    def relayout(self) -> None:
        """Show the panels that have series, in order; time labels on the lowest only."""
        wanted = [p for p in self.panels if p.has_series()]
        if wanted == self._shown:
            return
        start, end = self.x_range()
        self.ci.clear()
        # the shown panels follow the first shown one (any panel may be the only one: a
        # profile without latency sources has no latency chart)
        for panel in self.panels:
            panel.plot.setXLink(None)
            panel.view_box.setXRange(start, end, padding=0)
        for panel in wanted[1:]:
            panel.plot.setXLink(wanted[0].plot)
        for row, panel in enumerate(wanted):
            self.ci.addItem(panel.plot, row=row, col=0)
            panel.show_time_labels(row == len(wanted) - 1)
            panel.plot.show()
        for panel in self.panels:
            if panel not in wanted:
                panel.plot.hide()
        self._shown = wanted
        # the central item is the whole view (GraphicsView.resizeEvent): a layout activated
        # between the clear and the re-adds above bounds it by the emptied grid, and the
        # panels stayed at their minimum (88 px wide) until the next resize
        self.ci.setGeometry(self.range)
        self._place_markers()
        self._lay_out_labels()
        self._rendered = None

    # -- range ----------------------------------------------------------------------------

    def x_range(self) -> tuple[float, float]:
        lo, hi = (self._shown or self.panels)[0].view_box.viewRange()[0]
        return float(lo), float(hi)

    def set_x_range(self, start: float, end: float) -> None:
        """Show ``[start, end]`` (the page's time range or follow-live) on every panel,
        shown or not yet shown."""
        for panel in self.panels:
            panel.view_box.setXRange(start, end, padding=0)
        for panel in self._shown:
            # the views' new transforms now, not in the next paint (pyqtgraph defers them
            # to its prepareForPaint): set there, they moved every item again and the
            # charts were painted twice at each move of the view
            panel.view_box.updateMatrix()

    def columns(self) -> int:
        panels = self._shown or self.panels
        if not panels:
            return 1000
        return max(int(panels[0].view_box.width()), 100)

    def _user_moved(self, *_: object) -> None:
        start, end = self.x_range()
        self._view_redraw.request()
        self.sig_user_range.emit(start, end)

    def _redraw_view(self) -> None:
        self.render()

    # -- drawing --------------------------------------------------------------------------

    def render(self, dirty: Iterable[str] | None = None) -> int:
        """Redraw the curves: all of them if the view changed since the last render,
        else only the ``dirty`` series (None: all)."""
        if not self._shown:
            return 0
        self._view_redraw.cancel()
        start, end = self.x_range()
        cols = self.columns()
        key = (start, end, cols)
        only = None if dirty is None or key != self._rendered else set(dirty)
        if key != self._rendered:
            for panel in self._shown:
                panel.layout_labels(start, end)
        total = 0
        for panel in self._shown:
            total += panel.render(start, end, cols, only)
        self._rendered = key
        self.points_drawn = total
        return total

    # -- crosshair ------------------------------------------------------------------------

    def _mouse_moved(self, pos: QPointF) -> None:
        panel = self.crosshair.panel_at(pos)
        if panel is None:
            return
        ts = float(panel.view_box.mapSceneToView(pos).x())
        self.show_crosshair(ts)

    def show_crosshair(self, ts: float) -> None:
        start, end = self.x_range()
        self.crosshair.show_at(ts, end - start)
        self.sig_crosshair.emit(ts)

    def hide_crosshair(self) -> None:
        self.crosshair.hide(self.x_range()[1] if self._shown else None)

    def refresh_readouts(self, at: float | None = None) -> None:
        """Values at ``at`` (default: the right edge) in the titles; no-op while the
        crosshair is shown."""
        if self._shown:
            self.crosshair.show_latest(self.x_range()[1] if at is None else at)

    def leaveEvent(self, event: QEvent | None) -> None:
        self.hide_crosshair()
        super().leaveEvent(event)

    # -- selection region -----------------------------------------------------------------

    def show_region(self, start: float, end: float) -> None:
        colour = QColor(self.theme.accent)
        for panel in self.panels:
            if panel.region is None:
                region = pg.LinearRegionItem(
                    values=(start, end), movable=True,
                    brush=pg.mkBrush(colour.red(), colour.green(), colour.blue(), 40),
                    hoverBrush=pg.mkBrush(colour.red(), colour.green(), colour.blue(), 60),
                    pen=pg.mkPen(colour, width=1.5))
                region.setZValue(30)
                region.sigRegionChanged.connect(self._region_moved)
                region.sigRegionChangeFinished.connect(self._region_done)
                panel.region = region
                panel.plot.addItem(region, ignoreBounds=True)
            panel.region.setRegion((start, end))
            panel.region.show()

    def hide_region(self) -> None:
        for panel in self.panels:
            if panel.region is not None:
                panel.region.hide()

    def region(self) -> tuple[float, float] | None:
        for panel in self.panels:
            if panel.region is not None and panel.region.isVisible():
                lo, hi = panel.region.getRegion()
                return float(lo), float(hi)
        return None

    def _region_moved(self, moved: pg.LinearRegionItem) -> None:
        if self._syncing_region:
            return
        self._syncing_region = True
        try:
            values = moved.getRegion()
            for panel in self.panels:
                if panel.region is not None and panel.region is not moved:
                    panel.region.setRegion(values)
        finally:
            self._syncing_region = False

    def _region_done(self, moved: pg.LinearRegionItem) -> None:
        if self._syncing_region:
            return
        lo, hi = moved.getRegion()
        self.sig_region_changed.emit(float(lo), float(hi))

    # -- markers --------------------------------------------------------------------------

    def add_marker(self, marker: Marker) -> None:
        self._markers.append(marker)
        for row, panel in enumerate(self._shown):
            panel.add_marker(marker.ts, marker.text, marker.colour, labelled=row == 0)
        self._lay_out_labels()

    def _lay_out_labels(self) -> None:
        """Labels on lanes (see :meth:`ChartPanel.layout_labels`); panels that no longer
        carry event labels give their lane back."""
        start, end = self.x_range()
        for panel in self.panels:
            if panel in self._shown:
                panel.layout_labels(start, end)
            else:
                panel.set_label_lane(0.0)

    def markers(self) -> list[Marker]:
        return list(self._markers)

    def _place_markers(self) -> None:
        for panel in self.panels:
            panel.clear_markers()
        for marker in self._markers:
            for row, panel in enumerate(self._shown):
                panel.add_marker(marker.ts, marker.text, marker.colour, labelled=row == 0)
