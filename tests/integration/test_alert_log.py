"""The alert log on a real SQLite file: record, filter, timeline marks, prune, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from console.alert_rules import RuleSpec
from console.alerts import AlertEvent
from console.domain import Reading, Severity, SourceState
from console.store import MetricStore
from services.monitoring.alert_log import AlertLog
from services.monitoring.alerting import AlertService

pytestmark = pytest.mark.integration


def event(ts: float, rule: str, state: str, previous: str = "normal") -> AlertEvent:
    return AlertEvent(ts=ts, rule=rule, state=state, previous=previous, severity=Severity.WARN,
                      value=0.5, series="cache/cache_hit_rate", message=f"{rule} {state}")


@pytest.fixture
def alert_log(tmp_path: Path):
    log = AlertLog(tmp_path / "alerts.sqlite", profile="Main Street Bistro")
    yield log
    log.close()


def test_events_round_trip_newest_first_and_filter(alert_log: AlertLog) -> None:
    assert alert_log.record([event(10, "Cache hit rate low", "pending"),
                             event(40, "Cache hit rate low", "firing", "pending"),
                             event(50, "Queue backing up", "no_data"),
                             event(90, "Cache hit rate low", "resolved", "firing")]) == 4
    got = alert_log.events()
    assert [(e.ts, e.state) for e in got] == [(90, "resolved"), (50, "no_data"),
                                              (40, "firing"), (10, "pending")]
    assert got[2] == event(40, "Cache hit rate low", "firing", "pending")
    assert [e.ts for e in alert_log.events(rule="Queue backing up")] == [50]
    assert [e.ts for e in alert_log.events(since=20, until=60)] == [50, 40]
    assert [e.ts for e in alert_log.events(states=["firing"])] == [40]
    assert len(alert_log.events(limit=2)) == 2
    assert alert_log.marks_since(20) == [(40, "Cache hit rate low", "firing"),
                                         (90, "Cache hit rate low", "resolved")]
    assert alert_log.record([]) == 0


def test_profiles_share_the_file_but_not_the_history(tmp_path: Path, alert_log: AlertLog) -> None:
    alert_log.record([event(10, "A", "firing")])
    other = AlertLog(tmp_path / "alerts.sqlite", profile="Harbour Café")
    try:
        other.record([event(11, "B", "firing")])
        assert [e.rule for e in alert_log.events()] == ["A"]
        assert [e.rule for e in other.events()] == ["B"]
    finally:
        other.close()


def test_prune_forgets_only_old_events_of_this_profile(alert_log: AlertLog) -> None:
    alert_log.record([event(float(ts), "A", "firing") for ts in range(0, 100, 10)])
    assert alert_log.prune(50) == 5
    assert alert_log.count() == 5
    assert min(e.ts for e in alert_log.events()) == 50


def test_the_history_survives_a_restart(tmp_path: Path) -> None:
    first = AlertLog(tmp_path / "alerts.sqlite", profile="p")
    first.record([event(1, "A", "firing")])
    first.close()
    again = AlertLog(tmp_path / "alerts.sqlite", profile="p")
    try:
        assert [e.state for e in again.events()] == ["firing"]
    finally:
        again.close()


def test_the_service_writes_from_its_thread_while_the_gui_reads(alert_log: AlertLog) -> None:
    store = MetricStore()

    class Poller:
        def statuses(self):
            return [type("S", (), {"name": "broker", "state": SourceState.UP,
                                   "last_error": ""})()]

    rule = RuleSpec.create("Queue backing up", "queue_depth", "broker", above=100, for_s=0,
                           resolve_for_s=0)
    service = AlertService([rule], store, Poller(), alert_log)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(200):
                store.append([Reading("broker/queue_depth", 1000 + i, 500 if i % 2 else 5)])
                service.evaluate_once(1000 + i)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer, name="test-alert-writer")
    thread.start()
    while thread.is_alive():
        alert_log.events(limit=50)
    thread.join()
    assert errors == []
    states = [e.state for e in alert_log.events(limit=1000, newest_first=False)]
    assert len(states) == 199 and states[:3] == ["firing", "resolved", "firing"]
    assert service.history(rule="Queue backing up", limit=3)[0].state == "firing"
