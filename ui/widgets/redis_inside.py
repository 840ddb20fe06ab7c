"""Redis, inside: slow log, clients, memory by key pattern, keyspace, evictions and expiries."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import metrics
from console.domain import series_name
from ui.charts.time_axis import TimeAxis
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_label, set_plain_text
from ui.theme import LIGHT, SERIES
from ui.widgets.db_views import rows_table, size_text

if TYPE_CHECKING:
    from services.diagnostics.redis_inside import RedisInside, RedisReadings, RedisTools

SLOWLOG_COLUMNS = ("When", "Duration ms", "Command", "Client")
CLIENT_COLUMNS = ("Address", "Name", "Age", "Idle", "DB", "Last command")
PATTERN_COLUMNS = ("Key pattern", "Sampled keys", "Sampled size", "Estimated keys",
                   "Estimated size", "Share")
KEYSPACE_COLUMNS = ("DB", "Keys", "With a TTL", "Mean TTL")
#: The chart of evictions and expiries reaches back this far in the live store.
CHART_WINDOW_S = 3600.0
CHARTED = ((metrics.EVICTIONS_RATE, "evicted keys/s"), (metrics.EXPIRIES_RATE, "expired keys/s"))


def duration_text(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


class RedisInsideView(QWidget):
    """Every Redis source of the profile, read on Refresh off the GUI thread; evictions and
    expiries per second charted from the live store (the Redis source's own readings)."""

    EMPTY = ("Press Refresh to read the slow log, the clients, memory by key pattern (a "
             "bounded SCAN sample, never KEYS) and the keyspace of each Redis source.")

    def __init__(self, profile: Any, tasks: Any = None, store: Any = None, *,
                 tools: RedisTools, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tools = tools
        self._profile = profile
        self._tasks = tasks
        self._store = store
        self._handle: Any = None
        self.readings = tools.empty()

        self.source_combo = QComboBox()
        self.source_combo.currentIndexChanged.connect(self._show_current)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read every Redis source again (a few commands each)")
        self.refresh_button.clicked.connect(self.refresh)
        self.state = plain_label()
        self.state.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(QLabel("Redis"))
        top.addWidget(self.source_combo)
        top.addStretch(1)
        top.addWidget(self.state)
        top.addWidget(self.refresh_button)

        self.summary = plain_label(self.EMPTY)
        self.summary.setWordWrap(True)
        self.error = plain_label()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.slowlog = RowsTableModel(SLOWLOG_COLUMNS, self)
        self.clients = RowsTableModel(CLIENT_COLUMNS, self)
        self.patterns = RowsTableModel(PATTERN_COLUMNS, self)
        self.keyspace = RowsTableModel(KEYSPACE_COLUMNS, self)
        self.slowlog_note = self._note()
        self.sample_note = self._note()
        self.chart_note = self._note()
        self.chart = pg.PlotWidget(axisItems={"bottom": TimeAxis(LIGHT)})
        self.chart.setBackground(LIGHT.base)
        self.chart.showGrid(x=False, y=True, alpha=0.2)
        self.chart.addLegend(offset=(10, 5))
        self.chart.setLabel("left", "keys per second")
        self.curves = {metric: self.chart.plot([], [], name=words,
                                               pen=pg.mkPen(SERIES[i], width=2))
                       for i, (metric, words) in enumerate(CHARTED)}
        self.tabs = QTabWidget()
        self.tabs.addTab(self._page(self.slowlog_note, rows_table(self.slowlog, 2)), "Slow log")
        self.tabs.addTab(rows_table(self.clients, 5), "Clients")
        self.tabs.addTab(self._page(self.sample_note, rows_table(self.patterns, 0)),
                         "Memory by key pattern")
        self.tabs.addTab(rows_table(self.keyspace, 0), "Keyspace")
        self.tabs.addTab(self._page(self.chart_note, self.chart), "Evictions and expiries")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        self._fill_sources()

    @staticmethod
    def _note() -> QLabel:
        note = plain_label()
        note.setObjectName("muted")
        note.setWordWrap(True)
        return note

    @staticmethod
    def _page(note: QLabel, body: QWidget) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(note)
        box.addWidget(body, 1)
        return page

    def _fill_sources(self) -> None:
        names = [s.name for s in self._tools.sources(self._profile)]
        self.source_combo.blockSignals(True)
        self.source_combo.clear()
        self.source_combo.addItems(names)
        self.source_combo.blockSignals(False)
        self.refresh_button.setEnabled(bool(names))
        if not names:
            set_plain_text(self.summary, "This profile has no Redis source. Add one in Settings "
                           "(kind redis, or celery-redis for a Celery broker on Redis).")

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every Redis source of the profile again, off the GUI thread."""
        if (self._handle is not None and not self._handle.done) or self._tasks is None:
            return
        self.state.setText("Reading…")
        self.refresh_button.setEnabled(False)
        profile, tools = self._profile, self._tools

        def work(state: Any) -> RedisReadings:
            return tools.read(profile, cancelled=lambda: state.cancelled)

        self._handle = self._tasks.run(work, owner=self, on_success=self.show_readings,
                                       on_failure=self._failed, name="redis-inside")

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self.refresh_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.state.setText("")
        set_plain_text(self.error, f"Could not read Redis: {exc}")
        self.error.setVisible(True)

    def show_readings(self, readings: RedisReadings) -> None:
        self.refresh_button.setEnabled(True)
        self.readings = readings
        self._show_current()

    def _current(self) -> RedisInside | None:
        name = self.source_combo.currentText()
        return next((r for r in self.readings.sources if r.source == name), None)

    def _show_current(self) -> None:
        inside = self._current()
        name = self.source_combo.currentText()
        problems = [p for p in self.readings.problems if p.startswith(f"{name}:")]
        if inside is not None:
            problems += list(inside.problems)
        set_plain_text(self.error, "\n".join(problems))
        self.error.setVisible(bool(problems))
        self.show_chart()
        if inside is None:
            self.state.setText("")
            for model in (self.slowlog, self.clients, self.patterns, self.keyspace):
                model.set_rows([])
            return
        set_plain_text(self.state, f"Redis {inside.server_version} · read in "
                       f"{inside.elapsed_ms:,.0f} ms")
        limit = (f"of {size_text(inside.maxmemory)}" if inside.maxmemory
                 else "(no maxmemory)")
        set_plain_text(self.summary, (
            f"{inside.where} · {size_text(inside.used_memory)} used {limit}, policy "
            f"{inside.maxmemory_policy or '?'} · since start {inside.evicted_keys:,} keys "
            f"evicted, {inside.expired_keys:,} expired · {len(inside.clients)} clients"))
        self._show_slowlog(inside)
        self.clients.set_rows([
            (c.addr + (" (this console)" if c.ours else ""), c.name, duration_text(c.age_s),
             duration_text(c.idle_s), str(c.db), c.cmd) for c in inside.clients])
        self._show_sample(inside)
        self.keyspace.set_rows([
            (f"db{d.db}" + (" (this source)" if d.db == inside.db else ""), f"{d.keys:,}",
             f"{d.expires:,}", duration_text(d.avg_ttl_ms / 1000) if d.avg_ttl_ms else "")
            for d in inside.keyspace])

    def _show_slowlog(self, inside: RedisInside) -> None:
        threshold = ("unknown (CONFIG refused)" if inside.slower_than_us is None
                     else f"{inside.slower_than_us / 1000:g} ms")
        kept = "" if inside.slowlog_len is None else f" of {inside.slowlog_len:,} kept"
        set_plain_text(self.slowlog_note, (
            f"Commands slower than {threshold} (slowlog-log-slower-than), newest first: "
            f"{len(inside.slowlog)} shown{kept}. The server cuts each argument at 128 bytes; "
            "the console cuts each command at 200 characters."))
        self.slowlog.set_rows([
            (time.strftime("%H:%M:%S", time.localtime(e.started)),
             f"{e.duration_us / 1000:,.2f}", e.command,
             " ".join(part for part in (e.client_addr, e.client_name) if part))
            for e in inside.slowlog])

    def _show_sample(self, inside: RedisInside) -> None:
        sample = inside.memory
        if sample is None:
            set_plain_text(self.sample_note, "No memory sample (see the message above).")
            self.patterns.set_rows([])
            return
        if sample.complete:
            how = f"Every key of db{sample.db} ({sample.keys_in_db:,}) measured."
        else:
            how = (f"A sample of {sample.sampled:,} of {sample.keys_in_db:,} keys in "
                   f"db{sample.db} ({sample.fraction:.1%}): the first keys SCAN gave (hash "
                   f"order), {sample.scan_calls} SCAN calls, never KEYS; estimates scale each "
                   f"pattern by {1 / sample.fraction if sample.fraction else 0:,.1f}×.")
        set_plain_text(self.sample_note, how + " Sizes from MEMORY USAGE … SAMPLES 5.")
        total = sum(p.sampled_bytes for p in sample.patterns) or 1
        self.patterns.set_rows([
            (p.pattern, f"{p.sampled_keys:,}", size_text(p.sampled_bytes),
             f"{p.estimated_keys:,.0f}", size_text(int(p.estimated_bytes)),
             f"{p.sampled_bytes / total:.0%}") for p in sample.patterns])

    # -- evictions and expiries over time ----------------------------------------------------
    def show_chart(self, now: float | None = None) -> int:
        """Draw the current source's evictions and expiries per second from the live store;
        the number of points drawn."""
        name = self.source_combo.currentText()
        now = time.time() if now is None else now
        drawn = 0
        for metric, curve in self.curves.items():
            xs: list[float] = []
            ys: list[float] = []
            if self._store is not None and name:
                window = self._store.window(series_name(name, metric), now - CHART_WINDOW_S,
                                            now, max_points=600)
                pairs = [(t, v) for t, v in zip(window.ts.tolist(), window.value.tolist(),
                                                strict=True) if math.isfinite(v)]
                xs, ys = [t for t, _ in pairs], [v for _, v in pairs]
            curve.setData(xs, ys)
            drawn += len(xs)
        set_plain_text(self.chart_note, (
            f"Keys {name} evicted (maxmemory reached) and expired (TTL ran out) per second, "
            "the last hour of the source's own readings (kept in the local history too)."
            if drawn else
            f"No readings yet: the poller reads {name or 'the Redis source'} at its interval, "
            "and the rates appear from the second reading on."))
        return drawn
