"""All shops' reads remembered for Compare: each shop's figures at each read, an hour, bounded."""

from __future__ import annotations

import math

import numpy as np

from console import metrics
from console.domain import Status, split_series
from console.overview import ShopRow
from console.shop_history import ShopHistory, line_name


def row(shop: str, p95: float | None, at: float | None, status: Status = Status.OK,
        group: tuple[tuple[str, str], ...] = ()) -> ShopRow:
    return ShopRow(shop=shop, profile=f"/shops/{shop}.toml", status=status, p95_s=p95,
                   cache_hit_rate=None if p95 is None else 0.9, last_reading=at, group=group)


def test_each_read_is_a_point_of_each_shop_and_a_silent_shop_a_gap() -> None:
    history = ShopHistory()
    history.add([row("north", 0.1, 100.0), row("south", 0.2, 100.5)], at=101.0)
    history.add([row("north", None, None, Status.FAIL), row("south", 0.3, 115.5)], at=116.0)
    history.add([row("north", 0.4, 130.0), row("south", 0.3, 115.5)], at=131.0)
    ts, values = history.line(line_name(row("north", 0, 0), metrics.LATENCY_P95))
    assert ts.tolist() == [100.0, 116.0, 130.0]  # the failing read at its read time
    assert values[0] == 0.1 and math.isnan(values[1]) and values[2] == 0.4  # a gap, no line
    ts, values = history.line(line_name(row("south", 0, 0), metrics.LATENCY_P95))
    assert ts.tolist() == [100.5, 115.5]  # the same reading twice is one point
    assert history.span() == (100.0, 130.0)
    # each shop's latest row, worst first: both ok now, north the slower (0.4 s)
    assert [r.shop for r in history.shops()] == ["north", "south"]


def test_only_the_last_hour_is_kept_and_at_most_so_many_points_and_shops() -> None:
    history = ShopHistory(keep_s=3600, max_points=100, max_shops=3)
    for n in range(500):
        history.add([row("north", 0.1, 15.0 * n)], at=15.0 * n)
    ts, _ = history.line(line_name(row("north", 0, 0), metrics.LATENCY_P95))
    assert ts.size == 100 and ts[-1] == 15.0 * 499
    history = ShopHistory(keep_s=3600, max_points=1000)
    for n in range(500):
        history.add([row("north", 0.1, 15.0 * n)], at=15.0 * n)
    ts, _ = history.line(line_name(row("north", 0, 0), metrics.LATENCY_P95))
    assert ts[0] >= 15.0 * 499 - 3600 and ts.size == 241
    history.add([row("gone", 0.1, 0.0)], at=0.0)  # a shop not read for an hour is forgotten
    history.add([row("north", 0.1, 9000.0)], at=9000.0)
    assert [r.shop for r in history.shops()] == ["north"]
    crowd = ShopHistory(max_shops=3)
    crowd.add([row(f"shop-{n}", 0.1, 10.0 + n) for n in range(5)], at=20.0)
    assert crowd.count() == 3


def test_a_site_of_a_grouped_profile_is_a_shop_of_its_own() -> None:
    history = ShopHistory()
    leeds = row("Chain", 0.5, 10.0, group=(("site", "leeds"),))
    history.add([row("Chain", 0.2, 10.0), leeds], at=11.0)
    name = line_name(leeds, metrics.CACHE_HIT_RATE)
    assert split_series(name) == ("/shops/Chain.toml", metrics.CACHE_HIT_RATE,
                                  {"site": "leeds"})
    ts, values = history.line(name)
    assert values.tolist() == [0.9] and ts.tolist() == [10.0]
    assert history.line("nothing/latency_p95")[0].size == 0
    assert np.isfinite(history.line(line_name(row("Chain", 0, 0), metrics.LATENCY_P95))[1]).all()
