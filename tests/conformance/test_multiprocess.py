"""gunicorn with two workers and no multiprocess mode: counters that take turns are named."""

from __future__ import annotations

from console.domain import CollectorReport, Status
from services.collectors.prometheus import PrometheusCollector
from services.http.client import new_session
from tests.conformance.load import run_load


def scrape_often(base: str, scrapes: int, until_warned: bool = False) -> list[CollectorReport]:
    # Uneven shares: whichever worker answers /metrics shows only its own count.
    run_load([f"{base}/dish/{n}" for n in range(30)], workers=3)
    with new_session() as session:
        # Scrapes 10 s apart outlive gunicorn's 2 s keep-alive: each is a new connection.
        session.headers["Connection"] = "close"
        collector = PrometheusCollector("flask", base + "/metrics", session, timeout_s=5)
        reports = []
        for _ in range(scrapes):
            reports.append(collector.collect())
            if until_warned and "several processes" in reports[-1].detail:
                break
        return reports


def test_counters_going_down_on_alternate_scrapes_warn_with_the_fix(
        flask_shop_two_workers: str) -> None:
    # Which worker answers is up to the kernel: scrape until it has shown (at most 200).
    reports = scrape_often(flask_shop_two_workers, 200, until_warned=True)
    warned = [r for r in reports if r.status is Status.WARN and "several processes" in r.detail]
    assert warned, "two workers took turns answering, but no scrape said so"
    assert "multiprocess mode" in warned[0].detail


def test_one_process_does_not_warn(flask_shop: str) -> None:
    assert all(r.status is Status.OK for r in scrape_often(flask_shop, 24))
