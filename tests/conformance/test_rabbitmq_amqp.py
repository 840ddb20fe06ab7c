"""RabbitMQ read over amqp:// with the profile's vhost and user, on a real broker: depth is
ready + unacked as ``rabbitmqctl list_queues`` counts it, and pika's lines stay in our log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest

from console import metrics
from console.domain import CollectorReport, split_series
from console.profile import Profile, parse_profile
from services.collectors import build_collectors
from tests import servers
from tests.conformance.brokers import ROOT, Vhost, rabbitmq_queues, rabbitmq_vhost

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUBLISHED, PREFETCH = 7, 3
PASSWORD_ENV = "BACKROOM_CONFORMANCE_MQ_PASSWORD"


@pytest.fixture(scope="module")
def broker() -> Iterator[Vhost]:
    servers.require_port("RabbitMQ", "127.0.0.1", pika.URLParameters(servers.AMQP_URL).port)
    with rabbitmq_vhost("bistro") as made:
        yield made


@pytest.fixture
def held_queue(broker: Vhost) -> Iterator[str]:
    """A queue of the vhost with PUBLISHED messages, PREFETCH of them held unacknowledged by
    a consumer."""
    name = f"orders-{uuid.uuid4().hex[:6]}"
    params = pika.URLParameters(broker.amqp_url())
    connection = pika.BlockingConnection(params)
    try:
        channel = connection.channel()
        channel.queue_declare(name)
        for n in range(PUBLISHED):
            channel.basic_publish("", name, f"order {n}".encode())
        channel.basic_qos(prefetch_count=PREFETCH)
        held: list[int] = []
        channel.basic_consume(name, lambda ch, method, props, body:
                              held.append(method.delivery_tag))
        deadline = time.monotonic() + 10
        while len(held) < PREFETCH and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.1)
        assert len(held) == PREFETCH
        yield name
    finally:
        connection.close()


def _profile(broker: Vhost, user: str, queue: str) -> Profile:
    return parse_profile(tomllib.loads(f"""
name = "conformance"
[[sources]]
name = "mq"
kind = "rabbitmq"
url = "amqp://127.0.0.1:5672"
user = "{user}"
password = "env:{PASSWORD_ENV}"
vhost = "{broker.name}"
queues = ["{queue}"]
timeout_s = 5
"""))


def _figures(report: CollectorReport) -> dict[str, float]:
    return {split_series(r.series)[1]: r.value for r in report.readings
            if split_series(r.series)[2].get("queue")}


def test_amqp_source_reads_the_profiles_vhost_and_counts_unacked(
        broker: Vhost, held_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, broker.password)
    truth = rabbitmq_queues(broker.name)[held_queue]
    assert truth == {"messages": PUBLISHED, "ready": PUBLISHED - PREFETCH,
                     "unacked": PREFETCH, "consumers": 1}
    (collector,) = build_collectors(_profile(broker, broker.monitor, held_queue))
    try:
        # The management API refreshes its queue figures every 5 s (a sample from before the
        # consumer took its messages reads 7 ready): wait for a fresh one, bounded.
        want = {metrics.QUEUE_DEPTH: truth["messages"], metrics.QUEUE_READY: truth["ready"],
                metrics.QUEUE_UNACKED: truth["unacked"],
                metrics.QUEUE_CONSUMERS: truth["consumers"]}
        deadline = time.monotonic() + 20
        while True:
            figures = _figures(collector.collect())
            if all(figures.get(k) == v for k, v in want.items()) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        collector.close()
    assert figures[metrics.QUEUE_DEPTH] == truth["messages"]
    assert figures[metrics.QUEUE_READY] == truth["ready"]
    assert figures[metrics.QUEUE_UNACKED] == truth["unacked"]
    assert figures[metrics.QUEUE_CONSUMERS] == truth["consumers"]


def test_without_the_management_api_depth_is_never_ready_alone(
        broker: Vhost, held_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user the management API refuses (no monitoring tag) is read by passive declare: ready
    and consumers as rabbitmqctl says, and no depth, which AMQP cannot give while a consumer
    holds messages."""
    monkeypatch.setenv(PASSWORD_ENV, broker.password)
    truth = rabbitmq_queues(broker.name)[held_queue]
    (collector,) = build_collectors(_profile(broker, broker.user, held_queue))
    try:
        report = collector.collect()
    finally:
        collector.close()
    figures = _figures(report)
    assert figures[metrics.QUEUE_READY] == truth["ready"] == PUBLISHED - PREFETCH
    assert figures[metrics.QUEUE_CONSUMERS] == truth["consumers"] == 1
    assert metrics.QUEUE_DEPTH not in figures
    assert "unacked unknown over AMQP" in report.detail


def test_pika_lines_stay_in_our_log(broker: Vhost, tmp_path: Path) -> None:
    """``backroom diagnose`` with a refused password: the terminal shows the source's error,
    pika's own account of it ("Connection workflow failed ...") is in the log file only."""
    profile = tmp_path / "shop.toml"
    profile.write_text(f"""
name = "conformance"
[[sources]]
name = "mq"
kind = "rabbitmq"
url = "amqp://127.0.0.1:5672"
user = "{broker.user}"
password = "env:{PASSWORD_ENV}"
vhost = "{broker.name}"
queues = ["orders"]
timeout_s = 5
""")
    env = {**os.environ, PASSWORD_ENV: "not-the-password", "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "diagnose", "--json",
                           "--profile", str(profile)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "refused our credentials" in json.loads(done.stdout)["checks"][0]["detail"]
    assert done.stderr == ""
    (log,) = (tmp_path / "state").rglob("backroom.log")
    assert " pika." in log.read_text()
