"""Celery 5 on a real Redis: a backlog put with the workers stopped, then drained by a real
worker; Backroom's queue depth against the LLEN of every list, and its worker count."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from console import metrics
from console.domain import split_series
from console.profile import Profile, parse_profile
from services.collectors import build_collectors
from services.collectors.base import Collector
from services.diagnostics.diagnose import run_diagnose
from services.errors import CollectorError
from tests.conformance.brokers import celery_env, celery_worker, list_lengths
from tests.integration.local_servers import redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BACKLOG = 88
TASK_S = 0.2
#: The setups a shop uses: kombu's defaults, the Celery docs' priority setup, a key prefix
#: (together with the docs' setup, as a shop sharing one Redis would have it).
SETUPS: dict[str, dict[str, Any]] = {
    "kombu-default": {},
    "docs-priority": {"sep": ":", "priority_steps": list(range(10)),
                      "queue_order_strategy": "priority"},
    "global-keyprefix": {"global_keyprefix": "bistro:", "sep": ":",
                         "priority_steps": list(range(10)), "queue_order_strategy": "priority"},
}


def _profile(url: str, queue: str, options: dict[str, Any], in_profile: bool) -> Profile:
    lines = ['name = "conformance"', "[[sources]]", 'name = "broker"', 'kind = "celery-redis"',
             f'url = "{url}"', f'queues = ["{queue}"]', "timeout_s = 3"]
    if in_profile:
        if "global_keyprefix" in options:
            lines.append(f'global_keyprefix = "{options["global_keyprefix"]}"')
        if "sep" in options:
            lines.append(f'sep = "{options["sep"]}"')
        if "priority_steps" in options:
            lines.append(f"priority_steps = {options['priority_steps']}")
    return parse_profile(tomllib.loads("\n".join(lines) + "\n"))


def _put_backlog(url: str, options: dict[str, Any], queue: str) -> None:
    """BACKLOG tasks at every priority 0..9, sent by a real Celery producer."""
    producer = Celery("producer", broker=url)
    producer.conf.broker_transport_options = options
    try:
        for n in range(BACKLOG):
            producer.send_task("conformance.work", args=(TASK_S,), queue=queue,
                               priority=n % 10)
    finally:
        producer.close()


def _reading(collector: Collector, metric: str) -> list[float]:
    report = collector.collect()
    return [r.value for r in report.readings if split_series(r.series)[1] == metric]


def _waiting(client: redis.Redis, queue: str, prefix: str) -> int:
    """The truth: LLEN of every list of the database that belongs to the queue."""
    return sum(n for key, n in list_lengths(client).items()
               if key.startswith(prefix + queue))


@pytest.mark.parametrize("in_profile", [True, False], ids=["options-in-profile", "detected"])
@pytest.mark.parametrize("setup", list(SETUPS))
def test_backlog_and_drain_are_counted_exactly(setup: str, in_profile: bool,
                                               tmp_path: Path) -> None:
    options = SETUPS[setup]
    prefix = options.get("global_keyprefix", "")
    queue = "orders"
    with redis_server(tmp_path) as server:
        url = server.rsplit("/", 1)[0] + "/3"
        client = redis.Redis.from_url(url, socket_timeout=5)
        _put_backlog(url, options, queue)
        lists = list_lengths(client)
        assert sum(lists.values()) == BACKLOG, lists
        profile = _profile(url, queue, options, in_profile)

        # Workers stopped: the whole backlog, and no worker answers.
        (collector,) = build_collectors(profile)
        try:
            assert _reading(collector, metrics.QUEUE_DEPTH) == [BACKLOG]
            assert _reading(collector, metrics.WORKERS) == [0.0]
        finally:
            collector.close()
        result = run_diagnose(profile, samples=1)
        assert result.queue_depth == ((f"broker/{queue}", BACKLOG),)
        assert [f.rule for f in result.findings] == ["queue-no-consumers"]

        # A real worker drains it: every reading lies between the truth just before and
        # just after it (nothing is added meanwhile), list by list down to 0.
        env = celery_env(url, options, queue)
        (collector,) = build_collectors(profile)
        seen: list[tuple[int, float, int]] = []
        workers: list[float] = []
        try:
            with celery_worker(env, queue, f"drain-{setup}@conformance",
                               tmp_path / "worker.log",
                               ready=lambda: _waiting(client, queue, prefix) < BACKLOG):
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    before = _waiting(client, queue, prefix)
                    report = collector.collect()
                    after = _waiting(client, queue, prefix)
                    values = {split_series(r.series)[1]: r.value for r in report.readings}
                    seen.append((before, values[metrics.QUEUE_DEPTH], after))
                    if metrics.WORKERS in values:
                        workers.append(values[metrics.WORKERS])
                    if before == 0:
                        break
                    time.sleep(0.2)
        finally:
            collector.close()
            client.close()
    assert seen[-1] == (0, 0.0, 0), seen
    assert all(after <= depth <= before for before, depth, after in seen), seen
    assert len({depth for _, depth, _ in seen}) >= 3, seen  # followed on the way down
    assert workers and set(workers) == {1.0}, workers


def test_a_broker_that_refuses_scan_is_read_from_the_profiles_options(tmp_path: Path) -> None:
    """A Redis user without SCAN (an ACL as managed services give): detection is off, the
    profile's options still count every list."""
    options = SETUPS["global-keyprefix"]
    with redis_server(tmp_path) as server:
        url = server.rsplit("/", 1)[0] + "/3"
        admin = redis.Redis.from_url(url, socket_timeout=5)
        admin.acl_setuser("monitor", enabled=True, passwords=["+monitor-pw"], keys=["*"],
                          channels=["*"], commands=["+@all", "-scan", "-keys"])
        _put_backlog(url, options, "orders")
        monitored = url.replace("redis://", "redis://monitor:monitor-pw@")
        (collector,) = build_collectors(_profile(monitored, "orders", options, True))
        try:
            assert _reading(collector, metrics.QUEUE_DEPTH) == [BACKLOG]
            assert sum(list_lengths(admin).values()) == BACKLOG
            # Without LLEN there is no figure, rather than 0 waiting.
            admin.acl_setuser("monitor", commands=["-llen"])
            with pytest.raises(CollectorError, match="llen"):
                collector.collect()
        finally:
            collector.close()
            admin.close()
