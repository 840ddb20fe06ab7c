"""The Diagnostics page: run the sweep, read findings, database views, profiles, export reports."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain import split_series
from console.report_charts import Chart, line_chart
from console.report_html import latency_chart, render_html
from ui.context import AppContext
from ui.file_dialogs import ask_save_path
from ui.plain_text import plain_label, set_plain_text
from ui.shortcuts import SWEEP_KEYS
from ui.theme import LIGHT, SERIES, state_colour
from ui.widgets.celery_inside import CeleryInsideView
from ui.widgets.db_views import DbViews
from ui.widgets.own_cost import OwnCostView
from ui.widgets.pstats_browser import PstatsBrowser
from ui.widgets.redis_inside import RedisInsideView
from ui.widgets.sweep_table import FindingsList, SweepTable

if TYPE_CHECKING:
    from console.store import MetricStore
    from services.diagnostics.sweep import SweepResult
    from ui.worker import TaskState

log = logging.getLogger(__name__)

#: Requests per probe in a GUI sweep (the CLI's default is 5; the GUI wants an answer fast).
SWEEP_SAMPLES = 3
#: Series of the live store drawn as charts in exported reports (metric name suffixes).
CHART_METRICS = (("latency_p95", "p95 latency", 1000.0, "ms"),
                 ("cache_hit_rate", "cache hit rate", 100.0, "%"),
                 ("queue_depth", "queue depth", 1.0, ""))
CHART_WINDOW_S = 3600.0

EMPTY_SWEEP = (f"No sweep yet. Press “Run sweep” ({SWEEP_KEYS}) to check every probe and source at "
               "once: reachability, TLS certificates, latency, health, database, cache and "
               "broker. The advisor then says what is wrong and what to do.")


class DiagnosticsPage(QWidget):
    """One button for "the site is slow": the sweep, its findings and the evidence."""

    sig_sweep_finished = pyqtSignal(object)
    """Emitted with the :class:`SweepResult` when a sweep ends."""
    sig_sweep_failed = pyqtSignal(str)
    """Emitted with the message shown when a sweep could not run."""
    sig_exported = pyqtSignal(str)
    """Emitted with the path of a report or bundle once written."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.setStyleSheet(f"QPushButton:disabled {{ color: {LIGHT.muted}; }}")
        self.ctx = ctx
        self.result: SweepResult | None = None
        self._handle: Any = None

        title = QLabel("Diagnostics")
        title.setObjectName("pageTitle")
        self.status_chip = QLabel("")
        self.status_chip.setVisible(False)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.run_button = QPushButton("Run sweep")
        self.run_button.setProperty("primary", True)
        self.run_button.setToolTip(f"Check every probe and source now ({SWEEP_KEYS})")
        self.run_button.clicked.connect(self.run_sweep)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_sweep)
        self.html_button = QPushButton("Export HTML…")
        self.html_button.clicked.connect(lambda _checked: self.export_html())
        self.json_button = QPushButton("Export JSON…")
        self.json_button.clicked.connect(lambda _checked: self.export_json())
        self.bundle_button = QPushButton("Support bundle…")
        self.bundle_button.setToolTip("One zip for support: report, last hour of metrics, log, "
                                      "profile and versions, every secret removed")
        self.bundle_button.clicked.connect(lambda _checked: self.export_bundle())
        header = QHBoxLayout()
        header.addWidget(title)
        header.addWidget(self.status_chip)
        header.addWidget(self.summary, 1)
        for button in (self.run_button, self.cancel_button, self.html_button, self.json_button,
                       self.bundle_button):
            header.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress_text = plain_label()
        self.progress_text.setObjectName("muted")
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_text)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_box.setVisible(False)
        self.message = plain_label()
        self.message.setWordWrap(True)
        self.message.setVisible(False)

        self.table = SweepTable()
        self.findings = FindingsList()
        findings_box = QWidget()
        findings_layout = QVBoxLayout(findings_box)
        findings_layout.setContentsMargins(0, 6, 0, 0)
        findings_title = QLabel("Findings")
        findings_title.setStyleSheet("font-weight: 600; font-size: 14px;")
        findings_layout.addWidget(findings_title)
        findings_layout.addWidget(self.findings, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(findings_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter
        self.empty = QLabel(EMPTY_SWEEP)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.sweep_stack = QStackedWidget()
        self.sweep_stack.addWidget(self.empty)
        self.sweep_stack.addWidget(splitter)

        self.db_views = DbViews(ctx.profile, ctx.tasks, ctx.diagnostics)
        self.pstats = PstatsBrowser(ctx.tasks, pyspy=ctx.diagnostics.pyspy_tools())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.sweep_stack, "Sweep")
        self.tabs.addTab(self.db_views, "Database")
        self.tabs.addTab(self.pstats, "Profiler")
        self.tabs.addTab(RedisInsideView(ctx.profile, ctx.tasks, ctx.store,
                                        tools=ctx.diagnostics.redis_tools()), "Redis")
        self.tabs.addTab(CeleryInsideView(ctx.profile, ctx.tasks,
                                         tools=ctx.diagnostics.celery_tools()), "Celery")
        self.tabs.addTab(OwnCostView(ctx.store, ctx.tasks), "Backroom's own cost")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        self._set_running(False)

    # -- the sweep -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.done \
            and not self._handle.cancelled

    def run_sweep(self) -> None:
        """Start a sweep off the GUI thread (Ctrl+Shift+D); a second press while one runs is
        ignored."""
        if self.running:
            return
        profile = self.ctx.profile
        self.tabs.setCurrentIndex(0)
        self._show_message("")
        self._set_running(True)
        self.progress.setValue(0)
        self.progress_text.setText("Starting…")

        store, diagnostics = self.ctx.store, self.ctx.diagnostics
        recent = diagnostics.live_figures(store, profile) if store is not None else []

        def work(state: TaskState) -> SweepResult:
            return diagnostics.run_sweep(profile, samples=SWEEP_SAMPLES, progress=state.progress,
                                         cancelled=lambda: state.cancelled, recent=recent)

        self._handle = self.ctx.tasks.run(work, owner=self, on_success=self._on_result,
                                          on_failure=self._on_failure,
                                          on_progress=self._on_progress, name="sweep")

    def cancel_sweep(self) -> None:
        if self._handle is not None and not self._handle.done:
            self._handle.cancel()
        self._set_running(False)
        self._show_message("Sweep cancelled. Checks still under way end within their "
                           "timeouts; press “Run sweep” to start again.")

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 100))
        set_plain_text(self.progress_text, message)

    def _on_result(self, result: SweepResult) -> None:
        self._set_running(False)
        self.show_result(result)
        self.sig_sweep_finished.emit(result)

    def _on_failure(self, exc: BaseException) -> None:
        self._set_running(False)
        message = f"The sweep could not run: {exc}. Check the profile in Settings and try again."
        self._show_message(message, error=True)
        self.sig_sweep_failed.emit(message)

    def show_result(self, result: SweepResult) -> None:
        """Show a finished sweep: checks, findings, status, and the database views it read."""
        self.result = result
        self.table.set_checks(result.checks)
        self.findings.set_findings(result.findings)
        # the table as tall as its rows (up to 60 %), the findings below get the rest
        rows_height = (self.table.horizontalHeader().height()  # type: ignore[union-attr]
                       + sum(self.table.rowHeight(r) for r in range(len(result.checks))) + 8)
        total = max(1, sum(self.splitter.sizes()))
        table_height = min(rows_height, int(total * 0.6)) if total > 1 else rows_height
        self.splitter.setSizes([table_height, max(1, total - table_height)])
        self.sweep_stack.setCurrentIndex(1)
        status = result.status.value
        self.status_chip.setText(status.upper())
        self.status_chip.setStyleSheet(
            f"background: {state_colour(status)}; "
            f"color: {'#1d232b' if status == 'warn' else '#fff'};"
            " border-radius: 9px; padding: 1px 10px; font-weight: 600;")
        self.status_chip.setVisible(True)
        self.summary.setText(
            f"{len(result.checks)} checks, {len(result.findings)} findings · "
            f"took {result.duration_s:.1f} s · "
            f"{time.strftime('%H:%M:%S', time.localtime(result.finished_at))}")
        if result.insights or result.insight_problems:
            self.db_views.show_insights(result.insights, result.insight_problems)
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.progress_box.setVisible(running)
        has_result = self.result is not None
        for button in (self.html_button, self.json_button, self.bundle_button):
            button.setEnabled(has_result and not running)
        if not has_result:
            tip = f"Run a sweep first ({SWEEP_KEYS})"
            for button in (self.html_button, self.json_button, self.bundle_button):
                button.setToolTip(tip)

    def _show_message(self, text: str, *, error: bool = False) -> None:
        set_plain_text(self.message, text)
        self.message.setObjectName("errorText" if error else "muted")
        self.message.setStyleSheet(f"color: {state_colour('fail')};" if error else "")
        self.message.setVisible(bool(text))

    # -- exports -------------------------------------------------------------------------------
    def _ask_path(self, caption: str, suggested: str, pattern: str) -> Path | None:
        return ask_save_path(self, caption, suggested, pattern)

    def _suggested(self, suffix: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime())
        name = "".join(ch if ch.isalnum() else "-" for ch in str(self.ctx.profile.name)).strip("-")
        return f"backroom-{name.lower() or 'shop'}-{stamp}{suffix}"

    def charts(self) -> list[Chart]:
        """The report's charts: response time per check, and the last hour of the main
        series from the live store."""
        charts: list[Chart] = []
        if self.result is not None:
            chart = latency_chart(self.result)
            if chart is not None:
                charts.append(chart)
        store = self.ctx.store
        if store is not None:
            charts += store_charts(store)
        return charts

    def export_html(self, path: Path | None = None) -> Path | None:
        if self.result is None:
            return None
        path = path or self._ask_path("Export the report as HTML", self._suggested(".html"),
                                      "HTML (*.html)")
        if path is None:
            return None
        sections = self.ctx.diagnostics.report_sections(self.result.insights)
        text = render_html(self.result, sections=sections,
                           charts=self.charts(), versions=self._versions())
        return self._write(path, text)

    def export_json(self, path: Path | None = None) -> Path | None:
        if self.result is None:
            return None
        path = path or self._ask_path("Export the report as JSON", self._suggested(".json"),
                                      "JSON (*.json)")
        if path is None:
            return None
        return self._write(path, self.result.to_json() + "\n")

    def _write(self, path: Path, text: str) -> Path | None:
        try:
            self.ctx.local.replace_file(path, text.encode("utf-8"))
        except OSError as exc:  # UnusableFile's strerror says what the path is
            self._show_message(f"Could not write {path}: {exc.strerror or exc}. Choose another "
                               "folder.", error=True)
            return None
        self._show_message(f"Wrote {path}")
        self.sig_exported.emit(str(path))
        return path

    def export_bundle(self, path: Path | None = None) -> None:
        """Write the support bundle off the GUI thread; ``sig_exported`` tells when done."""
        result = self.result
        if result is None:
            return
        path = path or self._ask_path("Save a support bundle", self._suggested(".zip"),
                                      "Zip (*.zip)")
        if path is None:
            return
        charts = self.charts()
        profile, store, versions = self.ctx.profile, self.ctx.store, self._versions()
        diagnostics, target = self.ctx.diagnostics, path

        def work(_state: TaskState) -> Path:
            return diagnostics.write_bundle(target, result=result, profile=profile, store=store,
                                            versions=versions, charts=charts)

        self.bundle_button.setEnabled(False)
        self._show_message(f"Writing {path.name}…")

        def done(written: Path) -> None:
            self.bundle_button.setEnabled(True)
            self._show_message(f"Wrote {written}: attach it to the support ticket.")
            self.sig_exported.emit(str(written))

        def failed(exc: BaseException) -> None:
            self.bundle_button.setEnabled(True)
            self._show_message(f"Could not write the bundle: {exc}", error=True)

        self.ctx.tasks.run(work, owner=self, on_success=done, on_failure=failed, name="bundle")

    @staticmethod
    def _versions() -> list[tuple[str, str]]:
        return [("Qt", QT_VERSION_STR), ("PyQt", PYQT_VERSION_STR)]

    # -- what the main window calls ------------------------------------------------------------
    def refresh(self) -> None:
        """F5 or Ctrl+R: read the database views again (the sweep has its own shortcut)."""
        self.db_views.refresh()

    def on_shown(self) -> None:
        """Nothing to load on show: a sweep costs requests, so it waits for the user."""

    def shutdown(self) -> None:
        if self._handle is not None and not self._handle.done:
            self._handle.cancel()
        self.db_views.cancel()


# -- charts of the live store -----------------------------------------------------------------

def store_charts(store: MetricStore, *, now: float | None = None, window_s: float = CHART_WINDOW_S,
                 width: int = 760, height: int = 170) -> list[Chart]:
    """A line chart per main series (p95 latency, cache hit rate, queue depth) of the last
    hour that has data (drawn as SVG by the report)."""
    now = time.time() if now is None else now
    charts: list[Chart] = []
    for suffix, words, scale, unit in CHART_METRICS:
        for series in sorted(store.series_names()):
            # a queue's depth is 'broker/queue_depth{queue="celery"}': its labels are part of
            # its name, so the metric is matched without them
            source, metric, labels = split_series(series)
            if metric != suffix:
                continue
            window = store.window(series, now - window_s, now, max_points=width // 2)
            points = [(t, v * scale) for t, v in zip(window.ts.tolist(), window.value.tolist(),
                                                      strict=True) if math.isfinite(v)]
            if len(points) < 2:
                continue
            where = " ".join(f"{value}" for value in labels.values())
            title = f"{source} {where + ' ' if where else ''}{words}, last hour"
            last = points[-1][1]
            charts.append(line_chart(title, points, unit=unit, start=now - window_s, end=now,
                                     colour=SERIES[len(charts) % len(SERIES)],
                                     alt=f"{title}: now {last:,.1f} {unit}".strip(),
                                     width=width, height=height))
    return charts
