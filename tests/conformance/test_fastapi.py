"""FastAPI + prometheus-fastapi-instrumentator under uvicorn: readings vs the load log."""

from __future__ import annotations

import pytest

from console import metrics
from services.collectors.prometheus import PrometheusCollector
from services.http.client import new_session
from tests.conformance.compare import ReadClock, close_quantile, record, values
from tests.conformance.conftest import Fleet
from tests.conformance.load import run_load

#: The instrumentator's fine histogram (http_request_duration_highr_seconds) buckets.
HIGHR_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5,
                 4.0, 4.5, 5.0, 7.5, 10.0, 30.0, 60.0]


def test_fastapi_latency_comes_from_the_fine_histogram(fleet: Fleet) -> None:
    base = fleet.fastapi[0]
    urls = [f"{base}/items/{n}" for n in range(90)] + [f"{base}/fail"] * 10
    fleet.load.pause()
    first = fleet.next_scrape("fastapi", base)
    with new_session() as session:
        clock = ReadClock()
        collector = PrometheusCollector("api", base + "/metrics", session, timeout_s=5,
                                        monotonic=clock)
        collector.collect()
        log = run_load(urls)
        got = values(collector.collect())
    last = fleet.next_scrape("fastapi", base)
    fleet.load.resume()
    sent = log.count()
    elapsed = clock.window_s
    record("prometheus-fastapi-instrumentator", "request rate (/s)",
           got.get(metrics.REQUEST_RATE), sent / elapsed, "load log")
    assert got[metrics.REQUEST_RATE] == pytest.approx(sent / elapsed, rel=0.05)
    record("prometheus-fastapi-instrumentator", "error ratio", got.get(metrics.ERROR_RATIO),
           log.errors() / sent, "load log")
    assert got[metrics.ERROR_RATIO] == pytest.approx(log.errors() / sent, rel=0.05)
    for metric, q in ((metrics.LATENCY_P50, 0.5), (metrics.LATENCY_P95, 0.95)):
        truth = fleet.window_quantile(q, "http_request_duration_highr_seconds", "fastapi", base,
                                      first, last)
        record("prometheus-fastapi-instrumentator", f"p{round(q * 100)} (s)", got.get(metric),
               truth, "PromQL, same window")
        assert close_quantile(got[metric], truth, HIGHR_BUCKETS)
