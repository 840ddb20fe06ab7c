"""A series over a time range on a regular grid: the window a chart reads, and its helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

@dataclass(frozen=True, slots=True, eq=False)
class SeriesWindow:
    """A read-only copy of one series over a time range, on a regular grid.

    ``ts`` holds each bucket's start (UTC epoch seconds); ``value`` is the bucket mean and
    ``min``/``max`` its extremes; an empty bucket is NaN in all three, so a chart shows a gap
    where the source was silent. ``tier`` is the index of the tier read (for a window read
    from disk by the history: 0 raw samples, 1 one-minute roll-ups) and ``step_s`` the
    grid's spacing after any downsampling.
    """

    series: str
    ts: FloatArray
    value: FloatArray
    min: FloatArray
    max: FloatArray
    tier: int
    step_s: float

    def __len__(self) -> int:
        return int(self.ts.size)

    @property
    def has_data(self) -> bool:
        """True when at least one bucket holds a sample."""
        return bool(np.isfinite(self.value).any())


def _readonly(*arrays: FloatArray) -> None:
    for array in arrays:
        array.setflags(write=False)


def make_window(
    series: str,
    ts: FloatArray,
    value: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    tier: int,
    step_s: float,
    max_points: int | None = None,
) -> SeriesWindow:
    """Build a :class:`SeriesWindow`, downsampling to at most ``max_points`` buckets."""
    if max_points is not None and max_points > 0 and ts.size > max_points:
        factor = math.ceil(ts.size / max_points)
        ts, value, lo, hi = downsample(ts, value, lo, hi, factor)
        step_s *= factor
    _readonly(ts, value, lo, hi)
    return SeriesWindow(series, ts, value, lo, hi, tier, float(step_s))


def downsample(
    ts: FloatArray, value: FloatArray, lo: FloatArray, hi: FloatArray, factor: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Merge every ``factor`` neighbouring buckets: mean of means, min of mins, max of maxes.

    Empty (NaN) buckets are ignored; a group of only empty buckets stays NaN. No warnings.
    """
    n = ts.size
    groups = math.ceil(n / factor)
    pad = groups * factor - n

    def shaped(a: FloatArray) -> FloatArray:
        if pad:
            a = np.concatenate([a, np.full(pad, np.nan)])
        return a.reshape(groups, factor)

    v = shaped(value)
    filled = ~np.isnan(v)
    count = filled.sum(axis=1)
    total = np.where(filled, v, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    new_lo = np.fmin.reduce(shaped(lo), axis=1)
    new_hi = np.fmax.reduce(shaped(hi), axis=1)
    return ts[::factor].copy(), mean, new_lo, new_hi


def aggregate_to_grid(
    ts: FloatArray,
    mean: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    count: FloatArray,
    start_ts: float,
    end_ts: float,
    step_s: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Put irregular points (each a mean/min/max over ``count`` samples) on a regular grid.

    Buckets are aligned to multiples of ``step_s`` since the epoch and cover
    ``[start_ts, end_ts]``; a bucket with no point is NaN. The bucket mean is weighted by
    ``count``. Returns (bucket starts, mean, min, max).
    """
    first = math.floor(start_ts / step_s)
    last = math.floor(end_ts / step_s)
    n = max(last - first + 1, 0)
    grid = (np.arange(first, first + n, dtype=np.float64)) * step_s
    out_mean = np.full(n, np.nan)
    out_lo = np.full(n, np.nan)
    out_hi = np.full(n, np.nan)
    if n == 0 or ts.size == 0:
        return grid, out_mean, out_lo, out_hi
    idx = np.floor(ts / step_s).astype(np.int64) - first
    keep = (idx >= 0) & (idx < n) & np.isfinite(mean) & (count > 0)
    if not keep.any():
        return grid, out_mean, out_lo, out_hi
    idx, mean, lo, hi, count = idx[keep], mean[keep], lo[keep], hi[keep], count[keep]
    weight = np.bincount(idx, weights=count, minlength=n)
    total = np.bincount(idx, weights=mean * count, minlength=n)
    filled = weight > 0
    out_mean[filled] = total[filled] / weight[filled]
    acc_lo = np.full(n, np.inf)
    acc_hi = np.full(n, -np.inf)
    np.minimum.at(acc_lo, idx, lo)
    np.maximum.at(acc_hi, idx, hi)
    out_lo[filled] = acc_lo[filled]
    out_hi[filled] = acc_hi[filled]
    return grid, out_mean, out_lo, out_hi
