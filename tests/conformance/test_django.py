"""Django + django-prometheus (middleware, Redis cache) + PostgreSQL: readings vs the truth."""

from __future__ import annotations

import pytest

from console import metrics
from services.collectors.prometheus import PrometheusCollector
from services.http.client import new_session
from tests.conformance.compare import ReadClock, close_quantile, record, values
from tests.conformance.conftest import Fleet
from tests.conformance.load import run_load

#: django-prometheus' default latency buckets (PROMETHEUS_LATENCY_BUCKETS).
LATENCY = "django_http_requests_latency_seconds_by_view_method"
DJANGO_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
                  25.0, 50.0, 75.0]


def plan(base: str) -> list[str]:
    """120 requests: 60 menu (15 ms), 30 dishes (24 cached, 6 not), 10 orders (SQL),
    10 slow (200 ms) and 10 answered 503."""
    urls = [f"{base}/menu/"] * 60 + [f"{base}/orders/"] * 10 + [f"{base}/slow/"] * 10
    urls += [f"{base}/dish/{n % 3 if n < 24 else 10 + n}/" for n in range(30)]
    urls += [f"{base}/boom/"] * 10
    return urls


def test_django_page_readings_match_the_load_log(fleet: Fleet) -> None:
    django_shop = fleet.django
    first = fleet.next_scrape("django", django_shop)
    with new_session() as session:
        clock = ReadClock()
        collector = PrometheusCollector("django", django_shop + "/metrics", session,
                                        timeout_s=5, monotonic=clock)
        collector.collect()
        log = run_load(plan(django_shop))
        report = collector.collect()
    last = fleet.next_scrape("django", django_shop)
    got = values(report)
    sent = log.count()
    elapsed = clock.window_s
    hits, misses = log.hits("/dish/")
    assert (hits, misses) == (24, 6)
    record("django-prometheus", "requests in window", got.get(metrics.LATENCY_COUNT), sent,
           "load log")
    # Backroom's own first scrape of /metrics is a request too; Prometheus may add one.
    assert got[metrics.LATENCY_COUNT] == pytest.approx(sent, rel=0.05)
    assert got[metrics.REQUEST_RATE] == pytest.approx(sent / elapsed, rel=0.05)
    record("django-prometheus", "request rate (/s)", got[metrics.REQUEST_RATE], sent / elapsed,
           "load log")
    ratio = log.errors() / sent
    record("django-prometheus", "error ratio", got.get(metrics.ERROR_RATIO), ratio, "load log")
    assert got[metrics.ERROR_RATIO] == pytest.approx(ratio, rel=0.05)
    assert got[metrics.ERROR_RATE] == pytest.approx(log.errors() / elapsed, rel=0.05)
    record("django-prometheus", "cache hit rate", got.get(metrics.CACHE_HIT_RATE),
           hits / (hits + misses), "load log (X-Cache)")
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(hits / (hits + misses), rel=0.05)
    for metric, q in ((metrics.LATENCY_P50, 0.5), (metrics.LATENCY_P95, 0.95)):
        truth = fleet.window_quantile(q, LATENCY, "django", django_shop, first, last)
        record("django-prometheus", f"p{round(q * 100)} (s)", got.get(metric), truth,
               "PromQL, same window")
        assert close_quantile(got[metric], truth, DJANGO_BUCKETS)
