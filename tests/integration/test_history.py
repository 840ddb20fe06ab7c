"""Metric history on disk: chunk codec, reload of the last day, retention and roll-ups."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from console.domain import Reading
from console.history_codec import (
    ROLLUP,
    decode_raw,
    decode_rollup,
    encode_raw,
    encode_rollup,
    roll_up,
)
from console.store import MetricStore
from services.monitoring.history_writer import History

pytestmark = pytest.mark.integration

NOW = 1_700_006_400.0  # a whole hour since the epoch
DAY = 86_400.0


def latency_like(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(np.log(0.05), 0.4, n)


def rel_tolerance(values: np.ndarray) -> float:
    """What 3 significant digits of the typical magnitude allow, plus float noise."""
    typical = float(np.median(np.abs(values[values != 0]))) if values.any() else 1.0
    return 0.5 * 10.0 ** (math.floor(math.log10(typical)) - 2) * (1 + 1e-9) + 1e-12


@pytest.fixture
def history_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


# -- codec -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    values=hnp.arrays(
        np.float64,
        st.integers(0, 700),
        elements=st.one_of(
            st.floats(-1e12, 1e12, allow_nan=False),
            st.floats(1e-6, 10.0),
            st.integers(-(2**40), 2**40).map(float),
            st.just(math.nan),
        ),
    ),
    step=st.sampled_from([0.1, 1.0, 5.0, 3600.0]),
    jitter=st.floats(0, 0.004),
)
def test_raw_chunks_round_trip_within_their_precision(
    values: np.ndarray, step: float, jitter: float
) -> None:
    ts = NOW + np.arange(values.size) * step + jitter * np.sin(np.arange(values.size))
    got_ts, got = decode_raw(encode_raw(ts, values))

    assert got_ts.shape == ts.shape
    assert np.abs(got_ts - ts).max(initial=0) <= 0.005 + 1e-6, "timestamps to 10 ms"
    gaps = np.isnan(values)
    assert np.array_equal(np.isnan(got), gaps), "gaps stay gaps"
    kept = values[~gaps]
    if kept.size and np.all(kept == np.round(kept)):
        assert np.array_equal(got[~gaps], kept), "whole numbers (counters) are exact"
    elif kept.size:
        float_noise = np.abs(kept) * 4e-16
        assert (np.abs(got[~gaps] - kept) <= rel_tolerance(kept) + float_noise).all()


def test_compact_on_latency_like_data() -> None:
    values = latency_like(512)
    ts = NOW + np.arange(512.0) + np.random.default_rng(1).normal(0, 0.001, 512)
    payload = encode_raw(ts, values)
    assert len(payload) / 512 < 2.0
    _, got = decode_raw(payload)
    assert np.abs(got / values - 1).max() < 0.01


def test_roll_ups_keep_mean_min_max_and_count() -> None:
    ts = NOW + np.arange(180.0)
    values = np.full(180, 0.05)
    values[70] = 3.0
    values[100] = np.nan
    bucket, mean, lo, hi, count = roll_up(ts, values)
    assert list(count) == [60, 59, 60]
    assert hi[1] == 3.0 and lo[1] == 0.05
    assert mean[1] == pytest.approx((58 * 0.05 + 3.0) / 59)

    got = decode_rollup(encode_rollup(bucket, mean, lo, hi, count))
    assert list(got[0]) == [NOW, NOW + 60, NOW + 120]
    assert got[3][1] == pytest.approx(3.0, rel=1e-3)
    assert list(got[4]) == [60, 59, 60]


def test_a_huge_value_beside_small_ones_keeps_both() -> None:
    """Found by the round-trip property: 4.5e11 beside 0.0625 needs more than an int64 at
    the exponent that keeps 0.0625 to 3 digits; the chunk keeps floats instead."""
    values = np.array([4.50359963e11, 0.0625, 0.0625, math.nan])
    ts = NOW + np.arange(4.0)
    _, got = decode_raw(encode_raw(ts, values))
    assert got[:3].tolist() == values[:3].tolist() and math.isnan(got[3])

    bucket = np.array([100, 101], dtype=np.int64)
    mean, lo, hi = np.array([2e15, 0.0625]), np.array([0.0625, 0.0625]), np.array([4e15, 0.07])
    count = np.array([60, 60], dtype=np.int64)
    _, got_mean, got_lo, got_hi, got_count = decode_rollup(
        encode_rollup(bucket, mean, lo, hi, count))
    assert got_mean.tolist() == mean.tolist() and got_lo.tolist() == lo.tolist()
    assert got_hi.tolist() == hi.tolist() and got_count.tolist() == [60, 60]


# -- the history file -----------------------------------------------------------------------


def test_reloads_the_last_day_into_the_store(history_path: Path) -> None:
    n = int(25 * 3600 / 10)  # 25 hours, one sample every 10 s
    ts = NOW - 25 * 3600 + 10 * np.arange(n)
    values = {name: latency_like(n, seed) for seed, name in enumerate(["web/p95", "web/p99"])}
    values["queue/depth"] = np.arange(n, dtype=np.float64) % 37
    first = History(history_path, wall=lambda: NOW)
    first.start()
    for i in range(0, n, 500):  # the poller hands readings over in small batches
        first.record(
            [
                Reading(name, float(t), float(v[j]))
                for name, v in values.items()
                for j, t in enumerate(ts[i : i + 500], start=i)
            ]
        )
    assert first.stop()

    again = History(history_path, wall=lambda: NOW)
    store = MetricStore()
    loaded = {}
    for name, got_ts, got in again.load(NOW - DAY):
        store.append_many(name, got_ts, got)
        loaded[name] = (got_ts, got)
    again.stop()

    assert set(loaded) == set(values)
    keep = ts >= NOW - DAY
    for name, (got_ts, got) in loaded.items():
        np.testing.assert_allclose(got_ts, ts[keep])
        assert np.abs(got - values[name][keep]).max() <= rel_tolerance(values[name])
    assert np.array_equal(loaded["queue/depth"][1], values["queue/depth"][keep])
    day = store.window("web/p99", NOW - DAY, NOW)
    assert day.tier == 1 and day.step_s == 60
    assert np.isfinite(day.value[1:-1]).all(), "the whole day is on the chart at once"
    assert np.nanmax(day.max) == pytest.approx(values["web/p99"][keep].max(), rel=1e-3)


def test_each_flush_is_durable_and_grows_the_open_chunk(history_path: Path) -> None:
    history = History(history_path, chunk_samples=100, wall=lambda: NOW)
    history.start()
    for i in range(250):
        history.record([Reading("cache/hit_rate", NOW - 250 + i, i / 250)])
        if i % 10 == 9:
            assert history.flush()
            # a second reader, as after a crash, sees every flushed sample
            with sqlite3.connect(history_path) as conn:
                n = conn.execute("select coalesce(sum(n), 0) from chunk").fetchone()[0]
            assert n == i + 1
    assert history.stop()

    with sqlite3.connect(history_path) as conn:
        rows = conn.execute("select n from chunk order by start_ts").fetchall()
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert [r[0] for r in rows] == [100, 100, 50], "full chunks are sealed, one stays open"
    reopened = History(history_path, wall=lambda: NOW)
    [(name, ts, values)] = list(reopened.load(0))
    reopened.stop()
    assert name == "cache/hit_rate"
    np.testing.assert_allclose(ts, NOW - 250 + np.arange(250))
    np.testing.assert_allclose(values, np.arange(250) / 250, atol=5e-4)


def test_retention_rolls_raw_up_then_drops_it(history_path: Path) -> None:
    history = History(
        history_path, raw_retention_s=2 * DAY, rollup_retention_s=7 * DAY, wall=lambda: NOW
    )
    spike_at = NOW - 3 * DAY + 1800
    for age_days in (10, 3, 1):
        start = NOW - age_days * DAY
        values = np.full(3600, 0.05)
        if age_days == 3:
            values[1800] = 4.0
        history.record_many("web/p99", start + np.arange(3600.0), values)
    assert history.flush()

    rolled, dropped = history.prune(NOW)

    assert rolled >= 2 * math.ceil(3600 / history.chunk_samples)
    assert dropped == 0, "the 10-day-old hour was past every retention: not even rolled up"
    raw, buckets = history.stored_samples()
    assert raw == 3600, "the last day stays raw"
    assert buckets == 60, "the 3-day-old hour is kept as 60 one-minute roll-ups"
    old = history.series_window("web/p99", NOW - 3 * DAY, NOW - 3 * DAY + 3599)
    assert old.tier == ROLLUP and old.step_s == 60
    assert np.nanmax(old.max) == pytest.approx(4.0), "a one-second spike survives the roll-up"
    assert old.max[int((spike_at - old.ts[0]) // 60)] == pytest.approx(4.0)
    assert not history.series_window("web/p99", NOW - 10 * DAY, NOW - 9 * DAY).has_data
    recent = history.series_window("web/p99", NOW - DAY, NOW - DAY + 59)
    assert recent.tier == 0 and recent.step_s == 1 and np.isfinite(recent.value).all()
    assert [name for name, *_ in history.load(NOW - 30 * DAY)] == ["web/p99"]
    assert history.prune(NOW) == (0, 0), "nothing more to do"

    later = NOW + 4.5 * DAY
    rolled, dropped = history.prune(later)
    assert rolled > 0 and dropped > 0
    assert history.stored_samples() == (0, 60), "only the newest hour, as roll-ups"
    assert not history.series_window("web/p99", NOW - 3 * DAY, NOW - 2 * DAY).has_data
    assert history.series_window("web/p99", NOW - DAY, NOW - DAY + 3599).has_data
    history.stop()


def test_writing_goes_on_after_a_prune(history_path: Path) -> None:
    history = History(history_path, wall=lambda: NOW)
    history.start()
    history.record([Reading("old/x", NOW - 3 * DAY, 1.0), Reading("new/x", NOW - 10, 1.0)])
    assert history.flush()
    assert history.prune(NOW) == (1, 0)  # old/x's open chunk was rolled up
    history.record([Reading("old/x", NOW - 1, 2.0), Reading("new/x", NOW - 9, 2.0)])
    assert history.stop()

    with sqlite3.connect(history_path) as conn:
        rows = conn.execute(
            "select s.name, c.tier, c.n from chunk c join series s on s.id = c.series_id "
            "order by s.name, c.tier"
        ).fetchall()
    assert rows == [("new/x", 0, 2), ("old/x", 0, 1), ("old/x", 1, 1)], (
        "the open chunk that survived grows on; the rolled-up one is not written over"
    )


def test_window_from_disk_fits_max_points_and_keeps_gaps(history_path: Path) -> None:
    history = History(history_path, wall=lambda: NOW)
    ts = NOW - 7200 + np.arange(7200.0)
    values = latency_like(7200)
    values[3000:3600] = np.nan  # ten silent minutes
    history.record_many("web/p50", ts, values)
    history.flush()

    w = history.series_window("web/p50", NOW - 7200, NOW - 1, max_points=240)
    history.stop()

    assert len(w) <= 240 and w.step_s == 30
    silent = (w.ts >= NOW - 7200 + 3000) & (w.ts < NOW - 7200 + 3600)
    assert np.isnan(w.value[silent]).all(), "a silent stretch is a gap on disk too"
    assert np.nanmax(w.max) == pytest.approx(np.nanmax(values), rel=1e-3)


def test_record_without_a_writer_thread_is_written_on_stop(history_path: Path) -> None:
    history = History(history_path, wall=lambda: NOW)
    history.record([Reading("web/up", NOW, 1.0)])
    assert history.stop()
    reopened = History(history_path, wall=lambda: NOW)
    assert reopened.series_names() == ["web/up"]
    reopened.stop()


def test_record_does_not_wait_for_the_disk(history_path: Path) -> None:
    history = History(history_path, flush_interval_s=0.05, wall=lambda: NOW)
    history.start()
    batch = [Reading(f"s{i}/m", NOW, 1.0) for i in range(100)]
    started = time.perf_counter()
    for _ in range(200):
        history.record(batch)
    queued_in = time.perf_counter() - started
    assert history.stop()
    assert queued_in < 0.5
    reopened = History(history_path, wall=lambda: NOW)
    assert len(reopened.series_names()) == 100
    reopened.stop()


@pytest.mark.parametrize("share", [None, 1e-9])
def test_costly_flushes_come_less_often_and_nothing_is_lost(history_path: Path,
                                                            share: float | None) -> None:
    """With a share of a core, a flush that costs more than it at the set pace waits longer
    (up to the longest wait given); every sample is written all the same."""
    from tests.reliability.support import wait_until

    history = History(history_path, flush_interval_s=0.02, flush_share=share,
                      max_flush_interval_s=0.3, wall=lambda: NOW)
    history.start()
    for second in range(50):
        history.record([Reading(f"s{i}/m", NOW + second, float(second)) for i in range(50)])
    if share is None:
        wait_until(lambda: history.series_names() != [], 10)
        assert history.interval_s == 0.02
    else:
        wait_until(lambda: history.interval_s > 0.02, 10)
        assert history.interval_s == 0.3, "as long as allowed: no flush costs nothing"
    history.record([Reading("s0/m", NOW + 50, 50.0)])
    assert history.stop()
    reopened = History(history_path, wall=lambda: NOW)
    loaded = {name: values for name, _ts, values in reopened.load(NOW - 1)}
    reopened.stop()
    assert len(loaded) == 50
    assert list(loaded["s0/m"]) == [float(v) for v in range(51)]


def test_a_file_of_another_format_is_refused_with_advice(history_path: Path) -> None:
    History(history_path, wall=lambda: NOW).stop()
    with sqlite3.connect(history_path) as conn:
        conn.execute("update meta set value = '99' where key = 'format'")
    with pytest.raises(RuntimeError, match="move the file aside"):
        History(history_path, wall=lambda: NOW)


def test_the_console_opens_with_live_charts_when_the_history_file_is_refused(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The services open the history when they start (after the window paints); a file of
    another format turns the history off with the advice in the log, and the live charts
    still fill from the poller."""
    from console.profile import parse_profile
    from services.bootstrap import build_services, profile_slug
    from tests.integration.local_servers import http_server, reply

    metrics = b"# TYPE orders_total counter\norders_total 42\n"
    with http_server({"/metrics": reply(body=metrics)}) as base:
        profile = parse_profile({"name": "Corner Bakery", "sources": [
            {"name": "web", "kind": "prometheus", "url": base + "/metrics",
             "interval_s": 0.2}]})
        path = tmp_path / f"history-{profile_slug(profile.name)}.sqlite"
        History(path, wall=lambda: NOW).stop()
        with sqlite3.connect(path) as conn:
            conn.execute("update meta set value = '99' where key = 'format'")
        services = build_services(profile, directory=tmp_path)
        assert not (tmp_path / "alerts.sqlite").exists(), "nothing opened before start"
        try:
            services.start()
            assert services.history is None and services.poller.history is None
            assert "move the file aside" in caplog.text
            deadline = time.monotonic() + 10
            while not services.store.series_names() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert services.store.series_names(), "the poller still fills the live store"
        finally:
            services.stop()
