"""Prometheus metrics of one demo shop, in a registry of its own (several shops per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0,
                2.5, 5.0, 10.0)
JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ShopMetrics:
    """Every metric the demo exposes on ``/metrics`` (documented in docs/metrics.md)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.http_duration = Histogram(
            "http_request_duration_seconds", "Time spent answering HTTP requests.",
            ("method", "endpoint", "status"), buckets=HTTP_BUCKETS, registry=reg)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests answered.",
            ("method", "endpoint", "status"), registry=reg)
        self.cache_hits = Counter(
            "cache_hits_total", "Reads answered from the cache.", ("cache",), registry=reg)
        self.cache_misses = Counter(
            "cache_misses_total", "Reads the cache could not answer (computed from the database).",
            ("cache",), registry=reg)
        self.queue_depth = Gauge(
            "job_queue_depth", "Jobs waiting in the queue for a worker.", ("queue",), registry=reg)
        self.queue_workers = Gauge(
            "job_queue_workers", "Worker threads consuming the queue.", ("queue",), registry=reg)
        self.jobs_processed = Counter(
            "jobs_processed_total", "Jobs finished successfully.", ("queue", "job"), registry=reg)
        self.jobs_failed = Counter(
            "jobs_failed_total", "Jobs that raised an error.", ("queue", "job"), registry=reg)
        self.job_duration = Histogram(
            "job_duration_seconds", "Time a worker spent on one job.", ("queue", "job"),
            buckets=JOB_BUCKETS, registry=reg)
        self.job_wait = Histogram(
            "job_queue_wait_seconds", "Time a job waited in the queue before a worker took it.",
            ("queue",), buckets=JOB_BUCKETS, registry=reg)
        self.db_query_duration = Histogram(
            "db_query_duration_seconds", "Time of the expensive database reads.", ("query",),
            buckets=HTTP_BUCKETS, registry=reg)
        self.full_scans = Counter(
            "db_full_scans_total", "Reads of every row of a table (the query plan's SCAN, no "
            "index used).", ("table",), registry=reg)
        self.table_rows = Gauge(
            "db_table_rows", "Rows in each table of the shop's database.", ("table",),
            registry=reg)
        self.bookings_created = Counter(
            "shop_bookings_created_total", "Bookings created through the API.", registry=reg)
        self.bookings_cancelled = Counter(
            "shop_bookings_cancelled_total", "Bookings cancelled through the API.", registry=reg)
        self.orders_created = Counter(
            "shop_orders_created_total", "Orders placed through the API.", registry=reg)
        self.scenario_cache = Gauge(
            "demo_scenario_cache_enabled", "1 when the demo's cache switch is on.", registry=reg)
        self.scenario_index = Gauge(
            "demo_scenario_booking_time_index", "1 when ix_bookings_start_at exists.",
            registry=reg)
