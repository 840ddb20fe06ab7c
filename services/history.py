"""Metric history on disk: compressed chunks in SQLite (WAL), written in batches by one thread."""

from __future__ import annotations

import functools
import logging
import math
import queue
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from console.alerts import format_duration
from console.domain import Reading
from console.store import SeriesWindow, aggregate_to_grid, make_window
from services.history_codec import (
    FORMAT_VERSION,
    RAW,
    ROLLUP,
    ROLLUP_STEP_S,
    SIGNIFICANT_DIGITS,
    FloatArray,
    decode_raw,
    decode_rollup,
    encode_raw,
    encode_rollup,
    roll_up,
)
from services.local_files import (
    LocalFileProblem,
    check_own_file,
    describe_write_error,
    file_identity,
    same_file,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


# -- schema ---------------------------------------------------------------------------------

@functools.cache
def _sql() -> Any:
    """SQLAlchemy and the history's tables, imported on first use: opening the console does
    not wait for SQLAlchemy's import before its window paints."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    meta = sa.Table(
        "meta",
        metadata,
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
    )
    series = sa.Table(
        "series",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    chunk = sa.Table(
        "chunk",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("start_ts", sa.Float, nullable=False),
        sa.Column("end_ts", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Index("ix_chunk_series_time", "series_id", "tier", "start_ts"),
        sa.Index("ix_chunk_tier_end", "tier", "end_ts"),
    )
    return SimpleNamespace(
        sa=sa, metadata=metadata, meta=meta, series=series, chunk=chunk, select=sa.select,
        insert=sa.insert, update=sa.update, delete=sa.delete, bindparam=sa.bindparam,
        func=sa.func)


@dataclass(slots=True)
class _OpenChunk:
    """The newest chunk of a series: rewritten at each flush until it is full. Samples are
    kept in plain C doubles (16 bytes a sample, not ~64 as Python floats in lists)."""

    chunk_id: int | None = None
    ts: array[float] = field(default_factory=lambda: array("d"))
    values: array[float] = field(default_factory=lambda: array("d"))
    unflushed: int = 0


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
MAX_RETRY_S = 30.0  #: the longest wait between tries to write a file that cannot be written


class History:
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
    ) -> None:
        if synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
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
        self._open: dict[str, _OpenChunk] = {}
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
            db = _sql()
            check_own_file(self.path, db.metadata.tables)
            engine = db.sa.create_engine(
                f"sqlite:///{self.path}", connect_args={"check_same_thread": False, "timeout": 30}
            )
            sync = self._sync

            @db.sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA page_size=16384")  # packs ~1 KB chunks with little waste
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={sync}")
                cursor.close()

            try:
                db.metadata.create_all(engine)
                with engine.begin() as conn:
                    stored = conn.execute(
                        db.select(db.meta.c.value).where(db.meta.c.key == "format")
                    ).scalar_one_or_none()
                    if stored is None:
                        conn.execute(
                            db.insert(db.meta).values(key="format", value=str(FORMAT_VERSION))
                        )
                    elif stored != str(FORMAT_VERSION):
                        raise RuntimeError(
                            f"{self.path} holds history of format {stored}, this build reads "
                            f"{FORMAT_VERSION}; move the file aside to start a new history"
                        )
                    self._series_ids = {
                        name: sid
                        for sid, name in conn.execute(db.select(db.series.c.id, db.series.c.name))
                    }
                    top = conn.execute(db.select(db.func.max(db.chunk.c.id))).scalar()
            except BaseException:
                engine.dispose()
                raise
            self._next_chunk_id = (top or 0) + 1
            self._next_series_id = max(self._series_ids.values(), default=0) + 1
            self._engine = engine
            self._identity = file_identity(self.path)
            return engine

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
            self._queue.put(tuple(readings))

    def record_many(self, series: str, ts: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Queue many samples of one series (arrays); never waits. Ignored once stopped."""
        ts_arr = np.asarray(ts, dtype=np.float64)
        val_arr = np.asarray(values, dtype=np.float64)
        if ts_arr.shape != val_arr.shape or ts_arr.ndim != 1:
            raise ValueError("ts and values must be 1-D arrays of one length")
        if ts_arr.size and not self._stopped:
            self._queue.put((series, ts_arr, val_arr))

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
            wait = self.flush_interval_s - (time.monotonic() - last_flush)
            try:
                item = self._queue.get(timeout=max(wait, 0.001)) if wait > 0 else None
            except queue.Empty:
                item = None
            if item is _STOP:
                self._drain()
                self._flush()
                return
            if item is not None:
                self._handle(item)
            elapsed = time.monotonic() - last_flush
            if time.monotonic() < self._retry_at:  # the file cannot be written: wait
                if elapsed >= self.flush_interval_s:
                    self._keep_backlog()
                    last_flush = time.monotonic()
            elif self._pending >= self.flush_every or elapsed >= self.flush_interval_s:
                self._flush()
                last_flush = time.monotonic()

    def _drain(self) -> None:
        """Take in everything queued (requests included), without waiting."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._handle(item)

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
            series, ts, values = item
            chunk = self._open.setdefault(series, _OpenChunk())
            chunk.ts.frombytes(ts.tobytes())
            chunk.values.frombytes(values.tobytes())
            chunk.unflushed += ts.size
            self._pending += ts.size
            return
        open_chunks = self._open
        for reading in item:
            found = open_chunks.get(reading.series)
            if found is None:
                found = open_chunks[reading.series] = _OpenChunk()
            found.ts.append(reading.ts)
            found.values.append(reading.value)
            found.unflushed += 1
        self._pending += len(item)

    def _flush(self) -> bool:
        """Write every open chunk with new samples, in one transaction."""
        dirty = [(name, c) for name, c in self._open.items() if c.unflushed]
        if not dirty:
            return True
        db = _sql()
        try:
            if self._engine is not None and not same_file(self.path, self._identity):
                self._start_again()
            engine = self.engine  # opened first: the ids below continue the file's
        except Exception as err:
            return self._failed(err)
        new_series: list[dict[str, Any]] = []  # {"id": int, "name": str}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        plan: list[tuple[_OpenChunk, int | None, FloatArray, FloatArray]] = []
        next_chunk = self._next_chunk_id
        next_series = self._next_series_id
        for name, chunk in dirty:
            sid = self._series_ids.get(name)
            if sid is None:
                sid = next_series
                next_series += 1
                new_series.append({"id": sid, "name": name})
            ts = np.frombuffer(chunk.ts, dtype=np.float64).copy()  # a copy: the array
            values = np.frombuffer(chunk.values, dtype=np.float64).copy()  # grows on
            if ts.size > 1 and (np.diff(ts) < 0).any():
                order = np.argsort(ts, kind="stable")
                ts, values = ts[order], values[order]
            for lo, hi in self._pieces(ts):
                piece_ts, piece_values = ts[lo:hi], values[lo:hi]
                row = {
                    "start_ts": float(piece_ts[0]),
                    "end_ts": float(piece_ts[-1]),
                    "n": int(piece_ts.size),
                    "payload": encode_raw(piece_ts, piece_values, self.digits),
                }
                if lo == 0 and chunk.chunk_id is not None:
                    row_id = chunk.chunk_id
                    updates.append({"cid": row_id, **row})
                else:
                    row_id = next_chunk
                    next_chunk += 1
                    inserts.append({"id": row_id, "series_id": sid, "tier": RAW, **row})
                if hi == ts.size:  # the newest piece stays open unless it is full
                    if piece_ts.size < self.chunk_samples:
                        plan.append((chunk, row_id, piece_ts, piece_values))
                    else:
                        plan.append((chunk, None, ts[:0], values[:0]))
        try:
            with engine.begin() as conn:
                if new_series:
                    conn.execute(db.insert(db.series), new_series)
                if inserts:
                    conn.execute(db.insert(db.chunk), inserts)
                if updates:
                    conn.execute(
                        db.update(db.chunk)
                        .where(db.chunk.c.id == db.bindparam("cid"))
                        .values(
                            start_ts=db.bindparam("start_ts"),
                            end_ts=db.bindparam("end_ts"),
                            n=db.bindparam("n"),
                            payload=db.bindparam("payload"),
                        ),
                        updates,
                    )
        except Exception as err:
            return self._failed(err)
        if self._fault is not None:
            log.info("history is written to %s again", self.path)
            self._fault = None
        self._failures, self._retry_at = 0, 0.0
        for added in new_series:
            self._series_ids[added["name"]] = added["id"]
        self._next_series_id = next_series
        self._next_chunk_id = next_chunk
        for chunk, chunk_id, ts_left, values_left in plan:
            chunk.chunk_id = chunk_id
            chunk.ts = array("d", ts_left.tobytes())
            chunk.values = array("d", values_left.tobytes())
            chunk.unflushed = 0
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
        dropped = _drop_older_than(self._open.values(), self.backlog_s)
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

    def _pieces(self, ts: FloatArray) -> Iterator[tuple[int, int]]:
        """Split sorted samples into chunks of at most ``chunk_samples`` samples and
        ``chunk_span_s`` seconds, so retention works chunk by chunk even on slow series."""
        lo = 0
        while lo < ts.size:
            by_time = int(np.searchsorted(ts, ts[lo] + self.chunk_span_s, side="left"))
            hi = min(lo + self.chunk_samples, max(by_time, lo + 1), ts.size)
            yield lo, hi
            lo = hi

    def _prune(self, now: float) -> tuple[int, int]:
        db = _sql()
        engine = self.engine  # opened first: the ids below continue the file's
        raw_cut = now - self.raw_retention_s
        rollup_cut = now - self.rollup_retention_s
        keep_rollups = self.rollup_retention_s > self.raw_retention_s
        rolled = 0
        with engine.begin() as conn:
            old = conn.execute(
                db.select(db.chunk.c.id, db.chunk.c.series_id, db.chunk.c.payload)
                .where(db.chunk.c.tier == RAW, db.chunk.c.end_ts < raw_cut)
                .order_by(db.chunk.c.series_id, db.chunk.c.start_ts)
            ).all()
            if old and keep_rollups:
                by_series: dict[int, list[bytes]] = {}
                for _cid, sid, payload in old:
                    by_series.setdefault(sid, []).append(payload)
                rows = []
                next_chunk = self._next_chunk_id
                for sid, payloads in by_series.items():
                    decoded = [decode_raw(p) for p in payloads]
                    ts = np.concatenate([d[0] for d in decoded])
                    values = np.concatenate([d[1] for d in decoded])
                    bucket, mean, lo, hi, count = roll_up(ts, values)
                    fresh = bucket * ROLLUP_STEP_S + ROLLUP_STEP_S > rollup_cut
                    bucket, count = bucket[fresh], count[fresh]
                    mean, lo, hi = mean[fresh], lo[fresh], hi[fresh]
                    for i in range(0, bucket.size, self.chunk_samples):
                        sl = slice(i, i + self.chunk_samples)
                        rows.append(
                            {
                                "id": next_chunk,
                                "series_id": sid,
                                "tier": ROLLUP,
                                "start_ts": float(bucket[sl][0] * ROLLUP_STEP_S),
                                "end_ts": float(bucket[sl][-1] * ROLLUP_STEP_S),
                                "n": int(bucket[sl].size),
                                "payload": encode_rollup(
                                    bucket[sl], mean[sl], lo[sl], hi[sl], count[sl], self.digits
                                ),
                            }
                        )
                        next_chunk += 1
                if rows:
                    conn.execute(db.insert(db.chunk), rows)
                self._next_chunk_id = next_chunk
            if old:
                ids = [row[0] for row in old]
                for i in range(0, len(ids), 500):
                    conn.execute(db.delete(db.chunk).where(db.chunk.c.id.in_(ids[i : i + 500])))
                rolled = len(ids)
            dropped = conn.execute(
                db.delete(db.chunk).where(db.chunk.c.tier == ROLLUP, db.chunk.c.end_ts < rollup_cut)
            ).rowcount
        # everything was flushed before pruning: a series whose open chunk was rolled up
        # starts a fresh chunk rather than rewrite a row that is gone
        gone = {row[0] for row in old}
        for name in [n for n, c in self._open.items() if c.chunk_id in gone]:
            del self._open[name]
        return rolled, int(dropped or 0)

    # -- reading --------------------------------------------------------------------------

    def load(self, since_ts: float) -> Iterator[tuple[str, FloatArray, FloatArray]]:
        """Raw samples from ``since_ts`` on, one series at a time: (series, ts, values).

        Meant for start-up, to refill the in-memory store with the last day.
        """
        db = _sql()
        query = (
            db.select(db.series.c.name, db.chunk.c.payload)
            .join(db.series, db.series.c.id == db.chunk.c.series_id)
            .where(db.chunk.c.tier == RAW, db.chunk.c.end_ts >= since_ts)
            .order_by(db.chunk.c.series_id, db.chunk.c.start_ts)
        )
        with self.engine.connect() as conn:
            current: str | None = None
            pieces: list[tuple[FloatArray, FloatArray]] = []
            for name, payload in conn.execute(query):
                if name != current:
                    if current is not None:
                        yield from _joined(current, pieces, since_ts)
                    current, pieces = name, []
                pieces.append(decode_raw(payload))
            if current is not None:
                yield from _joined(current, pieces, since_ts)

    def series_names(self) -> list[str]:
        """Every series ever written to this file."""
        db = _sql()
        with self.engine.connect() as conn:
            return sorted(conn.execute(db.select(db.series.c.name)).scalars())

    def series_window(
        self, series: str, start_ts: float, end_ts: float, max_points: int | None = None
    ) -> SeriesWindow:
        """A series over a range from disk (for ranges older than memory holds), on a grid
        of 1 s where raw samples cover it, else 60 s; ``tier`` 0 raw, 1 roll-ups."""
        db = _sql()
        if end_ts < start_ts:
            raise ValueError("end_ts is before start_ts")
        query = (
            db.select(db.chunk.c.tier, db.chunk.c.payload)
            .join(db.series, db.series.c.id == db.chunk.c.series_id)
            .where(
                db.series.c.name == series,
                db.chunk.c.end_ts >= start_ts - ROLLUP_STEP_S,
                db.chunk.c.start_ts <= end_ts,
            )
        )
        parts: list[tuple[FloatArray, ...]] = []
        tier = RAW
        with self.engine.connect() as conn:
            for chunk_tier, payload in conn.execute(query):
                if chunk_tier == RAW:
                    ts, values = decode_raw(payload)
                    parts.append((ts, values, values, values, np.ones(ts.size)))
                else:
                    tier = ROLLUP
                    parts.append(decode_rollup(payload))
        step = float(ROLLUP_STEP_S if tier == ROLLUP else 1)
        if max_points:
            buckets = (end_ts - start_ts) / step + 1
            if buckets > max_points:
                step *= math.ceil(buckets / max_points)
        columns: list[FloatArray] = [
            np.concatenate(c) if parts else np.zeros(0) for c in zip(*parts, strict=True)
        ] or [np.zeros(0)] * 5
        ts, mean, lo, hi, count = columns
        grid, mean, lo, hi = aggregate_to_grid(ts, mean, lo, hi, count, start_ts, end_ts, step)
        return make_window(series, grid, mean, lo, hi, tier, step)

    def disk_bytes(self) -> int:
        """Size of the database file and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                total += part.stat().st_size
        return total

    def stored_samples(self) -> tuple[int, int]:
        """(raw samples, roll-up buckets) on disk."""
        db = _sql()
        with self.engine.connect() as conn:
            query = db.select(db.chunk.c.tier, db.func.sum(db.chunk.c.n)).group_by(db.chunk.c.tier)
            rows: dict[int, int] = dict(conn.execute(query).all())
        return int(rows.get(RAW) or 0), int(rows.get(ROLLUP) or 0)


def _drop_older_than(chunks: Iterable[_OpenChunk], backlog_s: float) -> int:
    """Drop unwritten samples more than ``backlog_s`` older than their series' newest;
    returns how many. Samples already in the file stay (they are rewritten with the chunk)."""
    dropped = 0
    for chunk in chunks:
        if not chunk.unflushed:
            continue
        ts = np.frombuffer(chunk.ts, dtype=np.float64)
        first = len(ts) - chunk.unflushed
        tail = ts[first:]
        old = tail < tail.max() - backlog_s
        count = int(old.sum())
        if not count:
            continue
        values = np.frombuffer(chunk.values, dtype=np.float64)
        keep = np.concatenate([np.ones(first, dtype=bool), ~old])
        chunk.ts = array("d", ts[keep].tobytes())
        chunk.values = array("d", values[keep].tobytes())
        chunk.unflushed -= count
        dropped += count
    return dropped


def _joined(
    name: str, pieces: Iterable[tuple[FloatArray, FloatArray]], since_ts: float
) -> Iterator[tuple[str, FloatArray, FloatArray]]:
    chunks = list(pieces)
    ts = np.concatenate([p[0] for p in chunks])
    values = np.concatenate([p[1] for p in chunks])
    keep = ts >= since_ts
    if keep.any():
        yield name, ts[keep], values[keep]
