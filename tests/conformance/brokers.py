"""Real Celery workers on real brokers for the conformance tests: start, bounded, stopped after;
and the brokers' own truth (every list's LLEN, rabbitmqctl)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests.conformance import celery_app

ROOT = Path(__file__).resolve().parents[2]


def celery_env(broker: str, options: dict[str, Any], queue: str) -> dict[str, str]:
    return {celery_app.BROKER_ENV: broker, celery_app.OPTIONS_ENV: json.dumps(options),
            celery_app.QUEUE_ENV: queue}


@contextmanager
def celery_worker(env: dict[str, str], queue: str, node: str, log_path: Path, *,
                  concurrency: int = 4, ready: Callable[[], bool] | None = None,
                  start_timeout_s: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery worker`` (threads pool) on ``queue`` until the block ends, then a warm
    shutdown (TERM), killed if it takes more than 20 s. ``ready`` says when it works."""
    command = [sys.executable, "-m", "celery", "-A", "tests.conformance.celery_app", "worker",
               "--pool", "threads", "--concurrency", str(concurrency), "-Q", queue,
               "-n", node, "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    with log_path.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    try:
        deadline = time.monotonic() + start_timeout_s
        while ready is not None and not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n"
                                   f"{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def list_lengths(client: redis.Redis) -> dict[str, int]:
    """LLEN of every list in the client's database (found with SCAN, as the truth)."""
    lengths = {}
    for key in client.scan_iter(count=1000, _type="list"):
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        lengths[name] = int(client.llen(key))
    return lengths


def rabbitmqctl(*args: str, timeout_s: float = 60.0) -> str:
    """Run rabbitmqctl (quiet) and give its output; raises on failure."""
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def rabbitmq_queues(vhost: str) -> dict[str, dict[str, int]]:
    """``rabbitmqctl list_queues`` of a vhost: messages, ready, unacked, consumers by name."""
    out = rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", "name", "messages",
                      "messages_ready", "messages_unacknowledged", "consumers")
    queues = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 5:
            queues[fields[0]] = dict(zip(("messages", "ready", "unacked", "consumers"),
                                         map(int, fields[1:]), strict=True))
    return queues


@dataclass(frozen=True)
class Vhost:
    """A RabbitMQ vhost of the test with a plain user and a monitoring user (same password)."""

    name: str
    user: str
    monitor: str  # has the management API's "monitoring" tag
    password: str

    def amqp_url(self, user: str | None = None) -> str:
        return f"amqp://{user or self.user}:{self.password}@127.0.0.1:5672/{self.name}"


@contextmanager
def rabbitmq_vhost(what: str) -> Iterator[Vhost]:
    """A vhost and its users made with rabbitmqctl, deleted after."""
    tag = uuid.uuid4().hex[:8]
    made = Vhost(name=f"{what}-{tag}", user=f"{what}-worker-{tag}",
                 monitor=f"{what}-monitor-{tag}", password=f"pw-{tag}")
    rabbitmqctl("add_vhost", made.name)
    try:
        for user in (made.user, made.monitor):
            rabbitmqctl("add_user", user, made.password)
            rabbitmqctl("set_permissions", "-p", made.name, user, ".*", ".*", ".*")
        rabbitmqctl("set_user_tags", made.monitor, "monitoring")
        yield made
    finally:
        rabbitmqctl("delete_vhost", made.name)
        for user in (made.user, made.monitor):
            rabbitmqctl("delete_user", user, timeout_s=60.0)
