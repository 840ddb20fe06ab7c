"""console.own_cost: the tally of one call, the windows the own series and the table read."""

from __future__ import annotations

import threading

import pytest

from console.own_cost import OWN_SOURCE, PollCost, Tally, cost_rows, count_request, metered


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_requests_count_only_inside_the_metered_call_of_their_own_thread() -> None:
    count_request(100)  # outside: nobody pays for it, nothing breaks
    with metered() as tally:
        count_request(10)
        count_request(5, requests=2)
        other = threading.Thread(target=count_request, args=(1000,))
        other.start()
        other.join()
    count_request(7)
    assert (tally.requests, tally.bytes) == (3, 15)
    assert tally.cpu_s >= 0.0


def test_a_trailing_window_keeps_a_slow_source_from_reading_zero() -> None:
    clock, cpu = Clock(), Clock()
    cost = PollCost(clock=clock, cpu=cpu)
    cost.add("db", Tally(requests=6, bytes=0), busy_s=0.2)  # polled every 30 s
    for _ in range(12):  # the own series' points, every 5 s
        clock.now += 5.0
        cpu.now += 0.5
        cost.add("web", Tally(requests=1, bytes=2048), busy_s=0.05)
        trailing = cost.window(span_s=60.0)
    rows = {s.source: s for s in trailing.sources}
    assert rows["db"].requests_per_s == pytest.approx(6 / 60)
    assert rows["web"].bytes_per_s == pytest.approx(12 * 2048 / 60)
    assert trailing.cpu_percent == pytest.approx(10.0)
    clock.now += 5.0
    cost.add("web", Tally(requests=1, bytes=2048), busy_s=0.05)
    last = {s.source: s for s in cost.window(span_s=0.0).sources}
    assert last["db"].requests == 0 and last["web"].requests == 1  # since the previous call


def test_the_own_collector_is_not_its_own_source_and_the_table_reads_the_series() -> None:
    clock = Clock()
    cost = PollCost(clock=clock, cpu=clock)
    cost.add(OWN_SOURCE, Tally(requests=0), busy_s=0.001)
    cost.add("web", Tally(requests=2, bytes=4096), busy_s=0.3)
    cost.add("cache", Tally(requests=2), busy_s=0.1)
    clock.now = 2.0
    window = cost.since_start()
    assert [s.source for s in window.sources] == ["web", "cache"]
    cpu, rows = cost_rows(window.readings(ts=1000.0))
    assert cpu == pytest.approx(100.0)
    assert rows == [("web", 1.0, 2048.0, pytest.approx(0.75)),
                    ("cache", 1.0, 0.0, pytest.approx(0.25))]
    data = window.as_json()
    assert data["requests_per_s"] == 2.0 and data["sources"][0]["bytes"] == 4096
