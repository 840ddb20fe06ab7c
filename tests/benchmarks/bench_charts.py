"""Dashboard charts: 9 series x a day at 1 s, one new point each per tick, full repaint."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.benchmarks.harness import Figure, percentile

DAY = 86_400
SERIES = (
    "web/latency_p95", "api/latency_p95", "home/latency_p95", "cache/cache_hit_rate",
    'broker/queue_depth{queue="emails"}', "web/request_rate", "web/error_rate",
    "web/bookings_rate", "web/orders_rate",
)


@dataclass
class _Services:
    profile: Any
    store: Any
    poller: Any = None
    history: Any = None
    alerts: Any = None


@dataclass
class _Profile:
    name: str = "bench"
    alerts: tuple = ()


def _values(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    walk = np.cumsum(rng.normal(0, 1, n))
    if "latency" in name:
        return 0.08 + 0.02 * np.abs(np.sin(np.arange(n) / 900)) + 0.0005 * np.abs(walk)
    if "hit_rate" in name:
        return np.clip(0.9 + 0.001 * walk, 0, 1)
    return np.abs(20 + 0.1 * walk)


class SimClock:
    """The page's wall clock in the benchmark: one second passes per tick."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _page(app: Any, store: Any, clock: SimClock) -> Any:
    from services.bootstrap import Diagnostics, Local
    from ui.context import AppContext
    from ui.pages.dashboard import DashboardPage
    from ui.pages.dashboard.feed import read_in_step
    from ui.worker import TaskRunner

    ctx = AppContext(services=_Services(_Profile(), store), tasks=TaskRunner(app),
                     diagnostics=Diagnostics(), local=Local())
    page = DashboardPage(ctx, clock=clock, reads=read_in_step)
    page.resize(1400, 900)
    page.show()
    page.set_range(DAY)
    return page


def run(quick: bool = False) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    from console.store import MetricStore, TierSpec
    from ui import theme

    app = QApplication.instance() or QApplication([])
    theme.apply(app, "light")  # type: ignore[arg-type]
    ticks = 60 if quick else 300
    rng = np.random.default_rng(11)
    now = time.time()
    ts = now - DAY + np.arange(DAY, dtype=np.float64)
    # one 1 s tier as long as a day: the page reads a day at full resolution
    store = MetricStore(tiers=(TierSpec(1, DAY + 3600),))
    # a day in the store, and its continuation for the ticks
    data = {name: _values(name, DAY + ticks, rng) for name in SERIES}
    for name in SERIES:
        store.append_many(name, ts, data[name][:DAY])
    clock = SimClock(float(ts[-1]) + 0.5)
    page = _page(app, store, clock)
    from console.domain import Reading

    page.set_live(True)
    # new series (a few each tick: the page adopts them 2 ms at a time), then their whole range
    for _ in range(50):
        page.tick()
        shown = sum(len(p.curves) for p in page.timeline.panels)
        if shown == len(SERIES) and not page.feed.to_adopt and not page.feed.full_pending:
            break
    page.grab()
    assert shown == len(SERIES), f"{shown} curves shown"

    # Interleaved, so load from elsewhere on the machine hits both alike:
    #  floor: repaint the same window with nothing new;
    #  live:  one new point per series (the next second), the page's own tick, repaint.
    floor = []
    live = []
    t = float(ts[-1])
    for i in range(ticks):
        t0 = time.perf_counter()
        page.grab()
        floor.append(time.perf_counter() - t0)
        t += 1.0
        clock.now = t + 0.5
        t0 = time.perf_counter()
        store.append(Reading(name, t, float(data[name][DAY + i])) for name in SERIES)
        page.tick()
        page.grab()
        live.append(time.perf_counter() - t0)

    drawn = sum(c.points_drawn for p in page.timeline.panels for c in p.curves.values())

    # the baselines: what a user would pick instead of the page's feed, on the same curves
    # and data: each tick appends the new point to whole arrays and gives them to setData.
    #  pyqtgraph: its own peak downsampling and clip-to-view (what its docs advise);
    #  plain:     no downsampling or clipping at all.
    base_ticks = max(10, ticks // 5)
    curves = [c for p in page.timeline.panels for c in p.curves.values()]
    scales = {c.series: p.spec.unit.scale for p in page.timeline.panels
              for c in p.curves.values()}
    page.set_live(False)

    def whole_arrays(downsample: bool) -> list[float]:
        full_ts = {c.series: ts.copy() for c in curves}
        full_y = {c.series: data[c.series][:DAY] * scales[c.series] for c in curves}
        for c in curves:
            if downsample:
                c.item.setDownsampling(auto=True, method="peak")
                c.item.setClipToView(True)
            else:
                c.item.setDownsampling(auto=False, ds=1)
                c.item.setClipToView(False)
        times = []
        for i in range(base_ticks):
            t0 = time.perf_counter()
            for c in curves:
                full_ts[c.series] = np.append(full_ts[c.series], now + i)
                full_y[c.series] = np.append(full_y[c.series], full_y[c.series][-1])
                c.item.setData(full_ts[c.series], full_y[c.series])
            page.grab()
            times.append(time.perf_counter() - t0)
        return times

    peak = whole_arrays(downsample=True)
    plain = whole_arrays(downsample=False)
    page.shutdown()
    page.ctx.tasks.shutdown()
    page.close()

    ms = 1000.0
    live_p95 = percentile(live, 95) * ms
    live_med = percentile(live, 50) * ms
    floor_med = percentile(floor, 50) * ms
    peak_med = percentile(peak, 50) * ms
    plain_med = percentile(plain, 50) * ms
    print(f"charts: {len(SERIES)} series x {DAY:,} points, {ticks} ticks; "
          f"{drawn:,} points drawn in all; floor p95 {percentile(floor, 95) * 1000:.1f} ms")
    print(f"charts: append + repaint median {live_med:.1f} ms; pyqtgraph peak downsampling + "
          f"clip to view {peak_med:.1f} ms ({peak_med / live_med:.1f}x ours); plain setData "
          f"{plain_med:.1f} ms ({plain_med / live_med:.1f}x ours)")
    return [
        Figure("charts", "append + repaint p95 (9 x 86,400, 1400x900)", live_p95, "ms",
               "repaint, no new data (median)", floor_med, "<= 12 ms", live_p95 <= 12.0),
        Figure("charts", "append + repaint median vs repaint floor", live_med, "ms",
               "repaint, no new data (median)", floor_med, "<= 1.2x floor",
               live_med <= 1.2 * floor_med),
        Figure("charts", "pyqtgraph peak+clipToView setData + repaint median", peak_med, "ms",
               "append + repaint median (ours)", live_med, "ratio: times slower than ours"),
        Figure("charts", "plain setData(whole arrays) + repaint median", plain_med, "ms",
               "append + repaint median (ours)", live_med, ">= 8x slower than ours",
               plain_med >= 8 * live_med),
    ]


if __name__ == "__main__":
    for figure in run(quick=True):
        print(figure)
