"""A real Prometheus server over the real apps: per-group figures, the 5 s job, missing APIs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from console import metrics
from console.domain import CollectorReport, Status
from console.profile import Profile, Source
from console.report import render_json, render_table
from services.collectors.prometheus_server import PrometheusServerCollector
from services.diagnostics.diagnose import run_diagnose
from services.http.client import new_session
from tests.conformance.compare import record, values
from tests.conformance.conftest import SITES, Fleet
from tests.conformance.load import TRAFFIC, run_load
from tests.integration.local_servers import http_server

HIGHR = "http_request_duration_highr_seconds"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


def collect_until(collector: PrometheusServerCollector, wanted: list[str],
                  timeout_s: float) -> CollectorReport:
    """Collect until every wanted ``metric{labels}`` has a value (rates need two scrapes)."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = collector.collect()
        got = values(report)
        if all(key in got for key in wanted) or time.monotonic() > deadline:
            return report
        time.sleep(1.0)


def at_of(report: CollectorReport) -> float:
    return report.readings[0].ts


def test_fastapi_fleet_per_instance_and_overall(fleet: Fleet,
                                                session: requests.Session) -> None:
    instances = [base.split("//")[1] for base in fleet.fastapi]
    collector = PrometheusServerCollector("fleet", fleet.url, session, timeout_s=10,
                                          selector='job="fastapi"', group_by=("instance",))
    wanted = [f'{metrics.LATENCY_P50}{{instance="{i}"}}' for i in instances]
    fleet.wait_steady(60)
    report = collect_until(collector, [metrics.LATENCY_P95, *wanted], 60)
    got, at = values(report), at_of(report)
    assert report.status is Status.OK
    window = collector.window
    sel = 'job="fastapi"'
    # Truth: PromQL of our own at the same instant, on the instrumentator's other counter
    # for rates, and on the fine histogram alone for quantiles.
    ((_, rate_truth),) = fleet.query(f"sum(rate(http_requests_total{{{sel}}}[{window}]))", at)
    record("prometheus server (FastAPI job)", "request rate (/s)", got[metrics.REQUEST_RATE],
           rate_truth, "PromQL http_requests_total, same instant")
    assert got[metrics.REQUEST_RATE] == pytest.approx(rate_truth, rel=0.05)
    ((_, p95_truth),) = fleet.query(
        f"histogram_quantile(0.95, sum by (le) (rate({HIGHR}_bucket{{{sel}}}[{window}])))", at)
    record("prometheus server (FastAPI job)", "p95 (s)", got[metrics.LATENCY_P95], p95_truth,
           "PromQL on the fine histogram, same instant")
    assert got[metrics.LATENCY_P95] == pytest.approx(p95_truth, rel=0.1)
    per_instance = {
        labels["instance"]: value for labels, value in fleet.query(
            f"histogram_quantile(0.5, sum by (le, instance) "
            f"(rate({HIGHR}_bucket{{{sel}}}[{window}])))", at)}
    p50 = {i: got[f'{metrics.LATENCY_P50}{{instance="{i}"}}'] for i in instances}
    for instance in instances:
        record("prometheus server (FastAPI job)", f"p50 of {instance} (s)", p50[instance],
               per_instance[instance], "PromQL per instance, same instant")
        assert p50[instance] == pytest.approx(per_instance[instance], rel=0.1)
    # The third instance is 2x slower, and the load log says so too.
    fast, slow = max(p50[instances[0]], p50[instances[1]]), p50[instances[2]]
    assert slow > 1.5 * fast
    assert fleet.load.log.quantile(0.5, fleet.fastapi[2]) > \
        1.5 * fleet.load.log.quantile(0.5, fleet.fastapi[0])
    # Error ratio per instance: the load log between the first and last scrape in the window.
    for instance, base in zip(instances, fleet.fastapi, strict=True):
        ratio = got[f'{metrics.ERROR_RATIO}{{instance="{instance}"}}']
        raw = fleet.samples(f'http_requests_total{{{sel},instance="{instance}"}}[{window}]', at)
        first = max(points[0][0] for _labels, points in raw)
        last = min(points[-1][0] for _labels, points in raw)
        sent = [s for s in TRAFFIC.between(first, last) if base in s.url]
        truth = sum(1 for s in sent if s.status >= 500) / len(sent)
        record("prometheus server (FastAPI job)", f"error ratio of {instance}", ratio, truth,
               "load log between the window's scrapes")
        assert ratio == pytest.approx(truth, rel=0.05)


def test_sites_keep_their_own_cache_hit_rate(fleet: Fleet, session: requests.Session) -> None:
    base = fleet.django
    urls = [f"{base}/dish/{n % 3 if n < 24 else 10 + n}/" for n in range(30)] * 2
    # django-prometheus makes its cache counters at the first lookup: one hit and one miss
    # first, then the counters before the load, then after it.
    run_load([f"{base}/dish/0/", f"{base}/dish/99/"])
    fleet.next_scrape("django", base)
    log = run_load(urls)
    hits, misses = log.hits("/dish/")
    fleet.next_scrape("django", base)
    collector = PrometheusServerCollector("chain", fleet.url, session, timeout_s=10,
                                          selector='job="django"', group_by=("site",))
    wanted = [f'{metrics.CACHE_HIT_RATE}{{site="{site}"}}' for site in SITES]
    report = collect_until(collector, [metrics.CACHE_HIT_RATE, *wanted], 30)
    got = values(report)
    truth = hits / (hits + misses)
    record("prometheus server (Django job, 2 sites)", "cache hit rate",
           got[metrics.CACHE_HIT_RATE], truth, "load log (X-Cache)")
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(truth, rel=0.05)
    for site in SITES:
        assert got[f'{metrics.CACHE_HIT_RATE}{{site="{site}"}}'] == pytest.approx(truth,
                                                                                 rel=0.05)
    ((_, both),) = fleet.query(f'sum(rate(django_cache_get_hits_total{{job="django"}}'
                               f'[{collector.window}]))', at_of(report))
    assert got[metrics.CACHE_HITS_RATE] == pytest.approx(both, rel=0.05)


def test_a_server_without_buildinfo_still_answers(fleet: Fleet,
                                                  session: requests.Session) -> None:
    def forward(request: BaseHTTPRequestHandler) -> None:
        answer = requests.get(fleet.url + request.path, timeout=10)
        request.send_response(answer.status_code)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(answer.content)))
        request.end_headers()
        request.wfile.write(answer.content)

    # A Prometheus-compatible server that has the query API but no build info.
    with http_server({"/api/v1/query": forward, "/api/v1/targets": forward}) as url:
        collector = PrometheusServerCollector("fleet", url, session, timeout_s=10,
                                              selector='job="fastapi"')
        report = collect_until(collector, [metrics.REQUEST_RATE], 30)
    assert report.server_version is None
    assert values(report)[metrics.REQUEST_RATE] > 0


def test_a_selector_that_matches_nothing_says_so(fleet: Fleet,
                                                 session: requests.Session) -> None:
    collector = PrometheusServerCollector("fleet", fleet.url, session, timeout_s=10,
                                          selector='job="no-such-job"')
    report = collector.collect()
    assert report.status is Status.WARN
    assert report.detail.startswith("no data over the last 60s")


def test_diagnose_json_has_each_instance(fleet: Fleet) -> None:
    source = Source("fleet", "prometheus-server", fleet.url, timeout_s=10,
                    selector='job="fastapi"', group_by=("instance",))
    fleet.wait_steady(60)
    result = run_diagnose(Profile(name="Chain", sources=(source,)))
    figures = json.loads(render_json(result))["metrics"]
    slow = "fleet instance=" + fleet.fastapi[2].split("//")[1]
    fast = "fleet instance=" + fleet.fastapi[0].split("//")[1]
    assert {"fleet", slow, fast} <= set(figures["latency_ms"])
    assert {"fleet", slow, fast} <= set(figures["traffic"])
    assert figures["latency_ms"][slow]["p50"] > 1.5 * figures["latency_ms"][fast]["p50"]
    assert figures["traffic"][slow]["error_ratio"] == pytest.approx(0.1, abs=0.02)
    assert slow in render_table(result)
