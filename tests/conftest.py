"""Shared fixtures: real local servers (or a clear skip), offscreen Qt."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests import servers


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
