"""The alert glue: rules over a real metric store and the poller's states, listeners, summary."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

from console.alert_rules import RuleSpec
from console.alerts import AlertEvent
from console.domain import Reading, SourceState
from console.store import MetricStore
from services.monitoring.alerting import AlertService


@dataclass
class FakeStatus:
    name: str
    state: SourceState
    last_error: str = ""


@dataclass
class FakePoller:
    states: dict[str, SourceState] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def statuses(self) -> list[FakeStatus]:
        return [FakeStatus(n, s, self.errors.get(n, "")) for n, s in self.states.items()]


HIT = RuleSpec.create("Cache hit rate low", "cache_hit_rate", "cache", below=0.8, for_s=10,
                      resolve_for_s=0)
QUEUE = RuleSpec.create("Queue backing up", "queue_depth", "broker", above=100, for_s=0)


def make(rules=(HIT, QUEUE), **states: SourceState):
    store = MetricStore()
    poller = FakePoller(dict(states) or {"cache": SourceState.UP, "broker": SourceState.UP})
    return store, poller, AlertService(rules, store, poller, max_age_s=30)


def test_rules_fire_from_store_readings_and_listeners_hear_once() -> None:
    store, _poller, service = make()
    heard: list[AlertEvent] = []
    service.add_listener(heard.append)
    store.append([Reading("cache/cache_hit_rate", 1000, 0.5),
                  Reading('broker/queue_depth{queue="celery"}', 1000, 20),
                  Reading('broker/queue_depth{queue="emails"}', 1000, 150)])
    events = service.evaluate_once(1000)
    assert [(e.rule, e.state) for e in events] == [("Cache hit rate low", "pending"),
                                                   ("Queue backing up", "firing")]
    assert events[1].series == 'broker/queue_depth{queue="emails"}'
    store.append([Reading("cache/cache_hit_rate", 1010, 0.5)])
    service.evaluate_once(1010)
    service.evaluate_once(1011)
    assert [e.state for e in heard] == ["pending", "firing", "firing"]
    assert service.summary() == ("warn", "Queue backing up (+1 more)")
    assert [e.state for e in service.recent()] == ["firing", "firing", "pending"]
    assert service.marks_since(1005) == [(1010, "Cache hit rate low", "firing")]


def test_a_down_source_is_an_error_and_a_silent_series_no_data() -> None:
    store, poller, service = make()
    store.append([Reading("cache/cache_hit_rate", 1000, 0.9),
                  Reading("broker/queue_depth", 1000, 3)])
    service.evaluate_once(1000)
    poller.states["broker"] = SourceState.DOWN
    poller.errors["broker"] = "connection refused"
    # The hit rate goes stale (older than max_age_s) while the broker is down.
    for now in (1010, 1020, 1031, 1061):
        service.evaluate_once(now)
    states = {s.name: s.state.value for s in service.statuses()}
    assert states == {"Cache hit rate low": "no_data", "Queue backing up": "error"}
    error = next(s for s in service.statuses() if s.name == "Queue backing up")
    assert error.message == "Source broker is down: connection refused"


def test_health_summary_prefers_the_worse_and_alert_words_on_a_tie() -> None:
    store, poller, service = make()
    assert service.health_summary() == ("ok", "All normal")
    store.append([Reading("broker/queue_depth", 1000, 500)])
    service.evaluate_once(1000)
    assert service.health_summary() == ("warn", "Queue backing up")
    poller.states["cache"] = SourceState.DOWN
    assert service.health_summary() == ("fail", "cache down")
    # A poller without sources (a profile with only a back end) has nothing to wait for.
    assert AlertService([], store, FakePoller()).health_summary() == (
        "unknown", "No live sources in this profile")
    idle = AlertService([], store, None)
    assert idle.health_summary() == ("unknown", "No live sources in this profile")
    assert idle.evaluate_once(1000) == []


def test_rules_from_a_profile_and_the_thread_starts_and_stops() -> None:
    profile = SimpleNamespace(alerts=[SimpleNamespace(
        name="Queue backing up", metric="queue_depth", source="broker", above=100, below=None,
        for_s=0, severity="warn")])
    store = MetricStore()
    poller = FakePoller({"broker": SourceState.UP})
    service = AlertService.from_profile(profile, store, poller, interval_s=0.05)
    fired = threading.Event()
    service.add_listener(lambda e: fired.set() if e.state == "firing" else None)
    import time

    store.append([Reading("broker/queue_depth", time.time(), 500)])
    service.start()
    try:
        assert service.running
        assert fired.wait(5), "the evaluator thread never fired the rule"
        assert any(t.name == "alerts" for t in threading.enumerate())
    finally:
        service.stop()
    assert not service.running


def test_a_failing_listener_does_not_stop_the_others() -> None:
    store, _poller, service = make()
    heard: list[str] = []

    def broken(_event: AlertEvent) -> None:
        raise RuntimeError("boom")

    service.add_listener(broken)
    service.add_listener(lambda e: heard.append(e.state))
    store.append([Reading("broker/queue_depth", 1000, 500)])
    service.evaluate_once(1000)
    assert heard == ["firing"]


def test_set_rules_swaps_the_rules() -> None:
    _store, _poller, service = make()
    service.set_rules([QUEUE])
    assert [s.name for s in service.statuses()] == ["Queue backing up"]


def test_failing_requests_turn_the_light_without_any_rule() -> None:
    from console.profile import Profile, Source

    store = MetricStore()
    poller = FakePoller({"api": SourceState.UP, "shop": SourceState.UP})
    profile = Profile(name="Bistro", sources=(
        Source("shop", "prometheus", "http://shop/metrics", error_ratio_warn=0.2),))
    service = AlertService.from_profile(profile, store, poller, max_age_s=30,
                                        clock=lambda: 1000.0)
    assert service.health_summary() == ("ok", "All normal")
    store.append([Reading("shop/error_ratio", 995, 0.1)])  # under its own 20 %
    assert service.health_summary() == ("ok", "All normal")
    store.append([Reading("api/error_ratio", 995, 0.03)])
    assert service.health_summary() == ("warn", "api: 3% of requests fail")
    store.append([Reading("api/error_ratio", 999, 1.0)])
    assert service.health_summary() == ("fail", "api: 100% of requests fail")
    # an old reading says nothing about now
    assert service.failing_requests(now=1100) is None
    poller.states["shop"] = SourceState.DOWN
    assert service.health_summary() == ("fail", "api: 100% of requests fail")


def test_a_pending_rule_shows_on_the_light_and_the_timeline() -> None:
    now = [1000.0]
    store = MetricStore()
    rule = RuleSpec.create("Cache hit rate low", "cache_hit_rate", "cache", below=0.8,
                           for_s=60)
    service = AlertService([rule], store, FakePoller({"cache": SourceState.UP}),
                           max_age_s=30, clock=lambda: now[0])
    store.append([Reading("cache/cache_hit_rate", 1000, 0.0)])
    service.evaluate_once()
    now[0] = 1020.0
    store.append([Reading("cache/cache_hit_rate", 1020, 0.0)])
    service.evaluate_once()
    assert service.health_summary() == ("pending", "Cache hit rate low for 20 s, fires at 1 min")
    assert service.marks_since(990) == [(1000, "Cache hit rate low", "pending")]
    now[0] = 1060.0
    store.append([Reading("cache/cache_hit_rate", 1060, 0.0)])
    service.evaluate_once()
    assert service.health_summary() == ("warn", "Cache hit rate low")


BUSIER = RuleSpec.create("Busier than usual", "request_rate", "shop", above=3.0, for_s=20,
                         baseline_s=900)


def test_a_relative_rule_fires_on_traffic_at_three_times_its_own_usual_and_holds_its_usual(
) -> None:
    store, _poller, service = make((BUSIER,), shop=SourceState.UP)
    # 5 requests/s for ten minutes: the usual; 12/s (2.4x) stays normal
    store.append([Reading("shop/request_rate", 1000 + t, 5.0 + (t % 3) * 0.5)
                  for t in range(0, 600, 2)])
    assert service.evaluate_once(1600) == []
    store.append([Reading("shop/request_rate", 1602, 12.0)])
    assert service.evaluate_once(1602) == []
    # traffic x5: pending at once, firing after 20 s, the usual held at ~5.5 meanwhile
    for t in range(1604, 1640, 2):
        store.append([Reading("shop/request_rate", t, 27.0)])
        service.evaluate_once(t)
    status = service.statuses()[0]
    assert status.state == "firing"
    assert status.value is not None and 4.5 < status.value < 5.5  # 27 against 5.5
    assert "x usual" in status.message and "3x its usual (median of 15 min)" in status.message
    # back to 6/s: resolves (margin 5 % of 3x, 20 s)
    for t in range(1640, 1670, 2):
        store.append([Reading("shop/request_rate", t, 6.0)])
        service.evaluate_once(t)
    assert service.statuses()[0].state == "normal"


def test_a_relative_rule_waits_for_a_usual_and_never_divides_by_zero() -> None:
    store, _poller, service = make((BUSIER,), shop=SourceState.UP)
    store.append([Reading("shop/request_rate", 700 + t, 0.0) for t in range(0, 320, 2)])
    store.append([Reading("shop/request_rate", 1020, 30.0)])
    assert service.evaluate_once(1020) == []  # a usual of 0: nothing to be a multiple of
    fresh_store, _p, fresh = make((BUSIER,), shop=SourceState.UP)
    fresh_store.append([Reading("shop/request_rate", 1000, 5.0),
                        Reading("shop/request_rate", 1002, 30.0)])
    assert fresh.evaluate_once(1002) == []  # two readings are no usual yet


def test_a_relative_rule_judges_nothing_until_it_has_a_third_of_its_baseline() -> None:
    # the GUI demo: a quiet first minute, then the lunch rush at 5x. A minute of a 15-minute
    # usual is no usual: the rule learns (normal, and says so) until it has 5 min of readings
    store, _poller, service = make((BUSIER,), shop=SourceState.UP)
    store.append([Reading("shop/request_rate", 1000 + t, 6.0) for t in range(0, 60, 5)])
    states = []
    for t in range(1060, 1300, 5):
        store.append([Reading("shop/request_rate", t, 30.0)])
        service.evaluate_once(t)
        states.append(service.statuses()[0].state)
    assert set(states) == {"normal"}, states
    assert service.statuses()[0].message == ("Learning its usual: judged once "
                                             "shop/request_rate has 5 min of readings")
    assert service.health_summary()[0] == "ok"
    # a calm 5 min: the usual is known, and a rise is judged against it
    calm_store, _p, calm = make((BUSIER,), shop=SourceState.UP)
    calm_store.append([Reading("shop/request_rate", 1000 + t, 6.0) for t in range(0, 300, 5)])
    calm_store.append([Reading("shop/request_rate", 1300, 30.0)])
    calm.evaluate_once(1300)
    assert calm.statuses()[0].state == "pending"


def test_a_rise_longer_than_a_young_baseline_does_not_become_its_own_usual() -> None:
    # 5 min of calm (the least history a 15-minute usual is judged on), then 5x for 40 s with
    # one dip to 2.9x: the usual is held from the first breach, so the rise fires instead of
    # being absorbed
    store, _poller, service = make((BUSIER,), shop=SourceState.UP)
    store.append([Reading("shop/request_rate", 720 + t, 6.0) for t in range(0, 300, 2)])
    states = []
    for t in range(1020, 1062, 2):
        value = 17.4 if t == 1030 else 30.0
        store.append([Reading("shop/request_rate", t, value)])
        service.evaluate_once(t)
        states.append(service.statuses()[0].state)
    assert states[0] == "pending" and states[-1] == "firing", states
    assert service.statuses()[0].value == 5.0
