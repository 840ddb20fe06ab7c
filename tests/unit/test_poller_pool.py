"""The poller's pool: one worker for fast sources, more while slow ones keep calls waiting."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest

from services.monitoring import poller as poller_module
from services.monitoring.poller import CORE_WORKERS, Poller
from tests.unit.test_poller import FakeCollector, running, wait_until  # noqa: F401 - fixture


def _gaps(collector: FakeCollector) -> list[float]:
    return [b - a for a, b in zip(collector.calls, collector.calls[1:], strict=False)]


def test_a_hundred_fast_sources_are_polled_on_time_by_the_core_workers_alone(
        running: Callable[..., Poller]) -> None:  # noqa: F811
    sources = [FakeCollector(f"web{i}", interval_s=0.1) for i in range(100)]
    poller = running(sources, max_workers=16)
    time.sleep(2.0)  # the thing measured is polling over a stretch of time
    assert poller.thread_count() == CORE_WORKERS, "fast sources started no extra worker"
    gaps = [gap for source in sources for gap in _gaps(source)]
    assert min(len(source.calls) for source in sources) >= 18, "every source polled 10 a second"
    assert statistics.mean(gaps) == pytest.approx(0.1, rel=0.05)
    assert max(gaps) < 0.2, f"a source waited {max(gaps):.2f} s for its turn"


def test_slow_sources_grow_the_pool_and_it_shrinks_once_they_are_fast_again(
        running: Callable[..., Poller], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(poller_module, "RESIZE_S", 0.5)
    slow = [FakeCollector(f"db{i}", interval_s=0.5, timeout_s=2.0) for i in range(6)]
    fast = [FakeCollector(f"web{i}", interval_s=0.1) for i in range(20)]
    for source in slow:
        source.work_s = 0.3  # six calls of 300 ms every 500 ms: one worker cannot keep up
    poller = running(slow + fast, max_workers=8)
    time.sleep(3.0)
    grown = poller.thread_count()
    assert grown >= 4, f"six slow sources left {grown} workers"
    late = [gap for source in fast for gap in _gaps(source)[5:]]  # after the growth
    assert max(late) < 0.5, f"a fast source waited {max(late):.2f} s behind the slow ones"
    assert all(s.state.name == "UP" for s in poller.statuses())
    for source in slow:
        source.work_s = 0.0
    wait_until(lambda: poller.thread_count() == CORE_WORKERS, timeout=10.0)
    before = [len(source.calls) for source in fast]
    time.sleep(1.0)
    assert all(len(s.calls) - b >= 8 for s, b in zip(fast, before, strict=True)), \
        "the sources are still polled on time after the pool shrank"


def _hold_the_gil(seconds: float) -> None:
    """Stand the whole process still, as a full collection of a large heap does: one call
    into C that never lets the GIL go."""
    n = 1_000_000
    started = time.perf_counter()
    sum(range(n))
    took = time.perf_counter() - started
    sum(range(int(n * seconds / max(took, 1e-6))))


def test_the_process_standing_still_grows_no_worker(
        running: Callable[..., Poller]) -> None:  # noqa: F811
    """Calls that waited while the whole process stood still waited for no worker: more
    threads would not have shortened it (the suite's soak grew to 7 workers in CI)."""
    sources = [FakeCollector(f"web{i}", interval_s=0.2) for i in range(20)]
    for source in sources:
        source.work_s = 0.004  # the worker is in a call 40 % of the time
    poller = running(sources, max_workers=8)
    time.sleep(0.5)
    for _ in range(5):
        _hold_the_gil(0.4)
        time.sleep(0.4)
    assert poller.thread_count() == CORE_WORKERS
    before = [len(source.calls) for source in sources]
    time.sleep(1.0)
    assert all(len(s.calls) - b >= 4 for s, b in zip(sources, before, strict=True))
