"""The in-memory metric store: tiers, gaps, roll-ups, change tracking and snapshots."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import Reading
from console.series_window import aggregate_to_grid, downsample
from console.store import DEFAULT_TIERS, MetricStore, TierSpec

T0 = 1_699_999_200.0  # a whole hour since the epoch: buckets of every tier line up with it


def feed(store: MetricStore, series: str, start: float, values: list[float]) -> None:
    store.append(Reading(series, start + i, v) for i, v in enumerate(values))


def test_last_hour_is_kept_per_second_with_gaps_as_nan() -> None:
    store = MetricStore()
    feed(store, "web/latency", T0, [0.1, 0.2, 0.3])
    store.append([Reading("web/latency", T0 + 6, 0.7)])  # silent for 3 s

    w = store.window("web/latency", T0, T0 + 9)

    assert w.tier == 0 and w.step_s == 1
    assert list(w.ts) == [T0 + i for i in range(10)]
    np.testing.assert_allclose(w.value[:3], [0.1, 0.2, 0.3], rtol=1e-6)
    assert np.isnan(w.value[3:6]).all(), "a silent source must be a gap, not a flat line"
    assert w.value[6] == pytest.approx(0.7)
    assert np.isnan(w.value[7:]).all(), "nothing is made up after the newest sample"


def test_a_source_that_stops_leaves_a_gap_not_its_last_value() -> None:
    store = MetricStore()
    feed(store, "cache/hit_rate", T0, [0.9] * 30)

    w = store.window("cache/hit_rate", T0 + 40, T0 + 100)

    assert not w.has_data
    assert store.latest("cache/hit_rate") == Reading("cache/hit_rate", T0 + 29, 0.9)


def test_ring_wraps_without_showing_old_values_at_new_times() -> None:
    store = MetricStore()
    feed(store, "q/depth", T0, [float(i) for i in range(10)])
    # an hour and 5 s later: seconds 0-5 share their slots with seconds 3600-3605
    store.append([Reading("q/depth", T0 + 3605, 42.0)])

    recent = store.window("q/depth", T0 + 6, T0 + 3605)

    assert recent.tier == 0
    held = np.isfinite(recent.value)
    assert list(recent.ts[held] - T0) == [6, 7, 8, 9, 3605]
    assert list(recent.value[held]) == [6, 7, 8, 9, 42]
    assert np.isnan(recent.value[-6:-1]).all(), "seconds 3600-3604 never had a sample"


def test_late_samples_within_the_hour_are_placed_and_too_old_ones_dropped() -> None:
    store = MetricStore()
    store.append([Reading("a/x", T0 + 100, 1.0)])
    store.append([Reading("a/x", T0 + 50, 2.0), Reading("a/x", T0 + 100 - 3600, 3.0)])

    w = store.window("a/x", T0 + 40, T0 + 100)

    assert w.value[10] == 2.0
    assert store.latest("a/x") == Reading("a/x", T0 + 100, 1.0), "latest is by time"


def test_one_second_spike_survives_into_the_day_and_week_views() -> None:
    store = MetricStore()
    values = np.full(3 * 3600, 0.05)
    values[5000] = 2.0  # one slow request, one second long
    values[5001] = 0.001
    store.append_many("web/p99", T0 + np.arange(values.size), values)

    day = store.window("web/p99", T0, T0 + values.size - 1)
    week = store.window("web/p99", T0 - 5 * 86400, T0 + values.size - 1)

    assert day.tier == 1 and day.step_s == 60
    assert np.nanmax(day.max) == pytest.approx(2.0)
    assert np.nanmin(day.min) == pytest.approx(0.001)
    spike_bucket = 5000 // 60
    assert day.max[spike_bucket] == pytest.approx(2.0)
    assert day.value[spike_bucket] == pytest.approx((58 * 0.05 + 2.0 + 0.001) / 60, rel=1e-5)
    assert week.tier == 2 and week.step_s == 600
    assert np.nanmax(week.max) == pytest.approx(2.0)


def test_finest_tier_that_covers_the_range_is_chosen() -> None:
    store = MetricStore()
    n = 2 * 86400
    store.append_many("web/rps", T0 + np.arange(0, n, 10.0), np.ones(n // 10))
    end = T0 + n - 10

    assert store.window("web/rps", end - 3000, end).tier == 0
    assert store.window("web/rps", end - 86400, end).tier == 1, "the last 24 h in minutes"
    assert store.window("web/rps", end - 3 * 86400, end).tier == 2


def test_window_beyond_memory_starts_where_memory_does() -> None:
    store = MetricStore()
    store.append_many("web/rps", T0 + np.arange(0.0, 3600), np.ones(3600))
    oldest = store.oldest_ts("web/rps")
    assert oldest is not None

    w = store.window("web/rps", T0 - 30 * 86400, T0 + 3599)

    assert w.tier == len(DEFAULT_TIERS) - 1
    assert w.ts[0] == oldest > T0 - 30 * 86400, "older ranges are for the history"


def test_max_points_merges_buckets_keeping_extremes() -> None:
    store = MetricStore()
    values = np.full(3600, 1.0)
    values[1234] = 9.0
    store.append_many("db/conns", T0 + np.arange(3600.0), values)

    w = store.window("db/conns", T0, T0 + 3599, max_points=100)

    assert len(w) <= 100
    assert w.step_s == 36
    assert np.nanmax(w.max) == 9.0
    assert np.nanmin(w.min) == 1.0


def test_append_many_matches_reading_by_reading() -> None:
    rng = np.random.default_rng(7)
    ts = T0 + np.sort(rng.uniform(0, 7200, 5000))
    values = rng.lognormal(-3, 0.5, ts.size)
    values[::97] = np.nan
    one, many = MetricStore(), MetricStore()
    one.append(Reading("s/m", float(t), float(v)) for t, v in zip(ts, values, strict=True))
    many.append_many("s/m", ts[::-1], values[::-1])  # order must not matter

    for start, end in [(T0 + 4000, T0 + 7199), (T0, T0 + 7199), (T0 - 86400, T0 + 7199)]:
        a, b = one.window("s/m", start, end), many.window("s/m", start, end)
        assert a.tier == b.tier
        np.testing.assert_array_equal(a.ts, b.ts)
        for x, y in [(a.value, b.value), (a.min, b.min), (a.max, b.max)]:
            np.testing.assert_allclose(x, y, rtol=1e-4, equal_nan=True)


def test_changed_since_names_only_what_changed() -> None:
    store = MetricStore()
    v0 = store.version
    store.append([Reading("web/p95", T0, 0.1), Reading("cache/hits", T0, 5.0)])
    v1, changed = store.changed_since(v0)
    assert changed == {"web/p95", "cache/hits"}
    store.append([Reading("web/p95", T0 + 1, 0.2)])

    v2, changed = store.changed_since(v1)

    assert changed == {"web/p95"}
    assert v2 > v1 > v0
    assert store.changed_since(v2) == (v2, set())
    assert store.series_names() == ["cache/hits", "web/p95"]


def test_readings_without_a_time_are_ignored() -> None:
    store = MetricStore()
    store.append([Reading("a/b", float("nan"), 1.0), Reading("a/b", T0, 2.0)])
    store.append_many("a/b", [float("inf"), T0 + 1], [5.0, 3.0])
    w = store.window("a/b", T0, T0 + 1)
    assert list(w.value) == [2.0, 3.0]


def test_unknown_series_reads_as_an_empty_window() -> None:
    store = MetricStore()
    w = store.window("nobody/nothing", T0, T0 + 60)
    assert not w.has_data and w.tier == 0
    assert store.latest("nobody/nothing") is None


def test_finest_tier_costs_at_most_8_bytes_a_sample() -> None:
    store = MetricStore(tiers=(TierSpec(1, 3600),))
    store.append([Reading("a/b", T0, 1.0)])
    assert store.nbytes("a/b") / 3600 <= 8


def test_windows_are_read_only_copies() -> None:
    store = MetricStore()
    feed(store, "a/b", T0, [1.0, 2.0])
    w = store.window("a/b", T0, T0 + 1)
    with pytest.raises(ValueError, match="read-only"):
        w.value[0] = 5.0
    feed(store, "a/b", T0, [7.0, 7.0])
    assert list(w.value) == [1.0, 2.0]


def test_downsample_and_grid_helpers_ignore_gaps_without_warnings() -> None:
    ts = np.arange(6.0)
    v = np.array([1.0, np.nan, np.nan, np.nan, 3.0, 5.0])
    new_ts, mean, lo, hi = downsample(ts, v, v, v, 2)
    assert list(new_ts) == [0.0, 2.0, 4.0]
    assert mean[0] == 1.0 and np.isnan(mean[1]) and mean[2] == 4.0
    assert lo[2] == 3.0 and hi[2] == 5.0

    grid, mean, lo, hi = aggregate_to_grid(
        np.array([0.5, 1.5, 130.0]),
        np.array([1.0, 3.0, 2.0]),
        np.array([0.5, 3.0, 2.0]),
        np.array([1.5, 3.0, 2.0]),
        np.array([1.0, 3.0, 1.0]),
        0.0,
        180.0,
        60.0,
    )
    assert list(grid) == [0.0, 60.0, 120.0, 180.0]
    assert mean[0] == pytest.approx((1 + 9) / 4) and lo[0] == 0.5 and hi[0] == 3.0
    assert np.isnan(mean[1]) and mean[2] == 2.0 and np.isnan(mean[3])


def test_readers_see_consistent_snapshots_while_the_writer_appends() -> None:
    """The writer stores value == second for two series in one append; a reader must never
    see a torn window: a value at the wrong time, a hole inside the written run, or a
    minute whose min/mean/max disagree."""
    store = MetricStore()
    stop = threading.Event()
    written = {"n": 0}
    problems: list[str] = []

    def writer() -> None:
        t = 0
        while not stop.is_set() and t < 400_000:
            # jump now and then so whole stretches of the ring are cleared at once
            t += 1 if t % 5000 else 4000
            ts = T0 + t
            store.append([Reading("a/x", ts, float(t)), Reading("b/x", ts, float(t))])
            written["n"] = t

    def reader() -> None:
        while not stop.is_set():
            latest = store.latest("a/x")
            if latest is None:
                continue
            end = latest.ts
            w = store.window("a/x", end - 3000, end + 10)
            held = np.isfinite(w.value)
            if w.tier == 0 and held.any():  # (tier 1 if the writer jumped meanwhile)
                idx = np.flatnonzero(held)
                if not np.array_equal(w.value[held], w.ts[held] - T0):
                    problems.append("a value is shown at the wrong time")
                run = held[idx[0] : idx[-1] + 1]
                if not run.all():
                    problems.append("a hole inside a run the writer wrote whole")
            m = store.window("b/x", end - 20000, end)
            ok = np.isfinite(m.value)
            if ok.any() and not (
                (m.min[ok] <= m.value[ok] * (1 + 1e-6)).all()
                and (m.value[ok] <= m.max[ok] * (1 + 1e-6)).all()
            ):
                problems.append("a minute whose mean is outside its min and max")

    threads = [threading.Thread(target=writer, name="test-writer")] + [
        threading.Thread(target=reader, name=f"test-reader-{i}") for i in range(2)
    ]
    for t in threads:
        t.start()
    threads[0].join(timeout=3.0)
    stop.set()
    for t in threads:
        t.join(timeout=5.0)
    assert not any(t.is_alive() for t in threads)
    assert written["n"] > 1000, "the writer made progress"
    assert not problems, problems[:3]


def test_values_past_float32_are_stored_as_infinity_in_every_tier() -> None:
    store = MetricStore()
    feed(store, "s/bytes", T0, [1.0, 1e39, -1e39, 2.0, float("inf"), 3.0])
    raw = store.window("s/bytes", T0, T0 + 5)
    assert list(raw.value) == [1.0, np.inf, -np.inf, 2.0, np.inf, 3.0]
    minute = store.window("s/bytes", T0 - 86400, T0 + 5)
    assert minute.step_s > 1
    assert np.nanmax(minute.max) == np.inf and np.nanmin(minute.min) == -np.inf
    feed(store, "s/ok", T0, [4.0, 1.0, 7.0])  # a bucket's mean, low and high, one at a time
    ok = store.window("s/ok", T0 - 86400, T0 + 2)
    filled = ~np.isnan(ok.value)
    assert (ok.value[filled][0], ok.min[filled][0], ok.max[filled][0]) == (4.0, 1.0, 7.0)



@pytest.mark.parametrize("silent_s", [1, 2, 4, 5, 9])
def test_seconds_skipped_after_the_ring_wrapped_are_gaps_in_every_tier(silent_s: int) -> None:
    """A full ring, then a source silent for a few seconds: the skipped buckets hold nothing
    (not the values of a lap ago), and a coarse bucket starts its mean, min and max anew."""
    store = MetricStore(tiers=(TierSpec(step_s=1, capacity=10), TierSpec(step_s=2, capacity=5)))
    feed(store, "q/depth", T0, [100.0 + i for i in range(20)])  # two laps of both tiers
    last = T0 + 20 + silent_s
    store.append([Reading("q/depth", last, 7.0)])

    fine = store.window("q/depth", last - 9, last)
    assert fine.tier == 0
    assert np.isnan(fine.value[-1 - silent_s:-1]).all(), "a skipped second shows nothing"
    assert fine.value[-1] == 7.0
    coarse = store.window("q/depth", last - 11, last)
    assert coarse.tier == 1
    assert (coarse.value[-1], coarse.min[-1], coarse.max[-1]) == (7.0, 7.0, 7.0)
    skipped = (coarse.ts > T0 + 19) & (coarse.ts + 2 <= last)
    assert np.isnan(coarse.value[skipped]).all() and np.isnan(coarse.max[skipped]).all()


SMALL_TIERS = (TierSpec(step_s=1, capacity=10), TierSpec(step_s=2, capacity=5),
               TierSpec(step_s=6, capacity=4))


def _held(samples: list[tuple[float, float]], tier: TierSpec, coarse: bool,
          buckets: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """What a tier should hold for ``buckets`` (starts) after ``samples`` in that order: the
    last sample of each second in the finest tier, the mean, min and max of every real sample
    in a coarse one; nothing older than the tier's reach from its newest bucket."""
    newest = max(int(ts // tier.step_s) for ts, _ in samples)
    got: dict[int, list[float]] = {}
    for ts, sample in samples:
        bucket = int(ts // tier.step_s)
        if coarse and np.isnan(sample):
            continue
        big = abs(sample) > 3.4e38  # what a float32 slot holds: past its largest, infinity
        value = np.copysign(np.inf, sample) if big else float(np.float32(sample))
        got[bucket] = [*got.get(bucket, []), value] if coarse else [value]
    mean, lo, hi = [], [], []
    for start in buckets:
        bucket = int(start // tier.step_s)
        values = got.get(bucket) if newest - tier.capacity < bucket <= newest else None
        real = [v for v in values or [] if not np.isnan(v)]
        mean.append(float(np.mean(real)) if real else np.nan)
        lo.append(min(real) if real else np.nan)
        hi.append(max(real) if real else np.nan)
    return mean, lo, hi


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.one_of(
    st.floats(-1e3, 1e3), st.just(float("nan")), st.just(1e39)), st.booleans(), st.booleans()),
    min_size=1, max_size=80))
def test_every_tier_holds_what_each_sample_put_there_whatever_the_order_and_reads(
        steps: list[tuple[int, float, bool, bool]]) -> None:
    """Samples in any order (late ones, NaN gaps, values past float32), one by one or as a
    loaded array, with reads between them at random: each tier read shows what the samples
    put there, by an independent count. The coarse tiers take samples through an open
    bucket, folded in on reads."""
    store = MetricStore(tiers=SMALL_TIERS)
    samples: list[tuple[float, float]] = []
    for offset, value, read, loaded in steps:
        ts = T0 + offset + 0.5
        if loaded:
            store.append_many("s/x", [ts], [value])
        else:
            store.append([Reading("s/x", ts, value)])
        samples.append((ts, value))
        if read:
            store.window("s/x", T0, T0 + 61)
    end = max(ts for ts, _ in samples)
    for start in (end - 9, end - 10, end - 24, end - 60):
        window = store.window("s/x", start, end)
        tier = SMALL_TIERS[window.tier]
        mean, lo, hi = _held(samples, tier, window.tier > 0, window.ts)
        np.testing.assert_allclose(window.value, mean, rtol=1e-5, equal_nan=True)
        np.testing.assert_allclose(window.min, lo, rtol=1e-6, equal_nan=True)
        np.testing.assert_allclose(window.max, hi, rtol=1e-6, equal_nan=True)
