"""Pieces of the demo shop on their own: cache, cursors, search escaping, switches, seeding."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from demo.cache import MISSING, MemoryStore, ReadThroughCache
from demo.db import Database
from demo.metrics import ShopMetrics
from demo.scenario import EventLog, validate_scenario
from demo.seed import SeedSizes, seed_or_top_up
from demo.traffic import _MEAN, rush_factor


def test_memory_store_expires_and_evicts_least_recent() -> None:
    store = MemoryStore(max_entries=2)
    store.set("a", 1, ttl=60)
    store.set("b", 2, ttl=60)
    assert store.get("a") == 1  # a is now the most recent
    store.set("c", 3, ttl=60)
    assert store.get("b") is MISSING and store.entries() == 2
    store.set("short", 4, ttl=0.05)
    time.sleep(0.08)
    assert store.get("short") is MISSING


def test_read_through_counts_hits_and_misses() -> None:
    metrics = ShopMetrics()
    enabled = [True]
    cache = ReadThroughCache(MemoryStore(), metrics, lambda: enabled[0])
    calls = []

    def compute() -> list[int]:
        calls.append(1)
        return [1, 2]

    assert cache.get_or_compute("menu", "all", 30, compute) == ([1, 2], False)
    assert cache.get_or_compute("menu", "all", 30, compute) == ([1, 2], True)
    cache.invalidate("menu", "all")
    assert cache.get_or_compute("menu", "all", 30, compute)[1] is False
    enabled[0] = False
    assert cache.get_or_compute("menu", "all", 30, compute)[1] is False
    reg = metrics.registry
    assert reg.get_sample_value("cache_hits_total", {"cache": "menu"}) == 1
    assert reg.get_sample_value("cache_misses_total", {"cache": "menu"}) == 3
    assert len(calls) == 3


def test_each_shop_has_its_own_registry() -> None:
    a, b = ShopMetrics(), ShopMetrics()
    a.bookings_created.inc()
    assert a.registry.get_sample_value("shop_bookings_created_total") == 1
    assert b.registry.get_sample_value("shop_bookings_created_total") == 0


@pytest.mark.parametrize(("body", "changes", "errors"), [
    ({"cache": False, "workers": 0}, {"cache": False, "workers": 0}, set()),
    ({"slow_endpoint": "", "slow_ms": 5}, {"slow_endpoint": None, "slow_ms": 5}, set()),
    ({"traffic_rate": 2}, {"traffic_rate": 2.0}, set()),
    ({"workers": 1.5}, {}, {"workers"}),
    ({"booking_time_index": 1}, {}, {"booking_time_index"}),
    ({"nope": 1, "cache": True}, {"cache": True}, {"nope"}),
])
def test_validate_scenario(body: dict, changes: dict, errors: set) -> None:
    got_changes, got_errors = validate_scenario(body)
    assert got_changes == changes and set(got_errors) == errors


def test_event_log_since_and_bound() -> None:
    log = EventLog()
    for i in range(600):
        log.add(f"e{i}")
    items = log.since()
    assert len(items) == 500 and items[-1]["what"] == "e599"
    assert log.since(items[-1]["ts"]) == []


def test_rush_profile_has_lunch_and_dinner_peaks() -> None:
    assert rush_factor(19.75) > rush_factor(12.75) > 3 * rush_factor(16.0)
    assert rush_factor(4.0) < 0.2
    assert 0.5 < _MEAN < 1.5


def test_a_steady_day_keeps_the_rate_set_while_the_compressed_day_brings_lunch(
        monkeypatch) -> None:
    import demo.traffic as traffic

    clock = [1000.0]
    monkeypatch.setattr(traffic.time, "monotonic", lambda: clock[0])
    day = traffic.TrafficGenerator("http://x", "t", lambda: 5.0)
    steady = traffic.TrafficGenerator("http://x", "t", lambda: 5.0, rush=False)
    morning = day.current_rate()
    clock[0] += 69.0  # 12:45 of the compressed day: the lunch rush
    assert day.current_rate() > 4 * morning
    assert steady.current_rate() == 5.0


def test_search_escapes_like_wildcards(tmp_path: Path) -> None:
    from sqlalchemy import select

    from demo.db import customers
    from demo.web import contains

    db = Database(tmp_path / "s.sqlite3")
    db.create_schema()
    names = ["100% sure", "1000 sure", "a_b", "axb", "back\\slash", "Zoë"]
    with db.write() as conn:
        conn.execute(customers.insert(), [{"name": n} for n in names])
    with db.read() as conn:
        def find(q: str) -> list[str]:
            return list(conn.execute(select(customers.c.name)
                                     .where(contains(customers.c.name, q))).scalars())
        assert find("0%") == ["100% sure"]
        assert find("a_b") == ["a_b"]
        assert find("k\\s") == ["back\\slash"]
        assert find("ZOË") == ["Zoë"]
    db.dispose()


def test_cursor_round_trip_and_rejection() -> None:
    from demo.web import ApiError, SortKey, decode_cursor, encode_cursor

    spec = SortKey(None, False, "datetime")
    at = datetime(2026, 11, 25, 19, 30)
    cursor = encode_cursor("start_at", at, 42)
    assert decode_cursor(cursor, "start_at", spec) == (at, 42)
    for bad, sort in ((cursor, "-start_at"), ("!!", "start_at"), ("e30", "start_at")):
        with pytest.raises(ApiError) as info:
            decode_cursor(bad, sort, spec)
        assert info.value.status == 422 and "cursor" in info.value.body["errors"]


def test_seed_sizes_scale() -> None:
    full, tiny = SeedSizes.at(1.0), SeedSizes.at(0.001)
    assert (full.customers, full.products) == (2000, 300)
    assert tiny.customers >= 20 and tiny.products >= 16 and tiny.bookings_per_day >= 3


def test_seed_then_top_up_adds_only_the_missing_days(tmp_path: Path) -> None:
    db = Database(tmp_path / "seed.sqlite3")
    now = datetime(2026, 11, 25, 15, 0)
    first = seed_or_top_up(db, 0.05, now=now)
    assert first["bookings"] > 0 and first["orders"] > 0
    assert seed_or_top_up(db, 0.05, now=now) == {}
    later = seed_or_top_up(db, 0.05, now=now + timedelta(days=2))
    assert set(later) == {"bookings", "orders", "order_items"}
    db.dispose()
    with sqlite3.connect(tmp_path / "seed.sqlite3") as conn:
        last_booking_day = conn.execute("SELECT max(date(start_at)) FROM bookings").fetchone()[0]
        first_booking_day = conn.execute("SELECT min(date(start_at)) FROM bookings").fetchone()[0]
        latest_order = conn.execute("SELECT max(placed_at) FROM orders").fetchone()[0]
        dupes = conn.execute("SELECT count(*) - count(DISTINCT id) FROM bookings").fetchone()[0]
    assert last_booking_day == "2026-12-27"  # 30 days after the later start
    assert first_booking_day == "2026-08-27"  # 90 days before the first
    assert latest_order[:10] >= "2026-11-27" and dupes == 0


def test_index_switch_on_the_database(tmp_path: Path) -> None:
    db = Database(tmp_path / "i.sqlite3")
    db.create_schema()
    assert db.has_booking_time_index()
    assert db.set_booking_time_index(False) is True
    assert not db.has_booking_time_index()
    assert db.set_booking_time_index(False) is False
    assert db.set_booking_time_index(True) is True and db.has_booking_time_index()
    db.dispose()


def test_import_demo_is_cheap() -> None:
    import subprocess
    import sys

    code = ("import sys, demo; heavy = [m for m in ('flask', 'sqlalchemy', 'waitress', "
            "'prometheus_client', 'requests', 'redis', 'pika') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "[]"


def test_a_read_that_fails_half_way_leaves_no_old_snapshot_behind(tmp_path: Path) -> None:
    """A result left half read by an error keeps SQLite's read snapshot open past ROLLBACK;
    the connection must not go back to the pool, or later reads on it miss later commits."""
    from sqlalchemy import text

    db = Database(tmp_path / "snapshot.sqlite3")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE stock (id INTEGER PRIMARY KEY, qty INTEGER)"))
        conn.execute(text("INSERT INTO stock (qty) VALUES (1), (1), (1)"))
    with db.read(), db.read():  # two connections in the pool, so the write below uses
        pass                    # the other one than the failed read
    with pytest.raises(RuntimeError), db.read() as conn:
        rows = conn.execute(text("SELECT qty FROM stock"))
        rows.fetchone()
        raise RuntimeError("the job failed between two rows")
    with db.write() as conn:
        conn.execute(text("UPDATE stock SET qty = 7"))
    pool_size = db.engine.pool.size()  # type: ignore[attr-defined]
    for _ in range(pool_size + 1):  # every pooled connection in turn
        with db.read() as conn:
            assert conn.execute(text("SELECT max(qty) FROM stock")).scalar() == 7
    db.engine.dispose()


def test_slow_answers_delay_the_next_action_not_the_rate(monkeypatch) -> None:
    # 20 actions/s over 2 threads while each answer takes 100 ms: a pause after every
    # action would give 10/s (traffic x5 came out as 2.8x on a loaded machine).
    import demo.traffic as traffic

    class SlowCustomer:
        def __init__(self, *_args: object) -> None:
            pass

        def act(self) -> None:
            time.sleep(0.1)

    monkeypatch.setattr(traffic, "_Customer", SlowCustomer)
    gen = traffic.TrafficGenerator("http://127.0.0.1:9", "t", lambda: 20.0, threads=2,
                                   seed=5, rush=False)
    gen.start()
    time.sleep(0.5)  # the threads are up (requests imported, sessions made)
    before = gen.actions
    time.sleep(2.0)
    done = gen.actions - before
    gen.stop()
    assert done >= 30, done  # 40 due in the 2 s; 20 with a pause after each


def test_the_seeded_waitlist_waits_only_while_the_restaurant_is_open(tmp_path: Path) -> None:
    from sqlalchemy import select

    from demo.db import waitlist

    db = Database(tmp_path / "hours.sqlite3")

    def parties() -> list[tuple[str, datetime, datetime | None]]:
        with db.read() as conn:
            w = waitlist.c
            return [tuple(r) for r in conn.execute(  # type: ignore[misc]
                select(w.state, w.added_at, w.removed_at).order_by(w.id))]

    early = datetime(2026, 12, 7, 6, 51)  # what a manager saw: parties queueing at dawn
    seed_or_top_up(db, 0.05, now=early)
    assert parties() == []
    evening = early.replace(hour=19)
    seed_or_top_up(db, 0.05, now=evening)
    seeded = parties()
    assert [s for s, _a, _r in seeded].count("waiting") == 3
    assert all(datetime(2026, 12, 7, 11, 0) <= added <= evening for _s, added, _r in seeded)
    just_opened = datetime(2026, 12, 8, 11, 5)  # next day: the first parties come at 11:00
    after_close = datetime(2026, 12, 8, 23, 20)
    seed_or_top_up(db, 0.05, now=datetime(2026, 12, 8, 6, 51))
    assert [s for s, _a, _r in parties()].count("waiting") == 0
    # Sent home when the service closed, not when the demo happened to start again.
    assert {r for s, _a, r in parties() if s == "removed"} == {datetime(2026, 12, 7, 23, 0)}
    seed_or_top_up(db, 0.05, now=just_opened)
    today = [p for p in parties() if p[1] >= datetime(2026, 12, 8, 11, 0)]
    assert today and all(s == "waiting" for s, _a, _r in today)  # none seated in the future
    seed_or_top_up(db, 0.05, now=after_close)
    assert [s for s, _a, _r in parties()].count("waiting") == 0
    db.dispose()
