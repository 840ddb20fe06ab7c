"""The live dashboard page: its layout, time range and timers, wired to the parts that fill it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QApplication,
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

from ui import theme as theme_mod
from ui.charts.coalesce import CoalescingTimer
from ui.charts.movers import MoversPanel
from ui.charts.tiles import TileRow
from ui.charts.timeline import Timeline
from ui.context import AppContext
from ui.first_paint import after_first_paint
from ui.pages.dashboard.compare_lines import shop_reads, worth_comparing
from ui.pages.dashboard.export import DashboardExport
from ui.pages.dashboard.feed import ChartFeed, ReadRunner
from ui.pages.dashboard.markers import EventMarkers
from ui.pages.dashboard.movers import MovedFirst
from ui.pages.dashboard.queue_lines import QueueLines
from ui.pages.dashboard.routing import PANELS, SeriesRouter
from ui.pages.dashboard.sites import SiteLines
from ui.pages.dashboard.tiles import StatusTiles
from ui.pages.dashboard.time_range import TimeRange
from ui.plain_text import plain_label
from ui.widgets.demo_panel import DemoPanel

if TYPE_CHECKING:
    from services.shop.demo_control import DemoControl
    from ui.pages.dashboard.compare import CompareSites

#: How often the charts read the store (only series changed since the last read).
DATA_TICK_MS = 200
#: Tiles (state, value, sparkline) and latest-value readouts.
STATUS_TICK_MS = 1000
#: Scenario events and alert marks for the timeline.
EVENTS_TICK_MS = 4000


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

    ``clock`` is the wall clock (UTC epoch seconds; a benchmark runs time fast);
    ``reads`` runs the reads of the store and the poller (default: on ``ctx.tasks``;
    :func:`~ui.pages.dashboard.feed.read_in_step` reads on the calling thread). The demo
    shop's control is the one the composition root put in ``ctx.demo_control``.
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

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.time,
                 reads: ReadRunner | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.ctx = ctx
        self.store = ctx.store
        self.clock = clock
        self.run_read: ReadRunner = reads or self._read_on_tasks
        self.theme = _current_theme()
        self.time_range = TimeRange(self)

        self._build()
        self.sites = SiteLines(self)
        self.queues = QueueLines(self)
        self.router = SeriesRouter(self.timeline, self.sites.book)
        self.feed = ChartFeed(self, self.router)
        self.status = StatusTiles(self)
        self.markers = EventMarkers(self)
        self.moved_first = MovedFirst(self)
        self.export = DashboardExport(self)
        self._wire()
        self._data_timer = QTimer(self)
        self._data_timer.setInterval(DATA_TICK_MS)
        self._data_timer.timeout.connect(self.tick)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_TICK_MS)
        self._status_timer.timeout.connect(self.update_status)
        self._events_timer = QTimer(self)
        self._events_timer.setInterval(EVENTS_TICK_MS)
        self._events_timer.timeout.connect(self.fetch_events)
        # tiles scrolled into view get their values at once, not at the next status tick
        self.status_soon = CoalescingTimer(100, self.update_status, self)
        self.read_soon = CoalescingTimer(30, self.tick, self)
        self.tiles.horizontalScrollBar().valueChanged.connect(
            lambda _v: self.status_soon.request())
        if ctx.starting:  # nothing to read yet (services_ready reads): say what it waits for
            self._show_status_line()
            self._show_compare_button()
            self.show_empty()
        else:
            self.tick()
            self.update_status()

    def _read_on_tasks(self, read: Callable[[], Any], on_success: Callable[[Any], None],
                       on_failure: Callable[[BaseException], None], name: str) -> None:
        self.ctx.tasks.run(lambda _s: read(), owner=self, on_success=on_success,
                           on_failure=on_failure, name=name)

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
        self.time_range.add_buttons(bar)
        self.range_buttons = self.time_range.buttons
        self.live_button = self.time_range.live_button
        self.pause_button = self.time_range.pause_button
        bar.addSpacing(8)
        self.movers_button = QPushButton("What moved first?")
        self.movers_button.setCheckable(True)
        self.movers_button.setToolTip("Select a window around a spike: the series that changed "
                                      "most against the window before it are ranked, with "
                                      "which moved first")
        bar.addWidget(self.movers_button)
        self.compare_button = QPushButton("Compare sites…")
        self.compare_button.setToolTip("One figure of 2 to 8 sites of a chain, or of 2 to 8 "
                                       "shops as All shops reads them, on one chart, and "
                                       "which of them moved first")
        bar.addWidget(self.compare_button)
        self.export_button = QToolButton()
        self.export_button.setText("Export ▾")
        self.export_button.setStyleSheet("QToolButton { padding: 4px 10px; } "
                                         "QToolButton::menu-indicator { image: none; }")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._export_menu = QMenu(self.export_button)
        self.export_button.setMenu(self._export_menu)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)

        self.tiles = TileRow()
        outer.addWidget(self.tiles)

        self.timeline = Timeline(self.theme)
        # made once the window has painted, or when first asked for: until the first
        # readings the page shows its empty state, not the charts
        self.timeline.plan_panels(PANELS)
        after_first_paint(self, self.timeline.make_panels, not_shown_yet=True)
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
        if self.ctx.is_demo:
            self.demo_panel = DemoPanel(self.demo_control, self.ctx.tasks)
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

    def _wire(self) -> None:
        """Connect the widgets to the parts that act on them."""
        self.movers_button.toggled.connect(self.moved_first.set_region_mode)
        self.compare_button.clicked.connect(lambda _checked: self.open_compare())
        self._show_compare_button()
        self.compare: CompareSites | None = None
        self._export_menu.addAction("Dashboard as PNG…", self.export.ask_png)
        self._export_menu.addAction("Visible range as CSV…", self.export.ask_csv)
        self.timeline.sig_user_range.connect(self.time_range.user_range)
        self.timeline.sig_panels_made.connect(self._panels_made)
        if self.timeline.panels_made:
            self._panels_made()
        self.timeline.sig_region_changed.connect(lambda *_: self.moved_first.rank_region())
        if self.demo_panel is not None:
            self.demo_panel.sig_applied.connect(lambda _s: self.fetch_events())

    def _panels_made(self) -> None:
        """The charts' panels exist now: wire them, draw the alert thresholds on them."""
        self.sites.panels_made()
        self.queues.panel_made()
        for panel in self.timeline.panels:
            panel.sig_visibility.connect(self.feed.series_toggled)
        self.set_thresholds()

    def demo_control(self) -> DemoControl:
        """The demo shop's control handed in by the composition root."""
        demo = self.ctx.demo_control
        if demo is None:
            raise RuntimeError("the demo shop's control is not there yet" if self.ctx.starting
                               else "this profile has no demo shop back end")
        return demo

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
            self.fetch_events()

    def services_ready(self) -> None:
        """The profile's services came after the page was built (the window's first frame):
        the sources' states, the alert marks, the demo shop's switches."""
        self.update_status()
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
        self.time_range.settle.cancel()
        self.status_soon.cancel()
        self.read_soon.cancel()
        for handle in (self.feed.history_task, self.moved_first.task):
            if handle is not None:
                handle.cancel()
        if self.compare is not None:
            self.compare.done(0)
        if self.demo_panel is not None:
            self.demo_panel.shutdown()

    # -- time range -------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True while the charts follow the newest data."""
        return self.time_range.live

    @property
    def span_s(self) -> float:
        return self.time_range.span_s

    def view_range(self) -> tuple[float, float]:
        """The time range the charts show now (UTC epoch seconds)."""
        return self.time_range.view_range()

    def set_range(self, seconds: float) -> None:
        """Show the last ``seconds`` (5 min .. 7 d); paused charts keep their right edge."""
        self.time_range.set_range(seconds)

    def set_live(self, live: bool) -> None:
        """Follow the newest data, or hold the view still."""
        self.time_range.set_live(live)

    # -- the parts, as the page's own verbs -------------------------------------------------

    def reload(self) -> None:
        """Load every shown series for the current range (store, and history if older)."""
        self.feed.reload()

    def tick(self) -> None:
        """Read what changed in the store since the last read and redraw only that."""
        self.feed.tick()

    @property
    def busy(self) -> bool:
        """True while a read of the store, the poller or the history is on its way."""
        feed = self.feed
        return (feed.data_busy or self.status.busy or bool(feed.full_pending)
                or bool(feed.to_adopt)
                or feed.history_task is not None or self.status_soon.pending
                or self.markers.busy)

    def update_status(self) -> None:
        """Tiles (state, value, sparkline), latest readouts and the status line."""
        self._show_status_line()
        self.status.update()
        self._show_compare_button()

    def _show_compare_button(self) -> None:
        """Compare is offered for a profile with sites, or once All shops has read two
        shops or more (their reads are what it draws of whole shops)."""
        overview = shop_reads(self, made_only=True)
        self.compare_button.setVisible(worth_comparing(self.ctx.profile) or (
            overview is not None and overview.history.count() >= 2))

    def set_thresholds(self) -> None:
        """Horizontal lines at the profile's alert thresholds, on the panel of the metric."""
        self.markers.set_thresholds()

    def fetch_events(self) -> None:
        """Scenario changes (demo) and alert marks since the last fetch, off the GUI thread;
        the demo shop's switches again while they could not be read (the shop still
        starting when the page opened). Nothing while the services are still being built:
        :meth:`services_ready` fetches them."""
        if self.ctx.starting:
            return
        self.markers.fetch()
        if self.demo_panel is not None and self.demo_panel.scenario is None:
            self.demo_panel.load()

    def add_marker(self, ts: float, text: str, colour: str) -> int:
        """Mark an event on the timeline (once); returns 1 if it was new."""
        return self.markers.add(ts, text, colour)

    def select_region(self, start: float, end: float) -> None:
        """Put the selection on ``[start, end]`` and rank what moved there."""
        self.moved_first.select_region(start, end)

    def open_compare(self) -> CompareSites:
        """The "Compare sites" window (one at a time), shown and raised."""
        if self.compare is None:
            from ui.pages.dashboard.compare import CompareSites  # its first opening pays

            self.compare = CompareSites(self)
            self.compare.finished.connect(self._compare_closed)
            self.compare.show()
        else:
            self.compare.raise_()  # open already: to the front
        return self.compare

    def _compare_closed(self) -> None:
        if self.compare is not None:
            self.compare.deleteLater()
            self.compare = None

    def export_png(self, path: Path) -> bool:
        """The page as the user sees it (tiles and charts)."""
        return self.export.save_png(path)

    def export_csv(self, path: Path, on_done: Callable[[str], None] | None = None) -> None:
        """Every shown series over the visible range, written off the GUI thread."""
        self.export.save_csv(path, on_done)

    # -- what the page says -----------------------------------------------------------------

    def _show_status_line(self) -> None:
        self.timeline.refresh_readouts(self.time_range.readout_time())
        words = self.time_range.words()
        if self.feed.history_note:
            words += f" · {self.feed.history_note}"
        self.status_label.setText(words)

    def show_empty(self) -> None:
        names: list[str]
        if self.ctx.starting:  # the poller is still being built: the profile names them
            profile = self.ctx.profile
            names = [p.name for p in profile.probes] + [s.name for s in profile.sources]
        else:
            names = [s.name for s in self.status.statuses]
        if not names:
            self.empty.setText("No live sources in this profile yet.\nAdd a probe (any URL) or "
                               "a source (Prometheus, Redis, RabbitMQ, a database) in Settings, "
                               "and the charts fill within seconds.")
        else:
            more = f" and {len(names) - 12} more" if len(names) > 12 else ""
            self.empty.setText(f"Waiting for the first readings from {', '.join(names[:12])}"
                               f"{more}.\nCharts appear as soon as a source answers; a source "
                               "that does not shows its error on its tile above.")
        self.charts.setCurrentWidget(self.empty)
