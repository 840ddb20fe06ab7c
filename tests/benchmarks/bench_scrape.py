"""Scrape parsing: the fast line scan vs prometheus_client's full parse on a 10,000-sample page."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.collectors.prometheus import PrometheusPageReader
from tests.benchmarks.harness import Figure, median_time

TARGET_MS = 20.0


def django_page(samples: int = 10_000) -> str:
    """A django-prometheus-like page: a latency histogram per view and method (the part we
    want) among per-view counters and model gauges (the part we skip)."""
    registry = CollectorRegistry()
    latency = Histogram("django_http_requests_latency_seconds_by_view_method", "latency",
                        ["view", "method"], registry=registry)
    for view in range(40):
        for method in ("GET", "POST"):
            latency.labels(f"shop.views.view_{view}", method).observe(0.002 * view)
    responses = Counter("django_http_responses_total_by_status_view_method", "responses",
                        ["status", "view", "method"], registry=registry)
    hits = Counter("django_cache_get_hits", "hits", ["backend"], registry=registry)
    hits.labels("default").inc(50)
    rows = Gauge("django_model_rows", "rows", ["model"], registry=registry)
    view = 0
    while True:
        text = generate_latest(registry).decode()
        count = sum(1 for line in text.split("\n") if line and not line.startswith("#"))
        if count >= samples:
            return text
        for status in ("200", "302", "404", "500"):
            responses.labels(status, f"shop.views.other_{view}", "GET").inc()
        rows.labels(f"model_{view}").set(view)
        view += 1


def run(quick: bool = False) -> list[Figure]:
    page = django_page()
    samples = sum(1 for line in page.split("\n") if line and not line.startswith("#"))
    reader = PrometheusPageReader("web")
    repeat = 5 if quick else 15

    def fast() -> None:
        reader.readings(reader.scrape(page, 0.0), None, 0.0)

    def full() -> None:
        for family in text_string_to_metric_families(page):
            for _sample in family.samples:
                pass

    fast_ms = median_time(fast, repeat=repeat) * 1000
    full_ms = median_time(full, repeat=max(3, repeat // 3)) * 1000
    return [
        Figure("scrape", f"fast scan to readings, {samples:,}-sample page", fast_ms, "ms/page",
               baseline_name="prometheus_client full parse of the same page",
               baseline=full_ms, target=f"<= {TARGET_MS:g} ms", met=fast_ms <= TARGET_MS),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
