"""Compare sites: one figure of 2 to 8 sites or shops on one chart, and which moved first."""

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
from ui.charts.feed import Window
from ui.charts.movers import MoversPanel
from ui.charts.panel import ChartPanel
from ui.charts.panel_parts import PanelSpec, SeriesStyle
from ui.charts.timeline import Timeline
from ui.charts.units import unit_for
from ui.pages.dashboard.compare_lines import (
    FIGURES,
    ShopLines,
    SiteLines,
    shop_reads,
    worth_comparing,
)
from ui.pages.overview import REFRESH_S as SHOPS_REFRESH_S
from ui.pages.overview import open_shop_outside_folder
from ui.plain_text import plain_label, plain_tooltip
from ui.theme import series_colour

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

MIN_COMPARED = 2
MAX_COMPARED = 8
#: How often the chart reads the store again while it is open.
REFRESH_MS = 2000
_SERIES = Qt.ItemDataRole.UserRole


class CompareSites(QDialog):
    """Pick two to eight sites (the groups of a grouped source, or whole sources: a shop
    per source) or whole shops (every profile, as All shops reads them) and one figure:
    their lines share one chart, one time axis (the dashboard's range; for shops, the time
    the console has been reading them) and one unit. A shaded window on the chart ranks
    which of them moved first (:func:`console.correlate.rank_movers` against the window
    before it). Reads run off the GUI thread, owned by the dialog."""

    sig_drawn = pyqtSignal(int)
    """Emitted with the number of lines drawn after each read."""
    sig_ranked = pyqtSignal(object)
    """Emitted with the list of :class:`~console.correlate.Mover` for the shaded window."""
    sig_shops_read = pyqtSignal(int)
    """Emitted with the number of shops after each read of every shop made for this window."""

    def __init__(self, page: DashboardPage) -> None:
        super().__init__(page)
        self.page = page
        self.book = page.sites.book
        overview = shop_reads(page)
        self.site_lines = SiteLines(page)
        self.shop_lines = ShopLines(overview) if overview is not None else None
        self.lines: SiteLines | ShopLines = self.site_lines
        if not worth_comparing(page.ctx.profile) and self.shop_lines is not None:
            self.lines = self.shop_lines
        self.setWindowTitle("Compare sites")
        self.resize(1280, 760)
        self.movers: list[Mover] = []
        self._colours: dict[str, str] = {}
        self._task: Any = None
        self._shops_task: Any = None
        self._serial = 0  # numbers the reads; an answer to an older one is dropped
        self._region_set: set[tuple[str, str]] = set()  # charts with their shaded window
        self._charts: dict[tuple[str, str], Timeline] = {}  # one per (noun, figure)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._tick()
        self.list_sites()

    def _build(self) -> None:
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.what = QComboBox()
        self.what.addItem("Sites of this shop", "site")
        if self.shop_lines is not None:
            self.what.addItem("Shops (every profile)", "shop")
        self.what.setCurrentIndex(self.what.findData(self.lines.noun))
        self.what.setToolTip("Sites: this profile's own. Shops: every profile in the config "
                             "folder, as All shops reads them (every 15 s, the last hour kept)")
        self.what.currentIndexChanged.connect(lambda _i: self._what_changed())
        self.figure = QComboBox()
        self._fill_figures()
        self.figure.currentIndexChanged.connect(lambda _i: self.list_sites())
        self.sites = QListWidget()
        self.sites.itemChanged.connect(self._picked)
        self.hint = plain_label(self._pick_words())
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.worst_button = QPushButton(f"The {MAX_COMPARED} worst")
        self.worst_button.clicked.connect(self.pick_worst)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self.pick([]))
        buttons = QHBoxLayout()
        buttons.addWidget(self.worst_button)
        buttons.addWidget(self.clear_button)
        self.what_label = QLabel("Compare")
        left.addWidget(self.what_label)
        left.addWidget(self.what)
        left.addWidget(QLabel("Figure"))
        left.addWidget(self.figure)
        self.list_label = QLabel()
        left.addWidget(self.list_label)
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
        self._show_what()

    def _show_what(self) -> None:
        """The Compare choice only where both are offered; the list's words for the choice."""
        both = worth_comparing(self.page.ctx.profile) and self.shop_lines is not None
        self.what.setVisible(both)
        self.what_label.setVisible(both)
        self.list_label.setText(f"{self.lines.noun.capitalize()}s, worst first")

    def _fill_figures(self) -> None:
        metric = self.figure.currentData()
        self.figure.blockSignals(True)
        self.figure.clear()
        for figure, words in self.lines.figures():
            self.figure.addItem(words, figure)
        self.figure.setCurrentIndex(max(0, self.figure.findData(metric)))
        self.figure.blockSignals(False)

    def _what_changed(self) -> None:
        """Sites or shops: another list, another chart; nothing picked carries over."""
        wanted = self.shop_lines if self.what.currentData() == "shop" else self.site_lines
        if wanted is None or wanted is self.lines:
            return
        self.lines = wanted
        self._fill_figures()
        self._show_what()
        self.sites.clear()
        self._tick()
        self.list_sites()

    def _pick_words(self) -> str:
        return f"Pick {MIN_COMPARED} to {MAX_COMPARED} {self.lines.noun}s."

    def _spec(self) -> PanelSpec:
        metric = self.figure_metric()
        unit = unit_for(metric)
        ratio = metric in m.RATIO_METRICS
        return PanelSpec("compare", f"{dict(FIGURES)[metric]} by {self.lines.noun}", unit,
                         y_floor=0.0, y_ceiling=100.0 if ratio else None, metrics=(metric,),
                         min_span=1.0 if ratio else 5.0)

    def figure_metric(self) -> str:
        return str(self.figure.currentData())

    def _chart_key(self) -> tuple[str, str]:
        return self.lines.noun, self.figure_metric()

    @property
    def timeline(self) -> Timeline:
        """The chart of the chosen figure (each figure its own, in its own unit)."""
        key = self._chart_key()
        chart = self._charts.get(key)
        if chart is None:
            chart = self._charts[key] = Timeline(self.page.theme)
            chart.add_panel(self._spec())
            chart.sig_region_changed.connect(lambda *_: self.rank())
            self.stack.addWidget(chart)
        return chart

    @property
    def panel(self) -> ChartPanel:
        return self.timeline.panels[0]

    # -- the sites ------------------------------------------------------------------------

    def _tick(self) -> None:
        """Every 2 s: the picked lines again; comparing shops, a read of every shop when
        one is due at All shops' pace (the same read All shops makes, shared)."""
        if self.lines is self.shop_lines and self.shop_lines is not None and (
                self._shops_task is None or self._shops_task.done):
            overview, ctx = self.shop_lines.overview, self.page.ctx
            self._shops_task = ctx.tasks.run(
                lambda _s: overview.read_if_due(ctx.local.config_dir(),
                                                open_shop_outside_folder(ctx),
                                                SHOPS_REFRESH_S),
                owner=self, on_success=self._shops_read, name="compare-shops-read")
        self.read()

    def _shops_read(self, rows: list[Any]) -> None:
        self.sig_shops_read.emit(len(rows))
        if self.lines is self.shop_lines:
            self.list_sites()

    def list_sites(self) -> None:
        """The sites (or shops) that have the chosen figure, worst first with their latest
        value (read off the GUI thread)."""
        self.page.ctx.tasks.run(self.lines.lister(self.figure_metric()), owner=self,
                                on_success=self._listed, name="compare-sites-list")

    def _listed(self, ranked: list[tuple[str, float | None]]) -> None:
        kept = {self.site_of(s) for s in self.chosen()}
        unit = unit_for(self.figure_metric())
        self.stack.setCurrentWidget(self.timeline)
        self.sites.blockSignals(True)
        self.sites.clear()
        for name, latest in ranked:
            site = self.site_of(name)
            value = unit.format(latest) if latest is not None and np.isfinite(latest) \
                else "no reading"
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
            self.hint.setText(self.lines.empty_words())

    def site_of(self, series: str) -> str:
        """'site-7', 'site-7 orders', 'chain (all sites)'; a shop as All shops names it."""
        return self.lines.label(series)

    def items(self) -> list[QListWidgetItem]:
        return [item for i in range(self.sites.count()) if (item := self.sites.item(i))]

    def chosen(self) -> list[str]:
        """The lines of the picked sites, in the list's order."""
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
        """The first :data:`MAX_COMPARED` of the list (a chain's whole left out)."""
        sites = [str(item.data(_SERIES)) for item in self.items()]
        sites = [s for s in sites if not self.lines.is_whole(s)]
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
        noun = self.lines.noun
        if len(chosen) < MIN_COMPARED:
            self.hint.setText(self._pick_words())
        elif full:
            self.hint.setText(f"{MAX_COMPARED} {noun}s picked: the most one chart compares.")
        else:
            self.hint.setText(f"{len(chosen)} {noun}s picked.")
        for name, curve in self.panel.curves.items():
            if curve.style.visible != (name in chosen):
                self.panel.set_visible(name, name in chosen)
        self.read()

    # -- the chart ------------------------------------------------------------------------

    def read(self) -> None:
        """Read the picked lines over the time axis (off the GUI thread)."""
        chosen = self.chosen()
        self._serial += 1
        if len(chosen) < MIN_COMPARED:
            self.sig_drawn.emit(0)
            return
        start, end = self.lines.time_range()
        serial = self._serial
        read = self.lines.reader(chosen, start, end, self.timeline.columns())

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
        if self._chart_key() not in self._region_set:
            self._region_set.add(self._chart_key())
            span = end - start
            self.timeline.show_region(end - span * 0.4, end - span * 0.02)
            self.rank()
        self.sig_drawn.emit(sum(1 for n in windows if n in chosen))

    # -- what moved first -----------------------------------------------------------------

    def show_window(self, start: float, end: float) -> None:
        """Put the shaded window on ``[start, end]`` and rank what moved there."""
        self._region_set.add(self._chart_key())
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
