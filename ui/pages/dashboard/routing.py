"""Which dashboard panel draws a series, under which names and colours (series routing)."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt

from console import metrics as m
from console.domain import series_name, split_series
from ui.charts.panel_parts import PanelSpec, SeriesCurve, SeriesStyle
from ui.charts.timeline import Timeline
from ui.charts.units import MS, MSGS, PER_MIN, PERCENT, REQ_S, SCANS_S
from ui.pages.dashboard.sites import SiteBook
from ui.theme import SERIES, series_colour

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


def route(series: str, site: str | None = None) -> Route | None:
    """The panel and names of a series, None for series the dashboard does not chart.
    ``site``: the group of a grouped source the series is one of (see
    :class:`~ui.pages.dashboard.sites.SiteBook`): its line starts hidden, and the site lines
    shown are the worst ones (:class:`~ui.pages.dashboard.sites.SiteLines`)."""
    source, metric, labels = split_series(series)
    extra = " ".join(labels.values())
    shown = site is None
    if metric in _QUANTILE:
        q = _QUANTILE[metric]
        where = f"{source} {extra}".strip()
        return Route("latency", f"{where} {q}", f"{where} {q} latency",
                     "latency:" + series_name(source, "latency", labels), _QUANTILE_DASH[metric],
                     visible=metric == m.LATENCY_P95 and not labels)
    if metric == m.CACHE_HIT_RATE:
        where = f"{source} {extra}".strip()
        return Route("cache", where, f"{where} cache hit rate", series, visible=shown)
    if metric == m.QUEUE_DEPTH:
        queue = labels.get("queue") or extra or source
        if site is not None:
            queue = f"{site} {queue}" if labels.get("queue") else site
        return Route("queue", queue, f"{queue} queue depth", series, visible=shown)
    if metric == m.REQUEST_RATE:
        where = f"{source} {extra}".strip()
        return Route("traffic", f"{where} requests", f"{where} request rate", series,
                     visible=shown)
    if metric == m.ERROR_RATE:
        where = f"{source} {extra}".strip()
        return Route("traffic", f"{where} errors", f"{where} error rate", series,
                     Qt.PenStyle.DashLine, visible=shown)
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

    def __init__(self, timeline: Timeline, sites: SiteBook | None = None) -> None:
        self.timeline = timeline
        self.sites = sites or SiteBook(())
        self._routes: dict[str, Route | None] = {}
        self._colours: dict[str, dict[str, str]] = {}

    def route(self, series: str) -> Route | None:
        if series not in self._routes:
            self._routes[series] = route(series, self.sites.site(series))
        return self._routes[series]

    def colour(self, panel: str, key: str, site: bool = False) -> str:
        """A panel's next colour for ``key``; a site's line never takes the first colour,
        which stays the whole source's (however many sites a chain has)."""
        book = self._colours.setdefault(panel + ":sites" if site else panel, {})
        if key not in book:
            book[key] = series_colour(1 + len(book) % (len(SERIES) - 1) if site else len(book))
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
            site = self.sites.site(series) is not None
            colour = self.colour(r.panel, r.colour_key, site)
            source, _metric, labels = split_series(series)
            if not site and not labels and source in self.sites.group_by:
                colour = self.timeline.theme.text  # a chain's whole: the line sites face
            style = SeriesStyle(r.legend, colour, r.dash, visible=r.visible and shown)
            curve = panel.add_series(series, style)
            curve.extra["human"] = r.human
        return curve

    def group(self, series: str) -> str:
        """Series drawn in one colour (a source's p50/p95/p99) rank as one mover."""
        r = self.route(series)
        return r.colour_key if r is not None else series
