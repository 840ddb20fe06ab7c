"""A chain's sites through one real Prometheus: each site's figures, checked against PromQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from console import metrics
from console.domain import series_name
from console.profile import Profile, Source
from console.report import render_json, render_table
from services.collectors.prometheus_server import PrometheusServerCollector
from services.diagnostics.diagnose import run_diagnose
from services.http.client import new_session
from tests.conformance.compare import record, values
from tests.support.chain import Chain, SiteLoad, running_chain

SEL = 'job="chain"'


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


def test_each_site_has_its_own_figures_and_promql_agrees(chain: Chain,
                                                         session: requests.Session) -> None:
    """The shared chain of 20: the slow site the slowest and the worst cache, the failing
    site the most errors, every figure as PromQL gives it at the same instant."""
    # read a moment in the past, so the truth below is asked of the very same samples
    collector = PrometheusServerCollector("chain", chain.url, session, timeout_s=10,
                                          selector=SEL, group_by=("site",),
                                          clock=lambda: time.time() - 2)
    report = collector.collect()
    got = values(report)
    at = report.readings[0].ts
    window = collector.window
    assert collector.scrape_interval_s == 1.0  # learnt from the targets
    truth = {
        metrics.LATENCY_P95: chain.by_site(
            "histogram_quantile(0.95, sum by (le, site) "
            f"(rate(http_request_duration_seconds_bucket{{{SEL}}}[{window}])))", at),
        # requests as the latency histogram counts them (the collector's choice where a
        # page has both): within a window of a young series, rate() extrapolates each
        # counter on its own, so http_requests_total's sum differs by a few per cent
        metrics.ERROR_RATIO: chain.by_site(
            f'sum by (site) (rate(http_requests_total{{{SEL}, status=~"5.."}}[{window}])) / '
            f"sum by (site) (rate(http_request_duration_seconds_count{{{SEL}}}[{window}]))",
            at),
        metrics.CACHE_HIT_RATE: chain.by_site(
            f"sum by (site) (rate(cache_hits_total{{{SEL}}}[{window}])) / "
            f"(sum by (site) (rate(cache_hits_total{{{SEL}}}[{window}])) + "
            f"sum by (site) (rate(cache_misses_total{{{SEL}}}[{window}])))", at),
    }
    worst_site = {metrics.LATENCY_P95: chain.slow, metrics.ERROR_RATIO: chain.failing,
                  metrics.CACHE_HIT_RATE: chain.slow}
    for metric, per_site in truth.items():
        assert set(per_site) == set(chain.sites)
        for site, expected in per_site.items():
            name = f'{metric}{{site="{site}"}}'
            record("prometheus server (chain of 20 sites)", f"{metric} of {site}", got[name],
                   expected, "PromQL by site, same instant")
            assert got[name] == pytest.approx(expected, rel=1e-6), name
        worst = (min if metric == metrics.CACHE_HIT_RATE else max)(
            chain.sites, key=lambda s, m=metric: got[f'{m}{{site="{s}"}}'])
        assert worst == worst_site[metric], metric
    # queue depth: each site's own queues, and the whole chain's per queue
    depths = chain.query(f"job_queue_depth{{{SEL}}}", at)
    assert len(depths) == 2 * len(chain.sites)
    for labels, depth in depths:
        name = f'{metrics.QUEUE_DEPTH}{{queue="{labels["queue"]}",site="{labels["site"]}"}}'
        assert got[name] == depth, name
    for queue in ("orders", "emails"):
        chain_total = sum(d for labels, d in depths if labels["queue"] == queue)
        assert got[f'{metrics.QUEUE_DEPTH}{{queue="{queue}"}}'] == chain_total
    # and the overall figures are the chain's, not one site's
    ((_, p95_all),) = chain.query(
        "histogram_quantile(0.95, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{SEL}}}[{window}])))", at)
    assert got[metrics.LATENCY_P95] == pytest.approx(p95_all, rel=1e-6)
    names = {r.series for r in report.readings}
    assert series_name("chain", metrics.LATENCY_P95, {"site": chain.slow}) in names


def test_a_site_that_turns_slow_becomes_the_worst(session: requests.Session,
                                                  tmp_path: Path) -> None:
    # a chain of its own: the shared one's slow site stays the slowest for the other tests
    sites = {"site-1": SiteLoad(), "site-2": SiteLoad(), "site-3": SiteLoad(slowdown=4.0),
             "site-4": SiteLoad(slowdown=1.5)}
    with running_chain(tmp_path, sites) as chain:
        chain.wait_scraped(samples=3)
        collector = PrometheusServerCollector("chain", chain.url, session, timeout_s=10,
                                              selector=SEL, group_by=("site",),
                                              scrape_interval_s=1.0)
        p95 = f'{metrics.LATENCY_P95}{{site="site-2"}}'
        before = values(collector.collect())[p95]
        chain.set_load("site-2", slowdown=10.0)
        deadline = time.monotonic() + 40
        while True:
            got = values(collector.collect())
            ranked = sorted(sites, key=lambda s: -got[f'{metrics.LATENCY_P95}{{site="{s}"}}'])
            if ranked[0] == "site-2" or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    assert ranked[0] == "site-2", got
    assert got[p95] > 3 * before


def test_pages_have_no_site_label_of_their_own(chain: Chain, tmp_path: Path) -> None:
    """The label comes from the Prometheus config (relabelling), not from the pages."""
    page = requests.get(f"{chain.pages}/metrics/site-01", timeout=5).text
    assert "http_request_duration_seconds_bucket" in page
    assert "site=" not in page


def test_diagnose_names_each_sites_figures_and_queues(chain: Chain) -> None:
    source = Source("chain", "prometheus-server", chain.url, timeout_s=10, selector=SEL,
                    group_by=("site",))
    result = run_diagnose(Profile(name="Chain", sources=(source,)))
    figures = json.loads(render_json(result))["metrics"]
    p95 = {where: row["p95"] for where, row in figures["latency_ms"].items()}
    assert {f"chain site={s}" for s in chain.sites} | {"chain"} == set(p95)
    assert max(p95, key=lambda where: p95[where]) == f"chain site={chain.slow}"
    queues = figures["queue_depth"]
    # each site's queue under its own name, and the chain's total of each queue
    assert {f"chain/orders site={s}" for s in chain.sites} | {"chain/orders"} <= set(queues)
    assert queues["chain/orders"] == sum(queues[f"chain/orders site={s}"] for s in chain.sites)
    assert f"chain/orders site={chain.slow}" in render_table(result)
