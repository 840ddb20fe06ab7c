"""The live dashboard: status tiles, linked charts, time range, events and what moved first."""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import requests
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console import metrics as m
from console.advisor import Thresholds, source_thresholds
from console.correlate import Mover, format_duration, rank_movers
from console.domain import iso_time, series_name, series_source, split_series
from services.demo_control import DemoControl, control_for_profile
from ui import theme as theme_mod
from ui.charts.coalesce import CoalescingTimer
from ui.charts.feed import (
    DataRequest,
    DataUpdate,
    StatusUpdate,
    Tail,
    Window,
    read_data,
    read_status,
)
from ui.charts.movers import MoversPanel
from ui.charts.panel import ChartPanel, PanelSpec, SeriesCurve, SeriesStyle, Threshold
from ui.charts.tiles import TileRow
from ui.charts.timeline import Marker, Timeline
from ui.charts.units import MS, MSGS, PER_MIN, PERCENT, REQ_S, Unit, unit_for
from ui.context import AppContext
from ui.plain_text import plain_label
from ui.theme import FAIL, WARN, series_colour, state_colour
from ui.widgets.demo_panel import DemoPanel
from ui.worker import TaskState

log = logging.getLogger(__name__)

#: Time ranges offered at the top right: (button text, seconds).
RANGES: tuple[tuple[str, int], ...] = (("5 min", 300), ("1 h", 3600), ("24 h", 86_400),
                                       ("7 d", 7 * 86_400))

#: How often the charts read the store (only series changed since the last read).
DATA_TICK_MS = 200
#: Tiles (state, value, sparkline) and latest-value readouts.
STATUS_TICK_MS = 1000
#: Scenario events and alert marks for the timeline.
EVENTS_TICK_MS = 4000
#: After a restart the store holds the last day (refilled from history); older is on disk.
MEMORY_REACH_S = 86_400.0
SPARK_S = 300.0
#: Tiles made per status tick (hundreds of sources appear over a few seconds, no stall).
NEW_TILES_PER_TICK = 8
#: New series given their curves per read (a source with 1,001 series at once: no stall).
NEW_SERIES_PER_TICK = 64
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
)

_QUANTILE = {m.LATENCY_P50: "p50", m.LATENCY_P95: "p95", m.LATENCY_P99: "p99"}
_QUANTILE_DASH = {m.LATENCY_P50: Qt.PenStyle.DotLine, m.LATENCY_P95: Qt.PenStyle.SolidLine,
                  m.LATENCY_P99: Qt.PenStyle.DashLine}

#: What a source's tile shows, first one the source has: (metric, caption).
HEADLINES: tuple[tuple[str, str], ...] = (
    (m.LATENCY_P95, "p95 latency"),
    (m.CACHE_HIT_RATE, "cache hit rate"),
    (m.QUEUE_DEPTH, "queue depth"),
    (m.REQUEST_RATE, "requests"),
    (m.DB_CONNECTIONS_TOTAL, "connections"),
    (m.DB_CONNECTIONS, "connections"),
    (m.CLIENTS, "clients"),
    (m.MEMORY_BYTES, "memory"),
    (m.DB_SIZE_BYTES, "database size"),
    ("scrape_seconds", "poll time"),
)


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
    return None


def _current_theme() -> theme_mod.Theme:
    app = QApplication.instance()
    name = app.property("backroom_theme") if app is not None else None
    return theme_mod.DARK if name == "dark" else theme_mod.LIGHT


class DashboardPage(QWidget):
    """Where support staff live when "the site is slow".

    Tiles show each source's state and headline number; below them the panels share one
    time axis (follow-live, pause, 5 min to 7 days, zoom and pan together, a crosshair
    with every panel's values). Alert thresholds and demo scenario changes are drawn on
    the timeline; a selected region ranks what moved first. A 5 Hz timer asks for the
    series changed since the last read; that read, and every other (the poller's states,
    the history, the demo shop, the alert log, files), runs through ``ctx.tasks`` so the
    GUI thread never waits on a lock or the network.
    """

    sig_live_changed = pyqtSignal(bool)
    """Emitted with True when the charts follow live, False when paused."""
    sig_history_loaded = pyqtSignal(int)
    """Emitted with the number of series filled from the history after a range switch."""
    sig_exported = pyqtSignal(str)
    """Emitted with the path of a PNG or CSV export once it is written."""
    sig_movers_ranked = pyqtSignal(object)
    """Emitted with the list of :class:`~console.correlate.Mover` for the selected region."""
    sig_events_added = pyqtSignal(int)
    """Emitted with how many scenario/alert markers were added to the timeline."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.ctx = ctx
        self.store = ctx.store
        # wall clock (UTC epoch seconds); ctx.extras["clock"] lets a benchmark run time fast
        self.clock: Callable[[], float] = ctx.extras.get("clock") or time.time
        self.theme = _current_theme()
        self.span_s = float(RANGES[0][1])
        self._chosen_span = RANGES[0][1]
        self.live = True
        self._paused_end = self.clock()
        self._version = -1
        self._loaded: tuple[float, float] | None = None
        self._history: dict[str, tuple[npt.NDArray[np.float64], ...]] = {}
        self._history_task: Any = None
        self._routes: dict[str, Route | None] = {}
        self._known: set[str] = set()  # series seen by the tick (charted or not)
        self._to_adopt: list[str] = []  # seen, waiting for their curves
        self._curves: dict[str, SeriesCurve] = {}
        self._latest_seen: dict[str, float] = {}  # newest reading's time at the last tick
        self._behind: set[str] = set()  # hidden series not read since they changed
        self._full_pending: set[str] = set()  # shown series to read over the whole range
        self._generation = 0  # grows with each range switch; older answers are dropped
        self._serial = 0  # numbers the reads of the store
        self._data_busy = False
        self._status_busy = False
        self._statuses: list[Any] = []
        # tests and benchmarks read on the GUI thread, in step
        self.sync_reads = bool(ctx.extras.get("sync_reads"))
        self._uncharted: set[str] = set()  # series no chart shows (up, status_code...)
        self._colours: dict[str, dict[str, str]] = {}
        self._headline: dict[str, str | None] = {}
        self._error_series: dict[str, str | None] = {}  # each source's error ratio
        profile = ctx.profile
        self._error_limits = source_thresholds(getattr(profile, "sources", ()) or ())
        self._by_source: dict[str, list[str]] = {}
        self._indexed = -1
        self._events_since = self.clock() - 7 * 86_400
        self._alerts_since = self.clock() - 7 * 86_400
        self._events_busy = False
        self._marker_keys: set[tuple[float, str]] = set()
        self._movers_task: Any = None
        self._session: requests.Session | None = None
        self._demo_control: DemoControl | None = None
        self.movers: list[Mover] = []
        self.history_note = ""

        self._build()
        self._data_timer = QTimer(self)
        self._data_timer.setInterval(DATA_TICK_MS)
        self._data_timer.timeout.connect(self.tick)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_TICK_MS)
        self._status_timer.timeout.connect(self.update_status)
        self._events_timer = QTimer(self)
        self._events_timer.setInterval(EVENTS_TICK_MS)
        self._events_timer.timeout.connect(self.fetch_events)
        self._settle = CoalescingTimer(250, self._view_settled, self)
        # tiles scrolled into view get their values at once, not at the next status tick
        self._status_soon = CoalescingTimer(100, self.update_status, self)
        self._read_soon = CoalescingTimer(30, self.tick, self)
        self.tiles.horizontalScrollBar().valueChanged.connect(
            lambda _v: self._status_soon.request())
        self.set_thresholds()
        self.tick()
        self.update_status()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        title = QLabel("Dashboard")
        title.setObjectName("pageTitle")
        self.status_label = plain_label()
        self.status_label.setObjectName("muted")
        bar.addWidget(title)
        bar.addSpacing(10)
        bar.addWidget(self.status_label, 1)
        self.range_buttons: dict[int, QPushButton] = {}
        self._range_group = QButtonGroup(self)
        self._range_group.setExclusive(True)
        for text, seconds in RANGES:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(f"Show the last {text}")
            button.clicked.connect(lambda _c=False, s=seconds: self.set_range(s))
            self._range_group.addButton(button)
            self.range_buttons[seconds] = button
            bar.addWidget(button)
        self.range_buttons[int(self.span_s)].setChecked(True)
        bar.addSpacing(8)
        self.live_button = QPushButton("● Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest data")
        self.live_button.clicked.connect(lambda: self.set_live(True))
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold the charts still (zooming or panning pauses too)")
        self.pause_button.clicked.connect(lambda: self.set_live(False))
        live_group = QButtonGroup(self)
        live_group.addButton(self.live_button)
        live_group.addButton(self.pause_button)
        bar.addWidget(self.live_button)
        bar.addWidget(self.pause_button)
        bar.addSpacing(8)
        self.movers_button = QPushButton("What moved first?")
        self.movers_button.setCheckable(True)
        self.movers_button.setToolTip("Select a window around a spike: the series that changed "
                                      "most against the window before it are ranked, with "
                                      "which moved first")
        self.movers_button.toggled.connect(self.set_region_mode)
        bar.addWidget(self.movers_button)
        self.export_button = QToolButton()
        self.export_button.setText("Export ▾")
        self.export_button.setStyleSheet("QToolButton { padding: 4px 10px; } "
                                         "QToolButton::menu-indicator { image: none; }")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Dashboard as PNG…", self._ask_png)
        menu.addAction("Visible range as CSV…", self._ask_csv)
        self.export_button.setMenu(menu)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)

        self.tiles = TileRow()
        outer.addWidget(self.tiles)

        self.timeline = Timeline(self.theme)
        for spec in PANELS:
            self.timeline.add_panel(spec)
        self.timeline.sig_user_range.connect(self._user_range)
        for panel in self.timeline.panels:
            panel.sig_visibility.connect(self._series_toggled)
        self.timeline.sig_region_changed.connect(lambda *_: self.rank_region())
        self.empty = plain_label()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.charts = QStackedWidget()
        self.charts.addWidget(self.empty)
        card = QFrame()
        card.setObjectName("card")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(1, 1, 1, 1)
        card_layout.addWidget(self.timeline)
        self.chart_card = card
        self.charts.addWidget(card)

        self.side = QWidget()
        self.side.setMinimumWidth(260)
        self.side.setMaximumWidth(360)
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.movers_box = MoversPanel(self.theme.muted)
        self.movers_box.hide()
        side_layout.addWidget(self.movers_box, 1)
        self.demo_panel: DemoPanel | None = None
        if self.ctx.extras.get("is_demo"):
            self.demo_panel = DemoPanel(self._make_demo_control, self.ctx.tasks)
            self.demo_panel.sig_applied.connect(lambda _s: self.fetch_events())
            side_layout.addWidget(self.demo_panel)
        side_layout.addStretch(0)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.charts)
        split.addWidget(self.side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)
        self.side.setVisible(self.demo_panel is not None)

    def _make_demo_control(self) -> DemoControl:
        if self._demo_control is None:
            self._session = requests.Session()
            control = control_for_profile(self.ctx.profile, self._session)
            if control is None:
                raise RuntimeError("this profile has no demo shop back end")
            self._demo_control = control
        return self._demo_control

    # -- page protocol ----------------------------------------------------------------------

    def on_shown(self) -> None:
        self._start_timers()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._start_timers()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        for timer in (self._data_timer, self._status_timer, self._events_timer):
            timer.stop()

    def _start_timers(self) -> None:
        if not self._data_timer.isActive():
            self._data_timer.start()
            self._status_timer.start()
            self._events_timer.start()
            if self.demo_panel is not None and self.demo_panel.scenario is None:
                self.demo_panel.load()
            self.fetch_events()

    def refresh(self) -> None:
        """F5: reload every chart from the store (and the history for old ranges)."""
        self.set_thresholds()
        self.reload()
        self.update_status()
        self.fetch_events()

    def shutdown(self) -> None:
        for timer in (self._data_timer, self._status_timer, self._events_timer):
            timer.stop()
        self._settle.cancel()
        self._status_soon.cancel()
        self._read_soon.cancel()
        for handle in (self._history_task, self._movers_task):
            if handle is not None:
                handle.cancel()
        if self.demo_panel is not None:
            self.demo_panel.shutdown()
        if self._session is not None:
            self._session.close()

    # -- time range -------------------------------------------------------------------------

    def view_range(self) -> tuple[float, float]:
        """The time range the charts show now (UTC epoch seconds)."""
        if self.live:
            now = self.clock()
            return now - self.span_s, now + self.span_s * 0.01
        return self._paused_end - self.span_s, self._paused_end

    def _readout_time(self) -> float:
        return self.clock() if self.live else self.view_range()[1]

    def set_range(self, seconds: float) -> None:
        """Show the last ``seconds`` (5 min .. 7 d); paused charts keep their right edge."""
        self.span_s = float(seconds)
        button = self.range_buttons.get(int(seconds))
        if button is not None:
            self._chosen_span = int(seconds)
            if not button.isChecked():
                button.setChecked(True)
        self.reload()

    def set_live(self, live: bool) -> None:
        """Follow the newest data, or hold the view still."""
        if live == self.live:
            self._sync_live_buttons()
            return
        if not live:
            self._paused_end = self.timeline.x_range()[1] if self.timeline.panels else self.clock()
        self.live = live
        self._sync_live_buttons()
        if live:
            # back to the range last chosen with a button (zooming leaves it)
            self.span_s = float(self._chosen_span)
            self.range_buttons[self._chosen_span].setChecked(True)
            self.reload()
        self.update_status()
        self.sig_live_changed.emit(live)

    def _sync_live_buttons(self) -> None:
        self.live_button.setChecked(self.live)
        self.pause_button.setChecked(not self.live)

    def _user_range(self, start: float, end: float) -> None:
        """The user zoomed or panned: leave follow-live and load what the view needs."""
        self.span_s = max(end - start, 1.0)
        self._paused_end = end
        if self.live:
            self.live = False
            self._sync_live_buttons()
            self.sig_live_changed.emit(False)
        for button in self.range_buttons.values():
            if button.isChecked():
                self._range_group.setExclusive(False)
                button.setChecked(False)
                self._range_group.setExclusive(True)
        self._settle.request()
        self.update_status()

    def _view_settled(self) -> None:
        start, end = self.timeline.x_range()
        self._paused_end = end
        loaded = self._loaded
        if loaded is None or start < loaded[0] or end > loaded[1] + self.span_s \
                or (end - start) < (loaded[1] - loaded[0]) / 8:
            self.reload()

    # -- data -------------------------------------------------------------------------------

    def _route(self, series: str) -> Route | None:
        if series not in self._routes:
            self._routes[series] = route(series)
        return self._routes[series]

    def _colour(self, panel: str, key: str) -> str:
        book = self._colours.setdefault(panel, {})
        if key not in book:
            book[key] = series_colour(len(book))
        return book[key]

    def _curve(self, series: str) -> SeriesCurve | None:
        r = self._route(series)
        if r is None:
            return None
        panel = self.timeline.panel(r.panel)
        curve = panel.curves.get(series)
        if curve is None:
            shown = panel.visible_count() < MAX_SHOWN_PER_PANEL
            style = SeriesStyle(r.legend, self._colour(r.panel, r.colour_key), r.dash,
                                visible=r.visible and shown)
            curve = panel.add_series(series, style)
            curve.extra["human"] = r.human
        return curve

    def _series_toggled(self, series: str, shown: bool) -> None:
        """A series was shown from a chart's chooser: read it if it fell behind."""
        if not shown:
            return
        curve = self._curves.get(series)
        if series in self._behind or curve is None or len(curve.buffer) == 0:
            self._behind.discard(series)
            self._full_pending.add(series)
            self._read_soon.request()
        self.timeline.render([series])

    def charted(self) -> list[tuple[ChartPanel, SeriesCurve]]:
        return [(p, c) for p in self.timeline.panels for c in p.curves.values()]

    def _load_range(self) -> tuple[float, float]:
        # no padding to the left: the store serves a range from the finest tier that
        # reaches back to its start, and "the last hour" must get the 1 s tier
        start, end = self.view_range()
        return start, (self.clock() if self.live else end)

    def _history_wanted(self) -> bool:
        load_start = (self._loaded or self._load_range())[0]
        return (getattr(self.ctx.services, "history", None) is not None
                and load_start < self.clock() - MEMORY_REACH_S)

    def reload(self) -> None:
        """Load every shown series for the current range (store, and history if older)."""
        self._generation += 1
        self._loaded = self._load_range()
        self._history.clear()
        if self._history_task is not None:
            self._history_task.cancel()
            self._history_task = None
        for _panel, curve in self.charted():
            if curve.style.visible:
                self._full_pending.add(curve.series)
            else:
                self._behind.add(curve.series)
        start, end = self.view_range()
        self.timeline.set_x_range(start, end)
        self.timeline.render()
        if self._history_wanted():
            self._load_history()
        else:
            self.history_note = ""
        self._data_busy = False  # an answer for the old range is dropped when it comes
        self.tick()
        self.update_status()

    def _adopt_new_series(self, names: Iterable[str]) -> None:
        added = False
        for name in names:
            curve = self._curve(name)
            if curve is None:
                self._uncharted.add(name)
                continue
            self._curves[name] = curve
            added = True
            if curve.style.visible:
                self._full_pending.add(name)
            else:
                self._behind.add(name)
        if added:
            self.timeline.relayout()
            self.set_thresholds()
            self.charts.setCurrentWidget(self.chart_card)

    # -- reading the store (off the GUI thread) -----------------------------------------------

    def _data_request(self) -> DataRequest:
        if self._loaded is None:
            self._loaded = self._load_range()
        start, end = self._loaded
        tails = {}
        for name, curve in self._curves.items():
            buf = curve.buffer
            if not curve.style.visible or name in self._full_pending:
                continue
            last = buf.last_real_ts()
            if last is not None:
                tails[name] = Tail(last, self._latest_seen.get(name), buf.step_s,
                                   buf.typical_step_s)
        memory_from = max(start, self.clock() - MEMORY_REACH_S) if self._history_wanted() \
            else None
        self._serial += 1
        return DataRequest(self._generation, self._version, start,
                           None if self.live else end, self.clock(), tails,
                           frozenset(self._full_pending), memory_from, self._serial)

    def tick(self) -> None:
        """Ask the store what changed since the last read (on a worker thread, so the GUI
        never waits on its lock) and redraw only that when the answer comes."""
        if self.store is None:
            self._show_empty()
            return
        if self._data_busy:
            return  # the answer of the last read is on its way: the next tick reads again
        request = self._data_request()
        store = self.store
        if self.sync_reads:
            self._apply_data(read_data(store, request))
            return
        self._data_busy = True
        self.ctx.tasks.run(lambda _s: read_data(store, request),
                           owner=self, on_success=self._apply_data,
                           on_failure=self._read_failed, name="dashboard-read")

    @property
    def busy(self) -> bool:
        """True while a read of the store, the poller or the history is on its way."""
        return (self._data_busy or self._status_busy or bool(self._full_pending)
                or bool(self._to_adopt)
                or self._history_task is not None or self._status_soon.pending
                or self._events_busy)

    def read_now(self) -> None:
        """Read and apply at once, on this thread (tests and benchmarks)."""
        if self.store is not None:
            self._data_busy = False
            self._apply_data(read_data(self.store, self._data_request()))

    def _read_failed(self, exc: BaseException) -> None:
        self._data_busy = False
        log.warning("reading the metric store failed: %s", exc)

    def _apply_data(self, update: DataUpdate) -> None:
        if update.serial != self._serial:
            return  # a newer read was asked for since (a range switch): that one counts
        self._data_busy = False
        if update.generation != self._generation:
            return  # read for a range no longer shown; the version stays, nothing is lost
        self._version = update.version
        self._latest_seen.update(update.seen)
        new = update.changed - self._known
        if new:
            self._known |= new
            self._to_adopt += sorted(new)
        if self._to_adopt:
            now, self._to_adopt = (self._to_adopt[:NEW_SERIES_PER_TICK],
                                   self._to_adopt[NEW_SERIES_PER_TICK:])
            self._adopt_new_series(now)
            if self._to_adopt:
                self._read_soon.request()  # the rest in a moment
        dirty: list[str] = []
        for name, w in update.full.items():
            curve = self._curves.get(name)
            if curve is None:
                continue
            self._full_pending.discard(name)
            self._set_buffer(curve, w)
            dirty.append(name)
        for name, w in update.tails.items():
            curve = self._curves.get(name)
            if curve is not None:
                # the 1 s tier keeps one value a second: its min and max are the value
                curve.buffer.merge(w.ts, w.value, step_s=w.step_s)
                dirty.append(name)
        for name, (ts, value) in update.points.items():
            curve = self._curves.get(name)
            if curve is not None:
                if not curve.buffer.append_point(ts, value):
                    curve.buffer.merge(np.array([ts]), np.array([value]))
                dirty.append(name)
        for name in update.changed:
            curve = self._curves.get(name)
            if curve is not None and not curve.style.visible:
                self._behind.add(name)  # read when it is shown
        if self._loaded is not None:
            load_start = self._loaded[0]
            for name in dirty:
                buf = self._curves[name].buffer
                first = buf.first_ts()
                if first is not None and first < load_start - self.span_s:
                    buf.trim_before(load_start)
        if not self.timeline.shown_panels():
            self._show_empty()
            return
        moved = False
        if self.live:
            start, end = self.view_range()
            if self._loaded is not None:
                self._loaded = (self._loaded[0], end)
            shown_end = self.timeline.x_range()[1]
            # move the view only when it moves by a pixel or more (24 h: 100 s a pixel):
            # a repaint of every chart is the costliest thing the page does
            if abs(end - shown_end) >= self.span_s / self.timeline.columns():
                self.timeline.set_x_range(start, end)
                moved = True
        if dirty or moved:
            self.timeline.render(dirty)
        if self._full_pending:
            self._read_soon.request()

    def _set_buffer(self, curve: SeriesCurve, w: Window) -> None:
        ts, value, lo, hi = w.ts, w.value, w.lo, w.hi
        older = self._history.get(curve.series)
        if older is not None and ts.size:
            keep = older[0] < ts[0]
            ts = np.concatenate([older[0][keep], ts])
            value = np.concatenate([older[1][keep], value])
            lo = np.concatenate([older[2][keep], lo])
            hi = np.concatenate([older[3][keep], hi])
        curve.buffer.set(ts, value, lo, hi, step_s=w.step_s)

    def _show_empty(self) -> None:
        statuses = self._statuses
        if not statuses:
            self.empty.setText("No live sources in this profile yet.\nAdd a probe (any URL) or "
                               "a source (Prometheus, Redis, RabbitMQ, a database) in Settings, "
                               "and the charts fill within seconds.")
        else:
            names = ", ".join(s.name for s in statuses[:12])
            more = f" and {len(statuses) - 12} more" if len(statuses) > 12 else ""
            self.empty.setText(f"Waiting for the first readings from {names}{more}.\nCharts "
                               "appear as soon as a source answers; a source that does not "
                               "shows its error on its tile above.")
        self.charts.setCurrentWidget(self.empty)

    # -- history ----------------------------------------------------------------------------

    def _load_history(self) -> None:
        """Older than memory holds: read the history (and the store's part, so both arrive
        together) on a worker thread, then show the series whole."""
        history = getattr(self.ctx.services, "history", None)
        if history is None or self._loaded is None:
            return
        start, end = self._loaded
        now = self.clock()
        cut = min(now - MEMORY_REACH_S + 60, end)
        names = [c.series for _p, c in self.charted() if c.style.visible]
        columns = self.timeline.columns()
        store = self.store
        generation = self._generation
        days = (cut - start) / 86_400
        self.history_note = f"Loading {days:.1f} days from history…"
        self.update_status()

        def work(state: TaskState) -> tuple[dict[str, Window], dict[str, Window], int]:
            older: dict[str, Window] = {}
            recent: dict[str, Window] = {}
            for i, name in enumerate(names):
                state.check()
                older[name] = Window.of(history.series_window(name, start, cut,
                                                              max_points=2 * columns))
                from_ = max(start, now - MEMORY_REACH_S)
                recent[name] = Window.of(store.window(name, from_, max(end, now, from_ + 1)))
                state.progress((i + 1) / max(len(names), 1))
            return older, recent, generation

        def done(result: tuple[dict[str, Window], dict[str, Window], int]) -> None:
            self._history_task = None
            older, recent, gen = result
            if gen != self._generation:
                return
            for name, w in older.items():
                self._history[name] = (w.ts, w.value, w.lo, w.hi)
            for name, w in recent.items():
                curve = self._curves.get(name)
                if curve is not None:
                    self._full_pending.discard(name)
                    self._set_buffer(curve, w)
            self.timeline.render()
            filled = sum(1 for w in older.values() if np.isfinite(w.value).any())
            self.history_note = (f"{filled} series from history" if filled
                                 else "No history on disk for this range yet")
            self.update_status()
            self.sig_history_loaded.emit(filled)

        def failed(exc: BaseException) -> None:
            self._history_task = None
            self.history_note = f"History could not be read: {exc}"
            self.update_status()

        self._history_task = self.ctx.tasks.run(work, owner=self, on_success=done,
                                                on_failure=failed, name="dashboard-history")

    # -- tiles and status -------------------------------------------------------------------

    def _headline_for(self, source: str, mine: list[str]) -> str | None:
        for metric, _caption in HEADLINES:
            for name in mine:
                _s, met, labels = split_series(name)
                if met == metric and (metric != m.LATENCY_P95 or not labels):
                    return name
        return None

    def _index(self, names: list[str]) -> dict[str, list[str]]:
        """Series names by source, rebuilt only when new series appear."""
        if len(names) != self._indexed:
            index: dict[str, list[str]] = {}
            for name in names:
                index.setdefault(series_source(name), []).append(name)
            self._by_source = index
            self._indexed = len(names)
            self._headline.clear()
            self._error_series.clear()
        return self._by_source

    def _headlines_in_view(self) -> tuple[str, ...]:
        span = self.tiles.visible_span()
        wanted = []
        for name, tile in self.tiles.tiles.items():
            headline = self._headline.get(name)
            if headline is not None and self.tiles.in_view(tile, span):
                wanted.append(headline)
                errors = self._error_series.get(name)
                if errors is not None and errors != headline:
                    wanted.append(errors)
        return tuple(wanted)

    def update_status(self) -> None:
        """Tiles (state, value, sparkline), latest readouts and the status line.

        The poller's states and the tiles' numbers are read on a worker thread; built for
        hundreds of sources: at most :data:`NEW_TILES_PER_TICK` tiles are made at a time,
        and values and sparklines are read only for tiles in view.
        """
        self._show_status_line()
        if self._status_busy:
            return
        poller = getattr(self.ctx.services, "poller", None)
        store = self.store
        headlines = self._headlines_in_view()
        now = self.clock()
        if self.sync_reads:
            self._apply_status(read_status(poller, store, headlines, SPARK_S, now))
            return
        self._status_busy = True

        def failed(exc: BaseException) -> None:
            self._status_busy = False
            log.warning("reading the sources' states failed: %s", exc)

        self.ctx.tasks.run(lambda _s: read_status(poller, store, headlines, SPARK_S, now),
                           owner=self, on_success=self._apply_status, on_failure=failed,
                           name="dashboard-status")

    def _apply_status(self, update: StatusUpdate) -> None:
        self._status_busy = False
        now = self.clock()
        self._statuses = update.statuses
        index = self._index(update.names)
        made = 0
        span = self.tiles.visible_span()
        for status in update.statuses:
            tile = self.tiles.tiles.get(status.name)
            if tile is None:
                if made >= NEW_TILES_PER_TICK:
                    self._status_soon.request()  # the rest in a moment
                    continue
                made += 1
                tile = self.tiles.tile(status.name, series_colour(len(self.tiles.tiles)))
                self._status_soon.request()  # its number, once its headline is known
            state = str(status.state)
            was = tile.state
            tile.set_state(state, status.last_error or "", status.last_ok_ts, now)
            tile.set_warning(getattr(status, "warning", "") if state == "up" else "")
            if state == "down" and was != "down":
                self.tiles.move_to_front(status.name)
            if status.name not in self._headline:
                self._headline[status.name] = self._headline_for(
                    status.name, index.get(status.name, []))
                error_series = f"{status.name}/{m.ERROR_RATIO}"
                self._error_series[status.name] = (
                    error_series if error_series in index.get(status.name, []) else None)
            headline = self._headline[status.name]
            if headline is None:
                if state == "down":
                    tile.set_value("–", "no reading")
                continue
            if headline not in update.latest or not self.tiles.in_view(tile, span):
                continue
            _s, metric, _l = split_series(headline)
            unit = unit_for(metric)
            caption = dict(HEADLINES).get(metric, metric.replace("_", " "))
            latest = update.latest[headline]
            fresh = latest is not None and state == "up"
            text = unit.format(latest.value) if latest is not None else "–"
            if not fresh and latest is not None:
                caption = f"{caption} · last {datetime.fromtimestamp(latest.ts):%H:%M:%S}"
            caption, alarm = self._with_errors(status.name, update, caption, fresh)
            tile.set_value(text, caption)
            tile.set_alarm(alarm)
            w = update.sparks[headline]
            tile.set_spark(w.ts, w.value * unit.scale, (now - SPARK_S, now))
        if not self.timeline.shown_panels():
            self._show_empty()

    def _with_errors(self, source: str, update: StatusUpdate, caption: str,
                     fresh: bool) -> tuple[str, str]:
        """The caption with the share of failing requests once it reaches the advisor's
        warning threshold (the source's own, if its profile sets one), and its colour."""
        series = self._error_series.get(source)
        errors = update.latest.get(series) if series is not None and fresh else None
        limits = self._error_limits.get(source, Thresholds())
        if errors is None or errors.value < limits.error_ratio_warn:
            return caption, ""
        colour = FAIL if errors.value >= limits.error_ratio_fail else WARN
        share = f"{errors.value:.0%}" if errors.value >= 0.1 else f"{errors.value:.1%}"
        return f"{caption} · {share} errors", colour

    def _show_status_line(self) -> None:
        self.timeline.refresh_readouts(self._readout_time())
        if self.live:
            words = f"Live · last {RANGES_WORDS.get(int(self.span_s), _span_words(self.span_s))}"
        else:
            start, end = self.view_range()
            words = (f"Paused · {datetime.fromtimestamp(start):%d %b %H:%M:%S} – "
                     f"{datetime.fromtimestamp(end):%H:%M:%S} · press Live to follow")
        if self.history_note:
            words += f" · {self.history_note}"
        self.status_label.setText(words)

    # -- thresholds and events ---------------------------------------------------------------

    def set_thresholds(self) -> None:
        """Horizontal lines at the profile's alert thresholds, on the panel of the metric."""
        from console.alerts import RuleSpec

        rules = []
        for rule in getattr(self.ctx.profile, "alerts", ()) or ():
            try:
                rules.append(RuleSpec.from_rule(rule))
            except (ValueError, TypeError, AttributeError) as exc:
                log.debug("alert rule not drawn: %s", exc)
        for panel in self.timeline.panels:
            lines = []
            for spec in rules:
                if spec.metric not in panel.spec.metrics:
                    continue
                colour = FAIL if str(spec.severity) == "fail" else WARN
                word = ">" if spec.direction == "above" else "<"
                value = panel.spec.unit.format(spec.threshold)
                lines.append(Threshold(spec.threshold, f"{spec.name} ({word} {value})", colour))
            panel.set_thresholds(lines)

    def fetch_events(self) -> None:
        """Scenario changes (demo) and alert marks since the last fetch, off the GUI thread."""
        if self._events_busy:
            return
        alerts = getattr(self.ctx.services, "alerts", None)
        want_demo = bool(self.ctx.extras.get("is_demo"))
        if alerts is None and not want_demo:
            return
        since_demo, since_alerts = self._events_since, self._alerts_since
        make_control = self._make_demo_control

        def work(_state: TaskState) -> tuple[list[Any], list[Any], str]:
            demo_events: list[Any] = []
            marks: list[Any] = []
            problem = ""
            if want_demo:
                try:
                    demo_events = make_control().events(since_demo)
                except Exception as exc:
                    problem = str(exc)
            if alerts is not None and hasattr(alerts, "marks_since"):
                marks = list(alerts.marks_since(since_alerts))
            return demo_events, marks, problem

        def done(result: tuple[list[Any], list[Any], str]) -> None:
            self._events_busy = False
            demo_events, marks, problem = result
            added = 0
            for event in demo_events:
                self._events_since = max(self._events_since, event.ts)
                added += self.add_marker(event.ts, event.what.replace("->", "→"),
                                         self.theme.muted)
            for ts, rule, state in marks:
                self._alerts_since = max(self._alerts_since, float(ts))
                added += self.add_marker(float(ts), f"{rule}: {state}", state_colour(state))
            if problem:
                log.debug("demo events not read: %s", problem)
            if added:
                self.sig_events_added.emit(added)

        def failed(exc: BaseException) -> None:
            self._events_busy = False
            log.debug("events not read: %s", exc)

        self._events_busy = True
        self.ctx.tasks.run(work, owner=self, on_success=done, on_failure=failed,
                           name="dashboard-events")

    def add_marker(self, ts: float, text: str, colour: str) -> int:
        """Mark an event on the timeline (once); returns 1 if it was new."""
        key = (round(ts, 3), text)
        if key in self._marker_keys:
            return 0
        self._marker_keys.add(key)
        self.timeline.add_marker(Marker(ts, text, colour))
        return 1

    # -- what moved first -------------------------------------------------------------------

    def set_region_mode(self, on: bool) -> None:
        """Show the selection region (pausing the charts) and the ranked list, or hide them."""
        if self.movers_button.isChecked() != on:
            self.movers_button.setChecked(on)
            return
        if on:
            self.set_live(False)
            start, end = self.timeline.x_range()
            span = end - start
            self.timeline.show_region(end - span * 0.25, end - span * 0.02)
            self.movers_box.show()
            self.side.show()
            self.rank_region()
        else:
            self.timeline.hide_region()
            self.movers_box.hide()
            self.side.setVisible(self.demo_panel is not None)

    def select_region(self, start: float, end: float) -> None:
        """Put the selection on ``[start, end]`` and rank what moved there."""
        if not self.movers_button.isChecked():
            self.movers_button.setChecked(True)
        self.timeline.show_region(start, end)
        self.rank_region()

    def rank_region(self) -> None:
        region = self.timeline.region()
        if region is None:
            return
        start, end = region
        if end - start < 2:
            return
        base_start = start - (end - start)
        data = {}
        humans: dict[str, str] = {}
        units: dict[str, Unit] = {}
        colours: dict[str, str] = {}
        behind: list[str] = []
        for panel, curve in self.charted():
            humans[curve.series] = str(curve.extra.get("human", curve.style.label))
            units[curve.series] = panel.spec.unit
            colours[curve.series] = curve.style.colour
            if curve.series in self._behind:
                behind.append(curve.series)
                continue
            ts, values = curve.buffer.finite(base_start, end)
            if ts.size:
                data[curve.series] = (ts.copy(), values.copy())
        if self._movers_task is not None:
            self._movers_task.cancel()
        self.movers_box.show_busy()
        store = self.store

        def work(_state: TaskState) -> list[Mover]:
            # hidden series are not kept up to date on screen: read them from the store
            for series in behind:
                w = store.window(series, base_start, end)
                keep = np.isfinite(w.value)
                data[series] = (w.ts[keep], w.value[keep])
            return rank_movers(data, start, end)

        def done(movers: list[Mover]) -> None:
            self._movers_task = None
            self.show_movers(movers, humans, units, colours)

        self._movers_task = self.ctx.tasks.run(work, owner=self, on_success=done,
                                               name="what-moved-first")

    def _group(self, series: str) -> str:
        r = self._route(series)
        return r.colour_key if r is not None else series

    def show_movers(self, movers: list[Mover], humans: dict[str, str],
                    units: dict[str, Unit], colours: dict[str, str]) -> None:
        self.movers = movers
        self.movers_box.show_movers(movers, humans, units, colours, group=self._group)
        self.sig_movers_ranked.emit(movers)

    # -- export -----------------------------------------------------------------------------

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the dashboard as PNG",
                                              f"dashboard-{datetime.now():%Y%m%d-%H%M%S}.png",
                                              "PNG image (*.png)")
        if path:
            self.export_png(Path(path))

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the visible range as CSV",
                                              f"dashboard-{datetime.now():%Y%m%d-%H%M%S}.csv",
                                              "CSV (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_png(self, path: Path) -> bool:
        """The page as the user sees it (tiles and charts)."""
        ok = bool(self.grab().save(str(path), "PNG"))
        if ok:
            self.sig_exported.emit(str(path))
        else:
            self.status_label.setText(f"Could not write {path}: check the folder exists and "
                                      "is writable")
        return ok

    def export_csv(self, path: Path, on_done: Callable[[str], None] | None = None) -> None:
        """Every shown series over the visible range: series, ISO UTC time, stored value.

        Rows are read from the store (and the history for older ranges) in stored units,
        seconds for latency and 0..1 for ratios, one per bucket with data, bucket start
        times within the range; the file is written off the GUI thread.
        """
        start, end = self.timeline.x_range()
        store = self.store
        names = [c.series for _p, c in self.charted() if c.style.visible]
        older = {name: self._history[name] for name in names if name in self._history}

        def work(_state: TaskState) -> str:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["series", "ts", "value"])
                for series in names:
                    w = store.window(series, start, end)
                    ts, values = w.ts, w.value
                    if series in older and ts.size:
                        h_ts, h_val = older[series][0], older[series][1]
                        keep = h_ts < ts[0]
                        ts = np.concatenate([h_ts[keep], ts])
                        values = np.concatenate([h_val[keep], values])
                    keep = np.isfinite(values) & (ts >= start) & (ts <= end)
                    for t, v in zip(ts[keep].tolist(), values[keep].tolist(), strict=True):
                        writer.writerow([series, iso_time(t), repr(v)])
            return str(path)

        def done(written: str) -> None:
            self.sig_exported.emit(written)
            if on_done is not None:
                on_done(written)

        def failed(exc: BaseException) -> None:
            self.status_label.setText(f"Could not write {path}: {exc}")

        self.ctx.tasks.run(work, owner=self, on_success=done, on_failure=failed,
                           name="dashboard-csv")


RANGES_WORDS = {300: "5 minutes", 3600: "hour", 86_400: "24 hours", 7 * 86_400: "7 days"}


def _span_words(seconds: float) -> str:
    return format_duration(seconds)
