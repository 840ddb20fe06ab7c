"""Quantile and rate math: Prometheus' histogram_quantile, bucket deltas, counter resets."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence

#: A histogram as cumulative buckets: (upper bound ``le``, count of observations <= le).
Buckets = Sequence[tuple[float, float]]

#: Histograms of one family keyed by their label set (without ``le``).
LabelledBuckets = Mapping[tuple[tuple[str, str], ...], Buckets]


def parse_le(text: str) -> float:
    """The upper bound of a bucket from its ``le`` label ("+Inf", "0.25", "1e3")."""
    return float(text)


def _coalesce(buckets: Buckets) -> list[tuple[float, float]]:
    """Sort by bound and add together buckets with the same bound (as Prometheus does)."""
    merged: dict[float, float] = {}
    for le, count in buckets:
        if math.isnan(le):
            continue
        merged[le] = merged.get(le, 0.0) + count
    return sorted(merged.items())


def histogram_quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile of cumulative buckets, interpolated like PromQL's histogram_quantile.

    Returns None where Prometheus returns NaN: no +Inf bucket, fewer than two buckets, or no
    observations. q < 0 gives -inf and q > 1 gives +inf, as in Prometheus. Non-monotonic
    counts (a scrape racing an observation) are forced monotonic first.
    """
    if math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = _coalesce(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return None
    bounds = [le for le, _ in ordered]
    counts: list[float] = []
    running = 0.0
    for _, count in ordered:
        running = max(running, count)
        counts.append(running)
    observations = counts[-1]
    if observations <= 0 or math.isnan(observations):
        return None
    rank = q * observations
    # First bucket (excluding +Inf) whose cumulative count reaches the rank.
    b = bisect.bisect_left(counts, rank, 0, len(counts) - 1)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0
    end = bounds[b]
    count = counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    if count <= 0:
        return end
    return start + (end - start) * (rank / count)


def sum_buckets(histograms: Iterable[Buckets]) -> list[tuple[float, float]]:
    """Add histograms of several label sets together (``sum by (le)``)."""
    merged: dict[float, float] = {}
    for buckets in histograms:
        for le, count in buckets:
            merged[le] = merged.get(le, 0.0) + count
    return sorted(merged.items())


def counter_increase(before: float, after: float) -> float:
    """How much a counter grew between two readings; a drop means the counter was reset,
    so everything counted since the reset (``after``) is the increase."""
    if after < before:
        return after
    return after - before


def counter_rate(before: float, after: float, seconds: float) -> float | None:
    """Per-second rate between two readings ``seconds`` apart, resets handled."""
    if seconds <= 0:
        return None
    return counter_increase(before, after) / seconds


def bucket_increase(before: Buckets, after: Buckets) -> list[tuple[float, float]]:
    """The observations between two scrapes of one histogram, bucket by bucket.

    If any bucket went down the process restarted in between, and the later scrape alone
    holds what was observed since.
    """
    old = dict(before)
    reset = any(count < old.get(le, 0.0) for le, count in after)
    if reset:
        return sorted((le, count) for le, count in after)
    return sorted((le, count - old.get(le, 0.0)) for le, count in after)


def window_buckets(before: LabelledBuckets, after: LabelledBuckets) -> list[tuple[float, float]]:
    """``sum by (le) (increase(...))`` between two scrapes: per label set with resets
    handled, label sets that appeared in between counted whole, then summed."""
    parts = []
    for labels, buckets in after.items():
        previous = before.get(labels)
        parts.append(list(buckets) if previous is None else bucket_increase(previous, buckets))
    return sum_buckets(parts)


def total_count(buckets: Buckets) -> float:
    """Observations in a histogram: the count of its +Inf bucket (0 when it has none)."""
    for le, count in buckets:
        if math.isinf(le) and le > 0:
            return count
    return 0.0


def sample_quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) of raw samples by linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * min(max(q, 0.0), 1.0)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
