"""Celery, inside, against real workers on the machine's Redis and RabbitMQ: workers from a
broadcast ping, their active and reserved tasks, task rates from events (and the advice when
events are off), a queue's depth and its purge."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from services.collectors.celery_redis import KOMBU_SEP
from services.diagnostics.celery_inside import (
    IDLE_ADVICE,
    Broker,
    CeleryInside,
    EventWindow,
    purge_queue,
    queue_depth,
    read_workers,
    watch_events,
)
from tests import servers
from tests.conformance.brokers import list_lengths, rabbitmq_queues
from tests.conformance.celery_workers import (  # noqa: F401 - fixtures
    KEY_PREFIX,
    RunningWorker,
    rabbitmq_worker,
    redis_worker,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TASK = "conformance.work"


@pytest.fixture(params=["redis", "rabbitmq"])
def worker(request: pytest.FixtureRequest) -> RunningWorker:
    """Each test once per broker (each broker's worker started once for the session)."""
    found: RunningWorker = request.getfixturevalue(f"{request.param}_worker")
    return found


def _broker(running: RunningWorker, queues: tuple[str, ...] = ()) -> Broker:
    redis = running.broker.startswith("redis")
    options = dict(running.options)
    return Broker("broker", "redis" if redis else "amqp", running.broker,
                  {**options, "socket_timeout": 3, "socket_connect_timeout": 3} if redis
                  else {}, queues or (running.queue,), 3.0,
                  key_prefix=str(options.get("global_keyprefix", "")))


def _drained(running: RunningWorker) -> None:
    """Wait until the shared worker holds no task (the next test starts from idle)."""
    broker = _broker(running)
    wait_until(lambda: not read_workers(broker).tasks, timeout_s=30)


def test_workers_answer_with_their_active_and_reserved_tasks(worker: RunningWorker) -> None:
    producer = worker.producer()
    try:
        for n in range(6):
            producer.send_task(TASK, args=(3 + n / 100,), queue=worker.queue)
    finally:
        producer.close()
    broker = _broker(worker, ("declared-only",))
    # concurrency 2, prefetch 4 per process: two run, four wait in the worker

    def holds_six() -> CeleryInside | None:
        read = read_workers(broker)
        return read if len(read.tasks) == 6 else None

    seen = wait_until(holds_six, timeout_s=15, every_s=0.1)
    assert seen, "the worker did not hold all six tasks"
    (found,) = seen.workers
    assert found.name == worker.node
    assert (found.active, found.reserved) == (2, 4)
    assert (found.pool, found.concurrency) == ("TaskPool", 2)
    assert found.queues == (worker.queue,)
    # the profile's queue first, then those learned from the workers
    assert seen.queues == ("declared-only", worker.queue)
    assert {t.name for t in seen.tasks} == {TASK}
    active = [t for t in seen.tasks if t.state == "active"]
    assert all(t.started is not None and abs(t.started - time.time()) < 30 for t in active)
    assert {t.args for t in seen.tasks} == {f"{3 + n / 100!r}" for n in range(6)}
    assert seen.waited_s < 8  # one ping's wait, then four calls ending on the last reply
    assert seen.problems == ()
    _drained(worker)


def test_task_rates_come_from_events_and_off_events_are_explained(
        worker: RunningWorker) -> None:
    broker = _broker(worker)
    producer = worker.producer()

    def watch_while_sending(seconds: float) -> tuple[EventWindow, float]:
        def send() -> None:
            for _ in range(12):
                producer.send_task(TASK, args=(0.05,), queue=worker.queue)

        timer = threading.Timer(1.0, send)
        timer.start()
        started = time.monotonic()
        window = watch_events(broker, seconds, workers=[worker.node])
        took = time.monotonic() - started
        timer.join()
        return window, took

    try:
        idle = watch_events(broker, 1.0, workers=[worker.node])
        assert (idle.rates, idle.processed, idle.advice) == ((), 0, IDLE_ADVICE)

        off, _took = watch_while_sending(4.0)  # the conformance workers start without -E
        assert off.processed == 12 and off.rates == ()
        assert off.silent_workers == (worker.node,)
        assert "celery -A <your app> control enable_events" in off.advice
        assert worker.node in off.advice

        producer.control.enable_events(destination=[worker.node])  # what the advice says
        window, took = watch_while_sending(5.0)
    finally:
        producer.control.disable_events(destination=[worker.node])
        producer.close()
    assert 5.0 <= took < 9.0  # the window (5 s) and two stats calls answered at once
    assert window.processed == 12 and window.silent_workers == ()
    assert window.heard_from == (worker.node,) and window.advice == ""
    (rate,) = window.rates
    assert (rate.name, rate.received, rate.succeeded, rate.failed) == (TASK, 12, 12, 0)
    assert rate.done_per_minute == pytest.approx(12 * 60 / window.window_s)
    assert rate.mean_runtime_s is not None and 0.04 < rate.mean_runtime_s < 1.0


def test_purge_deletes_exactly_the_depth_it_named(worker: RunningWorker) -> None:
    queue = "inside-purge"  # no worker consumes it
    broker = _broker(worker, (queue,))
    producer = worker.producer()
    try:
        if not worker.broker.startswith("redis"):
            with producer.connection_for_write() as connection:  # a queue that exists
                connection.default_channel.queue_declare(queue=queue, durable=True,
                                                         auto_delete=False)
        for n in range(25):
            producer.send_task(TASK, args=(0,), queue=queue, priority=n % 10)
    finally:
        producer.close()
    if not worker.broker.startswith("redis"):
        # publishing is asynchronous: the truth first has all 25 (rabbitmqctl)
        vhost = unquote(urlsplit(worker.broker).path[1:])
        assert wait_until(lambda: rabbitmq_queues(vhost).get(queue, {}).get("messages") == 25)
    depth = queue_depth(broker, queue)
    assert depth.depth == 25
    if worker.broker.startswith("redis"):
        import redis

        client = redis.Redis.from_url(worker.broker, socket_timeout=5)
        truth = {k: n for k, n in list_lengths(client).items()
                 if k.startswith(KEY_PREFIX + queue)}
        assert sum(truth.values()) == 25 and len(truth) > 1  # priority lists, all counted
        assert set(depth.lists) == set(truth)
        assert all(key.split(queue)[1] in ("", *(f"{KOMBU_SEP}{s}" for s in (3, 6, 9)))
                   for key in truth)
    assert purge_queue(broker, queue) == 25
    assert queue_depth(broker, queue).depth == 0
    if worker.broker.startswith("redis"):
        assert not [k for k in list_lengths(client) if k.startswith(KEY_PREFIX + queue)]
        client.close()


def test_an_unreachable_broker_is_a_bounded_error(tmp_path: Path) -> None:
    port = servers.free_port()
    broker = Broker("gone", "redis", f"redis://127.0.0.1:{port}/0",
                    {"socket_timeout": 1, "socket_connect_timeout": 1, "max_retries": 0},
                    ("celery",), 1.0)
    started = time.monotonic()
    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        read_workers(broker)
    with pytest.raises(Exception, match=r"(?i)connect"):
        queue_depth(broker, "celery")
    assert time.monotonic() - started < 10
