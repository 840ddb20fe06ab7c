"""The demo shop with the real Redis as its cache and the real RabbitMQ as its job queue."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from demo import DemoShop

pytestmark = pytest.mark.integration

TIMEOUT = 10


def sample(shop: DemoShop, name: str, **labels: str) -> float:
    text = requests.get(shop.metrics_url, timeout=TIMEOUT).text
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def wait_for(check: object, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return bool(check())  # type: ignore[operator]


def test_redis_cache_mode(tmp_path: Path, redis_url: str) -> None:
    import redis

    prefix = f"test-demo-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        with DemoShop(tmp_path / "r.sqlite3", traffic=False, seed_scale=0.05,
                      redis_url=redis_url, redis_prefix=prefix) as shop:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {shop.token}"
            assert s.get(shop.base_url + "/api/menu", timeout=TIMEOUT).json()["cached"] is False
            assert s.get(shop.base_url + "/api/menu", timeout=TIMEOUT).json()["cached"] is True
            day = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
            s.get(shop.base_url + "/api/availability", params={"date": day, "party_size": "2"},
                  timeout=TIMEOUT)
            found = {k.decode() for k in client.scan_iter(match=prefix + "*")}
            assert found == {prefix + "menu:all", prefix + f"availability:{day}"}
            ttl = client.pttl(prefix + "menu:all")
            assert 0 < ttl <= 30_000
            assert sample(shop, "cache_hits_total", cache="menu") == 1
            health = requests.get(shop.base_url + "/health", timeout=TIMEOUT).json()
            assert health["cache"]["backend"] == "redis" and health["cache"]["status"] == "ok"
            assert health["cache"]["entries"] == 2
            # A booking that day drops that day's entry from Redis.
            s.post(shop.base_url + "/api/bookings", timeout=TIMEOUT, json={
                "customer_name": "Redis Guest", "party_size": 2, "start_at": f"{day}T19:00:00Z"})
            assert client.exists(prefix + f"availability:{day}") == 0
            s.close()
        assert list(client.scan_iter(match=prefix + "*")) == []  # cleaned on stop
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def amqp_queue(amqp_url: str) -> Iterator[str]:
    import pika

    name = f"test.demo.jobs.{uuid.uuid4().hex[:8]}"
    yield name
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = 3
    conn = pika.BlockingConnection(params)
    try:
        conn.channel().queue_delete(queue=name)
    finally:
        conn.close()


def broker_ready(amqp_url: str, name: str) -> int:
    import pika

    params = pika.URLParameters(amqp_url)
    params.socket_timeout = 3
    conn = pika.BlockingConnection(params)
    try:
        ok = conn.channel().queue_declare(queue=name, passive=True)
        return int(ok.method.message_count)
    finally:
        conn.close()


def test_rabbitmq_queue_mode(tmp_path: Path, amqp_url: str, amqp_queue: str) -> None:
    before = set(threading.enumerate())
    with DemoShop(tmp_path / "q.sqlite3", traffic=False, seed_scale=0.05, workers=0,
                  amqp_url=amqp_url, amqp_queue=amqp_queue) as shop:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {shop.token}"
        start_at = (datetime.now(UTC).date() + timedelta(days=3)).isoformat() + "T20:00:00Z"
        for i in range(8):
            r = s.post(shop.base_url + "/api/bookings", timeout=TIMEOUT, json={
                "customer_name": f"AMQP {i}", "party_size": 2, "start_at": start_at})
            assert r.status_code == 201
        # The jobs really sit in RabbitMQ, and the shop's gauge says so.
        assert wait_for(lambda: broker_ready(amqp_url, amqp_queue) == 8)
        assert wait_for(lambda: sample(shop, "job_queue_depth", queue=amqp_queue) == 8)
        health = requests.get(shop.base_url + "/health", timeout=TIMEOUT).json()
        assert health["queue"]["backend"] == "amqp" and health["queue"]["name"] == amqp_queue
        assert health["queue"]["status"] == "stalled"

        shop.set_scenario(workers=2)
        assert wait_for(lambda: sample(shop, "jobs_processed_total", queue=amqp_queue) == 8)
        assert wait_for(lambda: sample(shop, "job_queue_depth", queue=amqp_queue) == 0)
        assert broker_ready(amqp_url, amqp_queue) == 0
        s.close()
    assert set(threading.enumerate()) - before == set()
