"""Metric families of common exporters that the Prometheus collectors recognise unasked."""

from __future__ import annotations

from console import metrics

#: Request-latency histograms (seconds). Where a page has several, the one with the most
#: buckets is read (the finer quantiles); on a tie, the first in this order.
LATENCY_HISTOGRAMS: tuple[str, ...] = (
    "http_request_duration_seconds",  # prometheus-fastapi-instrumentator, the demo, generic
    "http_request_duration_highr_seconds",  # prometheus-fastapi-instrumentator, fine buckets
    "flask_http_request_duration_seconds",  # prometheus-flask-exporter
    "django_http_requests_latency_seconds_by_view_method",  # django-prometheus
    "http_server_requests_seconds",  # Micrometer / Spring
    "starlette_request_duration_seconds",  # starlette-exporter
)

#: Request counters (sample names); a status/code label starting with 5 marks errors.
REQUEST_COUNTERS: tuple[str, ...] = (
    "http_requests_total",
    "flask_http_request_total",
    "django_http_responses_total_by_status_total",
    "starlette_requests_total",
)

#: Labels that carry an HTTP status.
STATUS_LABELS: tuple[str, ...] = ("status", "code", "status_code")

#: Cache hit/miss counter pairs (sample names).
CACHE_COUNTERS: tuple[tuple[str, str], ...] = (
    ("django_cache_get_hits_total", "django_cache_get_misses_total"),
    ("cache_hits_total", "cache_misses_total"),
    ("redis_keyspace_hits_total", "redis_keyspace_misses_total"),  # redis_exporter
)

#: Queue gauges and the standard metric each gives, per queue.
QUEUE_GAUGES: tuple[tuple[str, str], ...] = (
    ("celery_queue_length", metrics.QUEUE_DEPTH),  # celery-exporter
    ("job_queue_depth", metrics.QUEUE_DEPTH),  # the demo shop
    ("rabbitmq_queue_messages", metrics.QUEUE_DEPTH),  # rabbitmq_prometheus per-object
    ("rabbitmq_queue_messages_ready", metrics.QUEUE_READY),
    ("rabbitmq_queue_messages_unacked", metrics.QUEUE_UNACKED),
    ("rabbitmq_queue_consumers", metrics.QUEUE_CONSUMERS),
    ("job_queue_workers", metrics.QUEUE_CONSUMERS),  # the demo shop
)

#: Labels that name a queue.
QUEUE_LABELS: tuple[str, ...] = ("queue", "queue_name", "name")

#: Business counters and the per-minute rate each gives.
BUSINESS_COUNTERS: tuple[tuple[str, str], ...] = (
    ("shop_bookings_created_total", metrics.BOOKINGS_RATE),
    ("shop_orders_created_total", metrics.ORDERS_RATE),
)

#: Counters of whole-table reads, by table (a ``table``/``relname`` label): the rate each gives.
FULL_SCAN_COUNTERS: tuple[str, ...] = (
    "db_full_scans_total",  # the demo shop
)
#: Gauges of each table's rows (a ``table`` label).
TABLE_ROW_GAUGES: tuple[str, ...] = (
    "db_table_rows",  # the demo shop
)

#: redis_exporter gauges and counters.
REDIS_EXPORTER_HITS = "redis_keyspace_hits_total"
REDIS_EXPORTER_MEMORY = "redis_memory_used_bytes"
REDIS_EXPORTER_CLIENTS = "redis_connected_clients"
REDIS_EXPORTER_EVICTIONS = "redis_evicted_keys_total"

#: Exporters' gauges that say whether they reached what they export (0: it is down, the
#: page's other figures are stale or absent), and what that is.
EXPORTER_UP: tuple[tuple[str, str], ...] = (
    ("redis_up", "Redis"),
)
