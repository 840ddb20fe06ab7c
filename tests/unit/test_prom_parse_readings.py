"""From /metrics text to standard readings: recognised families, windows, counter resets."""

from __future__ import annotations

import pytest

from console import metrics
from services.collectors.prometheus import readings_from_text


def by_metric(readings: list) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in readings}


def flask_page(fast: int, slow: int, errors: int, hits: int, misses: int) -> str:
    """prometheus-flask-exporter and django-cache style families with known counts."""
    total = fast + slow
    return f"""# HELP flask_http_request_duration_seconds Flask HTTP request duration in seconds
# TYPE flask_http_request_duration_seconds histogram
flask_http_request_duration_seconds_bucket{{le="0.1",method="GET",path="/",status="200"}} {fast}
flask_http_request_duration_seconds_bucket{{le="1.0",method="GET",path="/",status="200"}} {total}
flask_http_request_duration_seconds_bucket{{le="+Inf",method="GET",path="/",status="200"}} {total}
flask_http_request_duration_seconds_count{{method="GET",path="/",status="200"}} {total}
flask_http_request_duration_seconds_sum{{method="GET",path="/",status="200"}} 1.0
# TYPE flask_http_request_total counter
flask_http_request_total{{method="GET",status="200"}} {total - errors}
flask_http_request_total{{method="GET",status="500"}} {errors}
# TYPE django_cache_get_hits_total counter
django_cache_get_hits_total{{backend="redis"}} {hits}
# TYPE django_cache_get_misses_total counter
django_cache_get_misses_total{{backend="redis"}} {misses}
# TYPE celery_queue_length gauge
celery_queue_length{{queue_name="emails"}} 7
"""


def test_single_scrape_judges_nothing_since_start_and_gives_gauges() -> None:
    got = by_metric(readings_from_text("web", [(flask_page(90, 10, 0, 30, 10), 0.0)]))
    assert got[metrics.UP] == 1.0
    # every request since the app started says nothing of now: quantiles need a window
    assert metrics.LATENCY_P50 not in got and metrics.LATENCY_P99 not in got
    assert metrics.LATENCY_COUNT not in got
    # since the app started: context, never judged
    assert got[metrics.CACHE_HIT_RATE_SINCE_START] == pytest.approx(0.75)
    assert metrics.CACHE_HIT_RATE not in got
    assert got['queue_depth{queue="emails"}'] == 7
    assert metrics.REQUEST_RATE not in got  # a rate needs two scrapes


def test_two_scrapes_give_rates_and_window_quantiles() -> None:
    first = flask_page(90, 10, 0, 30, 10)
    # 10 s later: 20 more fast, 20 more slow (2 of them errors), 5 hits, 15 misses
    second = flask_page(110, 30, 2, 35, 25)
    got = by_metric(readings_from_text("web", [(first, 100.0), (second, 110.0)]))
    assert got[metrics.REQUEST_RATE] == pytest.approx(4.0)
    assert got[metrics.ERROR_RATE] == pytest.approx(0.2)
    assert got[metrics.ERROR_RATIO] == pytest.approx(0.05)
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(0.25)
    assert got[metrics.CACHE_HITS_RATE] == pytest.approx(0.5)
    assert got[metrics.CACHE_MISSES_RATE] == pytest.approx(1.5)
    # the window holds 20 fast + 20 slow: p50 is the 0.1 boundary, p95 = 0.1 + 0.9 * 18/20
    assert got[metrics.LATENCY_COUNT] == 40
    assert got[metrics.LATENCY_P50] == pytest.approx(0.1)
    assert got[metrics.LATENCY_P95] == pytest.approx(0.1 + 0.9 * 18 / 20)


def test_counter_reset_between_scrapes_counts_what_came_after() -> None:
    before = flask_page(900, 100, 0, 300, 100)
    after = flask_page(8, 2, 0, 4, 1)  # the app restarted
    got = by_metric(readings_from_text("web", [(before, 0.0), (after, 5.0)]))
    assert got[metrics.REQUEST_RATE] == pytest.approx(2.0)
    assert got[metrics.LATENCY_COUNT] == 10
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(0.8)


def test_demo_and_django_family_names_are_recognised() -> None:
    page = """# TYPE django_http_requests_latency_seconds_by_view_method histogram
django_http_requests_latency_seconds_by_view_method_bucket{le="0.5",method="GET",view="menu"} 4
django_http_requests_latency_seconds_by_view_method_bucket{le="+Inf",method="GET",view="menu"} 4
django_http_requests_latency_seconds_by_view_method_count{method="GET",view="menu"} 4
# TYPE job_queue_depth gauge
job_queue_depth{queue="demo.jobs"} 3
# TYPE job_queue_workers gauge
job_queue_workers{queue="demo.jobs"} 2
# TYPE rabbitmq_queue_messages_ready gauge
rabbitmq_queue_messages_ready{queue="emails",vhost="/"} 5
# TYPE redis_keyspace_hits_total counter
redis_keyspace_hits_total 9
# TYPE redis_keyspace_misses_total counter
redis_keyspace_misses_total 1
# TYPE shop_bookings_created_total counter
shop_bookings_created_total 10
"""
    later = page.replace("shop_bookings_created_total 10", "shop_bookings_created_total 13")
    later = later.replace('view="menu"} 4', 'view="menu"} 8')
    got = by_metric(readings_from_text("web", [(page, 0.0), (later, 30.0)]))
    first = by_metric(readings_from_text("web", [(page, 0.0)]))
    assert got[metrics.LATENCY_P50] == pytest.approx(0.25)
    assert got['queue_depth{queue="demo.jobs"}'] == 3
    assert got['queue_consumers{queue="demo.jobs"}'] == 2
    assert got['queue_ready{queue="emails"}'] == 5
    assert first[metrics.CACHE_HIT_RATE_SINCE_START] == pytest.approx(0.9)
    assert got[metrics.BOOKINGS_RATE] == pytest.approx(6.0)  # 3 in 30 s = 6 per minute


def test_profile_can_name_its_own_families() -> None:
    page = """# TYPE shop_latency_seconds histogram
shop_latency_seconds_bucket{le="0.2"} 1
shop_latency_seconds_bucket{le="+Inf"} 2
shop_latency_seconds_count 2
# TYPE tasks_waiting gauge
tasks_waiting{queue="q"} 4
"""
    later = page.replace('le="0.2"} 1', 'le="0.2"} 2').replace('le="+Inf"} 2', 'le="+Inf"} 4')
    later = later.replace("_count 2", "_count 4")
    got = by_metric(readings_from_text(
        "web", [(page, 0.0), (later, 5.0)],
        {"latency": "shop_latency_seconds", "queue_depth": "tasks_waiting"}))
    assert got[metrics.LATENCY_P50] == pytest.approx(0.2)
    assert got['queue_depth{queue="q"}'] == 4
