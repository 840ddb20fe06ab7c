"""Celery 5 on a real RabbitMQ: a backlog put with the workers stopped, then drained by a real
worker; Backroom's readings against ``rabbitmqctl list_queues`` of the same vhost."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from celery import Celery

from console import metrics
from console.domain import split_series
from console.profile import Profile, parse_profile
from services.collectors import build_collectors
from services.collectors.base import Collector
from services.diagnostics.diagnose import run_diagnose
from tests import servers
from tests.conformance.brokers import (
    Vhost,
    celery_env,
    celery_worker,
    rabbitmq_queues,
    rabbitmq_vhost,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BACKLOG = 88
TASK_S = 0.5
QUEUE = "orders"
PASSWORD_ENV = "BACKROOM_CONFORMANCE_CELERY_MQ_PASSWORD"


@pytest.fixture
def vhost(monkeypatch: pytest.MonkeyPatch) -> Iterator[Vhost]:
    servers.require_port("RabbitMQ", "127.0.0.1", pika.URLParameters(servers.AMQP_URL).port)
    with rabbitmq_vhost("celery") as made:
        monkeypatch.setenv(PASSWORD_ENV, made.password)
        yield made


def _profile(vhost: Vhost, url: str, user: str) -> Profile:
    return parse_profile(tomllib.loads(f"""
name = "conformance"
[[sources]]
name = "broker"
kind = "rabbitmq"
url = "{url}"
user = "{user}"
password = "env:{PASSWORD_ENV}"
vhost = "{vhost.name}"
queues = ["{QUEUE}"]
timeout_s = 5
"""))


def _figures(collector: Collector) -> dict[str, float]:
    report = collector.collect()
    return {split_series(r.series)[1]: r.value for r in report.readings
            if split_series(r.series)[2].get("queue") == QUEUE}


def _api_reading(collector: Collector, want: dict[str, float]) -> dict[str, float]:
    """The management API refreshes its figures every 5 s: read until they are ``want``,
    bounded."""
    deadline = time.monotonic() + 20
    while True:
        figures = _figures(collector)
        if all(figures.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
            return figures
        time.sleep(0.5)


def test_celery_backlog_and_drain_on_rabbitmq(vhost: Vhost, tmp_path: Path) -> None:
    producer = Celery("producer", broker=vhost.amqp_url())
    try:
        for _ in range(BACKLOG):
            producer.send_task("conformance.work", args=(TASK_S,), queue=QUEUE)
    finally:
        producer.close()
    truth = rabbitmq_queues(vhost.name)[QUEUE]
    assert truth == {"messages": BACKLOG, "ready": BACKLOG, "unacked": 0, "consumers": 0}

    # Workers stopped: the management API and AMQP alone both read the whole backlog.
    api_profile = _profile(vhost, "http://127.0.0.1:15672", vhost.monitor)
    amqp_profile = _profile(vhost, "amqp://127.0.0.1:5672", vhost.user)
    (api,) = build_collectors(api_profile)
    (amqp,) = build_collectors(amqp_profile)
    try:
        stopped = _api_reading(api, {metrics.QUEUE_DEPTH: BACKLOG, metrics.QUEUE_CONSUMERS: 0})
        assert (stopped[metrics.QUEUE_DEPTH], stopped[metrics.QUEUE_CONSUMERS]) == (BACKLOG, 0)
        by_amqp = _figures(amqp)
        assert (by_amqp[metrics.QUEUE_DEPTH], by_amqp[metrics.QUEUE_CONSUMERS]) == (BACKLOG, 0)
        result = run_diagnose(api_profile, samples=1)
        assert result.queue_depth == ((f"broker/{QUEUE}", BACKLOG),)
        assert [f.rule for f in result.findings] == ["queue-no-consumers"]

        # A real worker drains it; over AMQP the ready count of each reading lies between
        # rabbitmqctl's just before and just after it.
        seen: list[tuple[int, float, int]] = []
        with celery_worker(celery_env(vhost.amqp_url(), {}, QUEUE), QUEUE,
                           "drain@conformance", tmp_path / "worker.log", concurrency=2,
                           ready=lambda: rabbitmq_queues(vhost.name)[QUEUE]["consumers"] > 0):
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                before = rabbitmq_queues(vhost.name)[QUEUE]
                figures = _figures(amqp)
                after = rabbitmq_queues(vhost.name)[QUEUE]
                seen.append((before["ready"], figures[metrics.QUEUE_READY], after["ready"]))
                assert figures[metrics.QUEUE_CONSUMERS] == 1
                if before["messages"] == 0:
                    break
            drained = _api_reading(api, {metrics.QUEUE_DEPTH: 0, metrics.QUEUE_CONSUMERS: 1})
    finally:
        api.close()
        amqp.close()
    assert seen[-1] == (0, 0.0, 0), seen
    assert all(after <= ready <= before for before, ready, after in seen), seen
    assert len({ready for _, ready, _ in seen}) >= 3, seen
    assert (drained[metrics.QUEUE_DEPTH], drained[metrics.QUEUE_CONSUMERS]) == (0, 1)
