"""One chart of the dashboard: a time plot with its curves, legend, thresholds and markers."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import QObject, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import QMenu, QWidget

from ui.charts.decimate import SeriesBuffer
from ui.charts.time_axis import GridLines, TimeAxis, ValueAxis
from ui.charts.units import Unit
from ui.theme import Theme

LEFT_AXIS_WIDTH = 70


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """What a panel shows: its title, display unit and the y limits that make sense."""

    key: str
    title: str
    unit: Unit
    y_floor: float | None = 0.0
    y_ceiling: float | None = None
    metrics: tuple[str, ...] = ()
    min_span: float = 0.0  # smallest y range shown (display units), so noise stays small


@dataclass(slots=True)
class SeriesStyle:
    """How one series is drawn and named in the legend and the readout."""

    label: str
    colour: str
    dash: Qt.PenStyle = Qt.PenStyle.SolidLine
    width: float = 1.0  # wider lines make Qt's stroker 50x slower on dense data
    visible: bool = True


@dataclass(slots=True)
class Threshold:
    """A horizontal line from an alert rule: ``value`` in stored units."""

    value: float
    label: str
    colour: str


@dataclass(eq=False)
class SeriesCurve:
    """A series on a panel: its data buffer, its line and (for coarse tiers) its envelope."""

    series: str
    style: SeriesStyle
    buffer: SeriesBuffer
    item: pg.PlotDataItem
    env_lo: pg.PlotCurveItem | None = None
    env_hi: pg.PlotCurveItem | None = None
    fill: pg.FillBetweenItem | None = None
    points_drawn: int = 0
    envelope_wanted: bool = False
    signature: tuple[float, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        return self.style.visible


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

    def __init__(self, spec: PanelSpec, theme: Theme) -> None:
        super().__init__()
        self.spec = spec
        self.theme = theme
        self.time_axis = TimeAxis(theme)
        self.value_axis = ValueAxis(spec.unit, theme)
        self.plot = pg.PlotItem(axisItems={"bottom": self.time_axis, "left": self.value_axis})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.grid = GridLines(self.time_axis, self.value_axis, _blend(theme.base, theme.border))
        self.plot.addItem(self.grid, ignoreBounds=True)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_: self.grid.view_changed())
        self.plot.setTitle("", justify="left", size="10pt", color=theme.text)
        self.plot.layout.setRowFixedHeight(0, 22)
        self.plot.titleLabel.setMaximumHeight(22)
        self.value_axis.setWidth(LEFT_AXIS_WIDTH)
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.enableAutoRange(axis=pg.ViewBox.YAxis, enable=True)
        vb.enableAutoRange(axis=pg.ViewBox.XAxis, enable=False)
        vb.setDefaultPadding(0.06)
        if spec.y_floor is not None or spec.y_ceiling is not None:
            vb.setLimits(yMin=None if spec.y_floor is None else spec.y_floor * 1.0 - 1e-9,
                         yMax=None if spec.y_ceiling is None else spec.y_ceiling * 1.04)
        self.chooser = _ClickLabel(self._open_chooser)
        self.chooser.setParentItem(self.plot)
        self.chooser.setText("series ▾", size="8pt", color=theme.muted)
        self.chooser.setToolTip("Choose the series this chart shows")
        self.plot.geometryChanged.connect(self._place_chooser)
        if spec.min_span:
            vb.setLimits(minYRange=spec.min_span)
        self.curves: dict[str, SeriesCurve] = {}
        self.thresholds: list[pg.InfiniteLine] = []
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
        item = pg.PlotDataItem(connect="finite", pen=_pen(style.colour, style.width, style.dash),
                               antialias=True)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        item.setZValue(10)
        self.plot.addItem(item)
        curve = SeriesCurve(series, style, SeriesBuffer(), item)
        self.curves[series] = curve
        if not style.visible:
            self.set_visible(series, False)
        return curve

    # -- the series chooser (the legend of hidden and shown series) ------------------------

    def _place_chooser(self) -> None:
        width = self.plot.geometry().width()
        self.chooser.setPos(width - self.chooser.boundingRect().width() - 4, 0)

    def chooser_actions(self, parent: QWidget | None = None) -> QMenu:
        """The chooser's menu: one checkable entry per series, in its colour and dash."""
        menu = QMenu(parent)
        for name, curve in sorted(self.curves.items(), key=lambda kv: kv[1].style.label):
            action = menu.addAction(_line_icon(curve.style), curve.style.label)
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
        curve.style.visible = visible
        curve.item.setVisible(visible)
        for extra in (curve.env_lo, curve.env_hi, curve.fill):
            if extra is not None:
                extra.setVisible(visible and curve.envelope_wanted)
        self.sig_visibility.emit(series, visible)

    def visible_series(self) -> list[str]:
        return [s for s, c in self.curves.items() if c.style.visible]

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
        for name in names:
            curve = self.curves[name]
            out = curve.buffer.render(x0, x1, columns, scale)
            n = int(out.x.size)
            signature = (n, float(out.x[0]), float(out.x[-1]), float(out.y[-1]),
                         float(out.y[-2]) if n > 1 else 0.0, float(out.y[0])) if n else (0,)
            if signature != curve.signature:
                # unchanged points (a new sample inside the last column's min and max)
                # are not handed to pyqtgraph again
                curve.signature = signature
                curve.item.setData(out.x, out.y)
            curve.points_drawn = n
            total += curve.points_drawn
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
        return total

    def envelope_shown(self, series: str) -> bool:
        curve = self.curves[series]
        return curve.fill is not None and curve.fill.isVisible()

    # -- thresholds, markers, readout -----------------------------------------------------

    def set_thresholds(self, thresholds: Iterable[Threshold]) -> None:
        for line in self.thresholds:
            self.plot.removeItem(line)
        self.thresholds = []
        for th in thresholds:
            line = pg.InfiniteLine(
                pos=th.value * self.spec.unit.scale, angle=0, movable=False,
                pen=pg.mkPen(th.colour, width=1.2, style=Qt.PenStyle.DashLine),
                label=th.label,
                labelOpts={"position": 0.02, "color": th.colour, "anchors": [(0, 1), (0, 1)],
                           "fill": pg.mkBrush(QColor(self.theme.base))})
            line.setZValue(20)
            self.plot.addItem(line, ignoreBounds=True)
            self.thresholds.append(line)

    def add_marker(self, ts: float, text: str, colour: str, labelled: bool,
                   height: float = 0.96) -> pg.InfiniteLine:
        opts = {"position": height, "color": colour, "anchors": [(0, 0), (0, 0)],
                "fill": pg.mkBrush(QColor(self.theme.base))}
        line = pg.InfiniteLine(pos=ts, angle=90, movable=False,
                               pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine),
                               label=text if labelled else None,
                               labelOpts=opts if labelled else None)
        line.setToolTip(text)
        line.setZValue(15)
        self.plot.addItem(line, ignoreBounds=True)
        self.markers.append(line)
        return line

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
            parts.append(f"&nbsp;&nbsp;<span style='color:{curve.style.colour}'>●</span>&nbsp;"
                         f"{html.escape(curve.style.label)} <b>{text}</b>")
        readout = "".join(parts)
        if readout != self.readout_html:
            self.readout_html = readout
            self.plot.titleLabel.setText(readout, justify="left", size="9pt",
                                         color=self.theme.text)

    def readout_text(self) -> str:
        """The readout as plain text (what a user reads in the title line)."""
        from PyQt6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.readout_html)
        return doc.toPlainText().replace("\xa0", " ")

    def show_time_labels(self, shown: bool) -> None:
        self.time_axis.setStyle(showValues=shown)
        self.time_axis.setHeight(26 if shown else 6)


def _blend(a: str, b: str, t: float = 0.55) -> str:
    ca, cb = QColor(a), QColor(b)
    mixed = QColor(round(ca.red() + (cb.red() - ca.red()) * t),
                   round(ca.green() + (cb.green() - ca.green()) * t),
                   round(ca.blue() + (cb.blue() - ca.blue()) * t))
    return str(mixed.name())


def _line_icon(style: SeriesStyle) -> QIcon:
    pix = QPixmap(22, 12)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    pen = QPen(QColor(style.colour), 2)
    pen.setStyle(style.dash)
    painter.setPen(pen)
    painter.drawLine(1, 6, 21, 6)
    painter.end()
    return QIcon(pix)


class _ClickLabel(pg.LabelItem):
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
