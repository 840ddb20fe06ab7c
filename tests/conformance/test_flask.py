"""Flask + prometheus-flask-exporter under gunicorn, reading from memcached: readings vs truth."""

from __future__ import annotations

import pytest
from pymemcache.client.base import Client

from console import metrics
from services.collectors.memcached import MemcachedCollector, memcached_client
from services.collectors.prometheus import PrometheusCollector
from services.http.client import new_session
from tests.conformance.compare import ReadClock, record, values
from tests.conformance.load import run_load


def _stats(address: str) -> tuple[int, int]:
    host, port = address.rsplit(":", 1)
    client = Client((host, int(port)), connect_timeout=2, timeout=2)
    try:
        stats = client.stats()
    finally:
        client.close()
    return int(stats[b"get_hits"]), int(stats[b"get_misses"])


def test_flask_page_and_memcached_match_the_truth(flask_shop: str,
                                                   shop_memcached: str) -> None:
    urls = [f"{flask_shop}/dish/{n % 3 if n < 150 else n}" for n in range(200)]
    urls += [f"{flask_shop}/fail"] * 40
    with new_session() as session:
        clock = ReadClock()
        page = PrometheusCollector("flask", flask_shop + "/metrics", session, timeout_s=5,
                                   monotonic=clock)
        cache = MemcachedCollector("menu-cache", memcached_client(shop_memcached, 5),
                                   address=shop_memcached, timeout_s=5)
        page.collect()
        cache.collect()
        before = _stats(shop_memcached)
        log = run_load(urls)
        after = _stats(shop_memcached)
        got = values(page.collect())
        cached = values(cache.collect())
        cache.close()
    sent = log.count()
    elapsed = clock.window_s
    record("prometheus-flask-exporter", "request rate (/s)", got.get(metrics.REQUEST_RATE),
           sent / elapsed, "load log")
    assert got[metrics.REQUEST_RATE] == pytest.approx(sent / elapsed, rel=0.05)
    record("prometheus-flask-exporter", "error ratio", got.get(metrics.ERROR_RATIO),
           log.errors() / sent, "load log")
    assert got[metrics.ERROR_RATIO] == pytest.approx(log.errors() / sent, rel=0.05)
    hits, misses = after[0] - before[0], after[1] - before[1]
    assert (hits, misses) == log.hits("/dish/")
    record("memcached", "cache hit rate", cached.get(metrics.CACHE_HIT_RATE),
           hits / (hits + misses), "memcached stats")
    assert cached[metrics.CACHE_HIT_RATE] == pytest.approx(hits / (hits + misses), rel=0.05)
