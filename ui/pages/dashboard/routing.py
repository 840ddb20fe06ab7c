"""Which dashboard panel draws a series, under which names and colours (series routing)."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt

from console import metrics as m
from console.domain import series_name, split_series
from ui.charts.panel_parts import PanelSpec, SeriesCurve, SeriesStyle
from ui.charts.timeline import Timeline
from ui.charts.units import MS, MSGS, PER_MIN, PERCENT, REQ_S, SCANS_S
from ui.theme import series_colour

#: Series a chart shows by default; more are a click away in its series chooser.
MAX_SHOWN_PER_PANEL = 8

PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("latency", "Request latency", MS,
              metrics=(m.LATENCY_P50, m.LATENCY_P95, m.LATENCY_P99), min_span=20.0),
    PanelSpec("cache", "Cache hit rate", PERCENT, y_floor=0.0, y_ceiling=100.0,
              metrics=(m.CACHE_HIT_RATE,), min_span=10.0),
    PanelSpec("queue", "Queue depth", MSGS, metrics=(m.QUEUE_DEPTH,), min_span=5.0),
    PanelSpec("traffic", "Requests and errors", REQ_S, metrics=(m.REQUEST_RATE, m.ERROR_RATE),
              min_span=1.0),
    PanelSpec("business", "Bookings and orders", PER_MIN,
              metrics=(m.BOOKINGS_RATE, m.ORDERS_RATE), min_span=5.0),
    PanelSpec("scans", "Whole-table reads", SCANS_S, metrics=(m.FULL_SCANS_RATE,),
              min_span=1.0),
)

_QUANTILE = {m.LATENCY_P50: "p50", m.LATENCY_P95: "p95", m.LATENCY_P99: "p99"}
_QUANTILE_DASH = {m.LATENCY_P50: Qt.PenStyle.DotLine, m.LATENCY_P95: Qt.PenStyle.SolidLine,
                  m.LATENCY_P99: Qt.PenStyle.DashLine}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a series is drawn and how it is named."""

    panel: str
    legend: str
    human: str
    colour_key: str
    dash: Qt.PenStyle = Qt.PenStyle.SolidLine
    visible: bool = True


def route(series: str) -> Route | None:
    """The panel and names of a series, None for series the dashboard does not chart."""
    source, metric, labels = split_series(series)
    extra = " ".join(labels.values())
    if metric in _QUANTILE:
        q = _QUANTILE[metric]
        where = f"{source} {extra}".strip()
        return Route("latency", f"{where} {q}", f"{where} {q} latency",
                     "latency:" + series_name(source, "latency", labels), _QUANTILE_DASH[metric],
                     visible=metric == m.LATENCY_P95 and not labels)
    if metric == m.CACHE_HIT_RATE:
        where = f"{source} {extra}".strip()
        return Route("cache", where, f"{where} cache hit rate", series)
    if metric == m.QUEUE_DEPTH:
        queue = labels.get("queue") or extra or source
        return Route("queue", queue, f"{queue} queue depth", series)
    if metric == m.REQUEST_RATE:
        where = f"{source} {extra}".strip()
        return Route("traffic", f"{where} requests", f"{where} request rate", series)
    if metric == m.ERROR_RATE:
        where = f"{source} {extra}".strip()
        return Route("traffic", f"{where} errors", f"{where} error rate", series,
                     Qt.PenStyle.DashLine)
    if metric in (m.BOOKINGS_RATE, m.ORDERS_RATE):
        what = "bookings" if metric == m.BOOKINGS_RATE else "orders"
        return Route("business", what, f"{what} per minute", series)
    if metric == m.FULL_SCANS_RATE:
        table = labels.get("table") or extra
        where = f"{source} {table}".strip()
        return Route("scans", where, f"{where} whole-table reads", series)
    return None


class SeriesRouter:
    """The routes met so far, each panel's colour book, and the curve of a series."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._routes: dict[str, Route | None] = {}
        self._colours: dict[str, dict[str, str]] = {}

    def route(self, series: str) -> Route | None:
        if series not in self._routes:
            self._routes[series] = route(series)
        return self._routes[series]

    def colour(self, panel: str, key: str) -> str:
        book = self._colours.setdefault(panel, {})
        if key not in book:
            book[key] = series_colour(len(book))
        return book[key]

    def curve(self, series: str) -> SeriesCurve | None:
        """The curve of a series on its panel, made on first sight; None if not charted."""
        r = self.route(series)
        if r is None:
            return None
        panel = self.timeline.panel(r.panel)
        curve = panel.curves.get(series)
        if curve is None:
            shown = panel.visible_count() < MAX_SHOWN_PER_PANEL
            style = SeriesStyle(r.legend, self.colour(r.panel, r.colour_key), r.dash,
                                visible=r.visible and shown)
            curve = panel.add_series(series, style)
            curve.extra["human"] = r.human
        return curve

    def group(self, series: str) -> str:
        """Series drawn in one colour (a source's p50/p95/p99) rank as one mover."""
        r = self.route(series)
        return r.colour_key if r is not None else series
