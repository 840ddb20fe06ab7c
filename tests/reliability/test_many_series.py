"""A source with 100,000 label sets: the console keeps 1,000 of them, warns, stays small and
moving (memory and the GUI thread's longest wait measured with the real dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from PyQt6.QtWidgets import QApplication, QWidget

from console.domain import split_series
from console.profile import Profile, Source
from console.store import MetricStore
from services.collectors import build_collectors
from services.poller import Poller
from tests.benchmarks.bench_gui_wait import _lateness
from tests.reliability.support import many_queues_page, peak_rss_bytes, reset_peak_rss, rss_bytes
from ui.context import AppContext
from ui.pages.dashboard import DashboardPage
from ui.worker import TaskRunner

pytestmark = [pytest.mark.integration, pytest.mark.gui, pytest.mark.slow]

QUEUES = 100_000
LIMIT = 1000
MEASURE_S = 15.0
MIB = 1024 * 1024


@dataclass
class _Services:
    profile: Any
    store: Any
    poller: Any = None
    history: Any = None
    alerts: Any = None


def test_a_page_of_100000_queues_keeps_the_gui_small_and_moving(qtbot, qapp: QApplication
                                                                 ) -> None:
    """The lateness of a 10 ms timer on the GUI thread is measured from the poller's start:
    the first scrape, the dashboard taking in 1,001 new series, and the scrapes after."""
    with many_queues_page(QUEUES) as url:
        profile = Profile(name="Huge page", sources=(
            Source(name="web", kind="prometheus", url=url, interval_s=4.0, timeout_s=30.0),))
        store = MetricStore()
        poller = Poller(build_collectors(profile), store, series_limits={"web": LIMIT})
        tasks = TaskRunner()
        host = QWidget()
        qtbot.add_widget(host)
        host.resize(1400, 900)
        page = DashboardPage(AppContext(_Services(profile, store, poller), tasks, {}), host)
        page.resize(1400, 900)
        host.show()
        before = rss_bytes() or 0
        reset_peak_rss()
        poller.start()
        try:
            # from the start: the first scrape, 1,001 new series on the dashboard, more scrapes
            late = _lateness(qapp, MEASURE_S)
            qtbot.waitUntil(lambda: "web" in page.tiles.tiles
                            and page.tiles.tiles["web"].warning.isVisible(), timeout=90_000)
            peak = peak_rss_bytes() or 0
            warning = page.tiles.tiles["web"].warning.toolTip()
            depths = [n for n in store.series_names() if split_series(n)[1] == "queue_depth"]
            curves = len(page.timeline.panel("queue").curves)
        finally:
            poller.stop()
            page.shutdown()
            tasks.shutdown()
    late_ms = sorted(x * 1000 for x in late)
    print(f"\n{QUEUES:,} queue label sets, limit {LIMIT:,}: {len(depths):,} queue series, "
          f"{curves:,} curves; RSS {before / MIB:.0f} MiB before, peak {peak / MIB:.0f} MiB; "
          f"10 ms timer lateness over {MEASURE_S:g} s ({len(late)} firings): median "
          f"{late_ms[len(late_ms) // 2]:.1f} ms, p99 {late_ms[int(len(late_ms) * 0.99)]:.1f} "
          f"ms, worst {late_ms[-1]:.1f} ms; warning: {warning}")
    assert len(depths) == LIMIT + 1  # the first 1,000 queues and one 'other'
    assert warning.startswith("⚠ 99,000 queue_depth series folded into 'other'")
    assert peak < 300 * MIB
    assert late_ms[-1] < 1000.0  # 318-352 ms on 2 loaded cores, not yet a frame: see
    # docs/reliability.md (CPython collections during the scrape of 100,000 samples)
