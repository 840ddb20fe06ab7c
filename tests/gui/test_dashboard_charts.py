"""The dashboard's chart parts: buffers and decimation, the store feed, tiles, sparklines."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from console.domain import Reading, SourceState
from console.store import MetricStore
from ui.charts.decimate import SeriesBuffer
from ui.charts.feed import DataRequest, Tail, next_point, read_data
from ui.charts.panel import nice_bound
from ui.charts.sparkline import Sparkline
from ui.charts.tiles import SourceTile, ago
from ui.charts.units import MS, PERCENT, format_number
from ui.theme import FAIL, STALE

T0 = 1_750_000_000.0


def noisy_day(n: int = 86_400, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(n, dtype=np.float64)
    values = 0.1 + rng.normal(0, 0.01, n)
    values[12_345] = 5.0  # a one-second spike
    return ts, values


def test_decimation_keeps_every_peak_and_few_points() -> None:
    ts, values = noisy_day()
    buf = SeriesBuffer()
    buf.set(ts, values)
    out = buf.render(ts[0], ts[-1], 1000)
    assert out.decimated
    assert out.x.size <= 2 * 1000 + 4
    assert np.nanmax(out.y) == 5.0  # the one-second spike survives
    assert np.nanmin(out.y) == pytest.approx(values.min())
    # zoomed in far enough, the raw points are drawn
    raw = buf.render(ts[1000], ts[1500], 1000)
    assert not raw.decimated
    np.testing.assert_array_equal(raw.y[1:-1], values[1000:1501])


def test_silence_is_a_gap_but_empty_buckets_between_polls_are_not() -> None:
    ts = T0 + np.arange(0, 600, 1.0)
    values = np.full(ts.size, np.nan)
    values[::5] = 1.0  # polled every 5 s into a 1 s grid
    values[300:400] = np.nan  # then silent for 100 s
    buf = SeriesBuffer()
    buf.set(ts, values)
    out = buf.render(ts[0], ts[-1], 2000)
    finite = np.isfinite(out.y)
    assert np.isnan(out.y).sum() == 1  # one gap marker, nothing else breaks the line
    assert (np.diff(out.x)[finite[:-1] & finite[1:]] <= 5).all()
    assert buf.value_at(T0 + 350) is None
    assert buf.value_at(T0 + 12) == 1.0


def test_appending_matches_loading_whole() -> None:
    ts, values = noisy_day(20_000)
    whole = SeriesBuffer()
    whole.set(ts, values)
    live = SeriesBuffer()
    live.set(ts[:10_000], values[:10_000])
    live.render(ts[0], ts[-1], 800)  # builds the bins, which then update incrementally
    for i in range(10_000, 20_000, 1):
        if not live.append_point(float(ts[i]), float(values[i])):
            live.merge(ts[i:i + 1], values[i:i + 1])
    a = whole.render(ts[0], ts[-1], 800)
    b = live.render(ts[0], ts[-1], 800)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)


def test_merge_replaces_the_tail_and_keeps_envelopes() -> None:
    buf = SeriesBuffer()
    ts = T0 + np.arange(0, 3600, 60.0)
    buf.set(ts, np.full(ts.size, 1.0), np.full(ts.size, 0.5), np.full(ts.size, 3.0), step_s=60)
    assert buf.has_envelope
    out = buf.render(ts[0], ts[-1], 1000)
    assert out.env_hi is not None and np.nanmax(out.env_hi) == 3.0
    buf.merge(ts[-3:], np.array([2.0, 2.0, 2.0]), step_s=60)
    assert list(buf.values[-3:]) == [2.0, 2.0, 2.0]
    assert len(buf) == ts.size


def test_render_is_cached_until_something_visible_changes() -> None:
    ts, values = noisy_day(20_000)
    buf = SeriesBuffer()
    buf.set(ts, values)
    first = buf.render(ts[0], ts[-1] + 100, 500)
    assert buf.render(ts[0], ts[-1] + 100, 500) is first
    # a sample inside the last bin's range leaves the drawing alone
    assert buf.append_point(float(ts[-1] + 1), float(np.median(values[-20:])))
    assert buf.render(ts[0], ts[-1] + 100, 500) is first
    assert buf.append_point(float(ts[-1] + 2), 9.0)
    assert buf.render(ts[0], ts[-1] + 100, 500) is not first


def test_feed_reads_tails_and_the_next_point() -> None:
    store = MetricStore()
    now = float(math.floor(time.time()))
    ts = now - 100 + np.arange(100.0)
    store.append_many("web/latency_p95", ts, np.full(100, 0.1))
    tail = Tail(last_ts=now - 1, seen_ts=now - 0.9, step_s=1.0, typical_step_s=1.0)
    assert next_point(tail, now + 0.1, 0.25) == (now, float(np.float32(0.25)))
    assert next_point(tail, now + 1.1, 0.25) is None  # a second was skipped: read it
    assert next_point(Tail(now - 1, now - 0.9, 1.0, 0.2), now + 0.1, 0.25) is None
    store.append([Reading("web/latency_p95", now + 0.1, 0.3)])
    request = DataRequest(0, -1, now - 300, None, now + 0.5,
                          {"web/latency_p95": tail}, frozenset())
    update = read_data(store, request)
    assert update.points["web/latency_p95"] == (now, float(np.float32(0.3)))
    full = read_data(store, DataRequest(1, -1, now - 300, None, now + 0.5, {},
                                        frozenset({"web/latency_p95"})))
    w = full.full["web/latency_p95"]
    assert np.isfinite(w.value).sum() == 101


def test_units_and_round_ranges() -> None:
    assert MS.format(0.2123) == "212 ms"
    assert MS.format(0.0042) == "4.2 ms"
    assert PERCENT.format(0.915) == "91.5 %"
    assert MS.format(None) == "–"
    assert format_number(1204) == "1,204"
    assert nice_bound(87, up=True) == 100
    assert nice_bound(101, up=True) == 120
    assert nice_bound(0.031, up=True) == pytest.approx(0.04)


def test_tile_states(qtbot) -> None:
    tile = SourceTile("cache", "#0072B2")
    qtbot.add_widget(tile)
    tile.set_state("up")
    assert "up" in tile.chip.text() and tile.styleSheet() == ""
    tile.set_state("down", "connection refused at 127.0.0.1:6379")
    assert tile.toolTip() == "cache is down: connection refused at 127.0.0.1:6379"
    assert FAIL in tile.styleSheet()
    now = time.time()
    tile.set_state("stale", "", last_ok_ts=now - 150, now=now)
    assert "stale · 2 min ago" in tile.chip.text()
    assert STALE in tile.styleSheet()
    assert ago(30) == "30 s ago" and ago(7200) == "2 h ago"


def test_sparkline_breaks_only_at_silence(qtbot) -> None:
    spark = Sparkline()
    qtbot.add_widget(spark)
    spark.resize(120, 28)
    ts = T0 + np.arange(300.0)
    values = np.full(300, np.nan)
    values[::5] = np.arange(60.0)  # a poll every 5 s
    values[200:260] = np.nan  # a minute of silence
    spark.set_data(ts, values, (T0, T0 + 300))
    assert spark.point_count() == 48
    assert len(spark._build()) == 2
    spark.grab()  # paints without error
    assert SourceState.UP == "up"
