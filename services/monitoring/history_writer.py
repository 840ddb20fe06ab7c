"""Writing the metric history: compressed chunks in SQLite (WAL), in batches by one thread."""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from console.domain import Reading
from console.durations import format_duration
from console.history_chunks import (
    OpenChunk,
    add_readings,
    add_samples,
    drop_older_than,
    plan_flush,
    roll_up_rows,
)
from console.history_codec import RAW, ROLLUP, SIGNIFICANT_DIGITS
from services.local.local_files import (
    LocalFileProblem,
    describe_write_error,
    file_identity,
    same_file,
)
from services.monitoring.history_reader import HistoryReader
from services.monitoring.history_schema import history_sql, open_history_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


class _Request:
    __slots__ = ("done", "now", "result")

    def __init__(self, now: float | None = None) -> None:
        self.done = threading.Event()
        self.now = now
        self.result: Any = None


class _Flush(_Request):
    __slots__ = ()


class _Prune(_Request):
    __slots__ = ()


_STOP = object()
_WAKE = object()  # flush_every samples wait in the inbox
_INSERT_CHUNK = ("INSERT INTO chunk (id, series_id, tier, start_ts, end_ts, n, payload) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)")
_UPDATE_CHUNK = "UPDATE chunk SET start_ts = ?, end_ts = ?, n = ?, payload = ? WHERE id = ?"
MAX_RETRY_S = 30.0  #: the longest wait between tries to write a file that cannot be written


class History(HistoryReader):
    """Every reading on disk for a few days, so charts show the last day at once on start.

    ``record`` only queues (it never waits on the disk); one named writer thread
    (``history-writer``) flushes every ``flush_interval_s`` or ``flush_every`` samples, each
    flush one transaction, into compressed chunks of up to ``chunk_samples`` samples and
    ``chunk_span_s`` seconds per series. SQLite runs in WAL mode with
    ``synchronous=NORMAL``: a killed process loses at most the batch not yet flushed and
    the file stays sound. Raw samples are kept
    ``raw_retention_s``; older ones are rolled up into one-minute mean/min/max, kept
    ``rollup_retention_s``. One process writes a history file at a time.

    The file is checked before it is first written (:func:`check_own_file`): another
    program's database or a damaged file is refused, never written into. While the file
    cannot be written (a full disk, a folder made read-only) samples wait in memory, the last
    ``backlog_s`` of each series at most, the oldest dropped beyond it; :attr:`problem` says
    what is wrong (logged once, not at every flush). A file removed while running (its folder
    deleted) is noticed at the next flush and a new one started in its place.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        flush_interval_s: float = 1.0,
        flush_every: int = 50_000,
        chunk_samples: int = 512,
        chunk_span_s: float = 3600.0,
        raw_retention_s: float = 2 * 86_400,
        rollup_retention_s: float = 7 * 86_400,
        prune_every_s: float = 600.0,
        significant_digits: int = SIGNIFICANT_DIGITS,
        synchronous: str = "NORMAL",
        wall: Callable[[], float] = time.time,
        lazy: bool = False,
        backlog_s: float = 600.0,
        flush_share: float | None = None,
        max_flush_interval_s: float = 30.0,
    ) -> None:
        if synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        #: With ``flush_share`` (of one core) the writer waits longer than
        #: ``flush_interval_s`` between flushes when a flush costs more than that share of
        #: the wait, up to ``max_flush_interval_s``: a flush rewrites the open chunk of every
        #: series, ~20-35 us each (fuller chunks cost more), so thousands of series would
        #: otherwise cost several % of a core (bench_idle_cost), and a few series keep the
        #: short interval.
        self.flush_share = flush_share
        self.max_flush_interval_s = max(max_flush_interval_s, flush_interval_s)
        self.interval_s = flush_interval_s
        """The wait between flushes now (longer than ``flush_interval_s`` when costly)."""
        self.flush_every = flush_every
        self.chunk_samples = chunk_samples
        self.chunk_span_s = chunk_span_s
        self.raw_retention_s = raw_retention_s
        self.rollup_retention_s = rollup_retention_s
        self.prune_every_s = prune_every_s
        self.digits = significant_digits
        self._wall = wall
        self._sync = synchronous.upper()
        self._engine: Engine | None = None
        self._opening = threading.Lock()
        self._series_ids: dict[str, int] = {}
        self._next_chunk_id = 1
        self._next_series_id = 1
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        #: Readings wait here for the next flush without waking the writer: one wake per
        #: source's poll was a thread switch each (200 targets at 1 Hz: 200 a second).
        self._inbox: collections.deque[Any] = collections.deque()
        self._inbox_samples = 0
        self._open: dict[str, OpenChunk] = {}
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.flush_errors = 0
        self.backlog_s = backlog_s
        self.dropped_samples = 0
        """Samples dropped because the file could not be written for over ``backlog_s``."""
        self._fault: str | None = None
        self._note: str | None = None
        self._identity: tuple[int, int] | None = None
        self._failures = 0  # in a row; a writer that keeps failing tries less often
        self._retry_at = 0.0
        if not lazy:
            self.open()

    @property
    def engine(self) -> Engine:
        """The file's engine; the file is opened on first use when the history was built
        with ``lazy=True``."""
        return self._engine if self._engine is not None else self.open()

    def open(self) -> Engine:
        """Open the file: create it, or check that it holds this build's format (raises
        ``RuntimeError`` with advice when not). Done once; later calls return the engine."""
        with self._opening:
            if self._engine is not None:
                return self._engine
            opened = open_history_file(self.path, self._sync)
            self._series_ids = opened.series_ids
            self._next_chunk_id = opened.next_chunk_id
            self._next_series_id = opened.next_series_id
            self._engine = opened.engine
            self._identity = file_identity(self.path)
            return opened.engine

    @property
    def problem(self) -> str | None:
        """What keeps the history from being written now, and what to do; or what happened
        to it while running. None when all is well. Safe to read from any thread."""
        fault, note = self._fault, self._note
        if fault is None:
            return note
        dropped = self.dropped_samples
        kept = f"the last {format_duration(self.backlog_s)} of samples wait in memory"
        return (f"History paused: {fault}. Live charts go on; {kept}"
                + (f", {dropped:,} older samples dropped so far." if dropped else "."))

    # -- writing --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (prunes once at start, then every ``prune_every_s``)."""
        if self._thread is not None:
            raise RuntimeError("the history writer was already started")
        self.open()  # a file of another format is refused here, not in the writer thread
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def record(self, readings: Sequence[Reading]) -> None:
        """Queue readings for the next flush; never waits. Ignored once stopped."""
        if readings and not self._stopped:
            self._take(tuple(readings), len(readings))

    def record_many(self, series: str, ts: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Queue many samples of one series (arrays); never waits. Ignored once stopped."""
        ts_arr = np.asarray(ts, dtype=np.float64)
        val_arr = np.asarray(values, dtype=np.float64)
        if ts_arr.shape != val_arr.shape or ts_arr.ndim != 1:
            raise ValueError("ts and values must be 1-D arrays of one length")
        if ts_arr.size and not self._stopped:
            self._take((series, ts_arr, val_arr), ts_arr.size)

    def _take(self, item: Any, samples: int) -> None:
        """Keep ``item`` for the writer; wake it only when ``flush_every`` samples wait."""
        self._inbox.append(item)
        self._inbox_samples += samples  # a count raced by two threads is off by one poll
        if self._inbox_samples >= self.flush_every:
            self._inbox_samples = 0
            self._queue.put(_WAKE)

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything recorded so far; returns True once it is committed."""
        request = _Flush()
        if not self._running():
            self._handle(request)
            return bool(request.result)
        self._queue.put(request)
        return request.done.wait(timeout) and bool(request.result)

    def prune(self, now: float | None = None, timeout: float = 60.0) -> tuple[int, int]:
        """Roll raw chunks older than the raw retention up into one-minute chunks and drop
        roll-ups older than theirs. Returns (raw chunks rolled up, roll-up chunks dropped)."""
        request = _Prune(now)
        if not self._running():
            self._handle(request)
        else:
            self._queue.put(request)
            if not request.done.wait(timeout):
                raise TimeoutError("the history writer did not prune in time")
        result: tuple[int, int] = request.result
        return result

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush, stop the writer thread and close the file. Returns False if the writer
        did not finish within ``timeout``."""
        finished = True
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
            finished = not self._thread.is_alive()
        elif not self._stopped:
            self._handle(_Flush())
        if finished:
            self._stopped = True
            if self._engine is not None:
                self._engine.dispose()
        return finished

    def _running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        last_flush = time.monotonic()
        next_prune = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_prune:
                self._handle(_Prune())
                next_prune = now + self.prune_every_s
                last_flush = time.monotonic()
            wait = self.interval_s - (time.monotonic() - last_flush)
            try:
                item = self._queue.get(timeout=max(wait, 0.001)) if wait > 0 else None
            except queue.Empty:
                item = None
            if item is _STOP:
                self._drain()
                self._flush()
                return
            self._take_inbox()
            if item is not None and item is not _WAKE:
                self._handle(item)
            elapsed = time.monotonic() - last_flush
            if time.monotonic() < self._retry_at:  # the file cannot be written: wait
                if elapsed >= self.flush_interval_s:
                    self._keep_backlog()
                    last_flush = time.monotonic()
            elif self._pending >= self.flush_every or elapsed >= self.interval_s:
                cpu = time.thread_time()
                self._flush()
                last_flush = time.monotonic()
                if self.flush_share:  # this thread's CPU: its waits on the disk are free
                    self.interval_s = min(self.max_flush_interval_s, max(
                        self.flush_interval_s, (time.thread_time() - cpu) / self.flush_share))

    def _drain(self) -> None:
        """Take in everything queued (requests included), without waiting."""
        self._take_inbox()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item is not _WAKE:
                self._handle(item)

    def _take_inbox(self) -> None:
        """Add the readings recorded since the last look to the open chunks."""
        inbox = self._inbox
        while inbox:
            self._handle(inbox.popleft())

    def _handle(self, item: Any) -> None:
        if isinstance(item, _Request):
            try:
                if isinstance(item, _Prune):
                    self._drain()
                    self._flush()
                    item.result = self._prune(item.now if item.now is not None else self._wall())
                else:
                    self._drain()
                    item.result = self._flush()
            except Exception:
                log.exception("history %s failed", type(item).__name__.lower().strip("_"))
                item.result = (0, 0) if isinstance(item, _Prune) else False
            finally:
                item.done.set()
            return
        if isinstance(item, tuple) and len(item) == 3 and isinstance(item[1], np.ndarray):
            self._pending += add_samples(self._open, *item)
        else:
            self._pending += add_readings(self._open, item)

    def _flush(self) -> bool:
        """Write every open chunk with new samples, in one transaction."""
        dirty = [(name, c) for name, c in self._open.items() if c.unflushed]
        if not dirty:
            return True
        db = history_sql()
        try:
            if self._engine is not None and not same_file(self.path, self._identity):
                self._start_again()
            engine = self.engine  # opened first: the ids below continue the file's
        except Exception as err:
            return self._failed(err)
        plan = plan_flush(dirty, self._series_ids, self._next_chunk_id, self._next_series_id,
                          self.chunk_samples, self.chunk_span_s, self.digits)
        try:
            with engine.begin() as conn:
                if plan.new_series:
                    conn.execute(db.sa.insert(db.series), plan.new_series)
                # the driver's executemany of plain tuples: thousands of rows a flush,
                # SQLAlchemy's per-row parameter processing cost more than SQLite's work
                if plan.inserts:
                    conn.exec_driver_sql(_INSERT_CHUNK, [
                        (r["id"], r["series_id"], r["tier"], r["start_ts"], r["end_ts"],
                         r["n"], r["payload"]) for r in plan.inserts])
                if plan.updates:
                    conn.exec_driver_sql(_UPDATE_CHUNK, [
                        (r["start_ts"], r["end_ts"], r["n"], r["payload"], r["cid"])
                        for r in plan.updates])
        except Exception as err:
            return self._failed(err)
        if self._fault is not None:
            log.info("history is written to %s again", self.path)
            self._fault = None
        self._failures, self._retry_at = 0, 0.0
        for added in plan.new_series:
            self._series_ids[added["name"]] = added["id"]
        self._next_series_id = plan.next_series_id
        self._next_chunk_id = plan.next_chunk_id
        plan.written()
        self._pending = 0
        return True

    def _failed(self, err: BaseException) -> bool:
        """A flush failed: say why once (not at every retry), try again later (1, 2, 4 ... up
        to 30 s: each try encodes the whole backlog) and keep the backlog bounded."""
        self.flush_errors += 1
        self._failures += 1
        self._retry_at = time.monotonic() + min(
            MAX_RETRY_S, self.flush_interval_s * 2 ** min(self._failures - 1, 10))
        fault = describe_write_error(err, self.path)
        if fault != self._fault:
            log.error("writing history failed, will retry: %s", fault,
                      exc_info=not isinstance(err, LocalFileProblem))
            self._fault = fault
        self._keep_backlog()
        return False

    def _keep_backlog(self) -> None:
        """Drop what waits in memory beyond the last ``backlog_s`` of each series."""
        dropped = drop_older_than(self._open.values(), self.backlog_s)
        if dropped:
            if not self.dropped_samples:
                log.warning("history backlog is full (%g s a series): dropping the oldest "
                            "samples until %s can be written", self.backlog_s, self.path)
            self.dropped_samples += dropped
        self._pending = sum(c.unflushed for c in self._open.values())

    def _start_again(self) -> None:
        """The file (or its folder) was removed or replaced while running: forget it and
        write every sample still in memory into a new file at the same place."""
        log.warning("the history file %s was removed while the console ran; starting a new "
                    "one", self.path)
        self._note = (f"The history file {self.path} was removed while the console ran: a "
                      "new one was started there; older history is gone.")
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
        self._series_ids = {}
        for chunk in self._open.values():
            chunk.chunk_id = None
            chunk.unflushed = len(chunk.ts)

    def _prune(self, now: float) -> tuple[int, int]:
        db = history_sql()
        engine = self.engine  # opened first: the ids below continue the file's
        raw_cut = now - self.raw_retention_s
        rollup_cut = now - self.rollup_retention_s
        keep_rollups = self.rollup_retention_s > self.raw_retention_s
        rolled = 0
        with engine.begin() as conn:
            old = conn.execute(
                db.sa.select(db.chunk.c.id, db.chunk.c.series_id, db.chunk.c.payload)
                .where(db.chunk.c.tier == RAW, db.chunk.c.end_ts < raw_cut)
                .order_by(db.chunk.c.series_id, db.chunk.c.start_ts)
            ).all()
            if old and keep_rollups:
                rows, next_chunk = roll_up_rows(
                    ((sid, payload) for _cid, sid, payload in old), self._next_chunk_id,
                    rollup_cut, self.chunk_samples, self.digits)
                if rows:
                    conn.execute(db.sa.insert(db.chunk), rows)
                self._next_chunk_id = next_chunk
            if old:
                ids = [row[0] for row in old]
                for i in range(0, len(ids), 500):
                    conn.execute(db.sa.delete(db.chunk).where(db.chunk.c.id.in_(ids[i : i + 500])))
                rolled = len(ids)
            dropped = conn.execute(
                db.sa.delete(db.chunk)
                .where(db.chunk.c.tier == ROLLUP, db.chunk.c.end_ts < rollup_cut)
            ).rowcount
        # everything was flushed before pruning: a series whose open chunk was rolled up
        # starts a fresh chunk rather than rewrite a row that is gone
        gone = {row[0] for row in old}
        for name in [n for n, c in self._open.items() if c.chunk_id in gone]:
            del self._open[name]
        return rolled, int(dropped or 0)
