"""What a chart panel is made of: its spec, the style of a series, thresholds, the curves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyqtgraph as pg
from PyQt6.QtCore import Qt

from ui.charts.decimate import Rendered, SeriesBuffer
from ui.charts.units import Unit


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
    rule: str = ""  # the alert rule's name: while it fires, its line is always in view


@dataclass(eq=False)
class SeriesCurve:
    """A series on a panel: its data buffer, its line and (for coarse tiers) its envelope."""

    series: str
    style: SeriesStyle
    buffer: SeriesBuffer
    make_item: Callable[[SeriesCurve], pg.PlotDataItem]
    _item: pg.PlotDataItem | None = None
    env_lo: pg.PlotCurveItem | None = None
    env_hi: pg.PlotCurveItem | None = None
    fill: pg.FillBetweenItem | None = None
    points_drawn: int = 0
    envelope_wanted: bool = False
    rendered: Rendered | None = None  # what pyqtgraph draws
    seen: Rendered | None = None  # the buffer's last output, drawn or within half a pixel
    y_bounds: tuple[float, float] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        return self.style.visible

    @property
    def item(self) -> pg.PlotDataItem:
        """The line on the chart, made when first needed: a chart of hundreds of probes
        keeps most of them hidden, and hidden ones cost no graphics item."""
        if self._item is None:
            self._item = self.make_item(self)
        return self._item

    @property
    def has_item(self) -> bool:
        return self._item is not None
