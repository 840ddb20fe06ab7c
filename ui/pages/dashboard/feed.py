"""The dashboard's chart feed: what changed in the store since the last read, and the history."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ui.charts.feed import DataRequest, DataUpdate, Tail, Window, read_data
from ui.charts.panel import ChartPanel
from ui.charts.panel_parts import SeriesCurve
from ui.pages.dashboard.routing import SeriesRouter
from ui.worker import TaskState

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

log = logging.getLogger(__name__)

#: After a restart the store holds the last day (refilled from history); older is on disk.
MEMORY_REACH_S = 86_400.0
#: How long one read may spend giving new series their curves (a source with 1,001 series
#: at once: the rest in the next reads, each well inside a frame at 60 Hz).
ADOPT_SLICE_S = 0.002
#: Following live, the view moves at most this often (a pixel at most, on the 5 min range):
#: a repaint of every chart is the costliest thing the page does, and at the data tick's
#: 5 Hz it was most of the console's idle cost (bench_idle_cost).
LIVE_MOVE_S = 1.0

#: Runs a read of the store or the poller: ``run(read, on_success, on_failure, name)``.
ReadRunner = Callable[[Callable[[], Any], Callable[[Any], None],
                       Callable[[BaseException], None], str], None]


def read_in_step(read: Callable[[], Any], on_success: Callable[[Any], None],
                 _on_failure: Callable[[BaseException], None], _name: str) -> None:
    """Read and apply at once on the calling thread (benchmarks and tests read in step)."""
    on_success(read())


class ChartFeed:
    """Keeps the charts' curves in step with the store (and the history for older ranges).

    A tick asks the store for the series changed since the last read; the answer lands in
    the curves and only those are redrawn. A range switch (a new generation) drops answers
    for the old range.
    """

    def __init__(self, page: DashboardPage, router: SeriesRouter) -> None:
        self.page = page
        self.router = router
        self.history_note = ""
        self._version = -1
        self.loaded: tuple[float, float] | None = None
        self._history: dict[str, tuple[npt.NDArray[np.float64], ...]] = {}
        self.history_task: Any = None
        self._known: set[str] = set()  # series seen by the tick (charted or not)
        self.drawn = False
        """Readings have been drawn on the charts (once: the log says when)."""
        self.to_adopt: list[str] = []  # seen, waiting for their curves
        self._curves: dict[str, SeriesCurve] = {}
        self._latest_seen: dict[str, float] = {}  # newest reading's time at the last tick
        self.behind: set[str] = set()  # hidden series not read since they changed
        self.full_pending: set[str] = set()  # shown series to read over the whole range
        self._generation = 0  # grows with each range switch; older answers are dropped
        self._serial = 0  # numbers the reads of the store
        self.data_busy = False
        self._uncharted: set[str] = set()  # series no chart shows (up, status_code...)
        self._layout_due = False  # series were given curves since the panels were laid out

    def older(self, names: Iterable[str]) -> dict[str, tuple[npt.NDArray[np.float64], ...]]:
        """What the history gave for these series (before the store's part), by name."""
        return {name: self._history[name] for name in names if name in self._history}

    def charted(self) -> list[tuple[ChartPanel, SeriesCurve]]:
        return [(p, c) for p in self.page.timeline.made_panels() for c in p.curves.values()]

    def series_toggled(self, series: str, shown: bool) -> None:
        """A series was shown from a chart's chooser: read it if it fell behind."""
        if not shown:
            return
        curve = self._curves.get(series)
        if series in self.behind or curve is None or len(curve.buffer) == 0:
            self.behind.discard(series)
            self.full_pending.add(series)
            self.page.read_soon.request()
        self.page.timeline.render([series])

    def _load_range(self) -> tuple[float, float]:
        # no padding to the left: the store serves a range from the finest tier that
        # reaches back to its start, and "the last hour" must get the 1 s tier
        page = self.page
        start, end = page.view_range()
        return start, (page.clock() if page.live else end)

    def _history_wanted(self) -> bool:
        load_start = (self.loaded or self._load_range())[0]
        return (self.page.ctx.history is not None
                and load_start < self.page.clock() - MEMORY_REACH_S)

    def reload(self) -> None:
        """Load every shown series for the current range (store, and history if older)."""
        page = self.page
        self._generation += 1
        self.loaded = self._load_range()
        self._history.clear()
        if self.history_task is not None:
            self.history_task.cancel()
            self.history_task = None
        for _panel, curve in self.charted():
            if curve.style.visible:
                self.full_pending.add(curve.series)
            else:
                self.behind.add(curve.series)
        start, end = page.view_range()
        page.timeline.set_x_range(start, end)
        page.timeline.render()
        if self._history_wanted():
            self._load_history()
        else:
            self.history_note = ""
        self.data_busy = False  # an answer for the old range is dropped when it comes
        self.tick()
        page.update_status()

    def _adopt_some(self) -> None:
        """Give waiting series their curves for at most :data:`ADOPT_SLICE_S` (the panel
        layout, when a chart first shows, counted in it); the rest at the next read."""
        deadline = time.perf_counter() + ADOPT_SLICE_S
        taken = 0
        while taken < len(self.to_adopt) and (taken == 0 or time.perf_counter() < deadline):
            taken += 1
            self._adopt_new_series(self.to_adopt[taken - 1:taken], layout=False)
        del self.to_adopt[:taken]
        self._lay_out()

    def _adopt_new_series(self, names: Iterable[str], layout: bool = True) -> None:
        added = False
        for name in names:
            curve = self.router.curve(name)
            if curve is None:
                self._uncharted.add(name)
                continue
            self._curves[name] = curve
            added = True
            if curve.style.visible:
                self.full_pending.add(name)
            else:
                self.behind.add(name)
        if added:
            self._layout_due = True
            if layout:
                self._lay_out()

    def _lay_out(self) -> None:
        """Show the panels that gained series (once per read, not once per series)."""
        if not self._layout_due:
            return
        self._layout_due = False
        page = self.page
        page.timeline.relayout()
        page.markers.set_thresholds()
        page.charts.setCurrentWidget(page.chart_card)

    # -- reading the store (off the GUI thread) -----------------------------------------------

    def _data_request(self) -> DataRequest:
        page = self.page
        if self.loaded is None:
            self.loaded = self._load_range()
        start, end = self.loaded
        tails = {}
        for name, curve in self._curves.items():
            buf = curve.buffer
            if not curve.style.visible or name in self.full_pending:
                continue
            last = buf.last_real_ts()
            if last is not None:
                tails[name] = Tail(last, self._latest_seen.get(name), buf.step_s,
                                   buf.typical_step_s)
        memory_from = max(start, page.clock() - MEMORY_REACH_S) if self._history_wanted() \
            else None
        self._serial += 1
        return DataRequest(self._generation, self._version, start,
                           None if page.live else end, page.clock(), tails,
                           frozenset(self.full_pending), memory_from, self._serial)

    def tick(self) -> None:
        """Ask the store what changed since the last read (on a worker thread, so the GUI
        never waits on its lock) and redraw only that when the answer comes."""
        store = self.page.store
        if store is None:
            self.page.show_empty()
            return
        if self.data_busy:
            return  # the answer of the last read is on its way: the next tick reads again
        request = self._data_request()
        self.data_busy = True
        self.page.run_read(lambda: read_data(store, request), self._apply_data,
                           self._read_failed, "dashboard-read")

    def _read_failed(self, exc: BaseException) -> None:
        self.data_busy = False
        log.warning("reading the metric store failed: %s", exc)

    def _apply_data(self, update: DataUpdate) -> None:
        page = self.page
        if update.serial != self._serial:
            return  # a newer read was asked for since (a range switch): that one counts
        self.data_busy = False
        if update.generation != self._generation:
            return  # read for a range no longer shown; the version stays, nothing is lost
        self._version = update.version
        self._latest_seen.update(update.seen)
        new = update.changed - self._known
        if new:
            self._known |= new
            self.to_adopt += sorted(new)
        if self.to_adopt:
            self._adopt_some()
            if self.to_adopt:
                page.read_soon.request()  # the rest in a moment
        dirty: list[str] = []
        for name, w in update.full.items():
            curve = self._curves.get(name)
            if curve is None:
                continue
            self.full_pending.discard(name)
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
                self.behind.add(name)  # read when it is shown
        if self.loaded is not None:
            load_start = self.loaded[0]
            for name in dirty:
                buf = self._curves[name].buffer
                first = buf.first_ts()
                if first is not None and first < load_start - page.span_s:
                    buf.trim_before(load_start)
        timeline = page.timeline
        if not timeline.shown_panels():
            page.show_empty()
            return
        moved = False
        if page.live:
            start, end = page.view_range()
            if self.loaded is not None:
                self.loaded = (self.loaded[0], end)
            shown_end = timeline.x_range()[1]
            # move the view only when it moves by a pixel or more (24 h: 100 s a pixel),
            # and a second or more: a repaint of every chart is the costliest thing the
            # page does
            if abs(end - shown_end) >= max(page.span_s / timeline.columns(), LIVE_MOVE_S):
                timeline.set_x_range(start, end)
                moved = True
        if dirty or moved:
            timeline.render(dirty)
        if dirty and not self.drawn:
            self.drawn = True  # the log tells how long a start took to show data
            log.info("the dashboard drew its first readings (%d series)", len(dirty))
        if self.full_pending:
            page.read_soon.request()

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

    # -- history ----------------------------------------------------------------------------

    def _load_history(self) -> None:
        """Older than memory holds: read the history (and the store's part, so both arrive
        together) on a worker thread, then show the series whole."""
        page = self.page
        history = page.ctx.history
        if history is None or self.loaded is None:
            return
        start, end = self.loaded
        now = page.clock()
        cut = min(now - MEMORY_REACH_S + 60, end)
        names = [c.series for _p, c in self.charted() if c.style.visible]
        columns = page.timeline.columns()
        store = page.store
        generation = self._generation
        days = (cut - start) / 86_400
        self.history_note = f"Loading {days:.1f} days from history…"
        page.update_status()

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
            self.history_task = None
            older, recent, gen = result
            if gen != self._generation:
                return
            for name, w in older.items():
                self._history[name] = (w.ts, w.value, w.lo, w.hi)
            for name, w in recent.items():
                curve = self._curves.get(name)
                if curve is not None:
                    self.full_pending.discard(name)
                    self._set_buffer(curve, w)
            page.timeline.render()
            filled = sum(1 for w in older.values() if np.isfinite(w.value).any())
            self.history_note = (f"{filled} series from history" if filled
                                 else "No history on disk for this range yet")
            page.update_status()
            page.sig_history_loaded.emit(filled)

        def failed(exc: BaseException) -> None:
            self.history_task = None
            self.history_note = f"History could not be read: {exc}"
            page.update_status()

        self.history_task = page.ctx.tasks.run(work, owner=page, on_success=done,
                                               on_failure=failed, name="dashboard-history")
