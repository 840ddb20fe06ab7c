"""Back ends failing under the real poller: killed mid-poll and restarted, a long outage, a
503 storm, a server that drips its headers, a collect that hangs, Redis and RabbitMQ
restarted, all without restarting the console (one Poller throughout)."""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from console.domain import SourceState
from console.store import MetricStore
from services.collectors.base import Collector
from services.errors import SourceTimeout
from services.http.client import new_session
from services.monitoring.poller import Poller
from tests import servers
from tests.reliability.support import (
    ChildBackend,
    answer_always,
    drip_headers,
    raw_server,
    wait_until,
)

pytestmark = pytest.mark.integration

#: Scheduler tick (0.1 s), thread wake-ups and a loaded CI machine: what "within" allows.
SLACK_S = 0.35


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


class Running:
    """A started poller that is always stopped (and its threads checked) afterwards."""

    def __init__(self) -> None:
        self.pollers: list[Poller] = []

    def start(self, collectors: list[Collector], **options: Any) -> Poller:
        poller = Poller(collectors, MetricStore(), **options)
        self.pollers.append(poller)
        poller.start()
        return poller


@pytest.fixture
def running() -> Iterator[Running]:
    made = Running()
    yield made
    for poller in made.pollers:
        assert poller.stop(timeout=10), "every poller thread stopped"


def state(poller: Poller, name: str) -> SourceState:
    return poller.status(name).state


def until_state(poller: Poller, names: list[str], wanted: SourceState, timeout_s: float
                ) -> float:
    """Seconds until every named source is in ``wanted``."""
    return wait_until(lambda: all(state(poller, n) is wanted for n in names), timeout_s)


def http_collectors(base: str, session: requests.Session, interval_s: float,
                    timeout_s: float) -> list[Collector]:
    from services.collectors.http_probe import HttpProbe
    from services.collectors.prometheus import PrometheusCollector

    return [HttpProbe("health", base + "/health", session, interval_s=interval_s,
                      timeout_s=timeout_s),
            PrometheusCollector("web", base + "/metrics", session, interval_s=interval_s,
                                timeout_s=timeout_s)]


def test_backend_killed_mid_poll_is_down_in_one_interval_and_up_two_after_restart(
        running: Running, session: requests.Session) -> None:
    interval, timeout = 1.0, 0.5
    backend = ChildBackend()
    backend.start()
    try:
        poller = running.start(http_collectors(backend.url, session, interval, timeout),
                               grace_s=0.5)
        until_state(poller, ["health", "web"], SourceState.UP, 10)
        # kill it just after the probe's next poll went out
        due = poller.status("health").next_due
        time.sleep(max(0.0, due - time.monotonic()) + 0.002)
        backend.kill()
        killed = time.monotonic()
        down = {name: killed + until_state(poller, [name], SourceState.DOWN, 10)
                for name in ("health", "web")}
        restarted_from = time.monotonic()
        backend.start()
        restarted = time.monotonic()
        up = until_state(poller, ["health", "web"], SourceState.UP, 10)
        errors = {name: poller.status(name).last_error for name in ("health", "web")}
        threads = poller.thread_count()
    finally:
        backend.stop()
    print(f"killed: down after {down['health'] - killed:.2f} s (probe) / "
          f"{down['web'] - killed:.2f} s (prometheus); restart took "
          f"{restarted - restarted_from:.2f} s; up {up:.2f} s after it; threads {threads}")
    for name in ("health", "web"):
        assert down[name] - killed <= interval + timeout + SLACK_S, name
    assert up <= 2 * interval + SLACK_S
    assert all(errors[n] == "" for n in errors), "a recovered source carries no old error"
    assert threads <= 2


def test_long_outage_recovers_at_the_next_scheduled_poll(running: Running,
                                                         session: requests.Session) -> None:
    """Failures back off (interval x 2^n, capped): after a long outage the source comes
    back at its next scheduled poll, and at once when asked (F5 / poll_now)."""
    interval = 0.25
    backend = ChildBackend()
    backend.start()
    try:
        poller = running.start(http_collectors(backend.url, session, interval, 0.5),
                               grace_s=0.5)
        until_state(poller, ["health", "web"], SourceState.UP, 10)
        backend.kill()
        wait_until(lambda: poller.status("web").failures >= 4, 15)
        backend.start()
        restarted = time.monotonic()
        due = {n: poller.status(n).next_due for n in ("health", "web")}
        assert state(poller, "health") is SourceState.DOWN
        poller.poll_now("health")
        on_demand = until_state(poller, ["health"], SourceState.UP, 5)
        lag = until_state(poller, ["web"], SourceState.UP, 30)
        assert time.monotonic() <= due["web"] + SLACK_S, "up at its next poll, not later"
    finally:
        backend.stop()
    print(f"after 4 failures at a {interval:g} s interval the next poll was "
          f"{due['web'] - restarted:.2f} s away: up {lag:.2f} s after the restart; "
          f"poll_now: up in {on_demand:.3f} s")
    assert on_demand <= SLACK_S


def test_503_storm_with_retry_after_is_not_hammered(running: Running,
                                                    session: requests.Session) -> None:
    """Every answer is 503 with Retry-After: 30. Neither collector polls faster than its
    interval; a failing scrape backs off; Retry-After itself is not read by the poller."""
    from services.collectors.http_probe import HttpProbe
    from services.collectors.prometheus import PrometheusCollector

    interval, window = 0.2, 4.0
    storm = answer_always(503, b"busy", {"Retry-After": "30"})
    with raw_server(storm) as probe_server, raw_server(storm) as page_server:
        poller = running.start(
            [HttpProbe("home", probe_server.url + "/", session, interval_s=interval,
                       timeout_s=1, expect_status=(200,)),
             PrometheusCollector("web", page_server.url + "/metrics", session,
                                 interval_s=interval, timeout_s=1)], grace_s=0.5)
        time.sleep(window)  # the storm lasts a fixed time; requests are counted over it
        probe_times, page_times = list(probe_server.requests), list(page_server.requests)
        home, web = poller.status("home"), poller.status("web")
        report = poller.last_report("home")
    gaps = [b - a for a, b in itertools.pairwise(probe_times)]
    print(f"503 storm over {window:g} s at a {interval:g} s interval: probe {len(probe_times)} "
          f"requests (min gap {min(gaps):.3f} s, state {home.state}), prometheus "
          f"{len(page_times)} requests (state {web.state}, failures {web.failures})")
    assert len(probe_times) <= window / interval + 2
    assert min(gaps) >= interval * 0.8, "never faster than the interval"
    assert report is not None and "HTTP 503" in report.detail
    assert report.status.value == "fail", "the probe shows the 503 as a failed check"
    assert web.state is SourceState.DOWN and "503" in web.last_error
    assert len(page_times) <= 6, "a failing scrape backs off: 0, 2, 4, 8... intervals"


def down_then_settled(running: Running, collector: Any, grace_s: float
                      ) -> tuple[float, str, int]:
    """Poll one source (2 workers) until it is down; then 1.5 s more. Returns seconds until
    down, its error, and the poller's threads at the end."""
    poller = running.start([collector], grace_s=grace_s, max_workers=2)
    started = time.monotonic()
    until_state(poller, [collector.name], SourceState.DOWN, 10)
    took = time.monotonic() - started
    error = poller.status(collector.name).last_error
    time.sleep(1.5)
    return took, error, poller.thread_count()


def test_dripping_headers_mark_the_source_down_at_its_timeout(running: Running,
                                                              session: requests.Session
                                                              ) -> None:
    """A server that never finishes its headers: the HTTP call is cut at its timeout (see
    test_http_faults), so the source is down after the timeout, says why, and no worker is
    left stuck (the poller's own watchdog is not needed)."""
    from services.collectors.http_probe import HttpProbe

    timeout, grace = 0.5, 0.5
    with raw_server(drip_headers(0.2)) as server:
        took, error, threads = down_then_settled(running, HttpProbe(
            "slowloris", server.url + "/", session, interval_s=0.5, timeout_s=timeout), grace)
        connections = server.connections
    print(f"dripping headers: down after {took:.2f} s, {threads} poller threads, "
          f"{connections} connection(s) opened")
    assert took <= 0.5 + timeout + SLACK_S
    assert "still sending" in error and "hangs" not in error
    assert threads <= 2, "no worker was stuck, so none was replaced"
    assert connections >= 2, "polled again (after backoff) once the cut call ended"


class HangingCollector:
    """A source whose ``collect()`` never returns by itself: a driver stuck in C code with
    no timeout of its own, the case the poller's watchdog exists for."""

    kind = "http"

    def __init__(self, name: str, interval_s: float, timeout_s: float) -> None:
        self.name, self.interval_s, self.timeout_s = name, interval_s, timeout_s
        self.release = threading.Event()
        self.calls = 0

    def collect(self) -> Any:
        self.calls += 1
        self.release.wait(30)
        raise SourceTimeout("released by the test")

    def close(self) -> None:
        self.release.set()


def test_a_collect_that_hangs_is_abandoned_by_the_watchdog(running: Running) -> None:
    """The poller marks a hanging source down at timeout + grace, replaces the stuck worker
    once and does not poll the source again while the stuck call is out."""
    timeout, grace = 0.5, 0.5
    hanging = HangingCollector("stuck driver", interval_s=0.5, timeout_s=timeout)
    try:
        took, error, threads = down_then_settled(running, hanging, grace)
        calls = hanging.calls
    finally:
        hanging.release.set()
    print(f"hanging collect: down after {took:.2f} s, {threads} poller threads, "
          f"{calls} call(s)")
    assert took <= 0.5 + timeout + grace + SLACK_S
    assert "hangs" in error
    assert threads <= 3, "the stuck worker was replaced once, not piled up"
    assert calls == 1, "not polled again while the stuck call is out"


# -- Redis restarted under the poller -------------------------------------------------------------

class RedisProcess:
    """A private redis-server on a fixed port that the test kills and starts again."""

    def __init__(self, directory: Path) -> None:
        from tests.integration.local_servers import binary

        self.exe = binary("redis-server", "/usr/bin/redis-server")
        self.port = servers.free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from tests.integration.local_servers import wait_port

        self.process = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.process, "redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def test_redis_restarted_under_the_poller(running: Running, tmp_path: Path) -> None:
    from services.collectors.celery_redis import CeleryRedisCollector
    from services.collectors.redis_source import RedisCollector, redis_client

    interval, timeout = 1.0, 0.5
    redis = RedisProcess(tmp_path)
    redis.start()
    try:
        poller = running.start(
            [RedisCollector("cache", redis_client(redis.url, timeout), url=redis.url,
                            interval_s=interval, timeout_s=timeout),
             CeleryRedisCollector("celery", redis_client(redis.url, timeout), ("celery",),
                                  url=redis.url, interval_s=interval, timeout_s=timeout)],
            grace_s=0.5)
        until_state(poller, ["cache", "celery"], SourceState.UP, 10)
        redis.kill()
        down = until_state(poller, ["cache", "celery"], SourceState.DOWN, 10)
        restarted_from = time.monotonic()
        redis.start()
        restart = time.monotonic() - restarted_from
        up = until_state(poller, ["cache", "celery"], SourceState.UP, 10)
        threads = poller.thread_count()
    finally:
        redis.kill()
    print(f"redis killed: down after {down:.2f} s; restart {restart:.2f} s; up {up:.2f} s "
          f"after; threads {threads}")
    assert down <= interval + timeout + SLACK_S
    assert up <= 2 * interval + SLACK_S
    assert threads <= 2


# -- RabbitMQ restarted under the poller (the shared broker: one slow test) -----------------------

def _rabbitmqctl(*args: str, timeout_s: float = 60) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, timeout=timeout_s,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _broker_answers(api: str) -> bool:
    try:
        return requests.get(api + "/api/overview", auth=("guest", "guest"),
                            timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_rabbitmq_restarted_under_the_poller(running: Running, session: requests.Session,
                                             amqp_url: str, rabbitmq_api: str) -> None:
    """``rabbitmqctl stop_app`` / ``start_app`` on the machine's broker: the management API
    collector (with its AMQP fallback) and an AMQP-only collector go down, then come back
    by themselves, through the same collectors (their connections rebuilt)."""
    import shutil

    import pika

    from services.collectors.rabbitmq import RabbitMQCollector, amqp_url_for

    if shutil.which("rabbitmqctl") is None:
        servers.missing("rabbitmqctl is not installed")
    queue = f"backroom-restart-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_declare(queue, durable=True)  # outlives the restart
    connection.close()
    interval, timeout = 1.0, 2.0
    amqp_port = pika.URLParameters(amqp_url).port
    fallback = amqp_url_for(rabbitmq_api, "guest", "guest", "/").replace(":5672",
                                                                        f":{amqp_port}")
    collectors: list[Collector] = [
        RabbitMQCollector("broker-api", api_url=rabbitmq_api, amqp_url=fallback,
                          session=session, queues=(queue,), user="guest", password="guest",
                          interval_s=interval, timeout_s=timeout),
        RabbitMQCollector("broker-amqp", api_url=None, amqp_url=amqp_url, queues=(queue,),
                          interval_s=interval, timeout_s=timeout)]
    names = ["broker-api", "broker-amqp"]
    stopped = False
    try:
        # backoff capped at 2 s so the recovery is seen soon after the broker is back
        poller = running.start(collectors, grace_s=1.0, max_backoff_s=2.0)
        until_state(poller, names, SourceState.UP, 20)
        stopping = time.monotonic()
        stopped = True
        _rabbitmqctl("stop_app")
        stop_took = time.monotonic() - stopping
        until_state(poller, names, SourceState.DOWN, 20)
        down = time.monotonic() - stopping
        starting = time.monotonic()
        _rabbitmqctl("start_app")
        stopped = False
        wait_until(lambda: _broker_answers(rabbitmq_api), 60, step_s=0.25)
        broker_back = time.monotonic() - starting
        up = until_state(poller, names, SourceState.UP, 30)
        threads = poller.thread_count()
    finally:
        if stopped:
            _rabbitmqctl("start_app")
            wait_until(lambda: _broker_answers(rabbitmq_api), 60, step_s=0.25)
        for collector in collectors:
            collector.close()
        cleanup = pika.BlockingConnection(pika.URLParameters(amqp_url))
        cleanup.channel().queue_delete(queue)
        cleanup.close()
    print(f"rabbitmq stop_app ({stop_took:.1f} s): both down {down:.2f} s after it began; "
          f"start_app until the API answers {broker_back:.1f} s; both up {up:.2f} s after; "
          f"threads {threads}")
    # + grace: a broker on its way down may leave a call hanging until the watchdog
    assert down <= stop_took + interval + timeout + 1.0 + SLACK_S
    assert up <= 2.0 + timeout + SLACK_S  # the capped backoff plus one call
    assert threads <= 2
