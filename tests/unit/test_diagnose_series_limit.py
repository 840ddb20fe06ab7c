"""The headless sweep keeps a source to its max_series label sets per metric, as the poller does."""

from __future__ import annotations

from console import metrics
from console.domain import CollectorReport, Reading, Status, series_name
from console.profile import Profile, Source
from services.diagnostics.diagnose import run_diagnose


class CrowdedVhost:
    """A source that reports 1,500 queues (a vhost read by name, or an exporter)."""

    kind = "rabbitmq"
    interval_s = 10.0
    timeout_s = 2.0

    def __init__(self, name: str, queues: int) -> None:
        self.name = name
        self.queues = queues

    def collect(self) -> CollectorReport:
        return CollectorReport(readings=tuple(
            Reading(series_name(self.name, metrics.QUEUE_DEPTH, {"queue": f"q{i:04d}"}),
                    100.0, float(i % 7)) for i in range(self.queues)), detail="1500 queues")

    def close(self) -> None:
        pass


def sweep(max_series: int) -> tuple[dict[str, int], str, Status, int]:
    profile = Profile(name="crowded", sources=(
        Source(name="mq", kind="rabbitmq", url="http://127.0.0.1:1/", max_series=max_series),))
    result = run_diagnose(profile, collectors=[CrowdedVhost("mq", 1500)], window_s=0.0)
    check = next(c for c in result.checks if c.name == "mq")
    return dict(result.queue_depth), check.detail, check.status, len(result.readings)


def test_a_vhost_of_1500_queues_is_swept_as_1000_and_other() -> None:
    depths, detail, status, readings = sweep(1000)

    assert len(depths) == 1001  # before: all 1,500, past the profile's max_series
    assert depths["mq/(other)"] == sum(i % 7 for i in range(1000, 1500))
    assert readings == 1001
    assert "500 queue_depth series folded into 'other'" in detail
    assert "max_series = 1,000" in detail
    assert status is Status.WARN


def test_within_max_series_the_sweep_keeps_every_queue_and_says_nothing() -> None:
    depths, detail, status, _readings = sweep(2000)

    assert len(depths) == 1500
    assert detail == "1500 queues"
    assert status is Status.OK
