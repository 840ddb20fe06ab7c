"""One minute of the soak (tests/benchmarks/bench_soak.py) in the suite: 200 targets polled at
1 Hz by the real Poller into the store and the history; threads stay bounded and memory
does not run away. ``python -m tests.benchmarks soak`` runs it for minutes and reports."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.benchmarks.bench_soak import soak
from tests.reliability.support import on_linux

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.skipif(not on_linux(), reason="RSS is read from /proc (Linux)")
def test_a_minute_of_200_targets_at_1_hz(tmp_path: Path) -> None:
    before = threading.active_count()
    result = soak(45.0, warmup_s=15.0, directory=tmp_path)
    print(f"soak 200 targets, 45 s measured: {result.polls} polls, RSS {result.rss_start_mb:.1f}"
          f" -> {result.rss_end_mb:.1f} MB ({result.rss_growth_mb_per_min:+.2f} MB/min), "
          f"threads {result.threads_min}-{result.threads_max}, lateness p50 "
          f"{result.lateness_p50_s * 1000:.0f} ms p99 {result.lateness_p99_s * 1000:.0f} ms "
          f"max {result.lateness_max_s * 1000:.0f} ms, states {result.states}")
    # at most 16 workers + the scheduler + the history writer, besides what the test run had
    assert result.threads_max <= before + 16 + 2 + 2
    assert result.threads_max - result.threads_min <= 2, "no thread piles up"
    assert result.rss_end_mb - result.rss_start_mb < 40, "memory does not run away"
    assert result.polls >= 0.8 * 200 * 45, "the poller keeps up with 200 polls a second"
    assert result.states == {"up": 200}
    assert threading.active_count() <= before + 1, "every soak thread stopped"
