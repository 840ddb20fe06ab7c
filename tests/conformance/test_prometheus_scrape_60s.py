"""A job scraped every 60 s (Prometheus' example config): rates over four intervals give figures."""

from __future__ import annotations

import pytest

from console import metrics
from console.domain import Status
from services.collectors.prometheus_server import PrometheusServerCollector
from services.http.client import new_session
from tests.conformance.compare import record, values
from tests.conformance.conftest import SLOW_SCRAPE_S, Fleet
from tests.conformance.test_prometheus_server import at_of, collect_until

pytestmark = pytest.mark.slow


def test_a_60_s_scrape_gives_figures(fleet: Fleet) -> None:
    sel = 'job="fastapi-60s"'
    with new_session() as session:
        collector = PrometheusServerCollector("fleet-60s", fleet.url, session, timeout_s=10,
                                              selector=sel)
        # Two scrapes of the job are needed: up to two intervals after the server started.
        report = collect_until(collector, [metrics.REQUEST_RATE, metrics.LATENCY_P95],
                               3 * SLOW_SCRAPE_S)
    got, at = values(report), at_of(report)
    assert collector.scrape_interval_s == SLOW_SCRAPE_S
    assert collector.window == "240s"
    assert report.status is Status.OK
    ((_, truth),) = fleet.query(f"sum(rate(http_requests_total{{{sel}}}[240s]))", at)
    record("prometheus server (60 s job)", "request rate (/s)", got[metrics.REQUEST_RATE],
           truth, "PromQL http_requests_total, same instant")
    assert got[metrics.REQUEST_RATE] == pytest.approx(truth, rel=0.05)
    ((_, p95),) = fleet.query("histogram_quantile(0.95, sum by (le) (rate("
                              f"http_request_duration_highr_seconds_bucket{{{sel}}}[240s])))", at)
    record("prometheus server (60 s job)", "p95 (s)", got[metrics.LATENCY_P95], p95,
           "PromQL on the fine histogram, same instant")
    assert got[metrics.LATENCY_P95] == pytest.approx(p95, rel=0.1)
