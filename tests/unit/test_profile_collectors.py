"""build_collectors: one collector per probe and source, broken ones report why."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.profile import SecretRef, parse_profile
from services.collectors import UnusableCollector, build_collectors
from services.collectors.base import Collector
from services.errors import AuthFailed, CollectorError
from services.local.secrets import SecretError

PROFILE = {
    "name": "Bistro",
    "probes": [{"name": "home", "url": "http://127.0.0.1:9/", "timeout_s": 9}],
    "sources": [
        {"name": "web", "kind": "prometheus", "url": "http://127.0.0.1:9/metrics"},
        {"name": "cache", "kind": "redis", "url": "redis://127.0.0.1:9/0",
         "password": "keyring:backroom/cache"},
        {"name": "sessions", "kind": "memcached", "address": "127.0.0.1:9"},
        {"name": "mq", "kind": "rabbitmq", "url": "http://127.0.0.1:9", "queues": ["q"]},
        {"name": "jobs", "kind": "celery-redis", "url": "redis://127.0.0.1:9/1"},
        {"name": "fleet", "kind": "prometheus-server", "url": "http://127.0.0.1:9"},
    ],
    "database": {"url": "sqlite:////nonexistent/shop.sqlite3"},
}


def missing_keychain(ref: SecretRef) -> str:
    raise SecretError(f"no secret named {ref.name!r} in the OS keychain")


def test_every_probe_and_source_gets_a_collector() -> None:
    collectors = build_collectors(parse_profile(PROFILE), resolve=lambda ref: "pw",
                                  timeout_cap_s=2.0)
    try:
        assert [(c.name, c.kind) for c in collectors] == [
            ("home", "http"), ("web", "prometheus"), ("cache", "redis"),
            ("sessions", "memcached"), ("mq", "rabbitmq"), ("jobs", "celery-redis"),
            ("fleet", "prometheus-server"), ("database", "database")]
        assert all(isinstance(c, Collector) for c in collectors)
        assert not any(isinstance(c, UnusableCollector) for c in collectors)
        assert collectors[0].timeout_s == 2.0  # capped
    finally:
        for collector in collectors:
            collector.close()


def test_missing_secret_gives_a_collector_that_says_why() -> None:
    collectors = build_collectors(parse_profile(PROFILE), resolve=missing_keychain)
    try:
        cache = next(c for c in collectors if c.name == "cache")
        assert isinstance(cache, UnusableCollector)
        with pytest.raises(AuthFailed, match="no secret named 'backroom/cache'"):
            cache.collect()
        assert not isinstance(next(c for c in collectors if c.name == "web"),
                              UnusableCollector)
    finally:
        for collector in collectors:
            collector.close()


def test_a_database_source_is_built_on_its_first_collect(tmp_path: Path) -> None:
    """Its client (SQLAlchemy) is made on the poller's thread, not before the window paints;
    a URL no driver takes then says so on every collect."""
    import sqlite3

    shop = tmp_path / "shop.sqlite3"
    sqlite3.connect(shop).close()
    profile = parse_profile({"name": "Corner Bakery", "sources": [
        {"name": "db", "kind": "database", "url": f"sqlite:///{shop}"},
        {"name": "odd", "kind": "database", "url": "postgresql+nosuchdriver://monitor@127.0.0.1/shop"}]})
    collectors = build_collectors(profile)
    try:
        db, odd = collectors
        assert (db.name, db.kind) == ("db", "database") and isinstance(db, Collector)
        report = db.collect()
        assert any(r.series == "db/up" and r.value == 1.0 for r in report.readings)
        with pytest.raises(CollectorError, match="cannot be set up"):
            odd.collect()
        with pytest.raises(CollectorError, match="cannot be set up"):
            odd.collect()  # the same reason, every time
    finally:
        for collector in collectors:
            collector.close()
