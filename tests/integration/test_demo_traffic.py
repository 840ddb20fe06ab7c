"""The demo's simulated customers keep Today believable: tens of orders an hour, not thousands."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from demo.traffic import ORDERS_PER_HOUR, PlacementBudget
from tests.integration.test_demo_lifecycle import counter

pytestmark = pytest.mark.integration


def test_a_placement_budget_gives_its_hourly_rate() -> None:
    now = [0.0]
    budget = PlacementBudget(lambda: 40.0, clock=lambda: now[0])
    placed = 0
    for _ in range(3600):  # a customer trying to order every second for an hour
        placed += budget.take()
        now[0] += 1.0
    assert 40 <= placed <= 42  # the rate, plus the burst it starts with


def test_busy_customers_place_tens_of_orders_an_hour_not_thousands(tmp_path: Path) -> None:
    from demo import DemoShop

    with DemoShop(tmp_path / "shop.sqlite3", port=0, traffic=True, traffic_rate=40.0,
                  seed_scale=0.02) as shop:
        started = time.monotonic()
        time.sleep(10.0)  # ten seconds of busy customers
        seconds = time.monotonic() - started
        orders = counter(shop, "shop_orders_created_total")
        requests_done = counter(shop, "http_requests_total")
    # at 40 actions/s (8x the default) the budget is 8 x 40 = 320 orders an hour
    allowed = 2 + ORDERS_PER_HOUR * 8 * seconds / 3600
    assert requests_done > 100  # the customers were busy browsing all along
    assert orders <= allowed + 1, (orders, allowed)
