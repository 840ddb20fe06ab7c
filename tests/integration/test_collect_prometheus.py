"""Prometheus collectors: a real /metrics page and a real Prometheus server scraping it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from console import metrics
from console.domain import Status
from console.quantiles import histogram_quantile
from services.collectors._cache import REDIS_HIT_RATE_SCOPE
from services.collectors.prometheus import PrometheusCollector
from services.collectors.prometheus_server import PrometheusServerCollector
from services.errors import BadResponse, SourceUnreachable
from services.http.client import new_session
from tests import servers
from tests.integration.local_servers import binary, http_server, process_on_port, reply

pytestmark = pytest.mark.integration

# A repeating cycle of 20 requests: 10 at 20 ms, 9 at 200 ms, 1 at 2 s (one of them a 500).
CYCLE = [0.02] * 10 + [0.2] * 9 + [2.0]
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class App:
    """A small app exposing metrics the way prometheus-fastapi-instrumentator does."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("http_request_duration_seconds", "latency", ["handler"],
                                 buckets=BUCKETS, registry=self.registry)
        self.requests = Counter("http_requests_total", "requests", ["handler", "status"],
                                registry=self.registry)
        self.hits = Counter("cache_hits", "hits", registry=self.registry)
        self.misses = Counter("cache_misses", "misses", registry=self.registry)
        self.depth = Gauge("celery_queue_length", "depth", ["queue_name"],
                           registry=self.registry)

    def serve_cycle(self, cycles: int = 1) -> None:
        for _ in range(cycles):
            for i, seconds in enumerate(CYCLE):
                self.latency.labels("/menu" if i % 2 else "/book").observe(seconds)
                self.requests.labels("/menu", "500" if seconds == 2.0 else "200").inc()


@pytest.fixture
def app() -> Iterator[tuple[App, str]]:
    app = App()
    port = servers.free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=app.registry)
    try:
        yield app, f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def values(report: object) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in report.readings}  # type: ignore[attr-defined]


EXPECTED = {q: histogram_quantile(q, [(b, sum(1 for s in CYCLE if s <= b)) for b in BUCKETS]
                                  + [(float("inf"), len(CYCLE))])
            for q in (0.5, 0.95, 0.99)}


def test_page_readings_match_what_the_app_did(app: tuple[App, str]) -> None:
    shop, url = app
    shop.serve_cycle(5)
    shop.hits.inc(30)
    shop.misses.inc(10)
    shop.depth.labels("emails").set(12)
    with new_session() as session:
        collector = PrometheusCollector("web", url, session, timeout_s=5)
        first = values(collector.collect())
        # the first page holds everything since the app started: no quantile judges it
        assert metrics.LATENCY_P95 not in first and metrics.LATENCY_COUNT not in first
        # since the app started: context, never judged
        assert first[metrics.CACHE_HIT_RATE_SINCE_START] == pytest.approx(0.75)
        assert metrics.CACHE_HIT_RATE not in first
        assert first['queue_depth{queue="emails"}'] == 12
        shop.serve_cycle(2)
        shop.hits.inc(1)
        shop.misses.inc(3)
        second = collector.collect()
    got = values(second)
    assert second.status is Status.OK
    assert got[metrics.LATENCY_COUNT] == 40
    # two whole cycles in the window: the cycle's own quantiles
    assert got[metrics.LATENCY_P50] == pytest.approx(EXPECTED[0.5])
    assert got[metrics.LATENCY_P95] == pytest.approx(EXPECTED[0.95])
    assert got[metrics.LATENCY_P99] == pytest.approx(EXPECTED[0.99])
    assert got[metrics.ERROR_RATIO] == pytest.approx(2 / 40)
    assert got[metrics.REQUEST_RATE] > 0
    assert got[metrics.ERROR_RATE] == pytest.approx(got[metrics.REQUEST_RATE] / 20)
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(0.25)


def test_malformed_page_is_a_bad_response() -> None:
    routes = {"/metrics": reply(body=b"<html><body>Welcome</body></html>",
                                content_type="text/html")}
    with http_server(routes) as url, new_session() as session:
        with pytest.raises(BadResponse, match="not a Prometheus metrics page"):
            PrometheusCollector("web", url + "/metrics", session).collect()
        with pytest.raises(BadResponse, match="HTTP 404"):
            PrometheusCollector("web", url + "/nope", session).collect()



def test_redis_exporter_page_says_whether_redis_is_up() -> None:
    """redis_exporter answers its page when its Redis is down, with ``redis_up 0``."""
    up = (b"# TYPE redis_up gauge\nredis_up 1\n# TYPE redis_keyspace_hits_total counter\n"
          b"redis_keyspace_hits_total 9\n# TYPE redis_keyspace_misses_total counter\n"
          b"redis_keyspace_misses_total 1\n")
    down = b"# TYPE redis_up gauge\nredis_up 0\n"
    routes = {"/up": reply(body=up), "/down": reply(body=down)}
    with http_server(routes) as url, new_session() as session:
        report = PrometheusCollector("cache", url + "/up", session).collect()
        with pytest.raises(SourceUnreachable, match=r"cannot reach Redis \(redis_up 0\)"):
            PrometheusCollector("cache", url + "/down", session).collect()
    assert report.status is Status.OK
    assert REDIS_HIT_RATE_SCOPE in report.facts  # INFO's counters: the whole server's


@pytest.fixture
def prometheus(app: tuple[App, str], tmp_path: Path) -> Iterator[tuple[App, str]]:
    """A real Prometheus scraping the app every 0.5 s while the app keeps serving."""
    exe = binary("prometheus", "/usr/bin/prometheus")
    shop, target = app
    port = servers.free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 500ms\n  evaluation_interval: 500ms\n"
        "scrape_configs:\n  - job_name: shop\n    static_configs:\n"
        f"      - targets: ['{target.split('//')[1].split('/')[0]}']\n")
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            shop.serve_cycle()
            stop.wait(0.05)

    worker = threading.Thread(target=traffic, name="test-traffic", daemon=True)
    worker.start()
    command = [exe, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"]
    try:
        with process_on_port(command, port, "prometheus", cwd=tmp_path, timeout_s=30):
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while requests.get(base + "/-/ready", timeout=2).status_code != 200:
                assert time.monotonic() < deadline, "prometheus did not get ready in 30 s"
                time.sleep(0.2)
            yield shop, base
    finally:
        stop.set()
        worker.join(timeout=5)


def test_prometheus_server_queries_match_the_known_distribution(
        prometheus: tuple[App, str]) -> None:
    shop, url = prometheus
    shop.depth.labels("emails").set(7)
    with new_session() as session:
        collector = PrometheusServerCollector("fleet", url, session, timeout_s=5,
                                              selector='job="shop"')
        deadline = time.monotonic() + 30
        got: dict[str, float] = {}
        while time.monotonic() < deadline:  # until two scrapes have landed (rate needs two)
            report = collector.collect()
            got = values(report)
            if metrics.LATENCY_P95 in got and 'queue_depth{queue="emails"}' in got:
                break
            time.sleep(0.5)
        assert report.server_version
        # Rates over a window that does not hold whole cycles: allow some slack.
        assert got[metrics.LATENCY_P50] == pytest.approx(EXPECTED[0.5], rel=0.25)
        assert got[metrics.LATENCY_P95] == pytest.approx(EXPECTED[0.95], rel=0.25)
        assert got[metrics.ERROR_RATIO] == pytest.approx(1 / 20, rel=0.3)
        assert got['queue_depth{queue="emails"}'] == 7
        assert got[metrics.REQUEST_RATE] > 0
        history = collector.range_readings(metrics.REQUEST_RATE, time.time() - 5, time.time(),
                                           1.0)
        assert history and all(r.series == "fleet/request_rate" for r in history)


def test_prometheus_server_override_and_bad_query(prometheus: tuple[App, str]) -> None:
    _shop, url = prometheus
    with new_session() as session:
        custom = PrometheusServerCollector("fleet", url, session,
                                           queries={metrics.CLIENTS: "vector(42)"})
        assert values(custom.collect())[metrics.CLIENTS] == 42
        broken = PrometheusServerCollector("fleet", url, session,
                                           queries={metrics.CLIENTS: "sum(("})
        with pytest.raises(BadResponse, match="rejected the query"):
            broken.collect()


def test_label_values_that_look_like_syntax_stay_their_own_series(app: tuple[App, str]) -> None:
    """Queue names with quotes, backslashes, line breaks, commas and braces, from
    prometheus_client's own exposition: one series each, with its own figure."""
    from console.domain import split_series

    application, url = app
    queues = {'orders",x="1': 1.0, 'orders",x="2': 2.0, "back\\slash": 3.0,
              "line\nbreak": 4.0, "a,b": 5.0, "curly}": 6.0, 'x="y"}': 7.0}
    for name, depth in queues.items():
        application.depth.labels(name).set(depth)
    with new_session() as session:
        report = PrometheusCollector("web", url, session, timeout_s=5).collect()
    found = [split_series(r.series) for r in report.readings]
    depths = {labels["queue"]: r.value for (_s, metric, labels), r
              in zip(found, report.readings, strict=True) if metric == metrics.QUEUE_DEPTH}
    assert depths == queues
    assert all(set(labels) == {"queue"} for _s, metric, labels in found
               if metric == metrics.QUEUE_DEPTH)
