"""The series limit: a source's label sets past the limit fold into one ``other`` series."""

from __future__ import annotations

import pytest

from console.domain import Reading, series_name, split_series
from console.series_limit import SeriesLimit


def queues(count: int, ts: float = 100.0, start: int = 0) -> list[Reading]:
    return [Reading(series_name("mq", "queue_depth", {"queue": f"q{i}"}), ts, float(i % 7))
            for i in range(start, start + count)]


def test_past_the_limit_the_rest_is_one_other_series_with_their_sum() -> None:
    limit = SeriesLimit(1000)
    readings = [Reading("mq/up", 100.0, 1.0), *queues(1500)]

    kept = limit.apply(readings)

    names = {r.series for r in kept}
    assert len(names) == 1 + 1000 + 1
    other = [r for r in kept if split_series(r.series)[2] == {"series": "other"}]
    assert len(other) == 1
    assert other[0].value == sum(i % 7 for i in range(1000, 1500))
    assert other[0].series == series_name("mq", "queue_depth", {"series": "other"})
    assert limit.warning().startswith("500 queue_depth series folded into 'other'")
    assert "max_series" in limit.warning()


def test_the_first_label_sets_seen_keep_their_series_later() -> None:
    limit = SeriesLimit(10)
    first = {r.series for r in limit.apply(queues(10))}
    later = limit.apply(list(reversed(queues(20, ts=101.0))))

    assert {r.series for r in later} - first == {
        series_name("mq", "queue_depth", {"series": "other"})}
    assert {r.series for r in later} >= first


def test_each_metric_and_each_time_has_its_own_budget_and_fold() -> None:
    limit = SeriesLimit(2)
    p95 = [Reading(series_name("web", "latency_p95", {"route": f"/r{i}"}), 100.0, i / 10)
           for i in range(5)]
    kept = limit.apply([*queues(3), *queues(3, ts=101.0), *p95])

    by_name = {(r.series, r.ts): r.value for r in kept}
    assert by_name[(series_name("mq", "queue_depth", {"series": "other"}), 100.0)] == 2.0
    assert by_name[(series_name("mq", "queue_depth", {"series": "other"}), 101.0)] == 2.0
    # latency folds as its worst, not as a sum
    assert by_name[(series_name("web", "latency_p95", {"series": "other"}), 100.0)] == 0.4


def test_within_the_limit_nothing_changes() -> None:
    limit = SeriesLimit(1000)
    readings = queues(1000)
    assert limit.apply(readings) == readings
    assert limit.warning() == ""


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        SeriesLimit(0)
