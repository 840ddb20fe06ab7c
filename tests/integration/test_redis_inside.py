"""Redis, inside, against real servers: SLOWLOG, CLIENT LIST, memory by key pattern from a bounded
SCAN sample, the keyspace, and evictions and expiries as readings of the Redis source."""

from __future__ import annotations

import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from console import metrics
from console.profile import parse_profile
from services.collectors.redis_source import RedisCollector, redis_client
from services.diagnostics.redis_inside import (
    COMMAND_CHARS,
    key_pattern,
    read_profile_redis,
    read_redis_inside,
)
from tests import servers
from tests.integration.local_servers import redis_server

pytestmark = pytest.mark.integration

#: The machine Redis' database of these tests (its keys under PREFIX deleted after).
MACHINE_DB = 14
PREFIX = "inside-test:"


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def _commandstats(client: redis.Redis) -> dict[str, object]:
    return client.info("commandstats")


def test_slowlog_shows_the_command_as_text_cut_with_its_client(private_redis: str) -> None:
    admin = redis.Redis.from_url(private_redis, socket_timeout=5)
    admin.config_set("slowlog-log-slower-than", "0")  # a private server: log everything
    app = redis.Redis.from_url(private_redis.rsplit("/", 1)[0] + "/2", socket_timeout=5)
    app.client_setname("bistro-web")
    app.set("menu:today", "x" * 1000)
    app.hset("menu:week", mapping={"soup": "s" * 1000, "bread": "b" * 1000})
    app.set(b"raw:\xff\xfe", b"two words")
    inside = read_redis_inside("cache", private_redis, timeout_s=3)
    by_text = {entry.command: entry for entry in inside.slowlog}
    # Redis cuts an argument at 128 bytes and says so; the console shows that as text
    set_long = by_text["SET menu:today " + "x" * 128 + "… (872 more bytes)"]
    # and cuts the whole command at COMMAND_CHARS
    hset = next(e for t, e in by_text.items() if t.startswith("HSET menu:week soup sss"))
    assert len(hset.command) == COMMAND_CHARS and hset.command.endswith("…")
    assert set_long.client_name == "bistro-web"
    assert set_long.client_addr.startswith("127.0.0.1:")
    assert set_long.duration_us >= 0 and abs(set_long.started - time.time()) < 60
    # undecodable bytes escaped, an argument with a space quoted
    assert 'SET raw:\\xff\\xfe "two words"' in by_text
    assert inside.slower_than_us == 0
    assert inside.slowlog_len is not None and inside.slowlog_len >= len(inside.slowlog)
    app.close()
    admin.close()


def test_client_list_names_who_is_connected_and_marks_the_console(private_redis: str) -> None:
    app = redis.Redis.from_url(private_redis.rsplit("/", 1)[0] + "/3", socket_timeout=5)
    app.client_setname("celery-worker-1")
    app.get("anything")
    time.sleep(1.1)
    inside = read_redis_inside("cache", private_redis, timeout_s=3)
    worker = next(c for c in inside.clients if c.name == "celery-worker-1")
    assert (worker.db, worker.cmd, worker.ours) == (3, "get", False)
    assert worker.idle_s >= 1 and worker.age_s >= 1
    assert [c.cmd for c in inside.clients if c.ours] == ["client|list"]
    app.close()


def test_memory_by_pattern_is_a_bounded_scan_sample_scaled_to_the_database(
        private_redis: str) -> None:
    url = private_redis.rsplit("/", 1)[0] + "/4"
    app = redis.Redis.from_url(url, socket_timeout=5)
    pipe = app.pipeline(transaction=False)
    for _ in range(300):
        pipe.set(f"session:{uuid.uuid4()}", "s" * 2000)
    for n in range(150):
        pipe.set(f"user:{n}", "u")
    for n in range(50):
        pipe.rpush(f"cart:{n}:items", "a", "b")
    pipe.execute()
    before = _commandstats(app)

    inside = read_redis_inside("cache", url, timeout_s=3, max_keys=200)
    sample = inside.memory
    assert sample is not None
    assert (sample.db, sample.keys_in_db, sample.sampled) == (4, 500, 200)
    assert sample.fraction == pytest.approx(0.4)
    assert not sample.complete
    assert sample.scan_calls <= 2  # SCAN ... COUNT 500: one or two calls for 200 keys
    by_pattern = {p.pattern: p for p in sample.patterns}
    assert set(by_pattern) <= {"session:*", "user:*", "cart:*:items"}
    # the estimates add up to the database: each group's share of the sample, scaled
    assert sum(p.estimated_keys for p in sample.patterns) == pytest.approx(500)
    assert sample.patterns[0].pattern == "session:*"  # the biggest by bytes
    assert by_pattern["session:*"].sampled_bytes > 2000 * by_pattern["session:*"].sampled_keys
    after = _commandstats(app)
    assert "cmdstat_keys" not in after  # never KEYS
    assert after["cmdstat_scan"]["calls"] - before.get(  # type: ignore[index]
        "cmdstat_scan", {"calls": 0})["calls"] == sample.scan_calls  # type: ignore[index]
    assert after["cmdstat_memory|usage"]["calls"] == 200  # type: ignore[index]

    keyspace = {d.db: d for d in inside.keyspace}
    assert keyspace[4].keys == 500 and keyspace[4].expires == 0
    app.close()


def test_parts_the_server_refuses_are_named_and_the_rest_stands(private_redis: str) -> None:
    admin = redis.Redis.from_url(private_redis, socket_timeout=5)
    admin.acl_setuser("support", enabled=True, passwords=["+support-pw"], keys=["*"],
                      commands=["+@all", "-slowlog", "-config", "-client"])
    admin.set("menu:1", "soup")
    url = private_redis.replace("redis://", "redis://support:support-pw@")
    inside = read_redis_inside("cache", url, timeout_s=3)
    refused = " ".join(inside.problems)
    assert "SLOWLOG" in refused and "CONFIG" in refused and "CLIENT LIST" in refused
    assert "support-pw" not in refused and "support-pw" not in inside.where
    assert inside.memory is not None and inside.memory.sampled == 1
    assert inside.keyspace[0].keys == 1
    admin.close()


def test_evictions_and_expiries_are_readings_of_the_redis_source(private_redis: str) -> None:
    admin = redis.Redis.from_url(private_redis, socket_timeout=5)
    admin.config_set("maxmemory", str(3 * 1024 * 1024))
    admin.config_set("maxmemory-policy", "allkeys-lru")
    ticks = iter([100.0, 110.0])
    collector = RedisCollector("cache", redis_client(private_redis, 3.0), url=private_redis,
                               timeout_s=3.0, monotonic=lambda: next(ticks))
    first = {r.series.split("/", 1)[1]: r.value for r in collector.collect().readings}
    assert metrics.EXPIRIES_RATE not in first  # no interval yet
    for n in range(30):
        admin.set(f"short:{n}", "x", px=1)
    time.sleep(0.05)
    for n in range(30):
        assert admin.get(f"short:{n}") is None  # expired on this read
    for n in range(400):
        admin.set(f"big:{n}", "b" * 20_000)
    evicted = int(admin.info("stats")["evicted_keys"])
    assert evicted > 0
    second = {r.series.split("/", 1)[1]: r.value for r in collector.collect().readings}
    assert second[metrics.EXPIRIES_RATE] == pytest.approx(30 / 10)
    assert second[metrics.EVICTIONS_RATE] == pytest.approx(evicted / 10)
    assert metrics.EXPIRIES_RATE in metrics.STANDARD_METRICS
    collector.close()
    admin.close()


@pytest.fixture
def machine_redis() -> Iterator[redis.Redis]:
    """The machine's Redis, database MACHINE_DB; the keys under PREFIX deleted after."""
    servers.require_port("Redis", "127.0.0.1", 6379)
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{MACHINE_DB}", socket_timeout=5)
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=PREFIX + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_every_redis_source_of_the_profile_on_the_machine_redis(
        machine_redis: redis.Redis) -> None:
    for n in range(40):
        machine_redis.set(f"{PREFIX}order:{n}", "o" * 100, ex=600)
    port = servers.free_port()
    profile = parse_profile(tomllib.loads(f"""
name = "inside"
[[sources]]
name = "cache"
kind = "redis"
url = "redis://127.0.0.1:6379/{MACHINE_DB}"
timeout_s = 3
[[sources]]
name = "gone"
kind = "celery-redis"
url = "redis://127.0.0.1:{port}/0"
timeout_s = 1
"""))
    found = read_profile_redis(profile)
    (cache,) = found.sources
    assert cache.db == MACHINE_DB and cache.memory is not None
    ours = next(p for p in cache.memory.patterns if p.pattern == key_pattern(f"{PREFIX}order:7"))
    assert ours.pattern == "inside-test:order:*"
    assert ours.sampled_keys == 40 or not cache.memory.complete
    db = next(d for d in cache.keyspace if d.db == MACHINE_DB)
    assert db.keys >= 40 and db.expires >= 40
    (problem,) = found.problems
    assert problem.startswith("gone: cannot connect to Redis")
