"""Page semantics as Prometheus has them: summaries, absent and repeated series, odd values."""

from __future__ import annotations

import pytest

from console import metrics
from services.collectors.prom_parse import PromParseError
from services.collectors.prometheus import readings_from_text
from services.errors import BadResponse


def by_metric(readings: list) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in readings}


def micrometer(ok: int, errors: int, seconds: float) -> str:
    """Spring Boot / Micrometer's summary, with the percentiles it publishes when asked."""
    fam = "http_server_requests_seconds"
    good = 'method="GET",outcome="SUCCESS",status="200",uri="/menu"'
    bad = 'method="GET",outcome="SERVER_ERROR",status="500",uri="/menu"'
    return f"""# HELP {fam}
# TYPE {fam} summary
{fam}{{{good},quantile="0.5"}} 0.012
{fam}{{{good},quantile="0.95"}} 0.05
{fam}{{{good},quantile="0.99"}} 0.09
{fam}_count{{{good}}} {ok}
{fam}_sum{{{good}}} {seconds}
{fam}_count{{{bad}}} {errors}
{fam}_sum{{{bad}}} 0.5
# HELP {fam}_max
# TYPE {fam}_max gauge
{fam}_max{{{good}}} 0.3
"""


def test_micrometer_summary_without_percentiles_gives_the_mean() -> None:
    pages = [(micrometer(100, 0, 1.0), 0.0), (micrometer(190, 10, 2.0), 10.0)]
    plain = ["\n".join(line for line in text.splitlines() if "quantile" not in line)
             for text, _ in pages]
    got = by_metric(readings_from_text("spring", [(plain[0], 0.0), (plain[1], 10.0)]))
    # 100 more requests (90 ok, 10 errors) took 1.0 s more in all: a mean of 10 ms.
    assert got[metrics.LATENCY_MEAN] == pytest.approx(1.0 / 100)
    assert metrics.LATENCY_P95 not in got
    assert got[metrics.REQUEST_RATE] == pytest.approx(10.0)


def test_micrometer_summary_gives_rates_errors_and_its_quantiles() -> None:
    got = by_metric(readings_from_text("spring", [(micrometer(100, 0, 1.0), 0.0),
                                                  (micrometer(190, 10, 2.0), 10.0)]))
    assert got[metrics.REQUEST_RATE] == pytest.approx(10.0)
    assert got[metrics.ERROR_RATE] == pytest.approx(1.0)
    assert got[metrics.ERROR_RATIO] == pytest.approx(0.1)
    assert got[metrics.LATENCY_P50] == pytest.approx(0.012)
    assert got[metrics.LATENCY_P95] == pytest.approx(0.05)
    assert got[metrics.LATENCY_P99] == pytest.approx(0.09)


GO_SUMMARY = """# TYPE rpc_durations_seconds summary
rpc_durations_seconds{{service="orders",quantile="0.5"}} 0.004
rpc_durations_seconds{{service="orders",quantile="0.9"}} 0.008
rpc_durations_seconds{{service="orders",quantile="0.99"}} 0.02
rpc_durations_seconds_sum{{service="orders"}} {total}
rpc_durations_seconds_count{{service="orders"}} {count}
"""


def test_go_summary_named_in_the_profile_gives_the_quantiles_it_has() -> None:
    pages = [(GO_SUMMARY.format(total=1.0, count=200), 0.0),
             (GO_SUMMARY.format(total=2.0, count=400), 20.0)]
    got = by_metric(readings_from_text("orders", pages, {"latency": "rpc_durations_seconds"}))
    assert got[metrics.LATENCY_P50] == pytest.approx(0.004)
    assert got[metrics.LATENCY_P99] == pytest.approx(0.02)
    assert metrics.LATENCY_P95 not in got  # the page has no 0.95: none is made up
    assert got[metrics.REQUEST_RATE] == pytest.approx(10.0)


def counters(**values: int) -> str:
    lines = ["# TYPE http_requests_total counter"]
    lines += [f'http_requests_total{{handler="/{name}",status="2xx"}} {value}'
              for name, value in values.items()]
    return "\n".join(lines) + "\n"


def test_a_label_set_missing_from_one_scrape_is_not_a_jump() -> None:
    pages = [(counters(menu=100, book=5000), 0.0), (counters(menu=110), 10.0),
             (counters(menu=120, book=5010), 20.0)]
    got = by_metric(readings_from_text("web", pages))
    assert got[metrics.REQUEST_RATE] == pytest.approx((10 + 10) / 10)


def test_a_series_repeated_on_a_page_is_counted_once() -> None:
    page = """# TYPE flask_http_request_duration_seconds histogram
flask_http_request_duration_seconds_bucket{{le="0.1",path="/"}} {fast}
flask_http_request_duration_seconds_bucket{{le="+Inf",path="/"}} {all}
flask_http_request_duration_seconds_count{{path="/"}} {all}
flask_http_request_duration_seconds_bucket{{le="0.1",path="/"}} {fast}
flask_http_request_duration_seconds_bucket{{le="+Inf",path="/"}} {all}
flask_http_request_duration_seconds_count{{path="/"}} {all}
"""
    got = by_metric(readings_from_text("web", [(page.format(fast=80, all=100), 0.0),
                                               (page.format(fast=170, all=200), 10.0)]))
    assert got[metrics.REQUEST_RATE] == pytest.approx(10.0)
    assert got[metrics.LATENCY_COUNT] == 100


def test_a_400_digit_value_is_a_bad_page() -> None:
    page = "# TYPE http_requests_total counter\nhttp_requests_total " + "9" * 400 + "\n"
    with pytest.raises(PromParseError, match=r"line 2: .*out of range"):
        readings_from_text("web", [(page, 0.0)])
    assert issubclass(PromParseError, ValueError) and not issubclass(PromParseError,
                                                                     BadResponse)


def test_a_histogram_without_inf_keeps_the_page_count() -> None:
    page = """# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{{le="0.1"}} {fast}
http_request_duration_seconds_bucket{{le="0.5"}} {fast}
http_request_duration_seconds_count {all}
http_request_duration_seconds_sum 1
"""
    # quantiles come from the window between two scrapes (a first one holds every request
    # since the app started)
    got = by_metric(readings_from_text("web", [(page.format(fast=0, all=0), 0.0),
                                               (page.format(fast=50, all=100), 10.0)]))
    assert got[metrics.LATENCY_COUNT] == 100
    assert got[metrics.LATENCY_P50] == pytest.approx(0.1)
    assert got[metrics.LATENCY_P95] == pytest.approx(0.5)  # PromQL: the highest finite bound


def test_a_histogram_in_milliseconds_can_be_declared() -> None:
    page = """# TYPE request_latency_ms histogram
request_latency_ms_bucket{{le="10"}} {fast}
request_latency_ms_bucket{{le="100"}} {all}
request_latency_ms_bucket{{le="+Inf"}} {all}
request_latency_ms_count {all}
"""
    got = by_metric(readings_from_text("web", [(page.format(fast=0, all=0), 0.0),
                                               (page.format(fast=50, all=100), 10.0)],
                                       {"latency": "request_latency_ms"}, unit="ms"))
    assert got[metrics.LATENCY_P50] == pytest.approx(0.010)
    assert got[metrics.LATENCY_P95] == pytest.approx(0.010 + 0.090 * 45 / 50)


def test_whole_table_reads_are_a_rate_per_table_over_the_last_30_seconds() -> None:
    """A table read whole in bursts (the demo's availability, recomputed when its 15 s cache
    runs out: 27 reads at once) is a steady rate, not a poll of 5.4/s between polls of 0."""
    from prometheus_client import CollectorRegistry, Counter, generate_latest

    registry = CollectorRegistry()
    scans = Counter("db_full_scans", "reads of a whole table", ("table",), registry=registry)
    scans.labels(table="bookings")
    pages = []
    for t in range(0, 45, 5):
        if t in (15, 30):
            scans.labels(table="bookings").inc(27)
        scans.labels(table="products").inc(5)
        if t == 40:
            scans.labels(table="orders").inc(3)  # first seen: no rate yet
        pages.append((generate_latest(registry).decode(), float(t)))
    got = by_metric(readings_from_text("shop", pages))
    # 54 reads of bookings since the page of 30 s ago (t=10), none in the last poll
    assert got['full_scans_rate{table="bookings"}'] == pytest.approx(54 / 30)
    assert got['full_scans_rate{table="products"}'] == pytest.approx(1.0)
    assert 'full_scans_rate{table="orders"}' not in got
    # per poll, the bookings' last five seconds held no read
    last_two = by_metric(readings_from_text("shop", pages[-2:]))
    assert last_two['full_scans_rate{table="bookings"}'] == 0.0
