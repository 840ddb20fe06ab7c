"""Quantile interpolation against hand-worked cases, and counter resets."""

from __future__ import annotations

import math

import pytest

from console.quantiles import (
    bucket_increase,
    counter_increase,
    counter_rate,
    histogram_quantile,
    sample_quantile,
    sum_buckets,
    total_count,
    window_buckets,
)

INF = math.inf
# 10 observations <= 0.1, 10 more in (0.1, 0.5], 80 more in (0.5, 1]; none above 1.
BUCKETS = [(0.1, 10.0), (0.5, 20.0), (1.0, 100.0), (INF, 100.0)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # rank 5 lies in the first bucket: 0 + 0.1 * 5/10
        (0.05, 0.05),
        # rank 15: bucket (0.1, 0.5] holds 10, 5 of them -> 0.1 + 0.4 * 5/10
        (0.15, 0.3),
        # rank 50: bucket (0.5, 1] holds 80, rank 30 inside -> 0.5 + 0.5 * 30/80
        (0.5, 0.6875),
        # rank 95: 0.5 + 0.5 * 75/80
        (0.95, 0.96875),
        (1.0, 1.0),
    ],
)
def test_quantile_interpolates_linearly_inside_the_bucket(q: float, expected: float) -> None:
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_quantile_in_the_inf_bucket_is_the_highest_finite_bound() -> None:
    buckets = [(0.1, 1.0), (0.5, 2.0), (INF, 10.0)]
    assert histogram_quantile(0.99, buckets) == 0.5


def test_unsorted_buckets_give_the_same_answer() -> None:
    assert histogram_quantile(0.5, list(reversed(BUCKETS))) == pytest.approx(0.6875)


@pytest.mark.parametrize(
    "buckets",
    [
        [],
        [(INF, 0.0)],
        [(0.1, 0.0), (INF, 0.0)],
        [(0.1, 3.0), (0.5, 4.0)],  # no +Inf bucket
    ],
    ids=["none", "only-inf", "no-observations", "no-inf"],
)
def test_quantile_is_none_where_prometheus_gives_nan(buckets: list) -> None:
    assert histogram_quantile(0.5, buckets) is None


def test_quantile_outside_zero_one() -> None:
    assert histogram_quantile(-0.1, BUCKETS) == -INF
    assert histogram_quantile(1.1, BUCKETS) == INF
    assert histogram_quantile(float("nan"), BUCKETS) is None


def test_non_monotonic_buckets_are_forced_monotonic() -> None:
    # A scrape racing an observation: the 0.5 bucket reads lower than the 0.1 bucket.
    racy = [(0.1, 10.0), (0.5, 9.0), (1.0, 20.0), (INF, 20.0)]
    # treated as [(0.1,10),(0.5,10),(1,20)]: rank 15 -> 0.5 + 0.5 * 5/10
    assert histogram_quantile(0.75, racy) == pytest.approx(0.75)


def test_negative_first_bound_is_returned_as_is() -> None:
    assert histogram_quantile(0.1, [(-1.0, 5.0), (0.0, 10.0), (INF, 10.0)]) == -1.0


def test_sum_buckets_adds_label_sets() -> None:
    a = [(0.1, 1.0), (INF, 2.0)]
    b = [(0.1, 3.0), (INF, 4.0)]
    assert sum_buckets([a, b]) == [(0.1, 4.0), (INF, 6.0)]
    assert total_count(sum_buckets([a, b])) == 6.0


def test_bucket_increase_between_scrapes() -> None:
    before = [(0.1, 10.0), (1.0, 15.0), (INF, 15.0)]
    after = [(0.1, 12.0), (1.0, 25.0), (INF, 27.0)]
    window = bucket_increase(before, after)
    assert window == [(0.1, 2.0), (1.0, 10.0), (INF, 12.0)]
    # rank 6 of 12: bucket (0.1, 1] holds 8, rank 4 inside -> 0.1 + 0.9 * 4/8
    assert histogram_quantile(0.5, window) == pytest.approx(0.55)


def test_bucket_increase_after_a_restart_uses_the_new_counts() -> None:
    before = [(0.1, 100.0), (INF, 200.0)]
    after = [(0.1, 3.0), (INF, 4.0)]
    assert bucket_increase(before, after) == [(0.1, 3.0), (INF, 4.0)]


def test_window_buckets_handles_new_and_reset_label_sets() -> None:
    get = (("method", "GET"),)
    post = (("method", "POST"),)
    before = {get: [(0.1, 5.0), (INF, 10.0)]}
    after = {get: [(0.1, 6.0), (INF, 12.0)], post: [(0.1, 1.0), (INF, 1.0)]}
    assert window_buckets(before, after) == [(0.1, 2.0), (INF, 3.0)]
    restarted = {get: [(0.1, 1.0), (INF, 1.0)]}
    assert window_buckets(after, restarted) == [(0.1, 1.0), (INF, 1.0)]


def test_counter_increase_and_rate_with_reset() -> None:
    assert counter_increase(10.0, 15.0) == 5.0
    assert counter_increase(10.0, 3.0) == 3.0  # reset: 3 counted since the restart
    assert counter_rate(10.0, 20.0, 5.0) == 2.0
    assert counter_rate(10.0, 20.0, 0.0) is None


def test_sample_quantile_interpolates() -> None:
    assert sample_quantile([], 0.5) is None
    assert sample_quantile([0.3, 0.1, 0.2], 0.5) == pytest.approx(0.2)
    assert sample_quantile([0.0, 1.0], 0.95) == pytest.approx(0.95)
