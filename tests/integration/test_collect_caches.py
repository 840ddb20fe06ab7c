"""Cache collectors against real servers: hit rates from the hits and misses the test made."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from pymemcache.client.base import Client

from console import metrics
from services.collectors.celery_redis import CeleryRedisCollector, queue_keys
from services.collectors.memcached import MemcachedCollector, memcached_client, parse_address
from services.collectors.redis_source import RedisCollector, redis_client
from services.errors import AuthFailed, SourceUnreachable
from tests import servers
from tests.integration.local_servers import memcached, redis_server

pytestmark = pytest.mark.integration


def values(report: object) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in report.readings}  # type: ignore[attr-defined]


def test_redis_hit_rate_from_known_hits_and_misses(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        app = redis.Redis.from_url(url, socket_timeout=2)
        app.set("menu", "soup")
        for _ in range(6):
            app.get("menu")
        for _ in range(2):
            app.get("missing")
        collector = RedisCollector("cache", redis_client(url, 2.0), url=url, timeout_s=2.0)
        first = values(collector.collect())
        # since the server started: context, never judged
        assert first[metrics.CACHE_HIT_RATE_SINCE_START] == pytest.approx(6 / 8)
        assert metrics.CACHE_HIT_RATE not in first
        assert first[metrics.CLIENTS] >= 2
        assert first[metrics.MEMORY_BYTES] > 0
        for _ in range(3):
            app.get("menu")
        for _ in range(9):
            app.get("nothing")
        second = values(collector.collect())
        assert second[metrics.CACHE_HIT_RATE] == pytest.approx(3 / 12)  # since the last poll
        assert second[metrics.CACHE_HITS_RATE] > 0
        assert second[metrics.EVICTIONS_RATE] == 0
        collector.close()
        app.close()


def test_redis_wrong_password_and_refused(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        admin = redis.Redis.from_url(url, socket_timeout=2)
        admin.config_set("requirepass", "right-pass")
        bad = RedisCollector("cache", redis_client(url, 2.0, "wrong-pass"), url=url)
        with pytest.raises(AuthFailed, match="refused our password"):
            bad.collect()
        good = RedisCollector("cache", redis_client(url, 2.0, "right-pass"), url=url)
        assert values(good.collect())[metrics.UP] == 1
        for client in (bad, good):
            client.close()
        admin.close()
    port = servers.free_port()
    gone = f"redis://127.0.0.1:{port}/0"
    with pytest.raises(SourceUnreachable, match="cannot connect to Redis"):
        RedisCollector("cache", redis_client(gone, 1.0), url=gone).collect()


def test_celery_queue_depth_includes_priority_lists(redis_url: str) -> None:
    queue = f"backroom-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    keys = queue_keys(queue)
    assert keys[1] == f"{queue}\x06\x163"
    try:
        client.lpush(keys[0], *[b"job"] * 4)  # priority 0
        client.lpush(keys[1], *[b"job"] * 2)  # priority 3
        client.lpush(keys[3], b"job")  # priority 9
        other = f"{queue}-other"
        collector = CeleryRedisCollector("jobs", redis_client(redis_url, 2.0), (queue, other),
                                         url=redis_url)
        got = values(collector.collect())
        assert got[f'queue_depth{{queue="{queue}"}}'] == 7
        assert got[f'queue_depth{{queue="{other}"}}'] == 0
        collector.close()
    finally:
        client.delete(*keys)
        client.close()


def test_memcached_hit_rate_from_known_gets() -> None:
    with memcached() as address:
        app = Client(parse_address(address), connect_timeout=2, timeout=2)
        app.set("menu", b"soup")
        for _ in range(4):
            app.get("menu")
        app.get("gone")
        collector = MemcachedCollector("sessions", memcached_client(address, 2.0),
                                       address=address)
        first = values(collector.collect())
        assert first[metrics.CACHE_HIT_RATE_SINCE_START] == pytest.approx(4 / 5)
        assert metrics.CACHE_HIT_RATE not in first
        assert first[metrics.MEMORY_BYTES] > 0
        for _ in range(3):
            app.get("gone")
        app.get("menu")
        second = values(collector.collect())
        assert second[metrics.CACHE_HIT_RATE] == pytest.approx(1 / 4)
        assert second[metrics.EVICTIONS_RATE] == 0
        collector.close()
        app.close()


def test_memcached_refused() -> None:
    address = f"127.0.0.1:{servers.free_port()}"
    with pytest.raises(SourceUnreachable, match="cannot connect to memcached"):
        MemcachedCollector("m", memcached_client(address, 1.0), address=address).collect()
