"""The demo's live switches have the real, measured effects the console is meant to show."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from demo import DemoShop

pytestmark = pytest.mark.integration

TIMEOUT = 10


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoShop]:
    path = tmp_path_factory.mktemp("demo-scenario") / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.3, workers=2) as running:
        yield running


@pytest.fixture
def session(shop: DemoShop) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {shop.token}"
        yield s
    shop.set_scenario(cache=True, booking_time_index=True, workers=2, slow_endpoint=None,
                      slow_ms=0)


def gauge(shop: DemoShop, name: str, **labels: str) -> float:
    text = requests.get(shop.metrics_url, timeout=TIMEOUT).text
    total = 0.0
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def availability_p95(shop: DemoShop, s: requests.Session, n: int = 150) -> float:
    """p95 (s) of availability searches over the next week's dates, as guests would ask."""
    rng = random.Random(7)
    today = datetime.now(UTC).date()
    latencies = []
    for _ in range(n):
        day = (today + timedelta(days=rng.randrange(5))).isoformat()
        start = time.perf_counter()
        r = s.get(shop.base_url + "/api/availability", params={"date": day, "party_size": "4"},
                  timeout=TIMEOUT)
        latencies.append(time.perf_counter() - start)
        assert r.status_code == 200
    latencies.sort()
    return latencies[int(0.95 * (len(latencies) - 1))]


def post_scenario(shop: DemoShop, s: requests.Session, **body: Any) -> dict[str, Any]:
    r = s.post(shop.base_url + "/admin/scenario", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_cache_and_index_cut_availability_p95(shop: DemoShop, session: requests.Session,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    post_scenario(shop, session, cache=False, booking_time_index=False)
    both_off = availability_p95(shop, session)
    post_scenario(shop, session, cache=False, booking_time_index=True)
    index_only = availability_p95(shop, session)
    post_scenario(shop, session, cache=True, booking_time_index=True)
    both_on = availability_p95(shop, session)
    with capsys.disabled():
        print(f"\navailability p95 (seed_scale 0.3): both off {both_off * 1000:.2f} ms, "
              f"index only {index_only * 1000:.2f} ms, cache+index {both_on * 1000:.2f} ms "
              f"({(1 - both_on / both_off) * 100:.0f}% lower)")
    assert both_on <= 0.8 * both_off


def test_index_switch_really_drops_and_creates_the_index(shop: DemoShop,
                                                         session: requests.Session) -> None:
    def plan() -> str:
        with sqlite3.connect(shop.db_path) as conn:
            rows = conn.execute(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM bookings "
                "WHERE start_at > ? AND start_at <= ?", ("2026-01-01", "2026-01-02")).fetchall()
        return " ".join(str(r[-1]) for r in rows)

    since = time.time() - 0.001
    assert post_scenario(shop, session, booking_time_index=False)["booking_time_index"] is False
    assert "ix_bookings_start_at" not in plan() and "SCAN" in plan()
    assert gauge(shop, "demo_scenario_booking_time_index") == 0
    assert post_scenario(shop, session, booking_time_index=True)["booking_time_index"] is True
    assert "ix_bookings_start_at" in plan()
    events = session.get(shop.base_url + "/admin/events", params={"since": since},
                         timeout=TIMEOUT).json()
    assert [e["what"] for e in events] == ["index ix_bookings_start_at dropped",
                                           "index ix_bookings_start_at created"]
    assert all(since < e["ts"] <= time.time() for e in events)


def test_a_dropped_index_shows_as_whole_table_reads_of_bookings(
        shop: DemoShop, session: requests.Session) -> None:
    """The demo counts the reads its query plans make of a whole table (as PostgreSQL's
    seq_scan does), and each table's rows; availability over a day reads bookings whole once
    per half hour of it (27) when the index is gone, never while it is there."""
    def bookings_read_whole() -> float:
        return gauge(shop, "db_full_scans_total", table="bookings")

    post_scenario(shop, session, cache=False, booking_time_index=True)
    before = bookings_read_whole()
    for day in range(3):
        date = (datetime.now(UTC).date() + timedelta(days=day)).isoformat()
        assert session.get(shop.base_url + "/api/availability", timeout=TIMEOUT,
                           params={"date": date, "party_size": "2"}).status_code == 200
    assert bookings_read_whole() == before
    post_scenario(shop, session, booking_time_index=False)
    for day in range(3):
        date = (datetime.now(UTC).date() + timedelta(days=day)).isoformat()
        assert session.get(shop.base_url + "/api/availability", timeout=TIMEOUT,
                           params={"date": date, "party_size": "2"}).status_code == 200
    assert bookings_read_whole() == before + 3 * 27
    with sqlite3.connect(shop.db_path) as conn:
        rows = conn.execute("SELECT count(*) FROM bookings").fetchone()[0]
    assert gauge(shop, "db_table_rows", table="bookings") == rows


def test_queue_depth_climbs_without_workers_and_drains_with_them(
        shop: DemoShop, session: requests.Session) -> None:
    assert post_scenario(shop, session, workers=0)["workers"] == 0
    processed_before = gauge(shop, "jobs_processed_total")
    start_at = (datetime.now(UTC).date() + timedelta(days=6)).isoformat() + "T12:30:00Z"
    for i in range(12):
        r = session.post(shop.base_url + "/api/bookings", timeout=TIMEOUT, json={
            "customer_name": f"Queued {i}", "party_size": 2, "start_at": start_at})
        assert r.status_code == 201
    assert gauge(shop, "job_queue_depth", queue="demo.jobs") == 12
    assert gauge(shop, "job_queue_workers") == 0
    health = requests.get(shop.base_url + "/health", timeout=TIMEOUT).json()
    assert health["queue"]["status"] == "stalled" and health["status"] == "degraded"
    assert gauge(shop, "jobs_processed_total") == processed_before

    post_scenario(shop, session, workers=3)
    deadline = time.monotonic() + 20
    while gauge(shop, "job_queue_depth") > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gauge(shop, "job_queue_depth") == 0
    deadline = time.monotonic() + 5
    while gauge(shop, "jobs_processed_total") < processed_before + 12 \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gauge(shop, "jobs_processed_total") == processed_before + 12
    assert gauge(shop, "job_duration_seconds_count") >= 12
    assert requests.get(shop.base_url + "/health", timeout=TIMEOUT).json()["status"] == "ok"


def test_slow_endpoint_adds_latency_to_that_endpoint_only(shop: DemoShop,
                                                          session: requests.Session) -> None:
    post_scenario(shop, session, slow_endpoint="/api/menu", slow_ms=300)
    start = time.perf_counter()
    assert session.get(shop.base_url + "/api/menu", timeout=TIMEOUT).status_code == 200
    slow = time.perf_counter() - start
    start = time.perf_counter()
    session.get(shop.base_url + "/api/products/categories", timeout=TIMEOUT)
    fast = time.perf_counter() - start
    assert slow >= 0.3 and fast < 0.3
    post_scenario(shop, session, slow_endpoint="*", slow_ms=200)
    start = time.perf_counter()
    session.get(shop.base_url + "/api/products/categories", timeout=TIMEOUT)
    assert time.perf_counter() - start >= 0.2
    start = time.perf_counter()
    requests.get(shop.base_url + "/health", timeout=TIMEOUT)
    assert time.perf_counter() - start < 0.2  # "*" slows the API, not health checks
    whats = [e["what"] for e in session.get(shop.base_url + "/admin/events",
                                            timeout=TIMEOUT).json()]
    assert "slow endpoint /api/menu +300 ms" in whats and "slow endpoint * +200 ms" in whats


def test_cache_off_turns_every_read_into_a_miss(shop: DemoShop,
                                                session: requests.Session) -> None:
    post_scenario(shop, session, cache=False)
    hits = gauge(shop, "cache_hits_total", cache="menu")
    misses = gauge(shop, "cache_misses_total", cache="menu")
    for _ in range(3):
        assert session.get(shop.base_url + "/api/menu", timeout=TIMEOUT).json()["cached"] is False
    assert gauge(shop, "cache_hits_total", cache="menu") == hits
    assert gauge(shop, "cache_misses_total", cache="menu") == misses + 3
    health = requests.get(shop.base_url + "/health", timeout=TIMEOUT).json()
    assert health["cache"]["status"] == "disabled" and health["status"] == "ok"


@pytest.mark.parametrize(("body", "field"), [
    ({"workers": -1}, "workers"), ({"workers": 17}, "workers"), ({"workers": True}, "workers"),
    ({"cache": "yes"}, "cache"), ({"slow_ms": 20_000}, "slow_ms"),
    ({"slow_endpoint": 5}, "slow_endpoint"), ({"traffic_rate": -1}, "traffic_rate"),
    ({"turbo": True}, "turbo"),
])
def test_bad_switches_are_422_and_change_nothing(shop: DemoShop, session: requests.Session,
                                                 body: dict[str, Any], field: str) -> None:
    before = session.get(shop.base_url + "/admin/scenario", timeout=TIMEOUT).json()
    r = session.post(shop.base_url + "/admin/scenario", json={"cache": False, **body},
                     timeout=TIMEOUT)
    assert r.status_code == 422 and field in r.json()["errors"]
    assert session.get(shop.base_url + "/admin/scenario", timeout=TIMEOUT).json() == before


def test_scenario_shape_and_auth(shop: DemoShop, session: requests.Session) -> None:
    body = session.get(shop.base_url + "/admin/scenario", timeout=TIMEOUT).json()
    assert body == {"cache": True, "booking_time_index": True, "workers": 2,
                    "slow_endpoint": None, "slow_ms": 0, "traffic_rate": 5.0,
                    "error_ratio": 0.0}
    assert requests.post(shop.base_url + "/admin/scenario", json={"cache": False},
                         timeout=TIMEOUT).status_code == 401
    assert requests.get(shop.base_url + "/admin/events", timeout=TIMEOUT).status_code == 401
    events = session.get(shop.base_url + "/admin/events", timeout=TIMEOUT).json()
    assert events[0]["what"] == "demo started"
