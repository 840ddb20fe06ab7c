"""Shared fixtures: real local servers (or a clear skip), offscreen Qt, tests/support's."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import settings

from tests import servers

# The fixtures every kind of test may ask for, by name: ``demo_shop``, ``memory_keyring``,
# ``no_keychain``, ``chain`` (20 sites behind a real Prometheus).
pytest_plugins = ["tests.support.demo_shop", "tests.support.keychain", "tests.support.chain"]

# Property tests explore new examples on every local run; under CI they replay a fixed set,
# so a run does not go red on an example nobody has looked at. What they find locally is
# kept as a plain test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture
def postgres_url() -> str:
    servers.require_port("PostgreSQL", "127.0.0.1", 5432)
    return servers.POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    servers.require_port("Redis", "127.0.0.1", 6379)
    return servers.REDIS_URL


@pytest.fixture
def amqp_url() -> str:
    servers.require_port("RabbitMQ (AMQP)", "127.0.0.1", 5672)
    return servers.AMQP_URL


@pytest.fixture
def rabbitmq_api() -> str:
    servers.require_port("RabbitMQ management API", "127.0.0.1", 15672)
    return servers.RABBITMQ_API


def pytest_unconfigure(config: pytest.Config) -> None:
    """A thread that a test left running must fail the run, not hang it: the interpreter
    waits for every non-daemon thread before it exits, and CI would only see a timeout."""
    import faulthandler
    import sys
    import threading
    import time

    deadline = time.monotonic() + 10.0
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    left = [t for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if left:
        sys.stderr.write("\ntests left these threads running, so the run cannot exit: "
                         + ", ".join(t.name for t in left) + "\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(1)
