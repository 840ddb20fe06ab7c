"""One chart of the dashboard: a time plot with its curves, legend, thresholds and markers."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PyQt6.QtCore import QObject, QPoint, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QMenu, QWidget

from ui.charts.chooser import ClickLabel, line_icon
from ui.charts.decimate import Rendered, SeriesBuffer
from ui.charts.lanes import place_event_labels, place_threshold_labels
from ui.charts.panel_parts import PanelSpec, SeriesCurve, SeriesStyle, Threshold
from ui.charts.time_axis import GridLines, TimeAxis, ValueAxis
from ui.plain_text import set_plain_tooltip
from ui.theme import Theme

LEFT_AXIS_WIDTH = 70
TITLE_HEIGHT = 22


def _pen(colour: str, width: float, dash: Qt.PenStyle = Qt.PenStyle.SolidLine) -> object:
    pen = pg.mkPen(colour, width=width)
    pen.setStyle(dash)
    return pen


class ChartPanel(QObject):
    """A :class:`pyqtgraph.PlotItem` with one curve per series, updated with ``setData``.

    Curves are kept for the life of the panel; each render hands pyqtgraph only the
    points of the visible range, at most a few per pixel column (see
    :class:`~ui.charts.decimate.SeriesBuffer`), with pyqtgraph's own peak downsampling and
    clip-to-view behind it as a safety net. NaN breaks a line (``connect="finite"``).
    """

    sig_visibility = pyqtSignal(str, bool)
    """Emitted with (series, shown) when a series is shown or hidden."""
    sig_control_clicked = pyqtSignal()
    """Emitted when the chart's own control (see :meth:`set_control`) is clicked."""

    def __init__(self, spec: PanelSpec, theme: Theme) -> None:
        super().__init__()
        self.spec = spec
        self.theme = theme
        self.time_axis = TimeAxis(theme)
        self.value_axis = ValueAxis(spec.unit, theme)
        # no context menus: made up front they cost a start 1-2 ms a chart, and are not used
        self.plot = pg.PlotItem(axisItems={"bottom": self.time_axis, "left": self.value_axis},
                                enableMenu=False)
        self.plot.hideButtons()
        self.grid = GridLines(self.time_axis, self.value_axis, _blend(theme.base, theme.border))
        self.plot.addItem(self.grid, ignoreBounds=True)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_: self.grid.view_changed())
        self.plot.setTitle("", justify="left", size="10pt", color=theme.text)
        self._title_height = TITLE_HEIGHT
        self.plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)
        self.plot.titleLabel.setMaximumHeight(TITLE_HEIGHT)
        self.value_axis.setWidth(LEFT_AXIS_WIDTH)
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.enableAutoRange(axis=pg.ViewBox.YAxis, enable=False)  # see fit_y
        self._y_range: tuple[float, float] | None = None
        vb.enableAutoRange(axis=pg.ViewBox.XAxis, enable=False)
        vb.setDefaultPadding(0.06)
        if spec.y_floor is not None or spec.y_ceiling is not None:
            vb.setLimits(yMin=None if spec.y_floor is None else spec.y_floor * 1.0 - 1e-9,
                         yMax=None if spec.y_ceiling is None else spec.y_ceiling * 1.04)
        self.chooser = ClickLabel(self._open_chooser)
        self.chooser.setParentItem(self.plot)
        self.chooser.setText("series ▾", size="8pt", color=theme.muted)
        self.chooser.setToolTip("Choose the series this chart shows")
        self.control = ClickLabel(lambda _pos: self.sig_control_clicked.emit())
        self.control.setParentItem(self.plot)
        self.control.hide()
        self.plot.geometryChanged.connect(self._place_chooser)
        if spec.min_span:
            vb.setLimits(minYRange=spec.min_span)
        self.curves: dict[str, SeriesCurve] = {}
        self._visible = 0
        self.label_lane = 0.0
        self.thresholds: list[pg.InfiniteLine] = []
        self._threshold_rules: list[str] = []
        self.firing: frozenset[str] = frozenset()
        self._event_rects: list[QRectF] = []  # event labels' places, in view pixels
        self.markers: list[pg.InfiniteLine] = []
        self.crosshair = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen(theme.muted, width=1,
                                                      style=Qt.PenStyle.DashLine))
        self.crosshair.setZValue(50)
        self.crosshair.hide()
        self.plot.addItem(self.crosshair, ignoreBounds=True)
        self.region: pg.LinearRegionItem | None = None
        self.readout_html = ""
        self.set_readout([])

    # -- series --------------------------------------------------------------------------

    @property
    def view_box(self) -> pg.ViewBox:
        return self.plot.getViewBox()

    def has_series(self) -> bool:
        return bool(self.curves)

    def add_series(self, series: str, style: SeriesStyle) -> SeriesCurve:
        """The curve of ``series``, made on first use (never rebuilt afterwards)."""
        found = self.curves.get(series)
        if found is not None:
            return found
        curve = SeriesCurve(series, style, SeriesBuffer(), self._make_item)
        self.curves[series] = curve
        if style.visible:
            self._visible += 1
            _ = curve.item
        return curve

    def _make_item(self, curve: SeriesCurve) -> pg.PlotDataItem:
        style = curve.style
        item = pg.PlotDataItem(connect="finite", pen=_pen(style.colour, style.width, style.dash),
                               antialias=True)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        item.setZValue(10)
        item.setVisible(style.visible)
        self.plot.addItem(item)
        return item

    # -- the series chooser (the legend of hidden and shown series) ------------------------

    def set_control(self, text: str, tooltip: str = "") -> None:
        """A clickable text left of the series chooser (e.g. "worst 5 of 20 sites · show
        all"); "" hides it. A click emits :attr:`sig_control_clicked`."""
        if text == self.control_text():
            return
        # pyqtgraph reads a label as HTML: the words (a label name from the profile) as text
        self.control.setText(html.escape(text), size="8pt", color=self.theme.accent)
        set_plain_tooltip(self.control, tooltip)
        self.control.setVisible(bool(text))
        self._place_chooser()

    def control_text(self) -> str:
        """What the chart's control says ("" when it has none)."""
        return html.unescape(str(self.control.text)) if self.control.isVisible() else ""

    def _controls_width(self) -> float:
        width = self.chooser.boundingRect().width()
        if self.control.isVisible():
            width += self.control.boundingRect().width() + 8
        return float(width)

    def _place_chooser(self) -> None:
        width = self.plot.geometry().width()
        self.chooser.setPos(width - self.chooser.boundingRect().width() - 4, 0)
        if self.control.isVisible():
            self.control.setPos(width - self._controls_width() - 4, 0)
        self._fit_title()

    def _fit_title(self) -> None:
        """The title line (the legend and readout) wraps within the chart's width, left of
        the series chooser: a long legend must never widen the chart past the window."""
        label = self.plot.titleLabel
        room = self.plot.geometry().width() - LEFT_AXIS_WIDTH - self._controls_width() - 16
        label.item.setTextWidth(max(room, 120.0))
        label.updateMin()
        height = max(TITLE_HEIGHT, math.ceil(label.itemRect().height()))
        label.setMinimumWidth(0)  # never wider than the chart gives it
        label.setMaximumHeight(height)
        if height != self._title_height:
            self._title_height = height
            self.plot.layout.setRowFixedHeight(0, height)

    def chooser_actions(self, parent: QWidget | None = None) -> QMenu:
        """The chooser's menu: one checkable entry per series, in its colour and dash."""
        menu = QMenu(parent)
        for name, curve in sorted(self.curves.items(), key=lambda kv: kv[1].style.label):
            action = menu.addAction(line_icon(curve.style), curve.style.label)
            assert action is not None
            action.setCheckable(True)
            action.setChecked(curve.style.visible)
            action.toggled.connect(lambda on, n=name: self.set_visible(n, on))
        if self.curves:
            menu.addSeparator()
            show_all = menu.addAction("Show all")
            assert show_all is not None
            show_all.triggered.connect(self.show_all)
        return menu

    def show_all(self) -> None:
        for name in self.curves:
            self.set_visible(name, True)

    def _open_chooser(self, screen_pos: QPoint) -> None:
        menu = self.chooser_actions()
        menu.exec(screen_pos)
        menu.deleteLater()

    def set_visible(self, series: str, visible: bool) -> None:
        curve = self.curves[series]
        if curve.style.visible != visible:
            self._visible += 1 if visible else -1
        curve.style.visible = visible
        if visible or curve.has_item:
            curve.item.setVisible(visible)
        for extra in (curve.env_lo, curve.env_hi, curve.fill):
            if extra is not None:
                extra.setVisible(visible and curve.envelope_wanted)
        self._y_range = None
        self.fit_y()
        self.sig_visibility.emit(series, visible)

    def visible_series(self) -> list[str]:
        return [s for s, c in self.curves.items() if c.style.visible]

    def visible_count(self) -> int:
        """How many series are shown (kept up to date, for charts of hundreds)."""
        return self._visible

    def _ensure_envelope(self, curve: SeriesCurve) -> None:
        if curve.fill is not None:
            return
        colour = QColor(curve.style.colour)
        edge = pg.mkPen(colour.red(), colour.green(), colour.blue(), 70, width=1)
        curve.env_lo = pg.PlotCurveItem(pen=edge, connect="finite")
        curve.env_hi = pg.PlotCurveItem(pen=edge, connect="finite")
        curve.fill = pg.FillBetweenItem(curve.env_lo, curve.env_hi,
                                        brush=pg.mkBrush(colour.red(), colour.green(),
                                                         colour.blue(), 45))
        for extra in (curve.env_lo, curve.env_hi, curve.fill):
            extra.setZValue(5)
            self.plot.addItem(extra)

    def render(self, x0: float, x1: float, columns: int,
               only: Iterable[str] | None = None) -> int:
        """Hand the visible points of each curve (or of ``only``) to pyqtgraph; returns the
        number of points drawn."""
        scale = self.spec.unit.scale
        names = self.curves if only is None else [s for s in only if s in self.curves]
        total = 0
        changed = False
        for name in names:
            curve = self.curves[name]
            if not curve.style.visible:
                continue  # hidden lines are brought up to date when shown
            out = curve.buffer.render(x0, x1, columns, scale)
            n = int(out.x.size)
            curve.points_drawn = n
            total += n
            if out is curve.seen:
                continue
            curve.seen = out
            if self._same_on_screen(curve.rendered, out):
                # e.g. a new sample inside the last column's min and max: nothing to redraw
                continue
            curve.rendered = out
            changed = True
            curve.item.setData(out.x, out.y)
            curve.y_bounds = _bounds(out.y, out.env_lo, out.env_hi)
            if out.env_x is not None and out.env_lo is not None and out.env_hi is not None:
                self._ensure_envelope(curve)
                assert curve.env_lo is not None and curve.env_hi is not None
                assert curve.fill is not None
                curve.env_lo.setData(out.env_x, out.env_lo)
                curve.env_hi.setData(out.env_x, out.env_hi)
                curve.envelope_wanted = True
                for extra in (curve.env_lo, curve.env_hi, curve.fill):
                    extra.setVisible(curve.style.visible)
            elif curve.fill is not None and curve.envelope_wanted:
                curve.envelope_wanted = False
                for extra in (curve.env_lo, curve.env_hi, curve.fill):
                    if extra is not None:
                        extra.hide()
        if changed:
            self.fit_y()
        return total

    def _same_on_screen(self, drawn: Rendered | None, out: Rendered) -> bool:
        """True when ``out`` differs from what is drawn by less than half a pixel (same
        x positions, every y within half a pixel), so handing it over would change nothing
        a user can see."""
        if drawn is None or drawn.x.size != out.x.size or out.x.size == 0:
            return False
        if drawn.env_x is not None or out.env_x is not None:
            return False
        if drawn.x[0] != out.x[0] or drawn.x[-1] != out.x[-1]:
            return False
        height = self.view_box.height()
        lo, hi = self.view_box.viewRange()[1]
        if height <= 0 or not hi > lo:
            return False
        half_pixel = 0.5 * (hi - lo) / height
        diff = np.abs(drawn.y - out.y)
        same_gaps = np.array_equal(np.isnan(drawn.y), np.isnan(out.y))
        return bool(same_gaps and np.nanmax(diff, initial=0.0) < half_pixel
                    and np.array_equal(drawn.x, out.x))

    def fit_y(self) -> None:
        """Fit the value axis to the visible curves, on round numbers, with hysteresis.

        The range grows as soon as data leaves it and shrinks only when the data use less
        than 40 % of it, so a new sample rarely moves the axis (which would redraw it).
        A threshold line close above the data is kept in view.
        """
        lo, hi = math.inf, -math.inf
        for curve in self.curves.values():
            if curve.style.visible and curve.y_bounds is not None:
                lo = min(lo, curve.y_bounds[0])
                hi = max(hi, curve.y_bounds[1])
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        for line, rule in zip(self.thresholds, self._threshold_rules, strict=True):
            value = float(line.value())
            if rule in self.firing:
                lo, hi = min(lo, value), max(hi, value * 1.12)  # a firing rule's line
            elif hi < value * 1.12 and value <= 2 * hi:
                hi = value * 1.12  # the line and its label in view
        spec = self.spec
        bottom = spec.y_floor if spec.y_floor is not None and lo >= spec.y_floor \
            else nice_bound(lo, up=False)
        top = nice_bound(max(hi, bottom + spec.min_span), up=True)
        if spec.y_ceiling is not None:
            top = min(top, spec.y_ceiling)
        current = self._y_range
        if current is not None:
            span = current[1] - current[0]
            inside = current[0] <= lo and hi <= current[1]
            if inside and bottom == current[0] and hi >= current[0] + 0.4 * span:
                return
        self._y_range = (bottom, top)
        shown_top = bottom + (top - bottom) / (1.0 - self.label_lane)
        self.view_box.setYRange(bottom, shown_top, padding=0.03)
        self._place_threshold_labels()

    def set_label_lane(self, fraction: float) -> None:
        """Keep the top ``fraction`` of the chart free of data, for event labels (the top
        chart carries them; a label must never hide the line it explains)."""
        if fraction != self.label_lane:
            self.label_lane = fraction
            self._y_range = None
            self.fit_y()

    def envelope_shown(self, series: str) -> bool:
        curve = self.curves[series]
        return curve.fill is not None and curve.fill.isVisible()

    # -- thresholds, markers, readout -----------------------------------------------------

    def set_firing(self, rules: Iterable[str]) -> None:
        """The alert rules firing now: their threshold lines are kept in view."""
        firing = frozenset(rules)
        if firing != self.firing:
            self.firing = firing
            self._y_range = None
            self.fit_y()

    def set_thresholds(self, thresholds: Iterable[Threshold]) -> None:
        for line in self.thresholds:
            self.plot.removeItem(line)
        self.thresholds = []
        self._threshold_rules = []
        for th in thresholds:
            line = pg.InfiniteLine(
                pos=th.value * self.spec.unit.scale, angle=0, movable=False,
                pen=pg.mkPen(th.colour, width=1.2, style=Qt.PenStyle.DashLine),
                label=th.label,
                # at the right end: event labels sit at the top left of their lines
                labelOpts={"position": 0.98, "color": th.colour, "anchors": [(1, 1), (1, 1)]})
            line.setZValue(20)
            self.plot.addItem(line, ignoreBounds=True)
            self.thresholds.append(line)
            self._threshold_rules.append(th.rule)
        self._y_range = None
        self.fit_y()

    def add_marker(self, ts: float, text: str, colour: str, labelled: bool,
                   height: float = 0.96) -> pg.InfiniteLine:
        base = QColor(self.theme.base)
        # a see-through backing: legible over the grid, and no line vanishes behind it
        opts = {"position": height, "color": colour, "anchors": [(0, 0), (0, 0)],
                "fill": pg.mkBrush(base.red(), base.green(), base.blue(), 140)}
        short = text if len(text) <= 22 else text[:21] + "…"
        line = pg.InfiniteLine(pos=ts, angle=90, movable=False,
                               pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine),
                               label=short if labelled else None,
                               labelOpts=opts if labelled else None)
        set_plain_tooltip(line, text)
        line.setZValue(15)
        self.plot.addItem(line, ignoreBounds=True)
        self.markers.append(line)
        return line

    def layout_labels(self, x0: float, x1: float) -> None:
        """Event and alert labels on lanes across the top (the chart's data kept below
        them), then threshold labels where no other label is: no two labels overlap."""
        width, height = self.view_box.width(), self.view_box.height()
        self._event_rects, share = place_event_labels(self.markers, x0, x1, width, height)
        if share != self.label_lane:
            self.set_label_lane(share)  # places the threshold labels too
        else:
            self._place_threshold_labels()

    def _place_threshold_labels(self) -> None:
        if not self.thresholds:
            return
        y0, y1 = self.view_box.viewRange()[1]
        place_threshold_labels(self.thresholds, list(self._event_rects),
                               float(y0), float(y1), self.view_box.width(),
                               self.view_box.height())

    def clear_markers(self) -> None:
        for line in self.markers:
            self.plot.removeItem(line)
        self.markers = []

    def values_at(self, ts: float) -> list[tuple[SeriesCurve, float | None]]:
        """Each visible curve with its value at ``ts`` (stored units; None in a gap)."""
        return [(c, c.buffer.value_at(ts)) for c in self.curves.values() if c.style.visible]

    def set_readout(self, values: list[tuple[SeriesCurve, float | None]],
                    when: str = "") -> None:
        """Title line: the panel's name and unit, then each series' value (at the cursor)."""
        unit = self.spec.unit
        parts = [f"<b>{html.escape(self.spec.title)}</b>"
                 f"<span style='color:{self.theme.muted}'>"
                 f"{' (' + unit.label + ')' if unit.label else ''}</span>"]
        if when:
            parts.append(f"<span style='color:{self.theme.muted}'>&nbsp;&nbsp;{when}</span>")
        for curve, value in values:
            text = unit.format(value, with_unit=False) if value is not None else "–"
            # an entry stays on one line; the legend wraps between entries
            entry = f"{html.escape(curve.style.label)} <b>{text}</b>".replace(" ", "&nbsp;")
            parts.append(f"&nbsp; <span style='color:{curve.style.colour}'>●</span>&nbsp;"
                         f"{entry}")
        readout = "".join(parts)
        if readout != self.readout_html:
            self.readout_html = readout
            self.plot.titleLabel.setText(readout, justify="left", size="9pt",
                                         color=self.theme.text)
            self._fit_title()

    def readout_text(self) -> str:
        """The readout as plain text (what a user reads in the title line)."""
        from PyQt6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.readout_html)
        return doc.toPlainText().replace("\xa0", " ")

    def show_time_labels(self, shown: bool) -> None:
        self.time_axis.setStyle(showValues=shown)
        self.time_axis.setHeight(26 if shown else 6)


def nice_bound(value: float, up: bool) -> float:
    """The next round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) up or down."""
    if value == 0:
        return 0.0
    size = abs(value)
    mag = 10.0 ** math.floor(math.log10(size))
    steps = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
    if (value > 0) == up:
        return math.copysign(next(s * mag for s in steps if s * mag >= size * (1 - 1e-9)),
                             value)
    return math.copysign(next(s * mag for s in reversed(steps) if s * mag <= size * (1 + 1e-9)),
                         value)


def _bounds(*arrays: npt.NDArray[np.float64] | None) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for arr in arrays:
        if arr is not None and arr.size:
            a, b = float(np.fmin.reduce(arr)), float(np.fmax.reduce(arr))
            if not math.isnan(a):
                lo, hi = min(lo, a), max(hi, b)
    return (lo, hi) if lo <= hi else None


def _blend(a: str, b: str, t: float = 0.55) -> str:
    ca, cb = QColor(a), QColor(b)
    mixed = QColor(round(ca.red() + (cb.red() - ca.red()) * t),
                   round(ca.green() + (cb.green() - ca.green()) * t),
                   round(ca.blue() + (cb.blue() - ca.blue()) * t))
    return str(mixed.name())
