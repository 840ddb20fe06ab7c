"""One real Celery worker per broker (the machine's Redis and RabbitMQ) for a whole test session,
so tests that ask workers things share its start-up cost. Import the fixtures into a test module."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika
import pytest
import redis
from celery import Celery

from tests import servers
from tests.conformance.brokers import celery_env, celery_worker, rabbitmq_vhost

#: The machine Redis' database of the Celery-inside tests, and the key prefix kombu is given
#: there (every key under it deleted after).
REDIS_DB = 11
KEY_PREFIX = "inside-celery:"
QUEUE = "inside-orders"


@dataclass(frozen=True, slots=True)
class RunningWorker:
    """A worker consuming ``queue`` on ``broker`` with ``options`` as its transport options."""

    broker: str
    options: dict[str, Any]
    queue: str
    node: str
    log: Path

    def producer(self) -> Celery:
        app = Celery("inside-producer", broker=self.broker, set_as_current=False)
        app.conf.broker_transport_options = dict(self.options)
        return app


def _answers(broker: str, options: dict[str, Any], node: str) -> bool:
    app = Celery("inside-ready", broker=broker, set_as_current=False)
    app.conf.broker_transport_options = options
    try:
        return node in (app.control.inspect(timeout=0.5).ping() or {})
    finally:
        app.close()


def _start(tmp: Path, broker: str, options: dict[str, Any], node: str) -> Iterator[RunningWorker]:
    log = tmp / f"{node.split('@', maxsplit=1)[0]}.log"
    with celery_worker(celery_env(broker, options, QUEUE), QUEUE, node, log, concurrency=2,
                       ready=lambda: _answers(broker, options, node)):
        yield RunningWorker(broker, options, QUEUE, node, log)


@pytest.fixture(scope="session")
def redis_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWorker]:
    """A threads-pool worker (concurrency 2) on the machine's Redis, database REDIS_DB, every
    key under KEY_PREFIX."""
    servers.require_port("Redis", "127.0.0.1", 6379)
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        yield from _start(tmp_path_factory.mktemp("inside-redis"), url,
                          {"global_keyprefix": KEY_PREFIX}, "inside-redis@conformance")
    finally:
        keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="session")
def rabbitmq_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWorker]:
    """A threads-pool worker (concurrency 2) on the machine's RabbitMQ, in a vhost of its own
    (deleted after)."""
    servers.require_port("RabbitMQ", "127.0.0.1", pika.URLParameters(servers.AMQP_URL).port)
    with rabbitmq_vhost("inside") as vhost:
        yield from _start(tmp_path_factory.mktemp("inside-rabbitmq"), vhost.amqp_url(), {},
                          "inside-rabbitmq@conformance")


def wait_until(check: Any, timeout_s: float = 20.0, every_s: float = 0.2) -> Any:
    """Call ``check`` until it gives something true, bounded; its last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every_s)
