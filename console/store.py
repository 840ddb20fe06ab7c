"""The in-memory metric store: per-series numpy ring buffers in tiers of 1 s, 1 min and 10 min."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.domain import Reading
from console.series_window import FloatArray, SeriesWindow, make_window


@dataclass(frozen=True, slots=True)
class TierSpec:
    """One resolution of the store: ``capacity`` buckets of ``step_s`` seconds each.

    The finest tier keeps one float32 per second (the last value written in that second);
    coarser tiers keep mean, min and max of every raw sample that fell into the bucket, so
    a one-second spike still shows in the day view.
    """

    step_s: int
    capacity: int

    @property
    def span_s(self) -> int:
        """How far back the tier reaches from its newest bucket, in seconds."""
        return self.step_s * self.capacity


#: 1 s for an hour, 1 min for a day, 10 min for a week: about 49 KB per series.
DEFAULT_TIERS: tuple[TierSpec, ...] = (
    TierSpec(step_s=1, capacity=3600),
    TierSpec(step_s=60, capacity=1440),
    TierSpec(step_s=600, capacity=1008),
)


#: Up to this many slots are emptied one by one through the buffers, more with numpy.
_FEW_SLOTS = 4
#: The largest finite float32: a larger value is stored as infinity, as numpy does.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: The most samples a coarse bucket counts.
_COUNT_MAX = int(np.iinfo(np.uint32).max)


def _float32(value: float) -> float:
    """``value`` as a float32 slot takes it: past the largest float32, ±infinity."""
    return math.copysign(math.inf, value) if abs(value) > _FLOAT32_MAX else value


def _buffer(array: npt.NDArray[np.float32]) -> memoryview[float]:
    """A float32 array's memory as a memoryview of its floats (the same memory)."""
    return array.data.cast("B").cast("f")

class _Ring:
    """One tier of one series. Timestamps are implicit: bucket ``b`` lives in slot
    ``b % capacity`` and is valid while ``head - capacity < b <= head``."""

    __slots__ = ("_counts", "_his", "_los", "_values", "agg", "capacity", "count", "head",
                 "hi", "lo", "step", "value")

    def __init__(self, spec: TierSpec, agg: bool) -> None:
        self.step = spec.step_s
        self.capacity = spec.capacity
        self.agg = agg
        self.head: int | None = None
        self.value = np.full(spec.capacity, np.nan, dtype=np.float32)
        if agg:
            self.lo = np.full(spec.capacity, np.nan, dtype=np.float32)
            self.hi = np.full(spec.capacity, np.nan, dtype=np.float32)
            self.count = np.zeros(spec.capacity, dtype=np.uint32)
            self._los, self._his = _buffer(self.lo), _buffer(self.hi)
            self._counts = self.count.data.cast("B").cast("I")
        # One sample at a time through the arrays' buffers: a numpy scalar read or write
        # costs 2-3x a memoryview's (a poll of 200 targets stores ~8,000 samples a second).
        self._values = _buffer(self.value)

    @property
    def nbytes(self) -> int:
        total = self.value.nbytes
        if self.agg:
            total += self.lo.nbytes + self.hi.nbytes + self.count.nbytes
        return total

    def oldest_bucket(self) -> int | None:
        return None if self.head is None else self.head - self.capacity + 1

    def _clear(self, start: int, n: int) -> None:
        """Empty ``n`` slots from slot ``start`` on, wrapping around."""
        cap = self.capacity
        if n <= _FEW_SLOTS:  # a series read each second: one slot, cheaper than a numpy slice
            for i in range(start, start + n):
                slot = i % cap
                self._values[slot] = math.nan
                if self.agg:
                    self._los[slot] = self._his[slot] = math.nan
                    self._counts[slot] = 0
            return
        if n >= cap:
            spans = [(0, cap)]
        elif start + n <= cap:
            spans = [(start, start + n)]
        else:
            spans = [(start, cap), (0, start + n - cap)]
        for a, b in spans:
            self.value[a:b] = np.nan
            if self.agg:
                self.lo[a:b] = np.nan
                self.hi[a:b] = np.nan
                self.count[a:b] = 0

    def _advance(self, bucket: int) -> None:
        if self.head is None:
            self.head = bucket
            return
        if bucket > self.head:
            self._clear((self.head + 1) % self.capacity, bucket - self.head)
            self.head = bucket

    def put(self, ts: float, value: float) -> bool:
        bucket = int(ts // self.step)
        if self.head is None or bucket > self.head:
            self._advance(bucket)
        elif bucket <= self.head - self.capacity:
            return False
        slot = bucket % self.capacity
        value = _float32(value)  # a buffer refuses a float past float32; numpy stores ±inf
        if not self.agg:
            self._values[slot] = value
            return True
        if math.isnan(value):  # the bucket keeps whatever real samples it has
            return False
        values, seen = self._values, self._counts[slot]
        if seen == 0:
            values[slot] = self._los[slot] = self._his[slot] = value
        else:
            values[slot] = (values[slot] * seen + value) / (seen + 1)  # inf stays inf
            self._los[slot] = min(self._los[slot], value)
            self._his[slot] = max(self._his[slot], value)
        self._counts[slot] = seen + 1
        return True

    def merge(self, bucket_ts: float, n: int, total: float, lo: float, hi: float) -> None:
        """Fold ``n`` samples of one bucket (their sum, and their min and max as float32
        takes them) into it; with none, only move on to the bucket, as a gap would."""
        bucket = int(bucket_ts // self.step)
        if self.head is None or bucket > self.head:
            self._advance(bucket)
        elif bucket <= self.head - self.capacity:
            return
        if n == 0:
            return
        slot = bucket % self.capacity
        values, seen = self._values, self._counts[slot]
        if seen == 0:
            values[slot] = _float32(total / n)
            self._los[slot], self._his[slot] = lo, hi
        else:
            values[slot] = _float32((values[slot] * seen + total) / (seen + n))
            self._los[slot] = min(self._los[slot], lo)
            self._his[slot] = max(self._his[slot], hi)
        self._counts[slot] = min(seen + n, _COUNT_MAX)

    def put_many(self, ts: FloatArray, values: FloatArray) -> bool:
        """Vectorised :meth:`put` for samples sorted by time."""
        buckets = np.floor(ts / self.step).astype(np.int64)
        self._advance(int(buckets[-1]))
        assert self.head is not None
        keep = buckets > self.head - self.capacity
        if not self.agg:
            buckets, values = buckets[keep], values[keep]
            if buckets.size == 0:
                return False
            # last sample of each second wins, as in put(): keep the last of each run
            last = np.append(buckets[1:] != buckets[:-1], True)
            self.value[buckets[last] % self.capacity] = values[last]
            return True
        keep &= ~np.isnan(values)
        buckets, values = buckets[keep], values[keep]
        if buckets.size == 0:
            return False
        starts = np.flatnonzero(np.append(True, buckets[1:] != buckets[:-1]))
        uniq = buckets[starts]
        n_new = np.diff(np.append(starts, buckets.size))
        sums = np.add.reduceat(values, starts)
        mins = np.minimum.reduceat(values, starts)
        maxs = np.maximum.reduceat(values, starts)
        slots = uniq % self.capacity
        seen = self.count[slots].astype(np.float64)
        old_mean = np.where(seen > 0, self.value[slots].astype(np.float64), 0.0)
        total = seen + n_new
        self.value[slots] = (old_mean * seen + sums) / total
        self.lo[slots] = np.fmin(self.lo[slots], mins)
        self.hi[slots] = np.fmax(self.hi[slots], maxs)
        self.count[slots] = np.minimum(total, np.iinfo(np.uint32).max)
        return True

    def read(self, first: int, last: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Copies of (mean, min, max) for buckets ``first..last``; NaN outside what is held."""
        n = last - first + 1
        value = np.full(n, np.nan)
        lo = np.full(n, np.nan)
        hi = np.full(n, np.nan)
        if self.head is None or n <= 0:
            return value, lo, hi
        a = max(first, self.head - self.capacity + 1)
        b = min(last, self.head)
        if a <= b:
            slots = np.arange(a, b + 1) % self.capacity
            sl = slice(a - first, b - first + 1)
            value[sl] = self.value[slots]
            if self.agg:
                lo[sl] = self.lo[slots]
                hi[sl] = self.hi[slots]
            else:
                lo[sl] = value[sl]
                hi[sl] = value[sl]
        return value, lo, hi


class _Series:
    """One series: its rings, and the samples of its newest bucket of the first coarse
    tier not yet folded into the coarse rings (the open bucket).

    Folding each sample into every coarse ring cost 2-3x the finest ring's write (a poll of
    200 targets stores ~5,000 samples a second); the open bucket keeps their count, sum, min
    and max in four floats, and is folded into the coarse rings, all at once, when a sample
    of a later bucket comes or before the series is read.
    """

    __slots__ = ("hi", "last_ts", "last_value", "lo", "n", "open", "rings", "step", "total",
                 "version")

    def __init__(self, tiers: tuple[TierSpec, ...]) -> None:
        self.rings = [_Ring(spec, agg=i > 0) for i, spec in enumerate(tiers)]
        self.version = 0
        self.last_ts = -math.inf
        self.last_value = math.nan
        self.step = tiers[1].step_s if len(tiers) > 1 else 1
        self.open: int | None = None  # the open bucket (of the first coarse tier)
        self.n, self.total, self.lo, self.hi = 0, 0.0, math.inf, -math.inf

    def add(self, ts: float, value: float) -> bool:
        """Put one sample in the coarse tiers; whether they keep it (as ``_Ring.put``)."""
        bucket = int(ts // self.step)
        if bucket != self.open:
            if self.open is not None and bucket < self.open:  # late: straight into the rings
                stored = False
                for ring in self.rings[1:]:
                    stored = ring.put(ts, value) or stored
                return stored
            self.settle()
            self.open = bucket
        if math.isnan(value):  # the bucket keeps whatever real samples it has
            return False
        value = _float32(value)
        self.n += 1
        self.total += value
        self.lo = min(self.lo, value)
        self.hi = max(self.hi, value)
        return True

    def settle(self) -> None:
        """Fold the open bucket into the coarse rings (it stays open for more samples)."""
        if self.open is None:
            return
        start = float(self.open * self.step)
        for ring in self.rings[1:]:
            ring.merge(start, self.n, self.total, self.lo, self.hi)
        self.n, self.total, self.lo, self.hi = 0, 0.0, math.inf, -math.inf


class MetricStore:
    """Every live series in memory, in tiers of ring buffers (see :data:`DEFAULT_TIERS`).

    Safe for any number of threads: writes and reads take one short lock, and readers get
    copies, so a chart never sees a half-written append. ``version`` grows with every
    append that stored something; :meth:`changed_since` tells a UI timer which series to
    redraw. Samples older than a tier's reach are dropped from that tier only.
    """

    def __init__(self, tiers: tuple[TierSpec, ...] = DEFAULT_TIERS) -> None:
        if not tiers or tiers[0].step_s != 1:
            raise ValueError("the finest tier must have a 1 s step")
        steps = [t.step_s for t in tiers]
        if steps != sorted(set(steps)):
            raise ValueError("tiers must go from finest to coarsest")
        self.tiers = tuple(tiers)
        # samples go to the coarse tiers through each series' open bucket
        # (:meth:`_Series.add`), which needs every coarse step a multiple of the first
        if any(step % steps[1] for step in steps[1:]):
            raise ValueError("each coarse tier's step must be a multiple of the first's")
        self._coarse = len(tiers) > 1
        self._lock = threading.Lock()
        self._series: dict[str, _Series] = {}
        self._version = 0

    @property
    def version(self) -> int:
        """A counter that grows each time an append changes something."""
        return self._version

    def _get(self, name: str) -> _Series:
        found = self._series.get(name)
        if found is None:
            found = self._series[name] = _Series(self.tiers)
        return found

    def append(self, readings: Iterable[Reading]) -> int:
        """Store readings from any source; returns the new version. A NaN value is an
        explicit gap; a reading whose time is not finite is ignored."""
        with self._lock:
            version = self._version + 1
            changed = False
            for reading in readings:
                ts, value = reading.ts, reading.value
                if not math.isfinite(ts):
                    continue  # a reading without a time cannot be placed
                series = self._get(reading.series)
                stored = series.rings[0].put(ts, value)
                if self._coarse:
                    stored = series.add(ts, value) or stored
                if ts >= series.last_ts:
                    series.last_ts, series.last_value = ts, value
                    stored = True
                if stored:
                    series.version = version
                    changed = True
            if changed:
                self._version = version
            return self._version

    def append_many(self, series: str, ts: npt.ArrayLike, values: npt.ArrayLike) -> int:
        """Store many samples of one series at once (e.g. a day loaded from history)."""
        ts_arr = np.asarray(ts, dtype=np.float64)
        val_arr = np.asarray(values, dtype=np.float64)
        if ts_arr.shape != val_arr.shape or ts_arr.ndim != 1:
            raise ValueError("ts and values must be 1-D arrays of one length")
        timed = np.isfinite(ts_arr)
        if not timed.all():
            ts_arr, val_arr = ts_arr[timed], val_arr[timed]
        if ts_arr.size == 0:
            return self._version
        with np.errstate(invalid="ignore"):  # NaN is a gap; past float32 is ±inf, as in put
            past = np.abs(val_arr) > _FLOAT32_MAX
        if past.any():
            val_arr = np.where(past, np.copysign(np.inf, val_arr), val_arr)
        if ts_arr.size > 1 and (np.diff(ts_arr) < 0).any():
            order = np.argsort(ts_arr, kind="stable")
            ts_arr, val_arr = ts_arr[order], val_arr[order]
        with self._lock:
            entry = self._get(series)
            stored = False
            for ring in entry.rings:
                stored = ring.put_many(ts_arr, val_arr) or stored
            if ts_arr[-1] >= entry.last_ts:
                entry.last_ts, entry.last_value = float(ts_arr[-1]), float(val_arr[-1])
                stored = True
            if stored:
                self._version += 1
                entry.version = self._version
            return self._version

    def changed_since(self, version: int) -> tuple[int, set[str]]:
        """(current version, names of the series changed after ``version``)."""
        with self._lock:
            changed = {name for name, s in self._series.items() if s.version > version}
            return self._version, changed

    def series_names(self) -> list[str]:
        """Every series seen so far, sorted."""
        with self._lock:
            return sorted(self._series)

    def latest(self, series: str) -> Reading | None:
        """The newest reading of a series (full precision), or None if never seen."""
        with self._lock:
            entry = self._series.get(series)
            if entry is None or entry.last_ts == -math.inf:
                return None
            return Reading(series, entry.last_ts, entry.last_value)

    def oldest_ts(self, series: str) -> float | None:
        """Start of the oldest bucket memory can still hold for a series; older ranges
        are for the history on disk."""
        with self._lock:
            entry = self._series.get(series)
            if entry is None:
                return None
            entry.settle()
            ring = entry.rings[-1]
            oldest = ring.oldest_bucket()
            return None if oldest is None else float(oldest * ring.step)

    def window(
        self,
        series: str,
        start_ts: float,
        end_ts: float,
        max_points: int | None = None,
    ) -> SeriesWindow:
        """The series over ``[start_ts, end_ts]`` from the finest tier that reaches back
        to ``start_ts``.

        If no tier reaches that far, the coarsest is used and the window begins where it
        does (ask the history for older data). Empty buckets are NaN. With
        ``max_points`` the grid is merged (mean, min of mins, max of maxes) to fit.
        """
        if end_ts < start_ts:
            raise ValueError("end_ts is before start_ts")
        with self._lock:
            entry = self._series.get(series)
            if entry is not None:
                entry.settle()
            tier = len(self.tiers) - 1
            rings = entry.rings if entry is not None else None
            for i, spec in enumerate(self.tiers):
                if rings is not None and rings[i].head is not None:
                    oldest = rings[i].oldest_bucket()
                    assert oldest is not None
                    # one bucket of slack: "the last 24 h" should get 1-minute buckets
                    if (oldest - 1) * spec.step_s <= start_ts:
                        tier = i
                        break
                elif end_ts - start_ts <= spec.span_s:
                    tier = i
                    break
            spec = self.tiers[tier]
            first = math.floor(start_ts / spec.step_s)
            last = math.floor(end_ts / spec.step_s)
            if rings is not None:
                ring = rings[tier]
                oldest = ring.oldest_bucket()
                if oldest is not None and first < oldest and tier == len(self.tiers) - 1:
                    first = min(oldest, last)
                value, lo, hi = ring.read(first, last)
            else:
                first = max(first, last - spec.capacity + 1)
                n = last - first + 1
                value, lo, hi = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        ts = np.arange(first, last + 1, dtype=np.float64) * spec.step_s
        return make_window(series, ts, value, lo, hi, tier, spec.step_s, max_points)

    def nbytes(self, series: str | None = None) -> int:
        """Bytes held by the ring buffers of one series, or of all."""
        with self._lock:
            entries = list(self._series.values()) if series is None else [self._series[series]]
            return sum(ring.nbytes for entry in entries for ring in entry.rings)
