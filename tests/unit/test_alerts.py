"""The alert engine's state machine on recorded series: pending, firing, hysteresis, no data."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from console.alert_rules import (
    RuleSpec,
    default_rules_for,
    format_value,
    parse_severity,
    usual_value,
)
from console.alerts import AlertEngine, AlertState, Observation, observe, replay, state_words
from console.domain import Reading, Severity, SourceState

HIT_RATE_LOW = RuleSpec.create("Cache hit rate low", "cache_hit_rate", "cache", below=0.8,
                               for_s=30, resolve_margin=0.05, resolve_for_s=20)
LATENCY_HIGH = RuleSpec.create("Pages slow", "latency_p95", "web", above=0.5, for_s=10,
                               resolve_margin=0.1, resolve_for_s=0, severity="critical")


def states(events) -> list[tuple[float, str]]:
    return [(e.ts, e.state) for e in events]


def test_a_short_dip_goes_pending_and_back_without_firing() -> None:
    series = [(0, 0.9), (10, 0.7), (20, 0.7), (30, 0.85), (40, 0.9)]
    assert states(replay(HIT_RATE_LOW, series)) == [(10, "pending"), (30, "normal")]


def test_a_long_dip_fires_after_for_s_and_resolves_after_the_resolve_period() -> None:
    series = [(0, 0.9), (10, 0.7), (20, 0.6), (40, 0.62), (50, 0.9), (60, 0.9), (70, 0.9)]
    events = replay(HIT_RATE_LOW, series)
    assert states(events) == [(10, "pending"), (40, "firing"), (70, "resolved")]
    firing = events[1]
    assert firing.previous == "pending"
    assert firing.value == pytest.approx(0.62)
    assert "62%" in firing.message and "below 80%" in firing.message
    assert events[2].previous == "firing"


def test_flapping_inside_the_hysteresis_band_never_resolves_nor_fires_twice() -> None:
    # Fires at 30, then wobbles between 0.79 and 0.83: above the threshold but inside the
    # 0.05 margin (resolve line 0.85), so it stays firing: one firing, no resolution.
    series = [(0, 0.7), (30, 0.7)] + [(30 + 5 * i, 0.83 if i % 2 else 0.79)
                                      for i in range(1, 40)]
    events = replay(HIT_RATE_LOW, series)
    assert states(events) == [(0, "pending"), (30, "firing")]


def test_flapping_across_the_resolve_line_needs_a_steady_resolve_period() -> None:
    # Back past the line every other 10 s: the 20 s resolve period never completes.
    flapping = [(30 + 10 * i, 0.9 if i % 2 else 0.7) for i in range(1, 20)]
    events = replay(HIT_RATE_LOW, [(0, 0.7), (30, 0.7), *flapping])
    assert states(events) == [(0, "pending"), (30, "firing")]
    # ... and once it stays clear for 20 s it resolves exactly once.
    steady = [(230 + 10 * i, 0.9) for i in range(4)]
    events = replay(HIT_RATE_LOW, [(0, 0.7), (30, 0.7), *flapping, *steady])
    assert states(events)[-1] == (240, "resolved")
    assert [e.state for e in events].count("firing") == 1


def test_for_s_zero_fires_at_once_and_resolve_for_zero_resolves_at_once() -> None:
    events = replay(LATENCY_HIGH, [(0, 0.2), (1, 0.9), (11, 0.9), (12, 0.45), (13, 0.39)])
    assert states(events) == [(1, "pending"), (11, "firing"), (13, "resolved")]
    instant = RuleSpec.create("Up", "up", "web", below=1, for_s=0, resolve_for_s=0,
                              resolve_margin=0)
    assert states(replay(instant, [(0, 1), (1, 0), (2, 1)])) == [(1, "firing"), (2, "resolved")]


def test_no_data_is_kept_apart_from_error() -> None:
    rule = RuleSpec.create("Queue backing up", "queue_depth", "broker", above=100, for_s=0,
                           no_data_after_s=30)
    silent = replay(rule, [(0, 5), (10, None), (20, math.nan), (45, None), (50, 7)])
    assert states(silent) == [(45, "no_data"), (50, "normal")]
    assert silent[0].previous == "normal"

    down = SourceState.DOWN
    failed = replay(rule, [(0, 5), (10, None, down), (15, None, down), (25, None, down),
                           (30, 6)])
    assert states(failed) == [(25, "error"), (30, "normal")]
    assert failed[0].message.startswith("Queue backing up: source broker down")


def test_a_short_gap_keeps_a_firing_alert_firing() -> None:
    series = [(0, 0.7), (30, 0.6), (35, None), (40, None), (45, 0.6)]
    assert states(replay(HIT_RATE_LOW, series)) == [(0, "pending"), (30, "firing")]


def test_a_firing_alert_that_goes_silent_ends_in_no_data_and_refires_only_on_a_new_breach() -> None:
    series = [(0, 0.7), (30, 0.6), *[(30 + 5 * i, None) for i in range(1, 9)], (80, 0.6),
              (110, 0.6)]
    events = replay(HIT_RATE_LOW, series)
    assert states(events) == [(0, "pending"), (30, "firing"), (65, "no_data"), (80, "pending"),
                              (110, "firing")]


def test_engine_evaluates_all_rules_and_summarises_the_worst_firing() -> None:
    engine = AlertEngine([HIT_RATE_LOW, LATENCY_HIGH])
    assert engine.summary() is None
    assert [s.state for s in engine.statuses()] == [AlertState.NORMAL, AlertState.NORMAL]
    engine.evaluate(0, {"Cache hit rate low": Observation(0.5), "Pages slow": Observation(0.2)})
    events = engine.evaluate(30, {"Cache hit rate low": Observation(0.5),
                                  "Pages slow": Observation(0.2)})
    assert states(events) == [(30, "firing")]
    assert engine.summary() == ("warn", "Cache hit rate low")
    engine.evaluate(31, {"Cache hit rate low": Observation(0.5), "Pages slow": Observation(0.8)})
    engine.evaluate(41, {"Cache hit rate low": Observation(0.5), "Pages slow": Observation(0.8)})
    assert [s.name for s in engine.firing()] == ["Pages slow", "Cache hit rate low"]
    assert engine.summary() == ("fail", "Pages slow (+1 more)")
    assert engine.status("Pages slow").since == 41


def test_missing_observations_count_as_no_data() -> None:
    engine = AlertEngine([HIT_RATE_LOW])
    assert engine.evaluate(0, {}) == []
    events = engine.evaluate(31, {})
    assert states(events) == [(31, "no_data")]
    assert engine.status("Cache hit rate low").message == "No data from cache/cache_hit_rate"


def test_changing_rules_keeps_the_state_of_the_unchanged_ones() -> None:
    engine = AlertEngine([HIT_RATE_LOW])
    engine.evaluate(0, {"Cache hit rate low": Observation(0.5)})
    engine.evaluate(30, {"Cache hit rate low": Observation(0.5)})
    engine.set_rules([HIT_RATE_LOW, LATENCY_HIGH])
    assert engine.status("Cache hit rate low").state is AlertState.FIRING
    stricter = RuleSpec.create("Cache hit rate low", "cache_hit_rate", "cache", below=0.9)
    engine.set_rules([stricter])
    assert engine.status("Cache hit rate low").state is AlertState.NORMAL
    with pytest.raises(ValueError, match="two alert rules"):
        engine.set_rules([stricter, stricter])


def test_observe_takes_the_worst_fresh_series_of_the_rule() -> None:
    queue = RuleSpec.create("Queue", "queue_depth", "broker", above=100)
    latest = [
        Reading('broker/queue_depth{queue="celery"}', 100.0, 40),
        Reading('broker/queue_depth{queue="emails"}', 100.0, 140),
        Reading('broker/queue_depth{queue="old"}', 10.0, 9999),  # too old
        Reading("web/queue_depth", 100.0, 500),  # another source
        Reading('broker/queue_depth{queue="nan"}', 100.0, math.nan),
    ]
    obs = observe(queue, latest, now=101, max_age_s=30)
    assert obs.value == 140 and obs.series == 'broker/queue_depth{queue="emails"}'
    only_celery = RuleSpec.create("Celery", "queue_depth", "broker", above=100,
                                  labels={"queue": "celery"})
    assert observe(only_celery, latest, now=101, max_age_s=30).value == 40
    anywhere = RuleSpec.create("Any", "queue_depth", "", above=100)
    assert observe(anywhere, latest, now=101, max_age_s=30).value == 500
    hit = RuleSpec.create("Hit", "cache_hit_rate", "cache", below=0.8)
    missing = observe(hit, latest, now=101, max_age_s=30, source_state=SourceState.DOWN,
                      error="refused")
    assert missing.value is None and missing.source_state is SourceState.DOWN


def test_rule_from_a_profile_rule_object_gets_defaults() -> None:
    rule = SimpleNamespace(name="Cache hit rate low", metric="cache_hit_rate", source="cache",
                           above=None, below=0.8, for_s=60, severity="warning")
    spec = RuleSpec.from_rule(rule)
    assert spec.direction == "below" and spec.threshold == 0.8
    assert spec.resolve_margin == pytest.approx(0.04) and spec.resolve_for_s == 60
    assert spec.severity is Severity.WARN
    assert spec.describe() == "cache/cache_hit_rate below 80% for 1 min"
    op_style = SimpleNamespace(name="x", metric="latency_p95", source="web", op="above",
                               threshold=0.25, for_s=0, severity="fail")
    assert RuleSpec.from_rule(op_style).describe() == "web/latency_p95 above 250 ms"


@pytest.mark.parametrize("kwargs", [{}, {"above": 1, "below": 2}])
def test_a_rule_needs_exactly_one_of_above_or_below(kwargs) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        RuleSpec.create("x", "up", "web", **kwargs)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        RuleSpec("x", "up", "web", "sideways", 1.0)
    with pytest.raises(ValueError, match="number"):
        RuleSpec("x", "up", "web", "above", math.nan)
    with pytest.raises(ValueError, match="negative"):
        RuleSpec.create("x", "up", "web", above=1, for_s=-1)


def test_default_rules_cover_latency_cache_and_queues() -> None:
    rules = default_rules_for([("web", "prometheus"), ("cache", "redis"),
                               ("broker", "rabbitmq")])
    by_name = {r.name: r for r in rules}
    assert by_name["Pages slow (p95 latency high)"].source == "web"
    assert by_name["Cache hit rate low"].source == "web"  # the first fitting source
    assert by_name["Queue backing up"].threshold == 100
    assert default_rules_for([("cache", "redis")])[0].source == "cache"


def test_words_and_formats() -> None:
    assert state_words("no_data") == "No data"
    assert state_words("resolved") == "Resolved"
    assert format_value("latency_p95", 0.2504) == "250 ms"
    assert format_value("cache_hit_rate", 0.5) == "50%"
    assert format_value("queue_depth", 12.0) == "12"
    assert format_value("queue_depth", None) == "—"
    assert parse_severity("critical") is Severity.FAIL
    assert parse_severity("nonsense") is Severity.WARN


def test_a_relative_rule_reads_as_a_factor_of_its_usual() -> None:
    rule = RuleSpec.create("Busier than usual", "request_rate", "shop", above=3, for_s=30,
                           baseline_s=900)
    assert rule.relative and not RuleSpec.create("x", "request_rate", above=3).relative
    assert rule.describe() == ("shop/request_rate above 3x its usual (median of 15 min) "
                               "for 30 s")
    assert rule.show(4.6) == "4.6x usual"
    minutes = [0.0, 100.0, 200.0, 300.0, 400.0]
    # a median: one spike is no usual
    assert usual_value(minutes, [5.0, 6.0, 4.0, 5.0, 100.0], 900) == 5.0
    assert usual_value(minutes[:2], [5.0, 6.0], 900) is None
    assert usual_value(range(0, 900, 100), [0.0] * 9, 900) is None
    # five readings over 4 min are too little history for a usual of 15 min (5 min needed)
    assert usual_value([0.0, 60.0, 120.0, 180.0, 240.0], [5.0] * 5, 900) is None
    obs = observe(rule, [Reading("shop/request_rate", 100.0, 20.0)], 100.0, 30.0,
                  usual={"shop/request_rate": 5.0})
    assert obs.value == 4.0
    assert observe(rule, [Reading("shop/request_rate", 100.0, 20.0)], 100.0, 30.0).value is None
    with pytest.raises(ValueError):
        RuleSpec.create("x", "request_rate", above=0, baseline_s=900)


def test_a_relative_rule_draws_no_line_for_the_advisor() -> None:
    from console.advisor import thresholds_from_rules

    slower = RuleSpec.create("Slower than usual", "latency_p95", "web", above=3,
                             baseline_s=900)
    fixed = RuleSpec.create("Slow", "latency_p95", "web", above=0.8)
    assert thresholds_from_rules([slower], ["web"]) == {}  # not "p95 above 3 s"
    assert thresholds_from_rules([slower, fixed], ["web"])["web"].latency_p95_s == 0.8
