"""What the advisor looks at: the facts of each source's latest readings (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console import metrics
from console.domain import Reading, SlowQuery, split_series


@dataclass(frozen=True, slots=True)
class LatencyFacts:
    source: str
    p95_s: float
    group: str = ""  # e.g. "instance=web-3" where a source reads per group

    @property
    def where(self) -> str:
        return f"{self.source} ({self.group})" if self.group else self.source


@dataclass(frozen=True, slots=True)
class TrafficFacts:
    """Requests and server errors (5xx) a source saw over its last window."""

    source: str
    request_rate: float
    error_rate: float | None
    error_ratio: float | None
    group: str = ""
    #: Its usual request rate (the median over the baseline, from the console's history);
    #: None where no history holds one.
    usual_rate: float | None = None

    @property
    def where(self) -> str:
        return f"{self.source} ({self.group})" if self.group else self.source


@dataclass(frozen=True, slots=True)
class CacheFacts:
    source: str
    hit_rate: float | None
    evictions_per_s: float | None = None
    lookups: float | None = None


@dataclass(frozen=True, slots=True)
class QueueFacts:
    source: str
    queue: str
    depth: float
    growth_per_s: float | None = None
    consumers: float | None = None


@dataclass(frozen=True, slots=True)
class PoolFacts:
    source: str
    connections: float
    max_connections: float


@dataclass(frozen=True, slots=True)
class TableFacts:
    source: str
    table: str
    seq_scans: float
    idx_scans: float
    rows: float | None  # None: not known (an empty table is 0)
    full_scans_per_s: float | None = None


@dataclass(frozen=True, slots=True)
class Measurements:
    """What the advisor looks at, gathered from readings, slow queries and source facts."""

    latency: tuple[LatencyFacts, ...] = ()
    traffic: tuple[TrafficFacts, ...] = ()
    caches: tuple[CacheFacts, ...] = ()
    queues: tuple[QueueFacts, ...] = ()
    pools: tuple[PoolFacts, ...] = ()
    tables: tuple[TableFacts, ...] = ()
    slow_queries: tuple[SlowQuery, ...] = ()


def _latest(readings: Iterable[Reading]) -> dict[str, Reading]:
    latest: dict[str, Reading] = {}
    for reading in readings:
        held = latest.get(reading.series)
        if held is None or reading.ts >= held.ts:
            latest[reading.series] = reading
    return latest


def measurements_from_readings(readings: Iterable[Reading], *,
                               earlier: Iterable[Reading] = (),
                               slow_queries: Iterable[SlowQuery] = ()) -> Measurements:
    """Build :class:`Measurements` from the latest readings (``earlier`` readings of the same
    series, if any, give queue growth)."""
    now = _latest(readings)
    before = _latest(earlier)
    latency: list[LatencyFacts] = []
    traffic: dict[tuple[str, str], dict[str, float]] = {}
    caches: dict[str, dict[str, float]] = {}
    queues: dict[tuple[str, str], dict[str, float]] = {}
    pools: dict[str, dict[str, float]] = {}
    tables: dict[tuple[str, str], dict[str, float]] = {}
    workers: dict[str, float] = {}
    for series, reading in sorted(now.items()):
        source, metric, labels = split_series(series)
        value = reading.value
        group = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        if metric == metrics.LATENCY_P95:
            latency.append(LatencyFacts(source, value, group))
        elif metric in (metrics.REQUEST_RATE, metrics.ERROR_RATE, metrics.ERROR_RATIO,
                        metrics.REQUEST_RATE_USUAL):
            traffic.setdefault((source, group), {})[metric] = value
        elif metric in (metrics.CACHE_HIT_RATE, metrics.EVICTIONS_RATE, metrics.CACHE_LOOKUPS):
            caches.setdefault(source, {})[metric] = value
        elif metric in (metrics.QUEUE_DEPTH, metrics.QUEUE_CONSUMERS) and "queue" in labels:
            # a chain's sites each have their own queue of the name (group_by)
            where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "queue")
            queue = f"{labels['queue']} ({where})" if where else labels["queue"]
            entry = queues.setdefault((source, queue), {})
            entry[metric] = value
            old = before.get(series)
            if metric == metrics.QUEUE_DEPTH and old is not None and reading.ts > old.ts:
                entry["growth"] = (value - old.value) / (reading.ts - old.ts)
        elif metric == metrics.WORKERS and not labels:
            workers[source] = value
        elif metric in (metrics.DB_CONNECTIONS_TOTAL, metrics.DB_MAX_CONNECTIONS):
            pools.setdefault(source, {})[metric] = value
        elif metric in (metrics.TABLE_SEQ_SCANS, metrics.TABLE_IDX_SCANS, metrics.TABLE_ROWS,
                        metrics.FULL_SCANS_RATE) and "table" in labels:
            tables.setdefault((source, labels["table"]), {})[metric] = value
    for (source, _), entry in queues.items():
        # A source that counts its workers as a whole (Celery on Redis) and has none: no queue
        # of it has a consumer.
        if workers.get(source) == 0 and metrics.QUEUE_CONSUMERS not in entry:
            entry[metrics.QUEUE_CONSUMERS] = 0.0
    return Measurements(
        latency=tuple(latency),
        traffic=tuple(TrafficFacts(s, f[metrics.REQUEST_RATE], f.get(metrics.ERROR_RATE),
                                   f.get(metrics.ERROR_RATIO), g,
                                   f.get(metrics.REQUEST_RATE_USUAL))
                      for (s, g), f in sorted(traffic.items()) if metrics.REQUEST_RATE in f),
        caches=tuple(CacheFacts(s, f.get(metrics.CACHE_HIT_RATE), f.get(metrics.EVICTIONS_RATE),
                                f.get(metrics.CACHE_LOOKUPS))
                     for s, f in sorted(caches.items())),
        queues=tuple(QueueFacts(s, q, f.get(metrics.QUEUE_DEPTH, 0.0), f.get("growth"),
                                f.get(metrics.QUEUE_CONSUMERS))
                     for (s, q), f in sorted(queues.items()) if metrics.QUEUE_DEPTH in f),
        pools=tuple(PoolFacts(s, f[metrics.DB_CONNECTIONS_TOTAL], f[metrics.DB_MAX_CONNECTIONS])
                    for s, f in sorted(pools.items())
                    if metrics.DB_CONNECTIONS_TOTAL in f and f.get(metrics.DB_MAX_CONNECTIONS)),
        tables=tuple(TableFacts(s, t, f.get(metrics.TABLE_SEQ_SCANS, 0.0),
                                f.get(metrics.TABLE_IDX_SCANS, 0.0), f.get(metrics.TABLE_ROWS),
                                f.get(metrics.FULL_SCANS_RATE))
                     for (s, t), f in sorted(tables.items())),
        slow_queries=tuple(slow_queries),
    )
