"""What moved first: rank the series that changed in a window and order their change points."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from console import metrics
from console.domain import split_series
from console.durations import format_duration

FloatArray = npt.NDArray[np.float64]

#: A mover whose score is below this is noise and never named in the headline.
MIN_HEADLINE_SCORE = 0.3
#: How many of the strongest movers the headline looks at for the first to move.
HEADLINE_CANDIDATES = 3
#: A change of this fraction of the values (or more) counts fully in the score.
RELATIVE_FULL = 0.4
#: A candidate for the headline scores at least this share of the strongest mover.
HEADLINE_SHARE = 0.3
#: What a person sees move rather than what makes things move: when one of these and
#: another figure change within a poll of each other, the other is named first (a cache
#: switched off and the latency it causes are seen by the same polls).
SYMPTOM_METRICS = frozenset({metrics.LATENCY, metrics.LATENCY_P50, metrics.LATENCY_P95,
                             metrics.LATENCY_P99, metrics.LATENCY_MEAN})
#: What the customers manage to do: bookings and orders a minute fall with whatever slows or
#: fails the shop (and wander at a few a minute), never the back end's cause; named after a
#: cause or a latency that moved within a poll of them.
OUTCOME_METRICS = frozenset({metrics.BOOKINGS_RATE, metrics.ORDERS_RATE})
#: Causes that show a switch up to a poll later than the latency and throughput they feed: a
#: hit rate is a ratio over a poll's few lookups (the first poll after a switch may hold too
#: few to tell, and under load its scrape comes late), a probe times its first slow request
#: at once, and a request rate falls with the first slow answers (customers fall behind).
FEEDS_LATENCY_METRICS = frozenset({metrics.CACHE_HIT_RATE})
#: Work a database does for what the cache did not answer: named after a cache that moved
#: within a poll of it (a cache switched off sends its reads to the tables), before symptoms.
DATABASE_WORK_METRICS = frozenset({metrics.FULL_SCANS_RATE})
#: A figure that moves by less than this is noise, however large the move for its size or
#: whatever line it crosses: whole-table reads changing by under the 0.5 a second the advisor
#: speaks from (``Thresholds``; the customers' product searches wander 0.45 -> 0.65 a
#: second) are no change anyone should be shown first; nor is a latency changing by under
#: 5 ms (a health check answering in 0.6 ms instead of 1.2 ms), which no one feels.
LATENCY_FLOOR_S = 0.005
FULL_SCANS_FLOOR_PER_S = 0.5
NOISE_FLOORS: dict[str, float] = {metrics.FULL_SCANS_RATE: FULL_SCANS_FLOOR_PER_S,
                                  **dict.fromkeys(SYMPTOM_METRICS, LATENCY_FLOOR_S)}


@dataclass(frozen=True, slots=True)
class Mover:
    """One series that changed between the baseline and the selected window.

    ``score`` (0..1) ranks movers: the Kolmogorov-Smirnov distance between the two windows'
    values, damped when the mean shift is small against the baseline's spread (``shift`` is
    that standardized shift, window minus baseline) and when it is small against the
    values themselves (under 40 %: a steady 20 ms becoming 25 ms is real but rarely
    what a person is looking for). ``change_ts`` is the single change
    point of the series over baseline + window (UTC epoch seconds), None when it lies in
    the first half of the baseline (a drift, not an onset); ``lead_s`` is how much earlier
    (negative) or later (positive) it moved than the top mover with an onset. ``step_s`` is
    the series' poll interval (the median gap between its samples): its change point is
    no finer than that.
    """

    series: str
    score: float
    ks: float
    shift: float
    before: float
    during: float
    change_ts: float | None
    lead_s: float | None = None
    step_s: float = 0.0

    @property
    def direction(self) -> str:
        """'rose' or 'fell' (window against baseline)."""
        return "rose" if self.during >= self.before else "fell"

    @property
    def fold(self) -> float:
        """How many times larger (or smaller) the window's mean is than the baseline's, as
        a natural log (0.75 -> 0 and 0 -> 40 count as a thousandfold)."""
        size = max(abs(self.before), abs(self.during))
        if size == 0:
            return 0.0
        floor = 1e-3 * size
        return abs(math.log(max(abs(self.during), floor) / max(abs(self.before), floor)))

    @property
    def upstream(self) -> int:
        """How far from the switched cause a figure usually is: 0 for a cause (a cache, a
        queue, traffic, errors), 1 for the database's work, 2 for a symptom (a latency), 3
        for an outcome (bookings a minute)."""
        metric = split_series(self.series)[1]
        if metric in OUTCOME_METRICS:
            return 3
        return 2 if metric in SYMPTOM_METRICS else 1 if metric in DATABASE_WORK_METRICS else 0


def ks_distance(a: FloatArray, b: FloatArray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two ECDFs."""
    if a.size == 0 or b.size == 0:
        return 0.0
    a = np.sort(a)
    b = np.sort(b)
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def robust_scale(values: FloatArray) -> float:
    """Spread of a baseline: 1.4826 x MAD, else the standard deviation, never zero."""
    if values.size == 0:
        return 1e-12
    median = float(np.median(values))
    mad = 1.4826 * float(np.median(np.abs(values - median)))
    scale = mad if mad > 0 else float(np.std(values))
    # a flat baseline (queue depth 0 all along) still has a finite scale
    floor = max(1e-3 * abs(median), 1e-12)
    return max(scale, floor)


def change_point(ts: FloatArray, values: FloatArray) -> float | None:
    """The time of the single most likely mean shift (the first sample after it).

    Binary-segmentation statistic: the split k that maximises
    ``|mean(x[:k]) - mean(x[k:])| * sqrt(k (n - k) / n)``.
    """
    n = values.size
    if n < 4:
        return None
    csum = np.cumsum(values)
    total = csum[-1]
    k = np.arange(1, n, dtype=np.float64)
    left_mean = csum[:-1] / k
    right_mean = (total - csum[:-1]) / (n - k)
    stat = np.abs(left_mean - right_mean) * np.sqrt(k * (n - k) / n)
    if not np.isfinite(stat).any() or float(np.nanmax(stat)) == 0.0:
        return None
    best = int(np.nanargmax(stat)) + 1
    return float(ts[best])


def onset(ts: FloatArray, values: FloatArray, when: float, baseline: FloatArray,
          rising: bool) -> float:
    """Where the change found at ``when`` began: the first sample of the unbroken run before
    it that is already past everything the baseline held (by more than its spread). A
    step's onset is its change point; a ramp's (a queue filling) is where it left the
    baseline, not its middle, where the mean-shift statistic puts it. A change point on a
    sample the baseline could hold (a spike like its own, just before the change, which the
    mean shift takes for the new level) is not where the change began: the first sample
    after it that is past the baseline is."""
    if baseline.size == 0:
        return when
    margin = robust_scale(baseline)  # past the baseline's noise, not one of its own dips
    edge = float(np.max(baseline)) + margin if rising else float(np.min(baseline)) - margin
    beyond = values > edge if rising else values < edge
    k = int(np.searchsorted(ts, when))
    if k >= ts.size:
        return when
    if not beyond[k]:
        later = np.flatnonzero(beyond[k:])
        return float(ts[k + later[0]]) if later.size else when
    while k > 0 and beyond[k - 1]:
        k -= 1
    return float(ts[k])


def _finite(ts: FloatArray, values: FloatArray, lo: float, hi: float) -> tuple[FloatArray,
                                                                                FloatArray]:
    mask = (ts >= lo) & (ts < hi) & np.isfinite(values)
    return ts[mask], values[mask]


def rank_movers(
    series: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    start: float,
    end: float,
    *,
    baseline_s: float | None = None,
    min_points: int = 3,
) -> list[Mover]:
    """Rank ``series`` (name -> (ts, values)) by how much they changed in ``[start, end)``
    against the window just before it (``baseline_s`` long, by default as long as the
    window). Series with fewer than ``min_points`` samples on either side are left out.
    The result is sorted by score, best first, with ``lead_s`` against the first one.
    """
    if end <= start:
        raise ValueError("the window must end after it starts")
    span = baseline_s if baseline_s is not None else end - start
    base_start = start - span
    movers: list[Mover] = []
    for name, (ts_like, values_like) in series.items():
        ts = np.asarray(ts_like, dtype=np.float64)
        values = np.asarray(values_like, dtype=np.float64)
        before_ts, before = _finite(ts, values, base_start, start)
        _, during = _finite(ts, values, start, end)
        if before.size < min_points or during.size < min_points:
            continue
        ks = ks_distance(before, during)
        mean_before = float(np.mean(before))
        mean_during = float(np.mean(during))
        floor = NOISE_FLOORS.get(split_series(name)[1], 0.0)
        if abs(mean_during - mean_before) < floor:
            continue  # a move under its noise floor, whatever levels it moves between
        shift = (mean_during - mean_before) / robust_scale(before)
        size = max(abs(mean_before), abs(mean_during))
        relative = abs(mean_during - mean_before) / size if size > 0 else 0.0
        score = ks * (1.0 - math.exp(-abs(shift) / 3.0)) * min(1.0, relative / RELATIVE_FULL)
        both_ts, both = _finite(ts, values, base_start, end)
        when = change_point(both_ts, both)
        if when is not None:
            # against what came before the change (a change inside the baseline is not
            # measured against its own new level)
            when = onset(both_ts, both, when, before[before_ts < when],
                         rising=mean_during > mean_before)
        if when is not None and when < start - span / 2:
            when = None  # no onset near the window: a drift under way long before it
        step = float(np.median(np.diff(both_ts))) if both_ts.size > 1 else 0.0
        movers.append(Mover(name, score, ks, shift, mean_before, mean_during, when,
                            step_s=step))
    movers.sort(key=lambda m: (-m.score, m.series))
    ref = next((m.change_ts for m in movers if m.change_ts is not None), None)
    if ref is None:
        return movers
    return [replace(m, lead_s=None if m.change_ts is None else m.change_ts - ref)
            for m in movers]


def default_label(series: str) -> str:
    """'cache hit rate (cache)' for 'cache/cache_hit_rate'."""
    source, metric, labels = split_series(series)
    words = metric.replace("_", " ")
    extra = ", ".join(labels.values())
    return f"{words} ({source}{', ' + extra if extra else ''})"


def resolution(a: Mover, b: Mover) -> float:
    """How far apart two change points may be and still tell nothing of which came first:
    each is known to one poll, and a figure over a poll (a rate, a hit rate) blends before
    and after in its first poll, so a poll of each (never under 1 s)."""
    return max(a.step_s + b.step_s, 1.0)


def reach(a: Mover, b: Mover) -> float:
    """How far apart two movers' change points may be and still be read as one switch seen
    by different polls: the polls' :func:`resolution`, and twice it between a cache and a
    figure it feeds (:data:`FEEDS_LATENCY_METRICS`): a latency, or a request rate that fell
    (a rising one is traffic, a cause of its own)."""
    feeds = any(split_series(x.series)[1] in FEEDS_LATENCY_METRICS and _fed(y)
                for x, y in ((a, b), (b, a)))
    return resolution(a, b) * (2.0 if feeds else 1.0)


def _fed(m: Mover) -> bool:
    metric = split_series(m.series)[1]
    return metric in SYMPTOM_METRICS or (metric == metrics.REQUEST_RATE
                                         and m.direction == "fell")


def _together(a: Mover, b: Mover) -> bool:
    assert a.change_ts is not None and b.change_ts is not None
    return abs(a.change_ts - b.change_ts) <= reach(a, b)


def lead_mover(candidates: list[Mover]) -> Mover:
    """The mover the headline starts from: the first to change; of those that changed
    within the polls' :func:`reach` of it, a cause before the database's work before a
    symptom (a cache hit rate before the table reads and the latency it raises), then the
    cleanest change (the higher score: the probe of a slowed endpoint, whose every reading is
    slow, before the whole shop's quantiles, which blend it with the other endpoints), then
    the bigger change for its size."""
    earliest = min(candidates, key=lambda m: (m.change_ts, -m.score))
    together = [m for m in candidates if _together(m, earliest)]
    return min(together, key=lambda m: (m.upstream, -round(m.score, 2), -m.fold))


def explain(movers: list[Mover], label: Callable[[str], str] = default_label,
            min_score: float = MIN_HEADLINE_SCORE,
            group: Callable[[str], str] | None = None) -> str:
    """One sentence for the side list: which series moved first, and how much earlier.

    e.g. "cache hit rate (cache) fell 30 s before latency p95 (web) rose". Series of one
    ``group`` (the quantiles of one source's latency) are not set against each other: the
    strongest of each group stands for it. The first to move among the few strongest is
    named; two that moved within a poll of each other are told apart by
    :func:`lead_mover`.
    """
    strong = [m for m in movers if m.score >= min_score and m.change_ts is not None]
    if not strong:
        return "Nothing moved clearly in this window against the one before it."
    top = strong[0]
    if group is not None:
        seen: set[str] = set()
        kept = []
        for m in strong:
            if group(m.series) not in seen:
                seen.add(group(m.series))
                kept.append(m)
        strong = kept
    # the few strongest movers only: the tenth series to move is rarely the cause
    candidates = [m for m in strong if m.score >= HEADLINE_SHARE * top.score]
    candidates = candidates[:HEADLINE_CANDIDATES]
    first = lead_mover(candidates)
    others = [m for m in candidates if m is not first]
    if not others:
        return f"{label(first.series)} {first.direction}; nothing else moved clearly."
    after = min(others, key=lambda m: (m.change_ts or 0.0, -m.score))
    assert first.change_ts is not None and after.change_ts is not None
    lag = after.change_ts - first.change_ts
    if _together(first, after):
        # the tightest bound that holds: a poll of each, or the reach of a cache and its latency
        bound = resolution(first, after)
        if abs(lag) > bound:
            bound = reach(first, after)
        return (f"{label(first.series)} {first.direction}; {label(after.series)} "
                f"{after.direction} within {format_duration(bound)} "
                "of it.")
    return (f"{label(first.series)} {first.direction} {format_duration(lag)} before "
            f"{label(after.series)} {after.direction}.")
