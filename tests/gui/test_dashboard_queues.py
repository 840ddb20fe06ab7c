"""The queue chart of a real RabbitMQ with more queues than a chart draws: the deepest ones."""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from console.domain import split_series
from console.profile import parse_profile
from console.store import MetricStore
from services.collectors import build_collectors
from services.monitoring.poller import Poller
from tests import servers
from tests.conformance.brokers import rabbitmq_queues
from tests.gui.test_dashboard import Services, settled
from tests.support.shots import save_shot
from ui.pages.dashboard.routing import MAX_SHOWN_PER_PANEL

pytestmark = [pytest.mark.gui, pytest.mark.integration]

#: Twelve queues, the deepest last by name: drawn by name, the chart would show the shallowest.
QUEUES = 12


@pytest.fixture
def broker_queues() -> Iterator[tuple[list[str], Any]]:
    """Twelve queues on the machine's RabbitMQ, queue i holding 2 i messages; the names and
    a channel to publish more, the queues deleted afterwards."""
    servers.require_port("RabbitMQ (AMQP)", "127.0.0.1", 5672)
    servers.require_port("RabbitMQ management API", "127.0.0.1", 15672)
    tag = uuid.uuid4().hex[:6]
    names = [f"br-deep-{tag}-{i:02d}" for i in range(QUEUES)]
    connection = pika.BlockingConnection(pika.URLParameters(servers.AMQP_URL))
    channel = connection.channel()
    try:
        for i, name in enumerate(names):
            channel.queue_declare(name, auto_delete=False)
            for n in range(2 * i):
                channel.basic_publish("", name, f"job {n}".encode())
        yield names, channel
    finally:
        for name in names:
            channel.queue_delete(name)
        connection.close()


def _drawn(page: Any) -> list[str]:
    panel = page.timeline.panel("queue")
    return sorted(split_series(n)[2]["queue"] for n, c in panel.curves.items()
                  if c.style.visible)


def _deepest(names: list[str]) -> list[str]:
    """The deepest of ``names`` as rabbitmqctl counts them (the truth the chart is held to)."""
    depth = {n: q["messages"] for n, q in rabbitmq_queues("/").items() if n in names}
    return sorted(sorted(names, key=lambda n: -depth[n])[:MAX_SHOWN_PER_PANEL])


def test_the_queue_chart_draws_the_deepest_queues_and_follows_a_queue_that_grows(
        make_page: Any, qtbot: Any, broker_queues: tuple[list[str], Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    names, channel = broker_queues
    monkeypatch.setenv("BR_TEST_MQ_PASSWORD", "guest")
    quoted = ", ".join(f'"{n}"' for n in names)
    profile = parse_profile(tomllib.loads(f"""
name = "broker"
[[sources]]
name = "mq"
kind = "rabbitmq"
url = "{servers.RABBITMQ_API}"
user = "guest"
password = "env:BR_TEST_MQ_PASSWORD"
queues = [{quoted}]
interval_s = 1
timeout_s = 5
"""))
    store = MetricStore()
    poller = Poller(build_collectors(profile), store)
    poller.start()
    try:
        page = make_page(Services(profile, store, poller))
        panel = page.timeline.panel("queue")
        settled(qtbot, page, lambda: len(panel.curves) == QUEUES, timeout=30_000)
        truth = _deepest(names)
        assert truth == names[QUEUES - MAX_SHOWN_PER_PANEL:]
        settled(qtbot, page, lambda: _drawn(page) == truth, timeout=15_000)
        assert panel.control_text() == (f"deepest {MAX_SHOWN_PER_PANEL} of {QUEUES} queues"
                                        " · show all")
        save_shot(page, "dashboard-deepest-queues.png")
        # The first queue by name fills up: it takes the line of the shallowest one drawn.
        for n in range(40):
            channel.basic_publish("", names[0], f"late {n}".encode())
        grown = _deepest(names)
        assert names[0] in grown and names[QUEUES - MAX_SHOWN_PER_PANEL] not in grown
        settled(qtbot, page, lambda: _drawn(page) == grown, timeout=30_000)
        # "show all", and back
        panel.sig_control_clicked.emit()
        settled(qtbot, page, lambda: len(_drawn(page)) == QUEUES)
        assert panel.control_text().startswith(f"all {QUEUES} queues")
        panel.sig_control_clicked.emit()
        settled(qtbot, page, lambda: _drawn(page) == grown)
    finally:
        poller.stop()
