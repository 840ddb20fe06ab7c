"""What the console's own polling costs the shop: requests, bytes, poll time and CPU per source."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from console.domain import Reading, series_name, split_series

#: The source name of the console's own series (``backroom/requests_per_second{source=...}``).
OWN_SOURCE = "backroom"
REQUESTS_PER_S = "requests_per_second"
BYTES_PER_S = "bytes_per_second"
POLL_SHARE = "poll_time_share"
CPU_PERCENT = "cpu_percent"

_current = threading.local()


@dataclass(slots=True)
class Tally:
    """What one ``collect()`` call asked of its source: requests (HTTP GETs, SQL statements,
    Redis round trips...) and the bytes of the answers read (HTTP bodies; 0 where unknown)."""

    requests: int = 0
    bytes: int = 0
    cpu_s: float = 0.0
    #: CPU spent for the call outside this process (a child reading a large page).
    elsewhere_cpu_s: float = 0.0


def count_request(nbytes: int = 0, requests: int = 1) -> None:
    """Count a request (and the bytes read) against the call being metered on this thread;
    a no-op outside :func:`metered` (the sweep, the shop pages, the tests)."""
    tally: Tally | None = getattr(_current, "tally", None)
    if tally is not None:
        tally.requests += requests
        tally.bytes += nbytes


def count_cpu_elsewhere(seconds: float) -> None:
    """Count CPU time a child process spent for the call being metered on this thread (the
    console's own cost all the same); a no-op outside :func:`metered`."""
    tally: Tally | None = getattr(_current, "tally", None)
    if tally is not None:
        tally.elsewhere_cpu_s += max(seconds, 0.0)


@contextmanager
def metered() -> Iterator[Tally]:
    """Count the requests made on this thread inside the block, and its CPU time."""
    tally = Tally()
    outer = getattr(_current, "tally", None)
    _current.tally = tally
    cpu = time.thread_time()
    try:
        yield tally
    finally:
        tally.cpu_s = time.thread_time() - cpu + tally.elsewhere_cpu_s
        _current.tally = outer


@dataclass(slots=True)
class _Totals:
    calls: int = 0
    requests: int = 0
    bytes: int = 0
    busy_s: float = 0.0
    cpu_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SourceCost:
    """One source over a window: what the console asked of it and the time it took."""

    source: str
    calls: int
    requests: int
    bytes: int
    busy_s: float  # wall time inside collect()
    cpu_s: float  # CPU time of the poller thread inside collect()
    seconds: float  # the window's length
    poll_share: float  # of all sources' time inside collect() in the window, 0..1
    interval_s: float | None = None  # the profile's polling interval, where known

    @property
    def polling_requests_per_s(self) -> float | None:
        """What polling at ``interval_s`` asks of the source: requests per call / interval."""
        if not self.interval_s or not self.calls:
            return None
        return self.requests / self.calls / self.interval_s

    @property
    def polling_bytes_per_s(self) -> float | None:
        if not self.interval_s or not self.calls:
            return None
        return self.bytes / self.calls / self.interval_s

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CostWindow:
    """The console's own cost over ``seconds``: per source, and the whole process's CPU."""

    seconds: float
    cpu_s: float  # the whole process (GUI included), all threads
    cores: int
    sources: tuple[SourceCost, ...] = field(default=())

    @property
    def cpu_percent(self) -> float:
        """Process CPU as top shows it: 100 is one core busy, at most 100 x cores."""
        return 100.0 * self.cpu_s / self.seconds if self.seconds > 0 else 0.0

    @property
    def requests_per_s(self) -> float:
        return sum(s.requests_per_s for s in self.sources)

    @property
    def bytes_per_s(self) -> float:
        return sum(s.bytes_per_s for s in self.sources)

    def as_json(self) -> dict[str, object]:
        """The ``console_cost`` object of ``diagnose --json``."""
        return {
            "seconds": round(self.seconds, 3),
            "cpu_percent": round(self.cpu_percent, 2),
            "cpu_seconds": round(self.cpu_s, 4),
            "cores": self.cores,
            "requests_per_s": round(self.requests_per_s, 3),
            "bytes_per_s": round(self.bytes_per_s, 1),
            "sources": [{"source": s.source, "calls": s.calls, "requests": s.requests,
                         "bytes": s.bytes, "seconds": round(s.busy_s, 4),
                         "requests_per_s": round(s.requests_per_s, 3),
                         "bytes_per_s": round(s.bytes_per_s, 1),
                         "poll_time_share": round(s.poll_share, 4),
                         **_polling(s)}
                        for s in self.sources],
        }

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Headers and rows of "Backroom's own cost" in diagnose's text and HTML report: per
        source what the run asked of it and, at its polling interval, what steady polling
        asks; then the process's CPU over the run."""
        rows = []
        for s in sorted(self.sources, key=lambda s: -s.busy_s):
            rps, bps = s.polling_requests_per_s, s.polling_bytes_per_s
            rows.append([s.source, f"{s.requests:,}", f"{s.bytes / 1024:,.1f}",
                         f"{s.poll_share:.0%}", "-" if rps is None else f"{rps:,.3f}",
                         "-" if bps is None else f"{bps / 1024:,.2f}"])
        took = (f"{self.seconds:.1f} s" if self.seconds >= 1
                else f"{self.seconds * 1000:.0f} ms")
        rows.append([f"process CPU over the {took} run: {self.cpu_percent:.0f} %",
                     "", "", "", "", ""])
        return ["OWN COST", "requests", "KiB read", "time", "polled req/s",
                "polled KiB/s"], rows

    def readings(self, ts: float) -> list[Reading]:
        """The window as the console's own series (source :data:`OWN_SOURCE`)."""
        out = [Reading(series_name(OWN_SOURCE, CPU_PERCENT), ts, self.cpu_percent),
               Reading(series_name(OWN_SOURCE, REQUESTS_PER_S), ts, self.requests_per_s),
               Reading(series_name(OWN_SOURCE, BYTES_PER_S), ts, self.bytes_per_s)]
        for s in self.sources:
            labels = {"source": s.source}
            out += [Reading(series_name(OWN_SOURCE, REQUESTS_PER_S, labels), ts, s.requests_per_s),
                    Reading(series_name(OWN_SOURCE, BYTES_PER_S, labels), ts, s.bytes_per_s),
                    Reading(series_name(OWN_SOURCE, POLL_SHARE, labels), ts, s.poll_share)]
        return out


def _polling(s: SourceCost) -> dict[str, float]:
    """At the profile's interval: what steady polling asks (diagnose calls each source once)."""
    rps, bps = s.polling_requests_per_s, s.polling_bytes_per_s
    if s.interval_s is None or rps is None or bps is None:
        return {}
    return {"interval_s": s.interval_s, "polling_requests_per_s": round(rps, 3),
            "polling_bytes_per_s": round(bps, 1)}


def cost_rows(latest: Sequence[Reading]) -> tuple[float | None, list[tuple[str, float, float,
                                                                          float]]]:
    """Read the own series back: (process CPU %, [(source, requests/s, bytes/s, share)])."""
    cpu: float | None = None
    rows: dict[str, list[float]] = {}
    order = {REQUESTS_PER_S: 0, BYTES_PER_S: 1, POLL_SHARE: 2}
    for reading in latest:
        source, metric, labels = split_series(reading.series)
        if source != OWN_SOURCE:
            continue
        if metric == CPU_PERCENT and not labels:
            cpu = reading.value
        elif metric in order and "source" in labels:
            rows.setdefault(labels["source"], [0.0, 0.0, 0.0])[order[metric]] = reading.value
    return cpu, [(name, *values) for name, values in sorted(  # type: ignore[misc]
        rows.items(), key=lambda item: -item[1][2])]


class PollCost:
    """Totals per source, added to by the poller after every ``collect()``, read as windows.

    Cheap: one lock and a few additions per call. :meth:`since_start` is the whole run;
    :meth:`window` the time since the previous :meth:`window`, or the trailing ``span_s``
    (what the own series chart: a source polled every 30 s is not 0 in most 5 s windows).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], float] = time.process_time) -> None:
        self._clock = clock
        self._cpu = cpu
        self._lock = threading.Lock()
        self._totals: dict[str, _Totals] = {}
        #: CPU the sources' calls spent in child processes (not in ``cpu()``), in all.
        self._elsewhere_s = 0.0
        self._start: tuple[float, float, dict[str, _Totals]] = (clock(), cpu(), {})
        self._marks = deque([self._start])

    def add(self, source: str, tally: Tally, busy_s: float) -> None:
        if source == OWN_SOURCE:  # the own series' collector: its CPU is in the process's
            return
        with self._lock:
            totals = self._totals.get(source)
            if totals is None:
                totals = self._totals[source] = _Totals()
            totals.calls += 1
            totals.requests += tally.requests
            totals.bytes += tally.bytes
            totals.busy_s += busy_s
            totals.cpu_s += tally.cpu_s
            self._elsewhere_s += tally.elsewhere_cpu_s

    def since_start(self) -> CostWindow:
        with self._lock:
            return self._since(self._start)[0]

    def window(self, span_s: float = 0.0) -> CostWindow:
        """Since the previous call, or (``span_s``) since the last call at least ``span_s``
        ago (since the start before then)."""
        with self._lock:
            now = self._clock()
            while len(self._marks) > 1 and self._marks[1][0] <= now - span_s:
                self._marks.popleft()
            found, mark = self._since(self._marks[0])
            self._marks.append(mark)
        return found

    def _since(self, mark: tuple[float, float, dict[str, _Totals]]
               ) -> tuple[CostWindow, tuple[float, float, dict[str, _Totals]]]:
        now, cpu = self._clock(), self._cpu() + self._elsewhere_s
        then, cpu_then, before = mark
        seconds = max(now - then, 1e-9)
        deltas: list[tuple[str, _Totals]] = []
        for name, total in self._totals.items():
            old = before.get(name, _Totals())
            deltas.append((name, _Totals(total.calls - old.calls, total.requests - old.requests,
                                         total.bytes - old.bytes, total.busy_s - old.busy_s,
                                         total.cpu_s - old.cpu_s)))
        busy = sum(d.busy_s for _, d in deltas)
        sources = tuple(SourceCost(name, d.calls, d.requests, d.bytes, d.busy_s, d.cpu_s,
                                   seconds, d.busy_s / busy if busy > 0 else 0.0)
                        for name, d in deltas)
        copy = {name: _Totals(t.calls, t.requests, t.bytes, t.busy_s, t.cpu_s)
                for name, t in self._totals.items()}
        window = CostWindow(seconds=seconds, cpu_s=max(cpu - cpu_then, 0.0),
                            cores=os.cpu_count() or 1, sources=sources)
        return window, (now, cpu, copy)
