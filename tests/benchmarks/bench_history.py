"""Metric history on disk: ingest samples/s against the ORM, Core and raw sqlite3, bytes per
sample on disk, reload of a day, and the cost of a live flush.

    python -m tests.benchmarks history [--quick]

Every database is a fresh SQLite file in WAL mode with ``synchronous=NORMAL`` (what the
history uses). The baselines write one row per sample into ``sample(id, series_id, ts,
value)`` with no secondary index - the kindest schema for them. Rows are prepared before
the clock starts, except that the ORM run includes building its mapped objects (add_all
needs them). Bytes per sample are measured twice: on series recorded from the demo shop by
the real poller and collectors (web metrics and HTTP latencies), and on a synthetic day of
latency-like data (lognormal AR(1) with rare spikes), which fills whole chunks.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Float, Integer, create_engine, event, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from console.domain import Reading
from console.store import MetricStore
from services.monitoring.history_writer import History
from tests.benchmarks.harness import Figure, median_time

AREA = "history"
T0 = 1_699_999_200.0
INGEST_TARGET = 300_000
RATIO_TARGET = 20


class _Base(DeclarativeBase):
    pass


class _Sample(_Base):
    __tablename__ = "sample"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)


def _wal_engine(path: Path) -> Any:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    _Base.metadata.create_all(engine)
    return engine


def _fresh(workdir: Path, name: str) -> Path:
    path = workdir / f"{name}-{time.perf_counter_ns()}.sqlite"
    return path


def _ingest_history(workdir: Path, readings: list[Reading]) -> float:
    history = History(_fresh(workdir, "history"), flush_every=10**9, flush_interval_s=3600)
    history.start()
    started = time.perf_counter()
    history.record(readings)
    history.flush()
    elapsed = time.perf_counter() - started
    history.stop()
    return elapsed


def _ingest_orm(workdir: Path, rows: list[tuple[int, float, float]]) -> float:
    engine = _wal_engine(_fresh(workdir, "orm"))
    started = time.perf_counter()
    with Session(engine) as session:
        session.add_all([_Sample(series_id=s, ts=t, value=v) for s, t, v in rows])
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _ingest_core(workdir: Path, rows: list[dict[str, float]]) -> float:
    engine = _wal_engine(_fresh(workdir, "core"))
    table = _Sample.__table__
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _ingest_sqlite3(workdir: Path, rows: list[tuple[int, float, float]]) -> float:
    path = _fresh(workdir, "raw")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE sample (id INTEGER PRIMARY KEY, series_id INT, ts REAL, value REAL)")
    started = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO sample (series_id, ts, value) VALUES (?, ?, ?)", rows)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _empty_history_bytes(workdir: Path) -> int:
    path = _fresh(workdir, "empty")
    History(path).stop()
    return os.path.getsize(path)


def _disk_bytes_per_sample(
    workdir: Path, series: dict[str, tuple[np.ndarray, np.ndarray]], empty: int
) -> tuple[float, float, float]:
    """Per sample: (file growth over an empty history, bytes the history's tables and
    indexes use inside their pages, compressed chunk payload alone)."""
    path = _fresh(workdir, "disk")
    history = History(path, wall=lambda: max(float(ts[-1]) for ts, _ in series.values()))
    for name, (ts, values) in series.items():
        history.record_many(name, ts, values)
    history.stop()
    samples = sum(ts.size for ts, _ in series.values())
    with sqlite3.connect(path) as conn:
        payload = conn.execute("select sum(length(payload)) from chunk").fetchone()[0]
        try:
            used = conn.execute(
                "select sum(pgsize - unused) from dbstat where name in "
                "('chunk', 'series', 'ix_chunk_series_time', 'ix_chunk_tier_end', "
                "'sqlite_autoindex_series_1')"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # SQLite built without dbstat
            used = float("nan")
    return (os.path.getsize(path) - empty) / samples, used / samples, payload / samples


def _record_demo(seconds: float, interval: float) -> tuple[dict[str, Any], list[float]]:
    """Series from the demo shop, collected by the real poller and collectors."""
    import requests

    from demo import DemoShop
    from services.collectors.http_probe import HttpProbe
    from services.collectors.prometheus import PrometheusCollector
    from services.monitoring.poller import Poller

    class Sink:
        def __init__(self) -> None:
            self.readings: list[Reading] = []

        def record(self, readings: Any) -> None:
            self.readings.extend(readings)

    sink = Sink()
    with tempfile.TemporaryDirectory() as tmp, requests.Session() as session:
        shop = DemoShop(Path(tmp) / "shop.db", traffic_rate=30.0)
        with shop:
            collectors = [
                PrometheusCollector(
                    "web", shop.metrics_url, session, interval_s=interval, timeout_s=2.0
                ),
                HttpProbe(
                    "health", f"{shop.base_url}/health", session, interval_s=interval, timeout_s=2.0
                ),
                HttpProbe(
                    "availability",
                    f"{shop.base_url}/api/availability?date={{today}}&party_size=2",
                    session,
                    interval_s=interval,
                    timeout_s=2.0,
                    token=shop.token,
                ),
            ]
            poller = Poller(collectors, MetricStore(), sink)
            poller.start()
            time.sleep(seconds)
            poller.stop()
    by_series: dict[str, list[tuple[float, float]]] = {}
    for r in sink.readings:
        by_series.setdefault(r.series, []).append((r.ts, r.value))
    series = {
        name: (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        for name, pts in by_series.items()
    }
    scrape_ts = series["web/scrape_seconds"][0]
    jitter = list(np.abs(np.diff(scrape_ts) - interval))
    return series, jitter


def _synthetic_day(
    n_series: int, seconds: int, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for k in range(n_series):
        ts = T0 + np.arange(seconds, dtype=np.float64) + rng.normal(0, 0.002, seconds)
        out[f"web/latency_p{k}"] = (ts, _ar1_latency(seconds, rng))
    return out


def _ar1_latency(n: int, rng: np.random.Generator, phi: float = 0.9) -> np.ndarray:
    """Lognormal around 45 ms, AR(1) in log space, with 1 % spikes of 3-20x."""
    noise = rng.normal(0.0, 0.25, n)
    # AR(1) by blocks: x[i] = phi * x[i-1] + e[i], vectorised with cumulative sums in
    # blocks short enough that phi**-k stays well inside float range
    level = np.empty(n)
    carry = 0.0
    block = 256
    powers = phi ** np.arange(block)
    for lo in range(0, n, block):
        e = noise[lo : lo + block]
        p = powers[: e.size]
        level[lo : lo + e.size] = p * (carry * phi + np.cumsum(e / p))
        carry = level[lo + e.size - 1]
    values = 0.045 * np.exp(level + rng.normal(0.0, 0.15, n))
    spikes = rng.random(n) < 0.01
    values[spikes] *= rng.uniform(3, 20, int(spikes.sum()))
    return values


def run(quick: bool = False) -> list[Figure]:
    rng = np.random.default_rng(11)
    repeat = 3 if quick else 5
    n_series, per_series = (100, 1000) if quick else (200, 2500)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        values = {k: _ar1_latency(per_series, rng) for k in range(n_series)}
        readings = [
            Reading(f"web/latency_p{k}", T0 + i, float(values[k][i]))
            for i in range(per_series)
            for k in range(n_series)
        ]
        rows = [
            (k, T0 + i, float(values[k][i])) for i in range(per_series) for k in range(n_series)
        ]
        total = len(rows)

        ours = median_time(lambda: _ingest_history(workdir, readings), repeat=repeat)
        orm_rows = rows[: min(total, 100_000)]
        orm = median_time(lambda: _ingest_orm(workdir, orm_rows), repeat=max(1, repeat - 2))
        dict_rows = [{"series_id": s, "ts": t, "value": v} for s, t, v in rows]
        core = median_time(lambda: _ingest_core(workdir, dict_rows), repeat=repeat)
        raw = median_time(lambda: _ingest_sqlite3(workdir, rows), repeat=repeat)
        ours_rate, orm_rate = total / ours, len(orm_rows) / orm
        ratio = ours_rate / orm_rate
        figures.append(
            Figure(
                AREA,
                f"ingest: History.record + flush ({total:,} readings)",
                ours_rate,
                "samples/s",
                baseline_name="SQLAlchemy ORM add_all + commit, same rows",
                baseline=orm_rate,
                target=f">= {INGEST_TARGET:,}/s and >= {RATIO_TARGET}x ORM",
                met=ours_rate >= INGEST_TARGET and ratio >= RATIO_TARGET,
            )
        )
        figures.append(
            Figure(
                AREA,
                "ingest: SQLAlchemy Core executemany, row per sample",
                total / core,
                "samples/s",
            )
        )
        figures.append(
            Figure(
                AREA, "ingest: raw sqlite3 executemany, row per sample", total / raw, "samples/s"
            )
        )

        def arrays() -> float:
            history = History(_fresh(workdir, "arrays"), flush_interval_s=3600)
            history.start()
            started = time.perf_counter()
            for k in range(n_series):
                history.record_many(f"web/latency_p{k}", T0 + np.arange(per_series), values[k])
            history.flush()
            elapsed = time.perf_counter() - started
            history.stop()
            return elapsed

        arr = statistics.median(arrays() for _ in range(repeat))
        figures.append(
            Figure(
                AREA, "ingest: History.record_many (arrays per series)", total / arr, "samples/s"
            )
        )

        # bytes per sample on disk
        empty = _empty_history_bytes(workdir)
        day_seconds = 6 * 3600 if quick else 86_400
        synthetic = _synthetic_day(10 if quick else 20, day_seconds, rng)
        growth, _, payload = _disk_bytes_per_sample(workdir, synthetic, empty)
        label = "a day" if not quick else "6 h"
        figures.append(
            Figure(
                AREA,
                f"disk per sample: synthetic latency-like, {label} at 1 s (file)",
                growth,
                "B",
                baseline_name="compressed chunk payload alone",
                baseline=payload,
                target="<= 2 B",
                met=growth <= 2,
            )
        )
        demo_seconds = 15.0 if quick else 60.0
        interval = 0.1
        demo, jitter = _record_demo(demo_seconds, interval)
        _, demo_used, demo_payload = _disk_bytes_per_sample(workdir, demo, empty)
        samples = sum(ts.size for ts, _ in demo.values())
        figures.append(
            Figure(
                AREA,
                f"disk per sample: demo shop, {len(demo)} series x {samples // len(demo)} (used)",
                demo_used,
                "B",
                baseline_name="compressed chunk payload alone; used = bytes in table pages",
                baseline=demo_payload,
                target="<= 2 B",
                met=demo_used <= 2,
            )
        )
        figures.append(
            Figure(
                AREA,
                f"poller: |gap - interval| median, {interval:g} s interval",
                statistics.median(jitter) * 1e3,
                "ms",
            )
        )
        figures.append(Figure(AREA, "poller: |gap - interval| worst", max(jitter) * 1e3, "ms"))

        # reload of the last day at start, into the store
        path = _fresh(workdir, "reload")
        history = History(path, wall=lambda: T0 + day_seconds)
        for name, (ts, vals) in synthetic.items():
            history.record_many(name, ts, vals)
        history.stop()

        def reload() -> int:
            again = History(path, wall=lambda: T0 + day_seconds)
            store = MetricStore()
            count = 0
            for name, ts, vals in again.load(T0 + day_seconds - 86_400):
                store.append_many(name, ts, vals)
                count += ts.size
            again.stop()
            return count

        loaded = reload()
        took = median_time(reload, repeat=3)
        figures.append(
            Figure(
                AREA,
                f"reload into the store: {len(synthetic)} series x {label}",
                loaded / took,
                "samples/s",
            )
        )
        figures.append(Figure(AREA, "reload into the store: wall time", took, "s"))

        # a week from disk for a chart: 2 days raw + 5 days of one-minute roll-ups
        week_days = 3 if quick else 7
        now = T0 + week_days * 86_400
        path = _fresh(workdir, "week")
        history = History(path, wall=lambda: now)
        seconds = week_days * 86_400
        history.record_many("web/p95", T0 + np.arange(float(seconds)), _ar1_latency(seconds, rng))
        history.flush()
        history.prune(now)
        week = median_time(
            lambda: history.series_window("web/p95", now - seconds, now, max_points=2000),
            repeat=repeat,
        )
        history.stop()
        figures.append(
            Figure(
                AREA,
                f"series_window(): {week_days} days from disk, max_points=2000",
                week * 1e3,
                "ms",
            )
        )

        # a live flush: 200 series with a new sample each, open chunks half full
        history = History(_fresh(workdir, "live"), flush_interval_s=3600)
        history.start()
        for k in range(200):
            history.record_many(f"web/s{k}", T0 + np.arange(256.0), _ar1_latency(256, rng))
        history.flush()
        step = [256]

        def live_flush() -> None:
            t = T0 + step[0]
            step[0] += 1
            history.record([Reading(f"web/s{k}", t, 0.05) for k in range(200)])
            history.flush()

        live = median_time(live_flush, repeat=20)
        history.stop()
        figures.append(
            Figure(
                AREA, "live flush: 200 series x 1 new sample (open chunks ~256)", live * 1e3, "ms"
            )
        )
    return figures


if __name__ == "__main__":
    for figure in run(quick=True):
        print(figure)
