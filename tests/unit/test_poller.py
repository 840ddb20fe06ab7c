"""The poller: on-time polling beside hanging sources, up/down/stale, backoff, hand-off."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from console.domain import CollectorReport, Reading, SourceState, series_name
from console.store import MetricStore
from services.errors import SourceUnreachable
from services.monitoring.poller import Poller, SourceStatus


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeCollector:
    """Answers at once, fails, or blocks until released, as the test says."""

    def __init__(
        self,
        name: str,
        *,
        interval_s: float = 1.0,
        timeout_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.kind = "fake"
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.calls: list[float] = []
        self.fail = False
        self.block: threading.Event | None = None
        self.error: Exception | None = None
        self.work_s = 0.0

    def collect(self) -> CollectorReport:
        self.calls.append(self.clock())
        if self.work_s:
            time.sleep(self.work_s)  # stands for the I/O of a real scrape
        gate = self.block
        if gate is not None:
            gate.wait(30)
        if self.error is not None:
            raise self.error
        if self.fail:
            raise SourceUnreachable(f"{self.name} refused the connection; is it running?")
        return CollectorReport(readings=(Reading(f"{self.name}/value", time.time(), 1.0),))

    def close(self) -> None:
        pass


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


@pytest.fixture
def running() -> Iterator[Callable[..., Poller]]:
    """Start pollers for a test and always stop them (and release hung collectors)."""
    made: list[tuple[Poller, list[FakeCollector]]] = []

    def make(
        collectors: list[FakeCollector],
        listener: Callable[[SourceStatus], None] | None = None,
        **kwargs: object,
    ) -> Poller:
        poller = Poller(collectors, kwargs.pop("store", None) or MetricStore(), **kwargs)  # type: ignore[arg-type]
        if listener is not None:
            poller.add_listener(listener)
        made.append((poller, collectors))
        poller.start()
        return poller

    yield make
    for poller, collectors in made:
        for c in collectors:
            if c.block is not None:
                c.block.set()
        assert poller.stop(timeout=5.0), "every poller thread stopped"


def test_fifty_sources_poll_on_time_while_five_hang(running: Callable[..., Poller]) -> None:
    interval = 0.2
    healthy = [FakeCollector(f"shop-{i}", interval_s=interval, timeout_s=0.2) for i in range(45)]
    hanging = [FakeCollector(f"stuck-{i}", interval_s=interval, timeout_s=0.2) for i in range(5)]
    for c in healthy:
        c.work_s = 0.02  # 45 x 20 ms every 200 ms: needs 4.5 of the 8 workers
    release = threading.Event()
    for c in hanging:
        c.block = release
    poller = running(healthy + hanging, max_workers=8, grace_s=0.1)

    observed = 3.0
    time.sleep(observed)  # the thing measured is polling over a stretch of time

    counts = [len(c.calls) for c in healthy]
    gaps = [b - a for c in healthy for a, b in zip(c.calls, c.calls[1:], strict=False)]
    expected = observed / interval
    assert min(counts) >= 0.8 * expected, f"some source fell behind: {min(counts)} polls"
    assert statistics.median(gaps) == pytest.approx(interval, rel=0.1)
    assert max(gaps) < 3 * interval, f"a source waited {max(gaps):.2f} s"
    states = {s.name: s for s in poller.statuses()}
    for c in hanging:
        assert len(c.calls) == 1, "a stuck source holds one thread, not one per interval"
        assert states[c.name].state is SourceState.DOWN
        assert "hangs" in states[c.name].last_error
    assert all(states[c.name].state is SourceState.UP for c in healthy)
    assert poller.thread_count() <= 8 + len(hanging)


def test_up_down_up_reported_to_listeners(running: Callable[..., Poller]) -> None:
    source = FakeCollector("web", interval_s=0.05)
    seen: list[SourceStatus] = []
    store = MetricStore()
    poller = Poller([source], store)
    poller.add_listener(seen.append)
    poller.start()
    try:
        wait_until(lambda: poller.status("web").state is SourceState.UP)
        source.fail = True
        wait_until(lambda: poller.status("web").state is SourceState.DOWN)
        down = poller.status("web")
        assert "refused the connection" in down.last_error
        assert down.failures >= 1
        source.fail = False
        wait_until(lambda: poller.status("web").state is SourceState.UP)
    finally:
        assert poller.stop()
    assert [s.state for s in seen] == [SourceState.UP, SourceState.DOWN, SourceState.UP]
    up = poller.status("web")
    assert up.last_error == "" and up.failures == 0 and up.last_ok_ts is not None


def test_backoff_doubles_up_to_a_minute(running: Callable[..., Poller]) -> None:
    clock = FakeClock()
    source = FakeCollector("broker", interval_s=1.0, clock=clock)
    source.fail = True
    poller = running([source], clock=clock, tick_s=0.01)

    wait_until(lambda: poller.status("broker").failures == 1)
    delays = []
    for failures in range(1, 9):
        status = poller.status("broker")
        assert status.failures == failures
        delays.append(status.next_due - source.calls[-1])
        clock.now = status.next_due
        wait_until(lambda n=failures: poller.status("broker").failures == n + 1)
        assert source.calls[-1] == status.next_due, "polled when due, not before"

    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]
    source.fail = False
    clock.now = poller.status("broker").next_due
    wait_until(lambda: poller.status("broker").state is SourceState.UP)
    assert poller.status("broker").next_due == pytest.approx(clock.now + 1.0)


def test_stale_while_a_call_drags_then_down_when_it_hangs(
    running: Callable[..., Poller],
) -> None:
    clock = FakeClock()
    start = clock.now
    source = FakeCollector("db", interval_s=1.0, timeout_s=10.0, clock=clock)
    seen: list[SourceState] = []
    poller = running(
        [source], listener=lambda s: seen.append(s.state), clock=clock, tick_s=0.01, grace_s=1.0
    )
    wait_until(lambda: poller.status("db").state is SourceState.UP)

    gate = threading.Event()
    source.block = gate
    clock.now = start + 1.0  # the second poll starts and drags on
    wait_until(lambda: len(source.calls) == 2)
    clock.now = start + 3.5
    wait_until(lambda: poller.status("db").state is SourceState.STALE)

    hung = threading.Event()
    source.block = hung  # the third poll, due already, will hang
    gate.set()  # the second answers after all, within its timeout
    wait_until(lambda: poller.status("db").state is SourceState.UP)
    wait_until(lambda: len(source.calls) == 3)
    assert source.calls[2] == start + 3.5
    clock.now = start + 3.5 + 10.0 + 1.01  # past timeout + grace
    wait_until(lambda: poller.status("db").state is SourceState.DOWN)
    assert "no answer within 10 s" in poller.status("db").last_error

    clock.now += 5.0  # due again, but the stuck call is never doubled up
    time.sleep(0.1)
    assert len(source.calls) == 3
    source.block = None
    hung.set()  # the late answer is dropped: the source stays down until the next poll
    time.sleep(0.05)
    assert poller.status("db").state is SourceState.DOWN
    clock.now = poller.status("db").next_due
    wait_until(lambda: poller.status("db").state is SourceState.UP)
    assert seen == [
        SourceState.UP,
        SourceState.STALE,
        SourceState.UP,
        SourceState.DOWN,
        SourceState.UP,
    ]


def test_silent_source_that_never_answers_turns_stale_not_up(
    running: Callable[..., Poller],
) -> None:
    clock = FakeClock()
    source = FakeCollector("slow", interval_s=1.0, timeout_s=30.0, clock=clock)
    gate = threading.Event()
    source.block = gate
    poller = running([source], clock=clock, tick_s=0.01)
    wait_until(lambda: len(source.calls) == 1)
    assert poller.status("slow").state is SourceState.UNKNOWN
    clock.now += 3.5
    wait_until(lambda: poller.status("slow").state is SourceState.STALE)


def test_poll_now_polls_at_once(running: Callable[..., Poller]) -> None:
    source = FakeCollector("cache", interval_s=3600.0)
    poller = running([source])
    wait_until(lambda: len(source.calls) == 1)
    poller.poll_now("cache")
    wait_until(lambda: len(source.calls) == 2, timeout=2.0)
    poller.poll_now()
    wait_until(lambda: len(source.calls) == 3, timeout=2.0)
    with pytest.raises(KeyError):
        poller.poll_now("nobody")


def test_readings_and_scrape_time_go_to_store_and_history(
    running: Callable[..., Poller],
) -> None:
    class Sink:
        def __init__(self) -> None:
            self.readings: list[Reading] = []

        def record(self, readings: tuple[Reading, ...]) -> None:
            self.readings.extend(readings)

    store = MetricStore()
    sink = Sink()
    source = FakeCollector("web", interval_s=0.05)
    poller = running([source], store=store, history=sink)
    wait_until(lambda: len(source.calls) >= 3)

    assert {"web/value", "web/scrape_seconds"} <= set(store.series_names())
    scrape = store.latest("web/scrape_seconds")
    assert scrape is not None and 0 <= scrape.value < 1.0
    assert {r.series for r in sink.readings} == {"web/value", "web/scrape_seconds"}
    assert poller.status("web").last_latency_s is not None
    assert poller.last_report("web") is not None


def test_unexpected_error_marks_the_source_down(running: Callable[..., Poller]) -> None:
    source = FakeCollector("odd", interval_s=0.05)
    source.error = ValueError("no JSON object could be decoded")
    poller = running([source])
    wait_until(lambda: poller.status("odd").state is SourceState.DOWN)
    assert poller.status("odd").last_error.startswith("unexpected ValueError")


def test_a_failing_listener_does_not_stop_polling(running: Callable[..., Poller]) -> None:
    source = FakeCollector("web", interval_s=0.05)
    poller = Poller([source], MetricStore())
    poller.add_listener(lambda s: 1 / 0)
    poller.start()
    try:
        wait_until(lambda: len(source.calls) >= 3)
    finally:
        assert poller.stop()


def test_stop_leaves_no_poller_thread_behind() -> None:
    sources = [FakeCollector(f"s{i}", interval_s=0.05) for i in range(4)]
    poller = Poller(sources, MetricStore(), max_workers=3)
    poller.start()
    wait_until(lambda: all(len(s.calls) >= 2 for s in sources))
    assert poller.stop(timeout=5.0)
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith("poller-")], names
    with pytest.raises(ValueError, match="share a name"):
        Poller([sources[0], sources[0]], MetricStore())


class ManyQueues(FakeCollector):
    """A broker reporting ``count`` queues of depth 2 on every poll."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__(name, interval_s=0.05)
        self.count = count

    def collect(self) -> CollectorReport:
        self.calls.append(self.clock())
        ts = time.time()
        return CollectorReport(readings=tuple(
            Reading(series_name(self.name, "queue_depth", {"queue": f"q{i}"}), ts, 2.0)
            for i in range(self.count)))


def test_a_source_keeps_its_series_limit_and_warns_of_the_rest(running) -> None:
    store = MetricStore()
    mq, small = ManyQueues("mq", 1500), ManyQueues("small", 40)
    poller = running([mq, small], store=store, series_limits={"mq": 1000, "small": 1000})
    wait_until(lambda: len(mq.calls) >= 2 and len(small.calls) >= 2
               and poller.status("mq").warning != "")

    depths = [n for n in store.series_names() if "queue_depth" in n]
    assert len([n for n in depths if n.startswith("mq/")]) == 1001
    other = store.latest(series_name("mq", "queue_depth", {"series": "other"}))
    assert other is not None and other.value == 2.0 * 500
    assert poller.status("mq").warning.startswith("500 queue_depth series folded into 'other'")
    assert poller.status("small").warning == ""
    assert len(poller.last_report("mq").readings) == 1001  # not all 1,500 kept in memory
