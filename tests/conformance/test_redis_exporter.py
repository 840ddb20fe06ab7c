"""redis_exporter in front of the machine's Redis, read from its page and through Prometheus:
the server-wide hit rate against Redis' own INFO around the reading, and a Redis it cannot
reach is no healthy source."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from console import metrics
from services.collectors._cache import REDIS_HIT_RATE_SCOPE
from services.collectors.prometheus import PrometheusCollector
from services.collectors.prometheus_server import PrometheusServerCollector
from services.errors import SourceUnreachable
from services.http.client import new_session
from tests import servers
from tests.conformance.compare import record, values
from tests.conformance.conftest import (
    EXPORTER_PREFIX,
    FAST_SCRAPE_S,
    Fleet,
    RedisExporter,
    app_process,
)
from tests.integration.local_servers import binary

HITS, MISSES = 300, 100


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


def keyspace(client: redis.Redis) -> tuple[int, int]:
    """Redis' own count of key lookups, for the whole server: (hits, misses)."""
    info = client.info("stats")
    return int(info["keyspace_hits"]), int(info["keyspace_misses"])


def shop_lookups(client: redis.Redis) -> None:
    """A known load: HITS lookups of keys that exist, MISSES of keys that do not."""
    names = [f"{EXPORTER_PREFIX}dish:{n}" for n in range(HITS)]
    client.mset(dict.fromkeys(names, "x"))  # a write: no lookup
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.get(name)
        for n in range(MISSES):
            pipe.get(f"{EXPORTER_PREFIX}absent:{n}")
        pipe.execute()


def ratio(hits: float, misses: float) -> float:
    return hits / (hits + misses)


def test_the_page_gives_the_servers_hit_rate(redis_exporter: RedisExporter,
                                             session: requests.Session) -> None:
    client = redis_exporter.client
    collector = PrometheusCollector("cache", redis_exporter.url, session, timeout_s=10)
    quiet_before = keyspace(client)
    collector.collect()
    collector.collect()
    # The exporter's own INFO, CONFIG, SLOWLOG ... look no key up.
    assert keyspace(client) == quiet_before
    before = keyspace(client)
    collector.collect()
    shop_lookups(client)
    report = collector.collect()
    after = keyspace(client)
    hits, misses = after[0] - before[0], after[1] - before[1]
    got = values(report)
    record("redis_exporter 1.45 (page)", "cache hit rate", got[metrics.CACHE_HIT_RATE],
           ratio(hits, misses), f"INFO keyspace around the reading ({hits} hits, "
           f"{misses} misses; load {HITS}/{MISSES})")
    assert hits >= HITS and misses >= MISSES
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(ratio(hits, misses), rel=0.05)
    assert got[metrics.CACHE_LOOKUPS] == pytest.approx(hits + misses, rel=0.05)
    assert got[metrics.UP] == 1.0
    # Labelled as the redis source labels it: the whole server's, not one database's.
    assert REDIS_HIT_RATE_SCOPE in report.facts
    assert "server-wide" in report.detail


def test_an_exporter_without_its_redis_is_no_healthy_source(conform_tmp: Path,
                                                            session: requests.Session) -> None:
    exe = binary("prometheus-redis-exporter", "/usr/bin/prometheus-redis-exporter")
    nowhere, port = servers.free_port(), servers.free_port()
    command = [exe, "-redis.addr", f"redis://127.0.0.1:{nowhere}",
               "-web.listen-address", f"127.0.0.1:{port}"]
    with app_process(command, port, "redis_exporter-alone", conform_tmp) as address:
        page = requests.get(f"http://{address}/metrics", timeout=10).text
        assert "\nredis_up 0\n" in page  # the exporter answers, and says Redis is down
        collector = PrometheusCollector("cache", f"http://{address}/metrics", session,
                                        timeout_s=10)
        with pytest.raises(SourceUnreachable, match="redis_up 0"):
            collector.collect()


def test_prometheus_gives_the_servers_hit_rate(fleet: Fleet, redis_exporter: RedisExporter,
                                               session: requests.Session) -> None:
    client = redis_exporter.client
    base = f"http://{redis_exporter.address}"
    first = fleet.next_scrape("redis", base, timeout_s=30)
    before = keyspace(client)
    shop_lookups(client)
    # The reading's window (at - 60 s, at] starts just before the scrape before the load,
    # and ends just before the scrape 60 s later: INFO is sampled at both ends.
    at = first + 59.0
    last = first
    while last + FAST_SCRAPE_S < at - 0.5:
        last = fleet.next_scrape("redis", base)
    after = keyspace(client)
    time.sleep(max(0.0, at + 1 - time.time()))
    collector = PrometheusServerCollector("cache", fleet.url, session, timeout_s=10,
                                          selector='job="redis"', clock=lambda: at)
    report = collector.collect()
    got = values(report)
    assert collector.window == "60s"
    hits, misses = after[0] - before[0], after[1] - before[1]
    record("redis_exporter 1.45 via Prometheus (5 s)", "cache hit rate",
           got[metrics.CACHE_HIT_RATE], ratio(hits, misses),
           f"INFO keyspace around the window ({hits} hits, {misses} misses)")
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(ratio(hits, misses), rel=0.05)
    # PromQL's own: the raw samples of the same window, last less first.
    scraped = {labels["__name__"]: points[-1][1] - points[0][1] for labels, points in
               fleet.samples('{__name__=~"redis_keyspace_(hits|misses)_total",job="redis"}'
                             '[60s]', at)}
    promql = ratio(scraped["redis_keyspace_hits_total"], scraped["redis_keyspace_misses_total"])
    record("redis_exporter 1.45 via Prometheus (5 s)", "cache hit rate",
           got[metrics.CACHE_HIT_RATE], promql, "PromQL: the window's samples, last less first")
    assert got[metrics.CACHE_HIT_RATE] == pytest.approx(promql, rel=0.05)
    assert REDIS_HIT_RATE_SCOPE in report.facts
    assert "server-wide" in report.detail
