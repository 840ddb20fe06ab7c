"""RabbitMQ collector: the management API and the AMQP fallback see the messages we queued."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pika
import pytest
import requests

from console.domain import split_series
from services.collectors.rabbitmq import RabbitMQCollector, amqp_url_for
from services.errors import AuthFailed, BadResponse
from services.http.client import new_session
from tests import servers

pytestmark = pytest.mark.integration


def values(report: object) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in report.readings}  # type: ignore[attr-defined]


@pytest.fixture
def queue(amqp_url: str) -> Iterator[str]:
    """A fresh queue holding exactly 5 messages, deleted afterwards."""
    name = f"backroom-test-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_declare(name, auto_delete=False)
    for i in range(5):
        channel.basic_publish("", name, f"job {i}".encode())
    try:
        yield name
    finally:
        channel.queue_delete(name)
        connection.close()


def test_management_api_counts_the_queued_messages(queue: str, rabbitmq_api: str) -> None:
    with new_session() as session:
        collector = RabbitMQCollector("broker", api_url=rabbitmq_api, amqp_url=None,
                                      session=session, queues=(queue,), user="guest",
                                      password="guest", timeout_s=5)
        # The API refreshes its queue figures every few seconds, the message counts and the
        # consumer count from two tables at different times: wait for both, bounded.
        deadline = time.monotonic() + 20
        got: dict[str, float] = {}
        while time.monotonic() < deadline:
            got = values(collector.collect())
            if (got.get(f'queue_depth{{queue="{queue}"}}') == 5
                    and f'queue_consumers{{queue="{queue}"}}' in got):
                break
            time.sleep(0.5)
        assert got[f'queue_depth{{queue="{queue}"}}'] == 5
        assert got[f'queue_ready{{queue="{queue}"}}'] == 5
        assert got[f'queue_unacked{{queue="{queue}"}}'] == 0
        assert got[f'queue_consumers{{queue="{queue}"}}'] == 0
        assert collector.via == "api"


def test_unknown_queue_and_bad_credentials(rabbitmq_api: str) -> None:
    with new_session() as session:
        missing = RabbitMQCollector("broker", api_url=rabbitmq_api, amqp_url=None,
                                    session=session, queues=("no-such-queue-xyz",),
                                    user="guest", password="guest")
        with pytest.raises(BadResponse, match="no queue named 'no-such-queue-xyz'"):
            missing.collect()
        wrong = RabbitMQCollector("broker", api_url=rabbitmq_api, amqp_url=None,
                                  session=session, queues=("x",), user="guest",
                                  password="not-the-password")
        with pytest.raises(AuthFailed):
            wrong.collect()


def test_amqp_fallback_when_the_api_is_absent(queue: str, amqp_url: str) -> None:
    closed_api = f"http://127.0.0.1:{servers.free_port()}"
    amqp = amqp_url_for(closed_api, "guest", "guest", "/").replace(
        f":{5672}", f":{pika.URLParameters(amqp_url).port}")
    with new_session() as session:
        collector = RabbitMQCollector("broker", api_url=closed_api, amqp_url=amqp,
                                      session=session, queues=(queue,), timeout_s=3)
        report = collector.collect()
        collector.close()
    got = values(report)
    assert got[f'queue_depth{{queue="{queue}"}}'] == 5
    assert got[f'queue_consumers{{queue="{queue}"}}'] == 0
    assert collector.via == "amqp"
    assert "read by AMQP passive declare" in report.detail


def test_amqp_only_unknown_queue(amqp_url: str) -> None:
    collector = RabbitMQCollector("broker", api_url=None, amqp_url=amqp_url,
                                  queues=("no-such-queue-xyz",), timeout_s=3)
    with pytest.raises(BadResponse, match="no queue named"):
        collector.collect()
    collector.close()


def test_amqp_url_for_api() -> None:
    assert amqp_url_for("https://mq.internal:15671", "mon", "p@ss", "/") == \
        "amqps://mon:p%40ss@mq.internal:5671/%2F"


@pytest.fixture
def look_alike_queues(amqp_url: str) -> Iterator[dict[str, int]]:
    """Two queues whose names look like a label list, ``...orders",x="1`` and ``..."2``,
    holding 3 and 7 messages; deleted afterwards."""
    prefix = f"backroom-test-{uuid.uuid4().hex[:8]}-orders"
    counts = {f'{prefix}",x="1': 3, f'{prefix}",x="2': 7}
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    try:
        for name, count in counts.items():
            channel.queue_declare(name, auto_delete=False)
            for i in range(count):
                channel.basic_publish("", name, f"job {i}".encode())
        yield counts
    finally:
        for name in counts:
            channel.queue_delete(name)
        connection.close()


def depths(report: object) -> dict[str, dict[str, float]]:
    """Queue depth by series name, and its labels."""
    return {r.series: split_series(r.series)[2] | {"depth": r.value}  # type: ignore[dict-item]
            for r in report.readings  # type: ignore[attr-defined]
            if split_series(r.series)[1] == "queue_depth"}


@pytest.mark.parametrize("via", ["api", "amqp"])
def test_queue_names_cannot_forge_labels(look_alike_queues: dict[str, int], via: str,
                                         amqp_url: str, rabbitmq_api: str) -> None:
    """Two queues named ``orders",x="1`` and ``orders",x="2`` stay two series, each with its
    own depth and only the ``queue`` label."""
    names = tuple(look_alike_queues)
    with new_session() as session:
        collector = RabbitMQCollector(
            "broker", api_url=rabbitmq_api if via == "api" else None,
            amqp_url=amqp_url if via == "amqp" else None, session=session, queues=names,
            user="guest", password="guest", timeout_s=5)
        deadline = time.monotonic() + 20  # the API refreshes its figures every few seconds
        while True:
            found = depths(collector.collect())
            seen = {labels["queue"]: labels["depth"] for labels in found.values()}
            if seen == look_alike_queues or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        collector.close()
    assert len(found) == 2
    assert seen == look_alike_queues
    assert all(set(labels) == {"queue", "depth"} for labels in found.values())


@pytest.fixture
def crowded_vhost(amqp_url: str, rabbitmq_api: str) -> Iterator[str]:
    """A vhost of its own with 400 queues, the last 40 (``q-360`` to ``q-399``) holding
    0 to 39 messages; deleted afterwards."""
    vhost = f"backroom-test-{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    api = f"{rabbitmq_api}/api"
    requests.put(f"{api}/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    try:
        requests.put(f"{api}/permissions/{vhost}/guest", auth=auth, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        params = pika.URLParameters(amqp_url)
        params.virtual_host = vhost
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        for i in range(400):
            channel.queue_declare(f"q-{i:03d}")
            for _ in range(max(0, i - 360)):
                channel.basic_publish("", f"q-{i:03d}", b"job")
        connection.close()
        yield vhost
    finally:
        requests.delete(f"{api}/vhosts/{vhost}", auth=auth, timeout=30)


def test_a_crowded_vhost_is_read_as_its_deepest_queues_asked_page_wise(
        crowded_vhost: str, rabbitmq_api: str) -> None:
    """Without named queues the 50 deepest are read, and the server sorts and cuts them: the
    answer stays small however many queues the vhost holds (its whole list would be 100+ MB
    for 100,000 queues, past what the collector reads)."""
    sizes: list[int] = []
    with new_session() as session:
        session.headers["Accept-Encoding"] = "identity"  # Content-Length: the JSON's own size
        session.hooks["response"].append(
            lambda r, *_a, **_k: sizes.append(int(r.headers.get("Content-Length", 10**9))))
        collector = RabbitMQCollector("broker", api_url=rabbitmq_api, amqp_url=None,
                                      session=session, vhost=crowded_vhost, user="guest",
                                      password="guest", timeout_s=10)
        deadline = time.monotonic() + 20  # the API refreshes its figures every few seconds
        while True:
            depth = {split_series(r.series)[2]["queue"]: r.value
                     for r in collector.collect().readings
                     if split_series(r.series)[1] == "queue_depth"}
            if sum(depth.values()) == sum(range(40)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert len(depth) == 50
    assert {q for q, v in depth.items() if v > 0} == {f"q-{i:03d}" for i in range(361, 400)}
    print(f"answers: {sorted(set(sizes))} bytes")
    # 50 queues with only the fields read (columns=): about 12 KB; every field: about 25 KB
    assert max(sizes) < 16_000, f"asked for more than the page ({max(sizes):,} bytes)"
