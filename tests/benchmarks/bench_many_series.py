"""A page of 100,000 queue label sets into the real dashboard: series kept, RSS, GUI waits.

Run in a process of its own (``python -m tests.benchmarks many_series``, or as a module, which
prints the figures as JSON for tests/reliability/test_many_series.py): the RSS it reports is
the console's, not what a test session loaded before it.
"""

from __future__ import annotations

import gc
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from tests.benchmarks.harness import Figure, percentile

QUEUES = 100_000
LIMIT = 1000
MEASURE_S = 15.0
#: The timer first runs this long with the dashboard up and no source polled (the baseline).
IDLE_S = 5.0
MIB = 1024 * 1024


@dataclass
class _Services:
    profile: Any
    store: Any
    poller: Any = None
    history: Any = None
    alerts: Any = None


class _FullCollections:
    """How long each of CPython's full garbage collections took (ms): each holds the GIL."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self._started = 0.0

    def seen(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms.append((time.perf_counter() - self._started) * 1000)


def _page_pids(collector: Any) -> tuple[int, ...]:
    """The process that reads the source's large pages, if it started one."""
    process = getattr(collector, "_page_process", None)
    return process.pids() if process is not None else ()


def _peak_of(pid: int) -> int:
    """A process's peak RSS (bytes) from /proc; 0 where it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_until(app: Any, condition: Any, timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` or the timeout; whether it came true."""
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer()

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start(50)
    loop.exec()
    timer.stop()
    return bool(condition())


def measure(queues: int = QUEUES, limit: int = LIMIT, measure_s: float = MEASURE_S
            ) -> dict[str, Any]:
    """The page served by a child process, scraped every 4 s by the real Poller into the real
    dashboard; a 10 ms timer's lateness on the GUI thread from the poller's start (the first
    scrape, 1,001 new series on the dashboard, the scrapes after), and before it with no
    source polled (what the machine's load alone costs); CPython's full collections."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication, QWidget

    from console.domain import split_series
    from console.profile import Profile, Source
    from console.store import MetricStore
    from services.bootstrap import Diagnostics, Local
    from services.collectors import build_collectors
    from services.monitoring.poller import Poller
    from tests.benchmarks.bench_gui_wait import _lateness
    from tests.reliability.support import (
        many_queues_page,
        peak_rss_bytes,
        reset_peak_rss,
        rss_bytes,
    )
    from ui.app import share_the_gil
    from ui.context import AppContext
    from ui.pages.dashboard import DashboardPage
    from ui.worker import TaskRunner

    app = QApplication.instance() or QApplication([])
    share_the_gil()  # as the console does at its start
    with many_queues_page(queues) as url:
        profile = Profile(name="Huge page", sources=(
            Source(name="web", kind="prometheus", url=url, interval_s=4.0, timeout_s=30.0,
                   max_series=limit),))
        store = MetricStore()
        collectors = build_collectors(profile)
        poller = Poller(collectors, store, series_limits={"web": limit})
        tasks = TaskRunner()
        host = QWidget()
        host.resize(1400, 900)
        page = DashboardPage(AppContext(_Services(profile, store, poller), tasks,
                                        Diagnostics(), Local()), host)
        page.resize(1400, 900)
        host.show()
        idle = [x * 1000 for x in _lateness(app, IDLE_S)]  # the same timer, no source polled
        before = rss_bytes() or 0
        reset_peak_rss()
        full = _FullCollections()
        gc.callbacks.append(full.seen)
        if os.environ.get("BENCH_DEBUG"):
            print(f"{time.perf_counter():.2f} the poller starts")
        poller.start()
        try:
            late = _lateness(app, measure_s)
            _run_until(app, lambda: "web" in page.tiles.tiles
                       and page.tiles.tiles["web"].warning.isVisible(), 90.0)
            peak = peak_rss_bytes() or 0
            parser_peak = sum(_peak_of(pid) for c in collectors
                              for pid in _page_pids(c))
            tile = page.tiles.tiles.get("web")
            warning = tile.warning.toolTip() if tile is not None else ""
            depths = [n for n in store.series_names() if split_series(n)[1] == "queue_depth"]
            curves = len(page.timeline.panel("queue").curves)
        finally:
            if full.seen in gc.callbacks:
                gc.callbacks.remove(full.seen)
            poller.stop()
            for collector in collectors:
                collector.close()
            page.shutdown()
            tasks.shutdown()
            host.close()
    ms = [x * 1000 for x in late]
    return {"queues": queues, "limit": limit, "depth_series": len(depths), "curves": curves,
            "rss_before_mib": before / MIB, "rss_peak_mib": peak / MIB,
            "parser_rss_peak_mib": parser_peak / MIB,
            "late_median_ms": percentile(ms, 50), "late_p99_ms": percentile(ms, 99),
            "late_worst_ms": max(ms), "firings": len(ms), "warning": warning,
            "idle_p99_ms": percentile(idle, 99), "idle_worst_ms": max(idle),
            "full_collections": len(full.ms), "full_collection_worst_ms": max(full.ms, default=0.0)}


def run(quick: bool = False) -> list[Figure]:
    got = measure(measure_s=8.0 if quick else MEASURE_S)
    print(f"many_series: {got['queues']:,} queue label sets, limit {got['limit']:,}: "
          f"{got['depth_series']:,} queue series, {got['curves']:,} curves; RSS "
          f"{got['rss_before_mib']:.0f} MiB before, the page reader's process "
          f"{got['parser_rss_peak_mib']:.0f} MiB at peak; lateness median "
          f"{got['late_median_ms']:.1f} ms over {got['firings']} firings; "
          f"{got['full_collections']} full collections (worst "
          f"{got['full_collection_worst_ms']:.0f} ms); {got['warning']}")
    return [
        Figure("many_series", "peak RSS, 100,000 queues into the dashboard",
               got["rss_peak_mib"], "MiB", target="<= 300 MiB",
               met=got["rss_peak_mib"] <= 300),
        Figure("many_series", "10 ms timer lateness p99", got["late_p99_ms"], "ms",
               "the same timer, no source polled (p99)", got["idle_p99_ms"]),
        Figure("many_series", "10 ms timer lateness worst", got["late_worst_ms"], "ms",
               "the same timer, no source polled (worst)", got["idle_worst_ms"],
               target="<= 16.7 ms (a frame at 60 Hz)", met=got["late_worst_ms"] <= 16.7),
    ]


if __name__ == "__main__":
    print(json.dumps(measure()))
