"""Compare sites: one figure of 2 to 8 sites on one chart, and which of them moved first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console import metrics as m
from console.correlate import Mover, rank_movers
from console.domain import split_series
from ui.charts.feed import Window
from ui.charts.movers import MoversPanel
from ui.charts.panel import ChartPanel
from ui.charts.panel_parts import PanelSpec, SeriesStyle
from ui.charts.timeline import Timeline
from ui.charts.units import unit_for
from ui.pages.dashboard.feed import MEMORY_REACH_S
from ui.plain_text import plain_label, plain_tooltip
from ui.theme import series_colour
from ui.worker import TaskState

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage
    from ui.pages.dashboard.sites import SiteBook

#: The figures a comparison can show: (metric, words).
FIGURES: tuple[tuple[str, str], ...] = (
    (m.LATENCY_P95, "p95 latency"),
    (m.ERROR_RATIO, "error ratio"),
    (m.CACHE_HIT_RATE, "cache hit rate"),
    (m.QUEUE_DEPTH, "queue depth"),
    (m.REQUEST_RATE, "requests"),
)
MIN_COMPARED = 2
MAX_COMPARED = 8
#: How often the chart reads the store again while it is open.
REFRESH_MS = 2000
_SERIES = Qt.ItemDataRole.UserRole


def _comparable(series: str, metric: str, book: SiteBook) -> bool:
    """A site's series of the figure, or a whole source's (one site per source, or a
    chain's whole beside its sites); a whole source's queues each count as one."""
    _source, found, labels = split_series(series)
    return found == metric and (book.site(series) is not None or set(labels) <= {"queue"})


#: Sources that read a whole shop's back end (a site each, when a profile has several).
SHOP_KINDS = frozenset({"prometheus", "prometheus-server"})


def worth_comparing(profile: Any) -> bool:
    """True when a profile has sites to compare: a grouped source, or two Prometheus
    sources (a shop per source; a shop's probes and caches are not sites)."""
    sources = tuple(getattr(profile, "sources", ()) or ())
    return (any(getattr(s, "group_by", ()) for s in sources)
            or sum(1 for s in sources if getattr(s, "kind", "") in SHOP_KINDS) >= 2)


class CompareSites(QDialog):
    """Pick two to eight sites (the groups of a grouped source, or whole sources: a shop
    per source) and one figure: their lines
    share one chart, one time axis (the dashboard's range) and one unit. A shaded window
    on the chart ranks which of them moved first (:func:`console.correlate.rank_movers`
    against the window before it). Reads run off the GUI thread, owned by the dialog."""

    sig_drawn = pyqtSignal(int)
    """Emitted with the number of sites drawn after each read of the store."""
    sig_ranked = pyqtSignal(object)
    """Emitted with the list of :class:`~console.correlate.Mover` for the shaded window."""

    def __init__(self, page: DashboardPage) -> None:
        super().__init__(page)
        self.page = page
        self.book = page.sites.book
        self.setWindowTitle("Compare sites")
        self.resize(1280, 760)
        self.movers: list[Mover] = []
        self._colours: dict[str, str] = {}
        self._task: Any = None
        self._serial = 0  # numbers the reads; an answer to an older one is dropped
        self._region_set: set[str] = set()  # figures whose chart has its shaded window
        self._charts: dict[str, Timeline] = {}  # one chart per figure, made when first shown
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.read)
        self._timer.start()
        self.list_sites()

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.figure = QComboBox()
        for metric, words in FIGURES:
            self.figure.addItem(words, metric)
        self.figure.currentIndexChanged.connect(lambda _i: self.list_sites())
        self.sites = QListWidget()
        self.sites.itemChanged.connect(self._picked)
        self.hint = plain_label(f"Pick {MIN_COMPARED} to {MAX_COMPARED} sites.")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.worst_button = QPushButton(f"The {MAX_COMPARED} worst")
        self.worst_button.clicked.connect(self.pick_worst)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self.pick([]))
        buttons = QHBoxLayout()
        buttons.addWidget(self.worst_button)
        buttons.addWidget(self.clear_button)
        left.addWidget(QLabel("Figure"))
        left.addWidget(self.figure)
        left.addWidget(QLabel("Sites, worst first"))
        left.addWidget(self.sites, 1)
        left.addLayout(buttons)
        left.addWidget(self.hint)
        side = QWidget()
        side.setLayout(left)
        side.setMaximumWidth(300)
        self.stack = QStackedWidget()
        self.moved = MoversPanel(self.page.theme.muted)
        self.moved.headline.setText("Drag the shaded window over the moment things changed.")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.stack)
        right.addWidget(self.moved)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setChildrenCollapsible(False)
        self.stack.setMinimumHeight(320)
        self.moved.setMinimumHeight(140)
        right.setSizes([520, 200])
        outer.addWidget(side)
        outer.addWidget(right, 1)

    def _spec(self) -> PanelSpec:
        metric = self.figure_metric()
        unit = unit_for(metric)
        ratio = metric in m.RATIO_METRICS
        return PanelSpec("compare", f"{dict(FIGURES)[metric]} by site", unit, y_floor=0.0,
                         y_ceiling=100.0 if ratio else None, metrics=(metric,),
                         min_span=1.0 if ratio else 5.0)

    def figure_metric(self) -> str:
        return str(self.figure.currentData())

    @property
    def timeline(self) -> Timeline:
        """The chart of the chosen figure (each figure its own, in its own unit)."""
        metric = self.figure_metric()
        chart = self._charts.get(metric)
        if chart is None:
            chart = self._charts[metric] = Timeline(self.page.theme)
            chart.add_panel(self._spec())
            chart.sig_region_changed.connect(lambda *_: self.rank())
            self.stack.addWidget(chart)
        return chart

    @property
    def panel(self) -> ChartPanel:
        return self.timeline.panels[0]

    # -- the sites ------------------------------------------------------------------------

    def list_sites(self) -> None:
        """The sites that have the chosen figure, worst first with their latest value (read
        off the GUI thread)."""
        store = self.page.store
        metric = self.figure_metric()
        book = self.book

        def read(_state: TaskState) -> list[tuple[str, Any]]:
            names = [n for n in store.series_names() if _comparable(n, metric, book)]
            latest = {n: store.latest(n) for n in names}
            # a chain's whole first, as the line its sites are read against
            wholes = [n for n in names if book.site(n) is None
                      and split_series(n)[0] in book.group_by]
            ranked = book.worst([n for n in names if n not in wholes], latest,
                                metric == m.CACHE_HIT_RATE)
            return [(n, latest[n]) for n in wholes + ranked]

        self.page.ctx.tasks.run(read, owner=self, on_success=self._listed,
                                name="compare-sites-list")

    def _listed(self, ranked: list[tuple[str, Any]]) -> None:
        kept = {self.site_of(s) for s in self.chosen()}
        unit = unit_for(self.figure_metric())
        self.stack.setCurrentWidget(self.timeline)
        self.sites.blockSignals(True)
        self.sites.clear()
        for name, latest in ranked:
            site = self.site_of(name)
            value = unit.format(latest.value) if latest is not None else "no reading"
            item = QListWidgetItem(f"{site} · {value}")
            item.setData(_SERIES, name)
            item.setToolTip(plain_tooltip(f"{name}"))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if site in kept
                               else Qt.CheckState.Unchecked)
            self.sites.addItem(item)
        self.sites.blockSignals(False)
        self._picked()
        if not ranked:
            self.hint.setText("No site has this figure yet. A prometheus-server source with "
                              "group_by = [\"site\"] gives each site its own.")

    def site_of(self, series: str) -> str:
        """'site-7', 'site-7 orders'; a whole source by its name ('chain (all sites)')."""
        source, _metric, labels = split_series(series)
        site = self.book.site(series)
        if site is None:
            site = (f"{source} (all {self.book.noun(source)})" if source in self.book.group_by
                    else source)
        queue = labels.get("queue")
        return f"{site} {queue}" if queue else site

    def items(self) -> list[QListWidgetItem]:
        return [item for i in range(self.sites.count()) if (item := self.sites.item(i))]

    def chosen(self) -> list[str]:
        """The series of the picked sites, in the list's order."""
        return [str(item.data(_SERIES)) for item in self.items()
                if item.checkState() == Qt.CheckState.Checked]

    def pick(self, sites: list[str]) -> None:
        """Pick these sites (by name, at most :data:`MAX_COMPARED`), and no other."""
        wanted = set(sites[:MAX_COMPARED])
        self.sites.blockSignals(True)
        for item in self.items():
            on = self.site_of(str(item.data(_SERIES))) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.sites.blockSignals(False)
        self._picked()

    def pick_worst(self) -> None:
        """The first :data:`MAX_COMPARED` sites of the list (a chain's whole left out)."""
        sites = [str(item.data(_SERIES)) for item in self.items()]
        sites = [s for s in sites if self.book.site(s) is not None
                 or split_series(s)[0] not in self.book.group_by]
        self.pick([self.site_of(s) for s in sites[:MAX_COMPARED]])

    def _picked(self, _item: QListWidgetItem | None = None) -> None:
        chosen = self.chosen()
        full = len(chosen) >= MAX_COMPARED
        self.sites.blockSignals(True)  # a flag set is an itemChanged too
        for item in self.items():
            checked = item.checkState() == Qt.CheckState.Checked
            flags = item.flags()
            if full and not checked:
                item.setFlags(flags & ~Qt.ItemFlag.ItemIsEnabled)
            else:
                item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled)
        self.sites.blockSignals(False)
        if len(chosen) < MIN_COMPARED:
            self.hint.setText(f"Pick {MIN_COMPARED} to {MAX_COMPARED} sites.")
        elif full:
            self.hint.setText(f"{MAX_COMPARED} sites picked: the most one chart compares.")
        else:
            self.hint.setText(f"{len(chosen)} sites picked.")
        for name, curve in self.panel.curves.items():
            if curve.style.visible != (name in chosen):
                self.panel.set_visible(name, name in chosen)
        self.read()

    # -- the chart ------------------------------------------------------------------------

    def read(self) -> None:
        """Read the picked sites over the dashboard's range (off the GUI thread)."""
        chosen = self.chosen()
        self._serial += 1
        if len(chosen) < MIN_COMPARED:
            self.sig_drawn.emit(0)
            return
        store = self.page.store
        history = self.page.ctx.history
        start, end = self.page.view_range()
        reach = self.page.clock() - MEMORY_REACH_S  # older than this is on disk only
        columns = self.timeline.columns()
        serial = self._serial

        def window(name: str) -> Window:
            recent = Window.of(store.window(name, max(start, reach), max(end, start + 1)))
            if history is None or start >= reach:
                return recent
            older = Window.of(history.series_window(name, start, reach,
                                                    max_points=2 * columns))
            keep = older.ts < (recent.ts[0] if recent.ts.size else np.inf)
            return Window(np.concatenate([older.ts[keep], recent.ts]),
                          np.concatenate([older.value[keep], recent.value]),
                          np.concatenate([older.lo[keep], recent.lo]),
                          np.concatenate([older.hi[keep], recent.hi]), recent.step_s)

        def read(_state: TaskState) -> dict[str, Window]:
            return {n: window(n) for n in chosen}

        def done(windows: dict[str, Window]) -> None:
            if serial == self._serial:  # else the picks or the figure changed since
                self._draw(windows, start, end)

        self.page.ctx.tasks.run(read, owner=self, on_success=done, name="compare-sites-read")

    def _draw(self, windows: dict[str, Window], start: float, end: float) -> None:
        chosen = set(self.chosen())
        for name, w in windows.items():
            curve = self.panel.curves.get(name)
            if curve is None:
                colour = self._colours.setdefault(name, series_colour(len(self._colours)))
                curve = self.panel.add_series(name, SeriesStyle(self.site_of(name), colour,
                                                                visible=name in chosen))
            curve.buffer.set(w.ts, w.value, w.lo, w.hi, step_s=w.step_s)
        self.timeline.relayout()
        self.timeline.set_x_range(start, end)
        self.timeline.render()
        newest = [t for n in chosen if n in self.panel.curves
                  and (t := self.panel.curves[n].buffer.last_real_ts()) is not None]
        self.timeline.refresh_readouts(min(max(newest), end) if newest else end)
        if self.figure_metric() not in self._region_set:
            self._region_set.add(self.figure_metric())
            span = end - start
            self.timeline.show_region(end - span * 0.4, end - span * 0.02)
            self.rank()
        self.sig_drawn.emit(sum(1 for n in windows if n in chosen))

    # -- what moved first -----------------------------------------------------------------

    def show_window(self, start: float, end: float) -> None:
        """Put the shaded window on ``[start, end]`` and rank what moved there."""
        self._region_set.add(self.figure_metric())
        self.timeline.show_region(start, end)
        self.rank()

    def rank(self) -> None:
        region = self.timeline.region()
        if region is None or region[1] - region[0] < 2:
            return
        start, end = region
        data = {}
        for name in self.chosen():
            curve = self.panel.curves.get(name)
            if curve is not None:
                ts, values = curve.buffer.finite(start - (end - start), end)
                data[name] = (np.array(ts), np.array(values))
        humans = {n: f"{self.site_of(n)} {dict(FIGURES)[self.figure_metric()]}" for n in data}
        units = dict.fromkeys(data, self.panel.spec.unit)
        colours = {n: self.panel.curves[n].style.colour for n in data}
        if self._task is not None:
            self._task.cancel()
        self.moved.show_busy()

        def done(movers: list[Mover]) -> None:
            self._task = None
            self.movers = movers
            self.moved.show_movers(movers, humans, units, colours)
            self.sig_ranked.emit(movers)

        self._task = self.page.ctx.tasks.run(lambda _s: rank_movers(data, start, end),
                                             owner=self, on_success=done,
                                             name="compare-sites-moved")

    def done(self, result: int) -> None:
        self._timer.stop()
        super().done(result)
