"""Chart-side series buffers: gaps as NaN, and a min/max per pixel column kept up to date."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
isnan = math.isnan

#: Draw the raw points when there are at most this many per pixel column.
RAW_POINTS_PER_PIXEL = 3
#: Merges of at most this many points take the incremental path.
SMALL_MERGE = 16


class _Grow:
    """A numpy array that grows at the end in amortised O(1) and can be cut back."""

    __slots__ = ("data", "n")

    def __init__(self, dtype: type = np.float64, capacity: int = 256) -> None:
        self.data: npt.NDArray = np.empty(capacity, dtype=dtype)
        self.n = 0

    def view(self) -> npt.NDArray:
        return self.data[: self.n]

    def truncate(self, n: int) -> None:
        self.n = max(0, min(n, self.n))

    def extend(self, values: npt.ArrayLike) -> None:
        arr = np.asarray(values, dtype=self.data.dtype)
        need = self.n + arr.size
        if need > self.data.size:
            bigger = np.empty(max(need, 2 * self.data.size), dtype=self.data.dtype)
            bigger[: self.n] = self.data[: self.n]
            self.data = bigger
        self.data[self.n : need] = arr
        self.n = need

    def push(self, value: float) -> None:
        """Append one value (the live path: cheaper than :meth:`extend` for one)."""
        if self.n == self.data.size:
            self.extend([value])
            return
        self.data[self.n] = value
        self.n += 1

    def drop_front(self, k: int) -> None:
        k = max(0, min(k, self.n))
        if k:
            self.data[: self.n - k] = self.data[k : self.n].copy()
            self.n -= k


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one curve draws for one view: the line, and the min/max envelope if it has one."""

    x: FloatArray
    y: FloatArray
    env_x: FloatArray | None = None
    env_lo: FloatArray | None = None
    env_hi: FloatArray | None = None
    decimated: bool = False


class _Bins:
    """Min/max of a buffer per time bin of ``width`` seconds, aligned to the epoch."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.idx = _Grow(np.int64)
        self.start = _Grow(np.int64)  # raw index of each bin's first point
        self.ymin = _Grow()
        self.ymax = _Grow()
        self.lo = _Grow()
        self.hi = _Grow()
        self.nan = _Grow(np.bool_)

    def append_points(self, ts: list[float], y: list[float], lo: list[float],
                      hi: list[float], first_raw: int) -> bool:
        """Fold a few points appended at the end into the bins; True if a bin changed."""
        changed = False
        width = self.width
        for i, (t, v, a, b) in enumerate(zip(ts, y, lo, hi, strict=True)):
            b_idx = math.floor(t / width)
            n = self.idx.n
            if n and int(self.idx.data[n - 1]) == b_idx:
                k = n - 1
                if isnan(v):
                    if not self.nan.data[k]:
                        self.nan.data[k] = True
                        changed = True
                    continue
                for grow, new, pick in ((self.ymin, v, min), (self.ymax, v, max),
                                        (self.lo, a, min), (self.hi, b, max)):
                    old = float(grow.data[k])
                    best = new if isnan(old) else pick(old, new)
                    if best != old:
                        grow.data[k] = best
                        changed = True
            else:
                self.idx.push(b_idx)
                self.start.push(first_raw + i)
                self.ymin.push(v)
                self.ymax.push(v)
                self.lo.push(a)
                self.hi.push(b)
                self.nan.push(isnan(v))
                changed = True
        return changed

    def rebuild_from(self, raw_index: int, ts: FloatArray, y: FloatArray, lo: FloatArray,
                     hi: FloatArray) -> None:
        """Recompute every bin from the one holding raw point ``raw_index`` to the end."""
        starts = self.start.view()
        k = int(np.searchsorted(starts, raw_index, side="right")) - 1 if starts.size else 0
        k = max(k, 0)
        first = int(starts[k]) if starts.size else 0
        for grow in (self.idx, self.start, self.ymin, self.ymax, self.lo, self.hi, self.nan):
            grow.truncate(k)
        if first >= ts.size:
            return
        t = ts[first:]
        bins = np.floor(t / self.width).astype(np.int64)
        edges = np.flatnonzero(bins[1:] != bins[:-1]) + 1
        heads = np.concatenate([[0], edges])
        seg_y = y[first:]
        isnan = np.isnan(seg_y)
        self.idx.extend(bins[heads])
        self.start.extend(heads + first)
        self.ymin.extend(np.fmin.reduceat(seg_y, heads))
        self.ymax.extend(np.fmax.reduceat(seg_y, heads))
        self.lo.extend(np.fmin.reduceat(lo[first:], heads))
        self.hi.extend(np.fmax.reduceat(hi[first:], heads))
        self.nan.extend(np.logical_or.reduceat(isnan, heads))


class SeriesBuffer:
    """The points one curve can draw, sorted by time, with a gap marker (NaN) wherever the
    source was silent for longer than ``gap_s``; ``lo``/``hi`` carry the min/max of coarse
    tiers (equal to the value for raw samples).

    :meth:`render` returns at most a few points per pixel column for any view: the raw
    points when few are visible, else the min and max of each column-wide time bin. Bins
    are aligned to the epoch, so while the view slides (follow-live) they stay valid and an
    append only touches the last one.
    """

    def __init__(self, gap_s: float | None = None) -> None:
        self._ts = _Grow()
        self._y = _Grow()
        self._lo = _Grow()
        self._hi = _Grow()
        self._fixed_gap = gap_s
        self.gap_s = gap_s if gap_s is not None else math.inf
        self.step_s = 1.0
        self.has_envelope = False
        self._bins: _Bins | None = None
        self._estimated_at = -1  # buffer length at the last gap estimate
        self.typical_step_s = 0.0  # median spacing of the points (0 until known)
        self.revision = 0  # grows with every change of the points
        self._bins_revision = 0  # grows when the cached bins change
        self._last: tuple[tuple[float, ...], Rendered] | None = None

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._ts.n

    @property
    def ts(self) -> FloatArray:
        return self._ts.view()

    @property
    def values(self) -> FloatArray:
        return self._y.view()

    def first_ts(self) -> float | None:
        return float(self._ts.data[0]) if self._ts.n else None

    def last_ts(self) -> float | None:
        """Time of the newest point (gap markers included)."""
        return float(self._ts.data[self._ts.n - 1]) if self._ts.n else None

    def last_real_ts(self) -> float | None:
        """Time of the newest real point (not a gap marker)."""
        ts, y = self._ts.data, self._y.data
        i = self._ts.n - 1
        while i >= 0 and y[i] != y[i]:
            i -= 1
        return float(ts[i]) if i >= 0 else None

    def finite(self, start: float = -math.inf, end: float = math.inf) -> tuple[FloatArray,
                                                                                  FloatArray]:
        """(ts, value) of the real points in ``[start, end]`` (gap markers left out)."""
        ts, y = self._ts.view(), self._y.view()
        i0 = int(np.searchsorted(ts, start, side="left"))
        i1 = int(np.searchsorted(ts, end, side="right"))
        t, v = ts[i0:i1], y[i0:i1]
        keep = ~np.isnan(v)
        return t[keep], v[keep]

    def value_at(self, when: float) -> float | None:
        """The last value at or before ``when``, None in a gap or before the first point."""
        ts = self._ts.view()
        i = int(np.searchsorted(ts, when, side="right")) - 1
        if i < 0:
            return None
        value = float(self._y.data[i])
        if math.isnan(value) or when - float(ts[i]) > self.gap_s:
            return None
        return value

    # -- writing ---------------------------------------------------------------------------

    def clear(self) -> None:
        for grow in (self._ts, self._y, self._lo, self._hi):
            grow.truncate(0)
        self.has_envelope = False
        self._bins = None
        self._estimated_at = -1
        self._changed(bins=True)

    def _changed(self, bins: bool) -> None:
        self.revision += 1
        if bins:
            self._bins_revision += 1

    def set(self, ts: npt.ArrayLike, values: npt.ArrayLike, lo: npt.ArrayLike | None = None,
            hi: npt.ArrayLike | None = None, step_s: float | None = None) -> None:
        """Replace everything with these points (NaN = empty bucket)."""
        self.clear()
        self.merge(ts, values, lo, hi, step_s=step_s)

    def merge(self, ts: npt.ArrayLike, values: npt.ArrayLike, lo: npt.ArrayLike | None = None,
              hi: npt.ArrayLike | None = None, step_s: float | None = None) -> None:
        """Replace what the buffer holds from ``ts[0]`` on with these points.

        ``ts`` must be sorted; NaN values are empty buckets and are dropped, and a gap
        marker goes wherever consecutive points are more than ``gap_s`` apart.
        """
        t = np.asarray(ts, dtype=np.float64)
        if t.size == 0:
            return
        y = np.asarray(values, dtype=np.float64)
        lo_a = y if lo is None else np.asarray(lo, dtype=np.float64)
        hi_a = y if hi is None else np.asarray(hi, dtype=np.float64)
        if step_s is not None:
            self.step_s = float(step_s)
        if t.size <= SMALL_MERGE and self._merge_small(t, y, lo_a, hi_a):
            return
        cut = int(np.searchsorted(self._ts.view(), t[0], side="left"))
        for grow in (self._ts, self._y, self._lo, self._hi):
            grow.truncate(cut)
        # drop a trailing gap marker: the new points decide whether there is a gap
        if self._ts.n and math.isnan(self._y.data[self._ts.n - 1]):
            cut = self._ts.n - 1
            for grow in (self._ts, self._y, self._lo, self._hi):
                grow.truncate(cut)
        keep = ~np.isnan(y)
        t, y, lo_a, hi_a = t[keep], y[keep], lo_a[keep], hi_a[keep]
        if t.size:
            if not self.has_envelope and bool(np.any(lo_a != hi_a)):
                self.has_envelope = True
            prev = self._ts.data[self._ts.n - 1] if self._ts.n else None
            self._estimate_gap(t, prev)
            all_t = t if prev is None else np.concatenate([[prev], t])
            jumps = np.flatnonzero(np.diff(all_t) > self.gap_s)
            if jumps.size:
                # a NaN just after each point that is followed by silence
                mark_t = all_t[jumps] + np.minimum(self.step_s, np.diff(all_t)[jumps] / 2)
                at = jumps + (0 if prev is None else -1) + 1
                nan = np.full(jumps.size, np.nan)
                t = np.insert(t, at, mark_t)
                y = np.insert(y, at, nan)
                lo_a = np.insert(lo_a, at, nan)
                hi_a = np.insert(hi_a, at, nan)
            self._ts.extend(t)
            self._y.extend(y)
            self._lo.extend(lo_a)
            self._hi.extend(hi_a)
        if self._bins is not None:
            self._bins.rebuild_from(cut, self._ts.view(), self._y.view(), self._lo.view(),
                                    self._hi.view())
        self._changed(bins=True)

    def _merge_small(self, t: FloatArray, y: FloatArray, lo: FloatArray,
                     hi: FloatArray) -> bool:
        """The live case: a few newest points that repeat the buffer's last ones and add
        one or two. Done in plain Python (numpy's per-call cost dominates at this size);
        False when the points rewrite history, so the general path takes them."""
        n = self._ts.n
        d_ts, d_y = self._ts.data, self._y.data
        tl = t.tolist()
        cut = n
        first = tl[0]
        while cut > 0 and d_ts[cut - 1] >= first:
            cut -= 1
            if n - cut > SMALL_MERGE:
                return False
        yl = y.tolist()
        lol = yl if lo is y else lo.tolist()
        hil = yl if hi is y else hi.tolist()
        k = 0  # index into the new points
        size = len(tl)
        # the points already held from ``cut`` on must come back unchanged
        for i in range(cut, n):
            while k < size and yl[k] != yl[k]:
                k += 1
            held_y = d_y[i]
            if (k == size or isnan(held_y) or tl[k] != d_ts[i] or yl[k] != held_y
                    or lol[k] != self._lo.data[i] or hil[k] != self._hi.data[i]):
                return False  # rewritten, or a gap marker at the end: the general path
            k += 1
        if k == size:
            return True
        if self._fixed_gap is None and self._estimated_at < 64:
            return False  # still learning the spacing
        prev = float(d_ts[n - 1]) if n else None
        new_t: list[float] = []
        new_y: list[float] = []
        new_lo: list[float] = []
        new_hi: list[float] = []
        gap = self.gap_s
        for j in range(k, size):
            v = yl[j]
            if isnan(v):
                continue
            tj = tl[j]
            if prev is not None and tj - prev > gap:
                new_t.append(prev + min(self.step_s, (tj - prev) / 2))
                new_y.append(math.nan)
                new_lo.append(math.nan)
                new_hi.append(math.nan)
            new_t.append(tj)
            new_y.append(v)
            new_lo.append(lol[j])
            new_hi.append(hil[j])
            if lol[j] != hil[j]:
                self.has_envelope = True
            prev = tj
        if not new_t:
            return True
        if len(new_t) == 1:
            self._ts.push(new_t[0])
            self._y.push(new_y[0])
            self._lo.push(new_lo[0])
            self._hi.push(new_hi[0])
        else:
            self._ts.extend(new_t)
            self._y.extend(new_y)
            self._lo.extend(new_lo)
            self._hi.extend(new_hi)
        bins_changed = self._bins is None or self._bins.append_points(
            new_t, new_y, new_lo, new_hi, n)
        self._changed(bins=bins_changed)
        return True

    def append_point(self, ts: float, value: float) -> bool:
        """Add one newer real point (the live path); False if it is not newer."""
        n = self._ts.n
        if n == 0 or isnan(value) or self._estimated_at < 64:
            return False
        last = float(self._ts.data[n - 1])
        if ts <= last or isnan(self._y.data[n - 1]):
            return False
        if ts - last > self.gap_s:
            return False  # the general path puts the gap marker in
        self._ts.push(ts)
        self._y.push(value)
        self._lo.push(value)
        self._hi.push(value)
        bins_changed = self._bins is None or self._bins.append_points(
            [ts], [value], [value], [value], n)
        self._changed(bins=bins_changed)
        return True

    def append(self, ts: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Add newer raw points (a live update)."""
        self.merge(ts, values)

    def trim_before(self, when: float) -> None:
        """Forget points older than ``when`` (keeps memory bounded while following live)."""
        k = int(np.searchsorted(self._ts.view(), when, side="left"))
        if k:
            for grow in (self._ts, self._y, self._lo, self._hi):
                grow.drop_front(k)
            self._bins = None
            self._changed(bins=True)

    def _estimate_gap(self, t: FloatArray, prev: float | None) -> None:
        if self._fixed_gap is not None:
            return
        # the typical spacing settles quickly; look again only as the buffer grows
        n = self._ts.n
        if self._estimated_at >= 64 and n < 2 * self._estimated_at and t.size < 64:
            return
        self._estimated_at = max(n + t.size, 1)
        tail = self._ts.view()[-64:]
        tail = tail[~np.isnan(self._y.view()[-64:])]
        sample = np.concatenate([tail, t[:256]]) if prev is not None else t[:256]
        steps = np.diff(sample)
        steps = steps[steps > 0]
        typical = float(np.median(steps)) if steps.size >= 3 else max(self.step_s, 5.0)
        self.typical_step_s = typical if steps.size >= 3 else 0.0
        self.gap_s = max(3.0 * typical, 2.5 * self.step_s)

    # -- drawing ---------------------------------------------------------------------------

    def render(self, x0: float, x1: float, columns: int, scale: float = 1.0,
               envelope: bool = True) -> Rendered:
        """Points to draw for the view ``[x0, x1]`` on ``columns`` pixel columns.

        Returns the very same object as last time when nothing it depends on changed
        (callers skip handing it to pyqtgraph again).
        """
        key = (x0, x1, float(columns), scale, float(envelope), float(self.revision),
               float(self._bins_revision))
        last = self._last
        # decimated output depends only on the bins, raw output on every point
        if last is not None and last[0][:5] == key[:5] and (
                (last[1].decimated and last[0][6] == key[6]) or last[0][5] == key[5]):
            return last[1]
        out = self._render(x0, x1, columns, scale, envelope)
        # rendering may have (re)built the bins: remember the revisions they are now at
        self._last = ((*key[:5], float(self.revision), float(self._bins_revision)), out)
        return out

    def _render(self, x0: float, x1: float, columns: int, scale: float,
                envelope: bool) -> Rendered:
        ts = self._ts.view()
        if ts.size == 0 or x1 <= x0:
            empty = np.empty(0)
            return Rendered(empty, empty)
        columns = max(int(columns), 16)
        i0 = max(int(np.searchsorted(ts, x0, side="left")) - 1, 0)
        i1 = min(int(np.searchsorted(ts, x1, side="right")) + 1, ts.size)
        want_env = envelope and self.has_envelope
        if i1 - i0 <= RAW_POINTS_PER_PIXEL * columns:
            x = ts[i0:i1]
            y = self._y.view()[i0:i1] * scale
            if not want_env:
                return Rendered(x, y)
            return Rendered(x, y, x, self._lo.view()[i0:i1] * scale,
                            self._hi.view()[i0:i1] * scale)
        width = 2.0 ** math.ceil(math.log2(max((x1 - x0) / columns, 1e-6)))
        bins = self._bins
        if bins is None or bins.width != width:
            bins = self._bins = _Bins(width)
            bins.rebuild_from(0, ts, self._y.view(), self._lo.view(), self._hi.view())
            self._bins_revision += 1
        idx = bins.idx.view()
        j0 = max(int(np.searchsorted(idx, math.floor(x0 / width), side="left")) - 1, 0)
        j1 = min(int(np.searchsorted(idx, math.floor(x1 / width), side="right")) + 1, idx.size)
        xc = (idx[j0:j1] + 0.5) * width
        ymin = bins.ymin.view()[j0:j1]
        ymax = bins.ymax.view()[j0:j1]
        gaps = bins.nan.view()[j0:j1]
        n = xc.size
        if gaps.any():
            grid_y = np.empty((n, 3))
            grid_y[:, 0] = ymin
            grid_y[:, 1] = ymax
            grid_y[:, 2] = np.nan
            take = np.ones((n, 3), dtype=bool)
            take[:, 2] = gaps
            y = grid_y[take] * scale
            x = np.repeat(xc, 3)[take.ravel()]
        else:
            y = np.empty(2 * n)
            y[0::2] = ymin
            y[1::2] = ymax
            y *= scale
            x = np.repeat(xc, 2)
        if not want_env:
            return Rendered(x, y, decimated=True)
        lo = bins.lo.view()[j0:j1]
        hi = bins.hi.view()[j0:j1]
        if gaps.any():
            env = np.empty((n, 2))
            env[:, 1] = np.nan
            take2 = np.ones((n, 2), dtype=bool)
            take2[:, 1] = gaps
            env[:, 0] = lo
            env_lo = env[take2] * scale
            env[:, 0] = hi
            env_hi = env[take2] * scale
            env_x = np.repeat(xc, 2)[take2.ravel()]
        else:
            env_x, env_lo, env_hi = xc, lo * scale, hi * scale
        return Rendered(x, y, env_x, env_lo, env_hi, decimated=True)
