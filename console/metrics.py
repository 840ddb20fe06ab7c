"""Standard metric names every collector emits and the dashboard, store, alerts and reports read."""

from __future__ import annotations

UP = "up"
STATUS_CODE = "status_code"
LATENCY = "latency"
LATENCY_P50 = "latency_p50"
LATENCY_P95 = "latency_p95"
LATENCY_P99 = "latency_p99"
LATENCY_COUNT = "latency_count"
LATENCY_MEAN = "latency_mean"  # where a summary publishes no quantiles: sum / count
REQUEST_RATE = "request_rate"
ERROR_RATE = "error_rate"
ERROR_RATIO = "error_ratio"
CACHE_HIT_RATE = "cache_hit_rate"
CACHE_LOOKUPS = "cache_lookups"
CACHE_HITS_RATE = "cache_hits_rate"
CACHE_MISSES_RATE = "cache_misses_rate"
QUEUE_DEPTH = "queue_depth"
QUEUE_READY = "queue_ready"
QUEUE_UNACKED = "queue_unacked"
QUEUE_CONSUMERS = "queue_consumers"
#: Workers of a queue system that answered (Celery's broadcast ping), for the whole source.
WORKERS = "workers"
QUEUE_PUBLISH_RATE = "queue_publish_rate"
QUEUE_DELIVER_RATE = "queue_deliver_rate"
MEMORY_BYTES = "memory_bytes"
CLIENTS = "clients"
EVICTIONS_RATE = "evictions_rate"
#: Keys a Redis server removed because their TTL ran out, per second (INFO expired_keys).
EXPIRIES_RATE = "expiries_rate"
DB_CONNECTIONS = "db_connections"
DB_CONNECTIONS_TOTAL = "db_connections_total"
DB_MAX_CONNECTIONS = "db_max_connections"
DB_BUFFER_HIT_RATE = "db_buffer_hit_rate"
DB_SIZE_BYTES = "db_size_bytes"
DB_WAL_BYTES = "db_wal_bytes"
DB_FREE_PAGES = "db_free_pages"
TABLE_SEQ_SCANS = "table_seq_scans"
TABLE_IDX_SCANS = "table_idx_scans"
TABLE_ROWS = "table_rows"
#: Reads of every row of a table per second (PostgreSQL's seq_scan, MySQL's Select_scan, a
#: plan's SCAN step): a rise with no rise in traffic is a missing or dropped index.
FULL_SCANS_RATE = "full_scans_rate"
BOOKINGS_RATE = "bookings_rate"
ORDERS_RATE = "orders_rate"
#: A source's usual request rate: the median of its ``request_rate`` over the baseline of the
#: profile's "Busier than usual" rule, read from the console's history (never polled).
REQUEST_RATE_USUAL = "request_rate_usual"

LATENCY_QUANTILES: tuple[tuple[str, float], ...] = (
    (LATENCY_P50, 0.50),
    (LATENCY_P95, 0.95),
    (LATENCY_P99, 0.99),
)

#: Metrics whose values are seconds (shown in milliseconds).
SECONDS_METRICS = frozenset({LATENCY, LATENCY_P50, LATENCY_P95, LATENCY_P99, LATENCY_MEAN})

#: Metrics whose values are ratios in 0..1 (shown as percentages).
RATIO_METRICS = frozenset({ERROR_RATIO, CACHE_HIT_RATE, DB_BUFFER_HIT_RATE,
                           "cache_hit_rate_since_start"})

#: Every standard metric name, for validating alert rules and building menus.
STANDARD_METRICS: tuple[str, ...] = (
    UP, STATUS_CODE, LATENCY, LATENCY_P50, LATENCY_P95, LATENCY_P99, LATENCY_COUNT, LATENCY_MEAN,
    REQUEST_RATE, ERROR_RATE, ERROR_RATIO, CACHE_HIT_RATE, CACHE_LOOKUPS, CACHE_HITS_RATE,
    CACHE_MISSES_RATE,
    QUEUE_DEPTH, QUEUE_READY, QUEUE_UNACKED, QUEUE_CONSUMERS, QUEUE_PUBLISH_RATE,
    QUEUE_DELIVER_RATE, WORKERS, MEMORY_BYTES, CLIENTS, EVICTIONS_RATE, EXPIRIES_RATE,
    DB_CONNECTIONS, DB_CONNECTIONS_TOTAL, DB_MAX_CONNECTIONS, DB_BUFFER_HIT_RATE, DB_SIZE_BYTES,
    DB_WAL_BYTES,
    DB_FREE_PAGES, TABLE_SEQ_SCANS, TABLE_IDX_SCANS, TABLE_ROWS, FULL_SCANS_RATE, BOOKINGS_RATE,
    ORDERS_RATE,
)

#: Context only, never judged: a cache's hit rate and lookups since its server started (what
#: a first reading gives before there is an interval to take a delta over).
CACHE_HIT_RATE_SINCE_START = "cache_hit_rate_since_start"
CACHE_LOOKUPS_SINCE_START = "cache_lookups_since_start"

#: Figures over a recent window (a delta between two readings, or a time window of samples):
#: what alerts, the advisor, the sweep and the status light judge.
WINDOWED_METRICS = frozenset({
    LATENCY_P50, LATENCY_P95, LATENCY_P99, LATENCY_COUNT, REQUEST_RATE, ERROR_RATE,
    ERROR_RATIO, CACHE_HIT_RATE, CACHE_LOOKUPS, CACHE_HITS_RATE, CACHE_MISSES_RATE,
    EVICTIONS_RATE, EXPIRIES_RATE, QUEUE_PUBLISH_RATE, QUEUE_DELIVER_RATE, BOOKINGS_RATE,
    ORDERS_RATE, FULL_SCANS_RATE, REQUEST_RATE_USUAL,
})
