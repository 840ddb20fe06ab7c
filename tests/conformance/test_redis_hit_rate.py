"""Redis hit rate on a real Redis that is both a cache and a Celery broker: the console's own
queue lookups are left out, and the figure says it is the server's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import redis

from console import metrics
from console.domain import split_series
from console.profile import parse_profile
from services.collectors import build_collectors
from tests.integration.local_servers import redis_server

pytestmark = pytest.mark.integration

HITS, MISSES = 75, 25


def _keyspace(client: redis.Redis) -> tuple[int, int]:
    info = client.info("stats")
    return int(info["keyspace_hits"]), int(info["keyspace_misses"])


def test_own_queue_lookups_are_left_out_of_the_server_wide_hit_rate(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        base = url.rsplit("/", 1)[0]
        profile = parse_profile(tomllib.loads(f"""
name = "conformance"
[[sources]]
name = "cache"
kind = "redis"
url = "{base}/7"
[[sources]]
name = "broker"
kind = "celery-redis"
url = "{base}/0"
queues = ["celery", "emails"]
"""))
        cache_db = redis.Redis.from_url(f"{base}/1", socket_timeout=5)
        cache, broker = build_collectors(profile)
        try:
            cache_db.mset({f"menu:{n}": "x" for n in range(HITS)})
            truth_before = _keyspace(cache_db)
            cache.collect()
            for n in range(HITS):  # the shop's own lookups: 75 % hits
                cache_db.get(f"menu:{n}")
            for n in range(MISSES):
                cache_db.get(f"absent:{n}")
            for _ in range(3):  # the console's queue readings, on empty queues
                broker.collect()
            report = cache.collect()
            truth_after = _keyspace(cache_db)
        finally:
            cache.close()
            broker.close()
            cache_db.close()
    figures = {split_series(r.series)[1]: r.value for r in report.readings}
    server_hits = truth_after[0] - truth_before[0]
    server_misses = truth_after[1] - truth_before[1]
    # INFO around the reading counts the console's LLENs as misses ...
    assert server_hits == HITS and server_misses > MISSES
    # ... the reading leaves them out: exactly the shop's 75 %.
    assert figures[metrics.CACHE_HIT_RATE] == pytest.approx(HITS / (HITS + MISSES), abs=1e-9)
    assert figures[metrics.CACHE_LOOKUPS] == HITS + MISSES
    # A redis://.../7 URL does not make it a figure of database 7 (the lookups were in db 1).
    assert "server-wide" in report.detail
    assert ("hit rate scope", "server-wide (every database of this Redis)") in report.facts
