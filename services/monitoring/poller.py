"""The poller: runs collectors on named worker threads at their intervals, with deadlines."""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from console.domain import CollectorReport, Reading, SourceState, Status, series_name
from console.own_cost import PollCost, metered
from console.series_limit import DEFAULT_MAX_SERIES, SeriesLimit
from console.store import MetricStore
from services.collectors.base import Collector
from services.collectors.gc_hold import holds_until_folded
from services.errors import CollectorError
from services.http.watchdog import Cancel, cancelled_by

log = logging.getLogger(__name__)

#: A source that has had no successful reading for this many intervals (and is not known
#: to be down) is shown as stale.
STALE_AFTER_INTERVALS = 3
#: The scheduler sleeps at least this long (or its tick, if shorter) between walks over the
#: sources: a source is dispatched up to this late; sources due together go together.
BATCH_S = 0.04
#: Workers kept while calls answer in time; the pool grows up to ``max_workers`` for calls
#: that waited :data:`GROW_AFTER_S` behind busy workers and is cut back every
#: :data:`RESIZE_S` (docs/monitoring.md, "Workers"; figures in docs/reliability.md §11).
CORE_WORKERS = 1
GROW_AFTER_S = 0.25
RESIZE_S = 10.0


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What the poller knows of one source right now.

    ``last_ok_ts`` is the UTC epoch time of the last successful reading; ``next_due`` is
    on the poller's monotonic clock (compare with ``time.monotonic()``); ``failures``
    counts consecutive failed polls (it drives the backoff); ``warning`` is what an
    answering source's last poll said is wrong with it (series folded past the limit, a
    collector's own warning), "" when nothing is.
    """

    name: str
    kind: str
    state: SourceState
    last_ok_ts: float | None
    last_error: str
    last_latency_s: float | None
    next_due: float
    failures: int = 0
    warning: str = ""


StatusListener = Callable[[SourceStatus], None]


class ReadingSink(Protocol):
    """Where readings go besides the store: the history (``History.record``)."""

    def record(self, readings: Sequence[Reading]) -> None: ...


class _Call:
    """One ``collect()`` run: the watchdog abandons it when it overruns its deadline."""

    __slots__ = ("abandoned", "deadline", "queued", "source")

    def __init__(self, source: _Source, queued: float) -> None:
        self.source = source
        self.queued = queued  # when the scheduler queued it (monotonic)
        self.deadline: float | None = None
        self.abandoned = False


class _Source:
    __slots__ = (
        "call",
        "collector",
        "failures",
        "interval",
        "kind",
        "last_error",
        "last_latency",
        "last_ok_mono",
        "last_ok_ts",
        "last_report",
        "limit",
        "name",
        "next_due",
        "silent_since",
        "state",
        "timeout",
        "warning",
    )

    def __init__(self, collector: Collector, now: float, max_series: int) -> None:
        self.collector = collector
        self.name = collector.name
        self.kind = collector.kind
        self.interval = max(float(collector.interval_s), 0.01)
        self.timeout = max(float(collector.timeout_s), 0.0)
        self.state = SourceState.UNKNOWN
        self.last_ok_ts: float | None = None
        self.last_ok_mono: float | None = None
        self.silent_since = now
        self.last_error = ""
        self.last_latency: float | None = None
        self.last_report: CollectorReport | None = None
        self.next_due = now
        self.failures = 0
        self.call: _Call | None = None
        self.limit = SeriesLimit(max_series)
        self.warning = ""

    def status(self) -> SourceStatus:
        return SourceStatus(
            name=self.name,
            kind=self.kind,
            state=self.state,
            last_ok_ts=self.last_ok_ts,
            last_error=self.last_error,
            last_latency_s=self.last_latency,
            next_due=self.next_due,
            failures=self.failures,
            warning=self.warning,
        )


class Poller:
    """Polls every collector at its ``interval_s`` on a bounded pool of worker threads.

    - :data:`CORE_WORKERS` workers wait for calls; the pool grows to ``max_workers`` while
      calls wait for a worker (slow sources) and shrinks again when they stop waiting.
    - A call that overruns ``timeout_s + grace_s`` is abandoned by the watchdog: the source
      is marked down, a fresh worker replaces the stuck one, and the source is not polled
      again until the stuck call returns (so each source holds at most one thread).
    - A failing source backs off: ``interval * 2**failures``, capped at ``max_backoff_s``.
    - States: up after a successful poll, down after a failure, stale after
      :data:`STALE_AFTER_INTERVALS` intervals without a successful reading while not down.
    - Readings (plus ``<source>/scrape_seconds``) go to the store and, if given, to the
      history, at most ``series_limits[name]`` (default :data:`DEFAULT_MAX_SERIES`) label
      sets per metric of a source, the rest folded into one ``other`` series with a warning
      in the source's status. A late answer from an abandoned call is dropped.
    - Listeners are called on every state change, from poller threads; a UI must marshal
      them to its own thread.
    """

    def __init__(
        self,
        collectors: Sequence[Collector],
        store: MetricStore,
        history: ReadingSink | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        max_workers: int | None = None,
        grace_s: float = 1.0,
        max_backoff_s: float = 60.0,
        tick_s: float = 0.1,
        series_limits: Mapping[str, int] | None = None,
        cost: PollCost | None = None,
    ) -> None:
        names = [c.name for c in collectors]
        if len(set(names)) != len(names):
            raise ValueError("two sources share a name")
        self._store = store
        self.cost = cost or PollCost()  # what each source's collect() asked of it
        self.history = history  # where readings go besides the store (None: nowhere)
        self._clock = clock
        self._wall = wall
        self._grace = grace_s
        self._max_backoff = max_backoff_s
        self._tick = tick_s
        self._max_workers = max_workers or min(16, max(2, len(collectors)))
        now = clock()
        limits = series_limits or {}
        self._sources = {c.name: _Source(c, now, limits.get(c.name, DEFAULT_MAX_SERIES))
                         for c in collectors}
        # Spread the first polls (and so every later one: the schedule is fixed-rate) over
        # the interval, at most 2 s, so that many sources do not fire in one burst every
        # period: a burst of 200 scrapes holds the GIL, and the GUI thread, for tens of ms.
        count = len(self._sources)
        for index, source in enumerate(self._sources.values()):
            source.next_due = now + min(source.interval, 2.0) * index / max(count, 1)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._poked = False
        # When the scheduler, waiting, looks next (monotonic; -inf while it is not waiting):
        # a call that ends need not wake it unless its source is due sooner.
        self._wake_at = float("-inf")
        self._listeners: list[StatusListener] = []
        self._tasks: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._pool = 0  # workers that are not stuck in an abandoned call
        self._busy = 0  # workers in a call, stuck ones included
        self._waiting = 0  # calls that the last walk found waiting too long for a worker
        # When the scheduler last woke late: the whole process had stood still (a full
        # collection of a large heap holds the GIL for 300 ms). Calls queued before then
        # waited for that, not for a worker, and do not grow the pool.
        self._stood_still_at = float("-inf")
        self._excess = 0  # workers to end (each after its call): the pool is cut back
        self._work_s = 0.0  # seconds of calls since the pool was last sized
        self._slow_calls = False  # whether one of them took longer than GROW_AFTER_S
        self._sized_at = 0.0  # monotonic
        self._worker_seq = 0
        self._scheduler: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cancel = Cancel()  # cut by stop(): ends the HTTP calls in flight

    # -- public -------------------------------------------------------------------------

    def add_listener(self, fn: StatusListener) -> None:
        """Call ``fn(status)`` whenever a source changes state (from a poller thread)."""
        with self._lock:
            self._listeners.append(fn)

    def start(self) -> None:
        """Start the scheduler and the workers; a poller starts once."""
        if self._scheduler is not None:
            raise RuntimeError("the poller was already started")
        with self._lock:
            for _ in range(min(CORE_WORKERS, self._max_workers)):
                self._spawn_worker()
            self._sized_at = self._clock()
        self._scheduler = threading.Thread(
            target=self._run_scheduler, name="poller-scheduler", daemon=True
        )
        self._scheduler.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop polling, cut the HTTP calls in flight and join the threads (up to
        ``timeout``); what a call answers after this is dropped.

        Returns False if some thread (a worker stuck in a call that cannot be cut: a
        database driver, an AMQP connection, a TCP connect) did not finish; such threads
        are daemons, bounded by their own timeouts, and end with the process. Closing the
        collectors (which ends a hung Redis call) is left to whoever built them (the
        composition root).
        """
        self._stopping.set()
        self._cancel.cut()
        with self._wake:
            self._poked = True
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        finished = True
        if self._scheduler is not None:
            self._scheduler.join(max(0.0, deadline - time.monotonic()))
            finished = not self._scheduler.is_alive()
        with self._lock:
            workers = list(self._workers)
        for _ in workers:
            self._tasks.put(None)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            finished = finished and not worker.is_alive()
        return finished

    def poll_now(self, name: str | None = None) -> None:
        """Poll one source (or all) at once instead of waiting for its turn."""
        with self._wake:
            if name is not None and name not in self._sources:
                raise KeyError(name)
            now = self._clock()
            for source in self._sources.values():
                if name is None or source.name == name:
                    source.next_due = now
            self._poked = True
            self._wake.notify_all()

    def statuses(self) -> list[SourceStatus]:
        """A snapshot of every source's status, in the order the collectors were given."""
        with self._lock:
            return [s.status() for s in self._sources.values()]

    def status(self, name: str) -> SourceStatus:
        """A snapshot of one source's status."""
        with self._lock:
            return self._sources[name].status()

    def last_report(self, name: str) -> CollectorReport | None:
        """The last successful report of a source (detail, version, slow queries, facts)."""
        with self._lock:
            return self._sources[name].last_report

    def thread_count(self) -> int:
        """Worker threads alive, including ones stuck in an abandoned call."""
        with self._lock:
            return sum(1 for w in self._workers if w.is_alive())

    # -- scheduling ---------------------------------------------------------------------

    def _backoff(self, source: _Source) -> float:
        delay = source.interval * 2 ** min(source.failures, 30)
        return max(source.interval, min(delay, self._max_backoff))

    def _set_state(self, source: _Source, state: SourceState, changes: list[SourceStatus]) -> None:
        if source.state is not state:
            source.state = state
            changes.append(source.status())

    def _fail(self, source: _Source, now: float, error: str, changes: list[SourceStatus]) -> None:
        source.failures += 1
        source.last_error = error
        source.next_due = now + self._backoff(source)
        self._set_state(source, SourceState.DOWN, changes)

    def _run_scheduler(self) -> None:
        while not self._stopping.is_set():
            changes: list[SourceStatus] = []
            with self._wake:
                now = self._clock()
                wait = self._tick
                self._waiting = 0
                for source in self._sources.values():
                    wait = min(wait, self._tick_source(source, now, changes))
                self._size_pool(now)
                if not changes and not self._poked and wait > 0:
                    # sources due a few ms apart are dispatched together: 200 sources at
                    # 1 Hz woke it 200 times a second, each a walk over every source
                    wait = max(wait, min(BATCH_S, self._tick))
                    self._wake_at = now + wait
                    self._wake.wait(wait)
                    woke = self._clock()
                    if woke - self._wake_at >= GROW_AFTER_S / 2:
                        self._stood_still_at = woke
                    self._wake_at = float("-inf")
                self._poked = False
            self._notify(changes)

    def _tick_source(self, source: _Source, now: float, changes: list[SourceStatus]) -> float:
        """Dispatch, watchdog and staleness for one source; returns seconds until its
        next event. Called with the lock held."""
        call = source.call
        if call is not None:
            if call.deadline is not None and not call.abandoned and now >= call.deadline:
                call.abandoned = True
                log.warning("source %s hangs past its %.3g s timeout", source.name, source.timeout)
                self._fail(
                    source,
                    now,
                    f"no answer within {source.timeout:g} s: the source hangs; "
                    "check that it is running and reachable",
                    changes,
                )
                self._pool -= 1  # its worker is stuck: a fresh one takes its place
                self._spawn_worker()
            elif call.abandoned and now >= source.next_due:
                # still stuck: do not start a second call, try again after another backoff
                source.next_due = now + self._backoff(source)
        elif now >= source.next_due:
            source.call = _Call(source, now)
            following = source.next_due + source.interval
            source.next_due = following if following > now else now + source.interval
            self._tasks.put(source.call)
        if source.state in (SourceState.UP, SourceState.UNKNOWN):
            silent_for = now - (source.last_ok_mono or source.silent_since)
            if silent_for > STALE_AFTER_INTERVALS * source.interval:
                self._set_state(source, SourceState.STALE, changes)
        call = source.call
        if call is None or call.abandoned:
            until = source.next_due - now
        elif call.deadline is not None:
            until = call.deadline - now
        else:  # queued for a worker
            until = self._tick
            if now - call.queued >= GROW_AFTER_S and call.queued >= self._stood_still_at:
                self._waiting += 1
        return max(until, 0.0)

    def _size_pool(self, now: float) -> None:
        """Grow the pool for calls that wait, or cut it back to what its calls need; called
        with the lock held, after a walk."""
        if self._waiting and self._busy >= self._pool:
            self._excess = 0
            for _ in range(min(self._waiting, self._max_workers - self._pool)):
                self._spawn_worker()
        elif now - self._sized_at >= RESIZE_S:
            busy = self._work_s / (now - self._sized_at)  # workers busy on average
            need = max(CORE_WORKERS, math.ceil(2 * busy) + self._slow_calls)
            self._excess = max(0, self._pool - need)
            self._work_s, self._slow_calls, self._sized_at = 0.0, False, now

    def _spawn_worker(self) -> None:
        """Start one more worker; called with the lock held."""
        self._workers = [w for w in self._workers if w.is_alive()]
        self._pool += 1
        self._worker_seq += 1
        worker = threading.Thread(
            target=self._run_worker, name=f"poller-worker-{self._worker_seq}", daemon=True
        )
        self._workers.append(worker)
        worker.start()

    def _run_worker(self) -> None:
        while True:
            call = self._tasks.get()
            if call is None or self._stopping.is_set():
                if call is not None:
                    with self._lock:
                        call.source.call = None
                return
            self._run_call(call)
            if call.abandoned:
                return  # a replacement took this worker's place while it was stuck
            if self._excess:
                with self._lock:
                    if self._excess:  # the pool is cut back: this worker goes
                        self._excess -= 1
                        self._pool -= 1
                        return

    def _run_call(self, call: _Call) -> None:
        source = call.source
        with self._lock:
            started = self._clock()
            call.deadline = started + source.timeout + self._grace
            self._busy += 1
        wall_ts = self._wall()
        report: CollectorReport | None = None
        error = ""
        kept: list[Reading] = []
        with holds_until_folded():  # a collector's readings folded before collections resume
            try:
                with metered() as tally, cancelled_by(self._cancel):
                    report = source.collector.collect()
            except CollectorError as exc:
                error = str(exc) or f"{exc.kind} error"
            except Exception as exc:
                log.exception("collector %s raised an unexpected error", source.name)
                error = f"unexpected {type(exc).__name__}: {exc}"
            if report is not None:  # one call per source at a time: its limit is this thread's
                kept = source.limit.apply(report.readings, report.folded)
                report = dataclasses.replace(report, readings=tuple(kept))  # the rest freed
        warning = ""
        if report is not None:
            warning = source.limit.warning()
            if not warning and report.status is Status.WARN:
                warning = report.detail
        changes: list[SourceStatus] = []
        with self._wake:
            now = self._clock()
            latency = now - started
            self.cost.add(source.name, tally, latency)  # also a failed or abandoned call's
            source.call = None
            self._busy -= 1
            self._work_s += latency
            self._slow_calls = self._slow_calls or latency > GROW_AFTER_S
            if call.abandoned or self._stopping.is_set():
                return
            source.last_latency = latency
            source.warning = warning
            if report is None:
                self._fail(source, now, error, changes)
            else:
                source.failures = 0
                source.last_error = ""
                source.last_ok_ts = wall_ts
                source.last_ok_mono = now
                source.last_report = report  # with the readings kept, not 100,000 of them
                self._set_state(source, SourceState.UP, changes)
            # Waking the scheduler for every call that ends made it walk every source 200
            # more times a second at 200 targets (6.5 % of a core, bench_idle_cost): only
            # when this source is due before it would look anyway.
            if source.next_due < self._wake_at:
                self._poked = True
                self._wake.notify_all()
        if report is not None:
            readings = (
                *kept,
                Reading(series_name(source.name, "scrape_seconds"), wall_ts, latency),
            )
            try:
                self._store.append(readings)
                if self.history is not None:
                    self.history.record(readings)
            except Exception:
                log.exception("storing readings of %s failed", source.name)
        self._notify(changes)

    def _notify(self, changes: list[SourceStatus]) -> None:
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for status in changes:
            for fn in listeners:
                try:
                    fn(status)
                except Exception:
                    log.exception("a source-state listener failed")
