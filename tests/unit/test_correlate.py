"""What moved first: ranking of movers, change points and the sentence the console shows."""

from __future__ import annotations

import numpy as np
import pytest

from console.correlate import (
    change_point,
    explain,
    ks_distance,
    rank_movers,
    robust_scale,
)

T0 = 1_750_000_000.0


def incident(seed: int = 7) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cache hit rate falls at +600 s, p95 latency rises at +630 s, request rate is noise."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(900, dtype=float)
    hit = np.where(ts < T0 + 600, 0.92, 0.41) + rng.normal(0, 0.01, ts.size)
    p95 = np.where(ts < T0 + 630, 0.080, 0.450) + rng.normal(0, 0.005, ts.size)
    rate = 5.0 + rng.normal(0, 0.3, ts.size)
    return {"cache/cache_hit_rate": (ts, hit), "web/latency_p95": (ts, p95),
            "web/request_rate": (ts, rate)}


def test_the_cause_is_named_before_the_symptom() -> None:
    movers = rank_movers(incident(), T0 + 620, T0 + 800)
    names = [m.series for m in movers]
    assert set(names[:2]) == {"cache/cache_hit_rate", "web/latency_p95"}
    assert names[2] == "web/request_rate"
    noise = movers[2]
    assert noise.score < 0.3 < movers[1].score
    by_name = {m.series: m for m in movers}
    assert by_name["cache/cache_hit_rate"].direction == "fell"
    assert by_name["web/latency_p95"].direction == "rose"
    assert by_name["cache/cache_hit_rate"].change_ts == pytest.approx(T0 + 600, abs=2)
    assert by_name["web/latency_p95"].change_ts == pytest.approx(T0 + 630, abs=2)
    sentence = explain(movers)
    assert sentence.startswith("cache hit rate (cache) fell")
    assert "30 s before latency p95 (web) rose" in sentence


def test_lead_is_relative_to_the_top_mover() -> None:
    movers = rank_movers(incident(), T0 + 620, T0 + 800)
    top = movers[0]
    assert top.lead_s == 0
    other = next(m for m in movers[1:2])
    assert other.lead_s is not None and abs(abs(other.lead_s) - 30) <= 2


def test_quiet_window_says_nothing_moved() -> None:
    rng = np.random.default_rng(1)
    ts = T0 + np.arange(600, dtype=float)
    data = {"web/request_rate": (ts, 5 + rng.normal(0, 0.3, ts.size))}
    movers = rank_movers(data, T0 + 300, T0 + 600)
    assert movers[0].score < 0.3
    assert explain(movers).startswith("Nothing moved clearly")


def test_gaps_and_short_series_are_skipped() -> None:
    ts = T0 + np.arange(100, dtype=float)
    values = np.full(ts.size, np.nan)
    values[:50] = 1.0  # only before the window
    movers = rank_movers({"x/queue_depth": (ts, values)}, T0 + 50, T0 + 100)
    assert movers == []


def test_flat_baseline_still_scores_a_rise() -> None:
    ts = T0 + np.arange(200, dtype=float)
    depth = np.where(ts < T0 + 120, 0.0, 40.0)
    movers = rank_movers({"broker/queue_depth{queue=\"emails\"}": (ts, depth)}, T0 + 100,
                         T0 + 200)
    assert movers[0].score == pytest.approx(0.8)  # 20 of 100 window samples still 0
    assert movers[0].change_ts == T0 + 120
    assert "queue depth (broker, emails) rose" in explain(movers)


def test_building_blocks() -> None:
    assert ks_distance(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 0
    assert ks_distance(np.array([1.0, 2]), np.array([5.0, 6])) == 1
    assert robust_scale(np.zeros(5)) > 0
    assert change_point(np.arange(3.0), np.arange(3.0)) is None
    assert change_point(np.arange(10.0), np.r_[np.zeros(6), np.ones(4)]) == 6
    with pytest.raises(ValueError):
        rank_movers({}, 10, 10)


def test_small_relative_moves_rank_below_big_ones() -> None:
    ts = T0 + np.arange(400, dtype=float)
    steady_small = np.where(ts < T0 + 250, 0.020, 0.021)  # +5 %, dead steady
    noisy_big = np.where(ts < T0 + 250, 0.9, 0.3) + np.random.default_rng(2).normal(
        0, 0.05, ts.size)
    movers = rank_movers({"a/latency_p99": (ts, steady_small),
                          "b/cache_hit_rate": (ts, noisy_big)}, T0 + 200, T0 + 400)
    assert movers[0].series == "b/cache_hit_rate"


def test_a_group_is_not_set_against_itself() -> None:
    ts = T0 + np.arange(600, dtype=float)
    p95 = np.where(ts < T0 + 300, 0.1, 0.5)
    p99 = np.where(ts < T0 + 320, 0.2, 0.9)
    movers = rank_movers({"web/latency_p95": (ts, p95), "web/latency_p99": (ts, p99)},
                         T0 + 250, T0 + 450)
    assert "before" in explain(movers)
    alone = explain(movers, group=lambda s: s.split("/")[0])
    assert "nothing else moved clearly" in alone


def polled(step: float, offset: float, n: int) -> np.ndarray:
    """Sample times of a source polled every ``step`` s, ``offset`` s after T0."""
    return T0 + offset + step * np.arange(n, dtype=float)


def test_a_switched_cache_is_named_before_the_latency_it_raises_in_the_same_poll() -> None:
    # The demo's cache switched off at T0+40: its hit rate (a few lookups a poll, so a noisy
    # baseline) falls to 0 while a probe's latency rises 5x; the probe, polled 1 s apart from
    # the scrape, happens to see it first, and its rise scores higher.
    rng = np.random.default_rng(3)
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    hit = np.where(scrape < T0 + 41, rng.uniform(0.4, 1.0, scrape.size), 0.0)
    hit[scrape == T0 + 40] = 0.7  # the last poll before the switch, an ordinary one
    hit[scrape == T0 + 42] = 0.3  # the first poll after the switch blends before and after
    latency = np.where(probe < T0 + 40, 0.010, 0.050) * rng.uniform(0.9, 1.1, probe.size)
    data = {"shop/cache_hit_rate": (scrape, hit), "availability/latency_p95": (probe, latency)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert movers[0].series == "availability/latency_p95"  # the symptom scores higher
    assert by_name["availability/latency_p95"].change_ts < by_name[
        "shop/cache_hit_rate"].change_ts  # and its poll came first
    sentence = explain(movers)
    assert sentence.startswith("cache hit rate (shop) fell"), sentence
    assert "latency p95 (availability) rose within 4 s of it." in sentence


def test_a_switched_cache_is_named_before_the_table_reads_its_misses_cause() -> None:
    # The cache switched off at T0+40 sends its reads to the database: the bookings are read
    # whole 0.08 -> 0.8 times a second, a cleaner and bigger change than the hit rate's (a few
    # noisy lookups a poll), seen by the same scrape. The cache is named first.
    rng = np.random.default_rng(5)
    scrape = polled(2.0, 0.0, 40)
    hit = np.where(scrape < T0 + 41, rng.uniform(0.4, 1.0, scrape.size), 0.0)
    hit[scrape == T0 + 42] = 0.3
    reads = np.where(scrape < T0 + 41, 0.08, 0.8) * rng.uniform(0.95, 1.05, scrape.size)
    data = {"shop/cache_hit_rate": (scrape, hit),
            'shop/full_scans_rate{table="bookings"}': (scrape, reads)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    assert movers[0].series.startswith("shop/full_scans_rate")  # it scores higher
    sentence = explain(movers)
    assert sentence.startswith("cache hit rate (shop) fell"), sentence
    assert "full scans rate (shop, bookings) rose within 4 s of it." in sentence


def test_the_slowed_endpoints_probe_is_named_before_the_whole_shops_quantile() -> None:
    # /api/availability slowed to 900 ms: every probe reading goes 10 ms -> 900 ms; the shop's
    # p50 over every endpoint goes 2 ms -> 900 ms (a bigger change for its size) but blends
    # in the other endpoints (every third poll saw no slow request), and is scraped 1 s
    # earlier.
    rng = np.random.default_rng(4)
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    shop = np.where(scrape < T0 + 40, 0.002, 0.90) * rng.uniform(0.7, 1.3, scrape.size)
    shop[(scrape >= T0 + 40) & (np.arange(scrape.size) % 3 == 0)] = 0.003
    avail = np.where(probe < T0 + 41, 0.010, 0.90) * rng.uniform(0.7, 1.3, probe.size)
    data = {"shop/latency_p50": (scrape, shop), "availability/latency_p95": (probe, avail)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert by_name["shop/latency_p50"].change_ts == T0 + 40
    assert by_name["shop/latency_p50"].fold > by_name["availability/latency_p95"].fold
    sentence = explain(movers)
    assert sentence.startswith("latency p95 (availability) rose"), sentence


def test_a_cause_a_poll_or_more_earlier_is_named_with_its_lead() -> None:
    scrape, probe = polled(2.0, 0.0, 60), polled(2.0, 1.0, 60)
    hit = np.where(scrape < T0 + 40, 0.8, 0.0)
    latency = np.where(probe < T0 + 51, 0.010, 0.050)
    movers = rank_movers({"shop/cache_hit_rate": (scrape, hit),
                          "availability/latency_p95": (probe, latency)}, T0 + 36, T0 + 100,
                         baseline_s=30)
    assert explain(movers) == ("cache hit rate (shop) fell 11 s before latency p95 "
                               "(availability) rose.")


def test_a_queue_filling_up_starts_where_it_left_its_baseline() -> None:
    # workers stopped at T0+40: the queue grows 2 jobs a poll from 0; the shop's p50 latency
    # falls at once (the workers' writes stop). The mean-shift statistic alone puts the
    # ramp's change in its middle, 20 s later than the latency's: the onset is its first
    # job, and the queue (a cause) is named first.
    rng = np.random.default_rng(8)
    scrape = polled(2.0, 0.0, 40)
    depth = np.where(scrape < T0 + 41, 0.0, (scrape - T0 - 40) * 1.0)
    p50 = np.where(scrape < T0 + 41, 0.020, 0.012) * rng.uniform(0.95, 1.05, scrape.size)
    data = {"shop/queue_depth": (scrape, depth), "shop/latency_p50": (scrape, p50)}
    movers = rank_movers(data, T0 + 36, T0 + 76, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert by_name["shop/queue_depth"].change_ts == T0 + 42  # its first job
    sentence = explain(movers)
    assert sentence.startswith("queue depth (shop) rose"), sentence


def test_a_rate_under_its_noise_floor_is_no_mover() -> None:
    # the bookings read whole 0.03 -> 0.1 times a second: three times more, and nothing
    rng = np.random.default_rng(6)
    scrape = polled(2.0, 0.0, 40)
    reads = np.where(scrape < T0 + 41, 0.03, 0.1) * rng.uniform(0.9, 1.1, scrape.size)
    latency = np.where(scrape < T0 + 43, 0.010, 0.900) * rng.uniform(0.9, 1.1, scrape.size)
    data = {'shop/full_scans_rate{table="bookings"}': (scrape, reads),
            "availability/latency_p95": (scrape + 1.0, latency)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    assert [m.series for m in movers] == ["availability/latency_p95"]
    assert explain(movers).startswith("latency p95 (availability) rose")


def test_a_spike_just_before_the_switch_is_not_where_the_change_began() -> None:
    # The demo's availability probe reads ~2 ms from the cache and ~9 ms when its day's entry
    # has expired and is recomputed (every 15 s: at T0+25 and T0+39), and 9 ms on every
    # reading once the cache is switched off at T0+40. The mean shift splits before the
    # T0+39 spike (it looks like the new level), 5 s before the hit rate's first reading past
    # its baseline (the T0+42 poll saw little of the switch), and the latency was named first
    # (a matrix run: "availability p95 moved 5 s before the hit rate"). A spike like those
    # the baseline held is not where the change began: the first reading past them is.
    rng = np.random.default_rng(11)
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    hit = np.where(scrape < T0 + 41, rng.uniform(0.6, 0.9, scrape.size), 0.0)
    hit[scrape == T0 + 42] = 0.72  # the switch came late in this poll
    latency = np.where(probe < T0 + 40, 0.002, 0.009) * rng.uniform(0.95, 1.05, probe.size)
    latency[(probe == T0 + 25) | (probe == T0 + 39)] = 0.009  # recomputes of today's entry
    data = {"shop/cache_hit_rate": (scrape, hit), "availability/latency_p50": (probe, latency)}
    movers = rank_movers(data, T0 + 36, T0 + 56, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert by_name["shop/cache_hit_rate"].change_ts == T0 + 44
    assert by_name["availability/latency_p50"].change_ts > T0 + 40
    sentence = explain(movers)
    assert sentence.startswith("cache hit rate (shop) fell"), sentence


def test_a_cache_is_named_before_the_latency_it_feeds_up_to_two_polls_apart() -> None:
    # Under load the scrape that first sees the cache off comes late: the hit rate's first
    # reading past its baseline is 6 s after the probe's first slow request (2 s polls). A
    # hit rate is a ratio over a poll's few lookups, a probe times one request: which moved
    # first is not told by a poll or two, and the cache that feeds the latency is named.
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    hit = np.where(scrape < T0 + 46, 0.8, 0.0)
    latency = np.where(probe < T0 + 40, 0.002, 0.009)
    data = {"shop/cache_hit_rate": (scrape, hit), "availability/latency_p50": (probe, latency)}
    sentence = explain(rank_movers(data, T0 + 36, T0 + 60, baseline_s=16))
    assert sentence == ("cache hit rate (shop) fell; latency p50 (availability) rose within "
                        "8 s of it."), sentence
    # a latency 11 s later is no reading of the same switch's polls: told apart, with its lead
    late = {"shop/cache_hit_rate": (scrape, np.where(scrape < T0 + 52, 0.8, 0.0)),
            "availability/latency_p50": (probe, latency)}
    assert explain(rank_movers(late, T0 + 36, T0 + 70, baseline_s=16)).startswith(
        "latency p50 (availability) rose 11 s before")


def test_a_cache_is_named_before_the_customers_it_slows_up_to_two_polls_apart() -> None:
    # The demo on a loaded machine (a CI run of the scenario matrix): with the cache off the
    # customers fall behind, so the shop's request rate falls from the first slow answers,
    # while the hit rate's first poll after the switch holds too few lookups to tell; its
    # first reading past the baseline came 6 s after the rate's. The sentence was "shop
    # request rate fell 6 s before shop cache hit rate fell" for the whole minute.
    rng = np.random.default_rng(5)
    scrape = polled(2.0, 0.0, 40)
    hit = np.where(scrape < T0 + 46, rng.uniform(0.6, 0.95, scrape.size), 0.0)
    rate = np.where(scrape < T0 + 40, 9.0, 6.0) + rng.uniform(-1.0, 1.0, scrape.size)
    data = {"shop/cache_hit_rate": (scrape, hit), "shop/request_rate": (scrape, rate)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert by_name["shop/cache_hit_rate"].change_ts == T0 + 46
    assert by_name["shop/request_rate"].change_ts == T0 + 40
    assert explain(movers) == ("cache hit rate (shop) fell; request rate (shop) fell within "
                               "8 s of it.")
    # a request rate that rose first is traffic, a cause of its own: told apart, with its lead
    busier = {"shop/cache_hit_rate": (scrape, hit),
              "shop/request_rate": (scrape, np.where(scrape < T0 + 40, 9.0, 40.0))}
    assert explain(rank_movers(busier, T0 + 36, T0 + 60, baseline_s=16)).startswith(
        "request rate (shop) rose 6 s before cache hit rate (shop) fell")


def test_orders_a_minute_that_fell_with_a_slow_endpoint_are_named_after_it() -> None:
    # A CI run of the matrix: the availability endpoint slowed at T0+40, and the orders a
    # minute (a few a minute, read one 2 s poll at a time) fell within a poll of its probe.
    # The sentence was "orders per minute fell; availability p50 latency rose within 4 s of
    # it" for the whole minute: what the customers manage to do is no cause.
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    orders = np.where(scrape < T0 + 38, np.tile([30.0, 60.0, 30.0, 30.0], 10), 0.0)
    slow = np.where(probe < T0 + 40, 0.01, 0.9)
    data = {"shop/orders_rate": (scrape, orders), "availability/latency_p50": (probe, slow)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    by_name = {m.series: m for m in movers}
    assert by_name["shop/orders_rate"].change_ts < by_name["availability/latency_p50"].change_ts
    assert explain(movers).startswith("latency p50 (availability) rose; orders rate (shop) "
                                      "fell within")


def test_a_latency_of_a_few_milliseconds_is_no_mover() -> None:
    # workers stopped at T0+40 (the queue fills from its next poll); the health probe,
    # answering in ~1 ms, happened to read 0.6 ms from T0+35: no one feels a page answer in
    # 0.6 ms instead of 1.2, and the sentence was "health p95 latency fell 5 s before
    # demo.jobs queue depth rose" (a matrix run, 10 s after the switch)
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    depth = np.where(scrape < T0 + 41, 0.0, (scrape - T0 - 40) * 1.2)
    health = np.where(probe < T0 + 35, 0.0012, 0.0006)
    data = {'shop/queue_depth{queue="demo.jobs"}': (scrape, depth),
            "health/latency_p95": (probe, health)}
    movers = rank_movers(data, T0 + 36, T0 + 50, baseline_s=16)
    assert [m.series for m in movers] == ['shop/queue_depth{queue="demo.jobs"}']
    assert explain(movers).startswith("queue depth (shop, demo.jobs) rose; nothing else")


def test_a_change_inside_the_baseline_is_measured_against_what_came_before_it() -> None:
    # a window drawn 20 s after the cache fell: the baseline holds 20 s of the new level, so
    # against the whole baseline the drop is past nothing; against the readings before it, it
    # is the onset (not a later poll that dipped past the new level, at T0+700)
    data = incident()
    ts, hit = data["cache/cache_hit_rate"]
    hit[ts == T0 + 700] = 0.36
    movers = rank_movers(data, T0 + 620, T0 + 800, baseline_s=180)
    by_name = {m.series: m for m in movers}
    assert by_name["cache/cache_hit_rate"].change_ts == T0 + 600
    assert explain(movers).startswith("cache hit rate (cache) fell 30 s before latency p95")


def test_a_table_read_whole_less_often_than_the_advisor_speaks_of_is_no_mover() -> None:
    # /api/availability slowed at T0+40; the products' whole-table reads (the customers'
    # product searches, a rate over 30 s) drift from 0.45 to 0.3 a second from T0+28: under
    # the 0.5 a second the advisor speaks from, before and after. The sentence was "shop
    # products whole-table reads fell 12 s before availability p50 latency rose".
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    reads = np.interp(scrape, [T0, T0 + 28, T0 + 44, T0 + 80], [0.45, 0.45, 0.3, 0.3])
    latency = np.where(probe < T0 + 40, 0.010, 0.900)
    data = {'shop/full_scans_rate{table="products"}': (scrape, reads),
            "availability/latency_p50": (probe, latency)}
    movers = rank_movers(data, T0 + 36, T0 + 50, baseline_s=16)
    assert [m.series for m in movers] == ["availability/latency_p50"]


def test_a_move_smaller_than_its_noise_floor_is_no_mover() -> None:
    # /api/availability slowed at T0+40; the products' whole-table reads (a rate over 30 s of
    # the customers' product searches) happened to climb 0.45 -> 0.65 a second from T0+33:
    # a change of 0.2 a second, under the 0.5 that counts, however it crosses 0.5. The
    # sentence was "shop products whole-table reads rose 7 s before availability p50 latency
    # rose" for all of a matrix run's 60 s.
    scrape, probe = polled(2.0, 0.0, 40), polled(2.0, 1.0, 40)
    reads = np.interp(scrape, [T0, T0 + 33, T0 + 47, T0 + 80], [0.45, 0.45, 0.65, 0.65])
    latency = np.where(probe < T0 + 40, 0.010, 0.900)
    data = {'shop/full_scans_rate{table="products"}': (scrape, reads),
            "availability/latency_p50": (probe, latency)}
    movers = rank_movers(data, T0 + 36, T0 + 60, baseline_s=16)
    assert [m.series for m in movers] == ["availability/latency_p50"]
