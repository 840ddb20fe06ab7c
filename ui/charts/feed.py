"""What the dashboard reads from the store and the poller, done off the GUI thread.

The store and the poller guard their data with locks that poller threads hold while they
write; under load a reader can wait behind them for many GIL switches. So the GUI thread
never calls them: it describes what it needs (a request), a worker reads (these
functions), and the GUI applies the answer to its chart buffers and tiles. No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Window:
    """A copy of one series over a range (bucket starts, mean, min, max), as the store or
    the history gave it."""

    ts: FloatArray
    value: FloatArray
    lo: FloatArray
    hi: FloatArray
    step_s: float

    @staticmethod
    def of(w: Any) -> Window:
        return Window(np.asarray(w.ts), np.asarray(w.value), np.asarray(w.min),
                      np.asarray(w.max), float(w.step_s))


@dataclass(frozen=True, slots=True)
class Tail:
    """What a chart holds of a series: its newest real point's bucket start, the time of
    the newest reading seen at the previous read, the buffer's step and typical spacing."""

    last_ts: float
    seen_ts: float | None
    step_s: float
    typical_step_s: float


@dataclass(frozen=True, slots=True)
class DataRequest:
    """One read for the charts: what changed since ``version``, over ``[start, end]``
    (``end`` None: up to ``now``); ``full`` series are read over the whole range, the
    ``tails`` ones only past what the chart holds."""

    generation: int
    version: int
    start: float
    end: float | None
    now: float
    tails: Mapping[str, Tail]
    full: frozenset[str]
    memory_from: float | None = None  # the store part starts here when history fills older
    serial: int = 0  # which read this is; an answer to an older one is dropped


@dataclass(slots=True)
class DataUpdate:
    """The answer to a :class:`DataRequest`."""

    generation: int
    version: int
    changed: set[str]
    serial: int = 0
    full: dict[str, Window] = field(default_factory=dict)
    tails: dict[str, Window] = field(default_factory=dict)
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)


def next_point(tail: Tail, ts: float, value: float) -> tuple[float, float] | None:
    """The newest reading as the one new point of the 1 s tier, or None when a window read
    is needed. Safe only when it opens the next second and the previous reading was the
    newest of the one before: a source's readings arrive in order (one poll per source at
    a time) and about a second apart, so none can have landed in between."""
    if tail.seen_ts is None or tail.step_s > 1.0 or tail.typical_step_s < 0.9:
        return None
    bucket = math.floor(ts)
    if not (bucket == tail.last_ts + 1 and math.floor(tail.seen_ts) == tail.last_ts
            and ts - tail.seen_ts >= 0.5):
        return None
    # the 1 s tier holds float32: keep exactly what the store would give back
    return float(bucket), float(np.float32(value))


def read_data(store: Any, request: DataRequest) -> DataUpdate:
    """Run on a worker thread: read what the request asks of the store."""
    version, changed = store.changed_since(request.version)
    end = request.end if request.end is not None else request.now
    update = DataUpdate(request.generation, version, changed, request.serial)
    full = set(request.full)
    for name in changed:
        tail = request.tails.get(name)
        if tail is None or name in full:
            continue
        latest = store.latest(name)
        if latest is not None:
            update.seen[name] = latest.ts
            point = next_point(tail, latest.ts, latest.value)
            if point is not None:
                update.points[name] = point
                continue
        if tail.step_s > 1.0:
            full.add(name)  # coarse tiers are small: read them whole
            continue
        w = store.window(name, max(request.start, tail.last_ts), max(end, tail.last_ts))
        if w.step_s > 1.0:
            full.add(name)
        else:
            update.tails[name] = Window.of(w)
    start = request.start if request.memory_from is None else request.memory_from
    for name in full:
        latest = store.latest(name)
        if latest is not None:
            update.seen[name] = latest.ts
        update.full[name] = Window.of(store.window(name, start, max(end, start + 1)))
    return update


@dataclass(slots=True)
class StatusUpdate:
    """Sources' states, every series name, and the tiles' headline values and sparklines."""

    statuses: list[Any]
    names: list[str]
    latest: dict[str, Any] = field(default_factory=dict)
    sparks: dict[str, Window] = field(default_factory=dict)


def read_status(poller: Any, store: Any, headlines: tuple[str, ...], spark_s: float,
                now: float, latest_only: tuple[str, ...] = ()) -> StatusUpdate:
    """Run on a worker thread: the poller's statuses and the tiles' numbers (with
    sparklines for ``headlines``, the latest value alone for ``latest_only``)."""
    statuses = list(poller.statuses()) if poller is not None else []
    names = store.series_names() if store is not None else []
    update = StatusUpdate(statuses, names)
    if store is not None:
        for name in headlines:
            update.latest[name] = store.latest(name)
            update.sparks[name] = Window.of(store.window(name, now - spark_s, now))
        for name in latest_only:
            if name not in update.latest:
                update.latest[name] = store.latest(name)
    return update
