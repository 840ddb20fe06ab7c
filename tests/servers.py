"""Helpers for integration tests: find a real local server or skip (fail under CI=true)."""

from __future__ import annotations

import os
import socket

import pytest

UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

POSTGRES_URL = os.environ.get(
    "BACKROOM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "BACKROOM_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql"
)
REDIS_URL = os.environ.get("BACKROOM_TEST_REDIS", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("BACKROOM_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")
RABBITMQ_API = os.environ.get("BACKROOM_TEST_RABBITMQ_API", "http://127.0.0.1:15672")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing(reason: str) -> None:
    """Skip the test with a clear reason, or fail it under CI where every server must be up."""
    if UNDER_CI:
        pytest.fail(f"required server missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_port(what: str, host: str, port: int) -> None:
    """Skip (or fail under CI) unless a server listens at host:port."""
    if not port_open(host, port):
        missing(f"{what} is not listening on {host}:{port}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
