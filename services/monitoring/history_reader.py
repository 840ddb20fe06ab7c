"""Reading the metric history back from disk: the last day at start, older ranges on demand."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from console.history_chunks import decode_columns, samples_since
from console.history_codec import RAW, ROLLUP, ROLLUP_STEP_S, FloatArray, decode_raw
from console.series_window import SeriesWindow, aggregate_to_grid, make_window
from services.monitoring.history_schema import history_sql

if TYPE_CHECKING:
    from sqlalchemy import Engine


class HistoryReader:
    """Reads a history file through ``engine``, which the file's writer provides."""

    path: Path

    @property
    def engine(self) -> Engine:
        raise NotImplementedError

    def load(self, since_ts: float) -> Iterator[tuple[str, FloatArray, FloatArray]]:
        """Raw samples from ``since_ts`` on, one series at a time: (series, ts, values).

        Meant for start-up, to refill the in-memory store with the last day.
        """
        db = history_sql()
        query = (
            db.sa.select(db.series.c.name, db.chunk.c.payload)
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
                        yield from _kept(current, pieces, since_ts)
                    current, pieces = name, []
                pieces.append(decode_raw(payload))
            if current is not None:
                yield from _kept(current, pieces, since_ts)

    def series_names(self) -> list[str]:
        """Every series ever written to this file."""
        db = history_sql()
        with self.engine.connect() as conn:
            return sorted(conn.execute(db.sa.select(db.series.c.name)).scalars())

    def series_window(
        self, series: str, start_ts: float, end_ts: float, max_points: int | None = None
    ) -> SeriesWindow:
        """A series over a range from disk (for ranges older than memory holds), on a grid
        of 1 s where raw samples cover it, else 60 s; ``tier`` 0 raw, 1 roll-ups."""
        db = history_sql()
        if end_ts < start_ts:
            raise ValueError("end_ts is before start_ts")
        query = (
            db.sa.select(db.chunk.c.tier, db.chunk.c.payload)
            .join(db.series, db.series.c.id == db.chunk.c.series_id)
            .where(
                db.series.c.name == series,
                db.chunk.c.end_ts >= start_ts - ROLLUP_STEP_S,
                db.chunk.c.start_ts <= end_ts,
            )
        )
        with self.engine.connect() as conn:
            tier, columns = decode_columns(conn.execute(query))
        step = float(ROLLUP_STEP_S if tier == ROLLUP else 1)
        if max_points:
            buckets = (end_ts - start_ts) / step + 1
            if buckets > max_points:
                step *= math.ceil(buckets / max_points)
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
        db = history_sql()
        with self.engine.connect() as conn:
            query = (db.sa.select(db.chunk.c.tier, db.sa.func.sum(db.chunk.c.n))
                     .group_by(db.chunk.c.tier))
            rows: dict[int, int] = dict(conn.execute(query).all())
        return int(rows.get(RAW) or 0), int(rows.get(ROLLUP) or 0)


def _kept(name: str, pieces: list[tuple[FloatArray, FloatArray]], since_ts: float
          ) -> Iterator[tuple[str, FloatArray, FloatArray]]:
    ts, values = samples_since(pieces, since_ts)
    if ts.size:
        yield name, ts, values
