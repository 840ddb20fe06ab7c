"""The alert engine: rules over series, with pending, firing and resolved states and hysteresis."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from console.alert_rules import RuleSpec, min_history_s
from console.domain import (
    Reading,
    Severity,
    SourceState,
)
from console.durations import format_duration


class AlertState(StrEnum):
    """Where a rule is now. ``resolved`` is an event, not a state: the rule is normal again."""

    NORMAL = "normal"
    PENDING = "pending"
    FIRING = "firing"
    NO_DATA = "no_data"
    ERROR = "error"


#: The states of events in the alert log: every state plus the end of a firing.
RESOLVED = "resolved"

_STATE_WORDS: dict[str, str] = {
    "normal": "Normal",
    "pending": "Pending",
    "firing": "Firing",
    "no_data": "No data",
    "error": "Error",
    RESOLVED: "Resolved",
}


def state_words(state: str) -> str:
    """'no_data' -> 'No data': how a state reads on screen."""
    return _STATE_WORDS.get(str(state), str(state).replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Observation:
    """What the rule sees at one evaluation: the worst current value of its series (None
    when every series is silent or NaN) and the state of its source per the poller."""

    value: float | None
    source_state: SourceState = SourceState.UP
    series: str = ""
    error: str = ""
    #: A relative rule's series read, but none has a usual yet (too little history): the
    #: rule is normal and says it is learning, not silent.
    learning: bool = False


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One change of a rule's state, as kept in the alert log and marked on the timeline.

    ``state`` is an :class:`AlertState` value or ``'resolved'``; ``ts`` is UTC epoch seconds.
    """

    ts: float
    rule: str
    state: str
    previous: str
    severity: Severity
    value: float | None = None
    series: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """A snapshot of one rule now: its state, since when, the last value seen."""

    rule: RuleSpec
    state: AlertState
    since: float
    value: float | None
    series: str
    message: str
    last_event: str = ""
    #: A relative rule with too little history to know its usual yet (normal meanwhile).
    learning: bool = False

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def severity(self) -> Severity:
        return self.rule.severity


@dataclass(slots=True)
class _RuleState:
    spec: RuleSpec
    state: AlertState = AlertState.NORMAL
    since: float = 0.0
    pending_since: float | None = None
    clear_since: float | None = None
    silent_since: float | None = None
    down_since: float | None = None
    value: float | None = None
    series: str = ""
    error: str = ""
    last_event: str = ""
    learning: bool = False


_SEVERITY_ORDER = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}


class AlertEngine:
    """Evaluates every rule of a profile, one observation per rule per call.

    Pure and deterministic: the caller passes the time and the observations, so the same
    recorded series always gives the same events. Safe to read from one thread while
    another evaluates (one short lock; readers get immutable snapshots).
    """

    def __init__(self, rules: Iterable[RuleSpec] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, _RuleState] = {}
        self.set_rules(rules)

    # -- rules -------------------------------------------------------------------------------

    def set_rules(self, rules: Iterable[RuleSpec]) -> None:
        """Replace the rules; a rule whose definition did not change keeps its state."""
        with self._lock:
            fresh: dict[str, _RuleState] = {}
            for spec in rules:
                if spec.name in fresh:
                    raise ValueError(f"two alert rules are named {spec.name!r}")
                old = self._rules.get(spec.name)
                fresh[spec.name] = old if old is not None and old.spec == spec else _RuleState(spec)
            self._rules = fresh

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        with self._lock:
            return tuple(s.spec for s in self._rules.values())

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, now: float, observations: Mapping[str, Observation]) -> list[AlertEvent]:
        """Advance every rule to ``now``; a rule missing from ``observations`` sees no data.
        Returns the state changes, in rule order."""
        events: list[AlertEvent] = []
        with self._lock:
            for name, rule_state in self._rules.items():
                obs = observations.get(name, Observation(None, SourceState.UNKNOWN))
                event = _step(rule_state, now, obs)
                if event is not None:
                    events.append(event)
        return events

    def step(self, rule: str, now: float, observation: Observation) -> AlertEvent | None:
        """Advance one rule; returns its state change, if any."""
        with self._lock:
            return _step(self._rules[rule], now, observation)

    # -- reading -----------------------------------------------------------------------------

    def statuses(self) -> list[AlertStatus]:
        """Every rule now, in profile order."""
        with self._lock:
            return [_status(s) for s in self._rules.values()]

    def status(self, rule: str) -> AlertStatus:
        with self._lock:
            return _status(self._rules[rule])

    def firing(self) -> list[AlertStatus]:
        """The firing rules, most severe first, then the longest firing first."""
        firing = [s for s in self.statuses() if s.state is AlertState.FIRING]
        return sorted(firing, key=lambda s: (_SEVERITY_ORDER[s.severity], s.since))

    def summary(self) -> tuple[str, str] | None:
        """(light state, words) for the status light while something fires, else None.

        The words are the rule's name ("Cache hit rate low"), plus how many more fire.
        """
        return summarise(self.firing())


def summarise(firing: Sequence[AlertStatus]) -> tuple[str, str] | None:
    """(light state 'fail'|'warn', words) for firing alerts, most severe first; None if none."""
    if not firing:
        return None
    top = firing[0]
    state = "fail" if top.severity is Severity.FAIL else "warn"
    words = top.name if len(firing) == 1 else f"{top.name} (+{len(firing) - 1} more)"
    return state, words


def pending_words(status: AlertStatus, now: float) -> str:
    """'Cache hit rate low for 20 s, fires at 60 s': how long a pending rule has breached and
    when it fires if nothing changes."""
    held = max(0.0, now - status.since)
    return (f"{status.name} for {format_duration(held)}, "
            f"fires at {format_duration(status.rule.for_s)}")


def summarise_pending(statuses: Sequence[AlertStatus], now: float) -> tuple[str, str] | None:
    """('pending', words) for the pending rule nearest to firing (the most severe first);
    None when nothing is pending."""
    pending = [s for s in statuses if s.state is AlertState.PENDING]
    if not pending:
        return None
    top = min(pending, key=lambda s: (_SEVERITY_ORDER[s.severity],
                                      s.since + s.rule.for_s - now))
    words = pending_words(top, now)
    if len(pending) > 1:
        words += f" (+{len(pending) - 1} more pending)"
    return "pending", words


def _status(s: _RuleState) -> AlertStatus:
    return AlertStatus(rule=s.spec, state=s.state, since=s.since, value=s.value,
                       series=s.series, message=_message(s), last_event=s.last_event,
                       learning=s.learning and s.state is AlertState.NORMAL)


def _message(s: _RuleState) -> str:
    spec = s.spec
    if s.state is AlertState.ERROR:
        return f"Source {spec.source or '?'} is down" + (f": {s.error}" if s.error else "")
    if s.state is AlertState.NO_DATA:
        return f"No data from {spec.where}"
    if s.learning and s.state is AlertState.NORMAL:
        return (f"Learning its usual: judged once {spec.where} has "
                f"{format_duration(min_history_s(spec.baseline_s))} of readings")
    now_value = spec.show(s.value)
    return f"{now_value} now; fires when {spec.describe()}"


def _step(s: _RuleState, now: float, obs: Observation) -> AlertEvent | None:
    spec = s.spec
    value = obs.value if obs.value is not None and math.isfinite(obs.value) else None
    before = s.state
    if obs.series:
        s.series = obs.series
    if value is not None:
        s.value = value

    if obs.source_state is SourceState.DOWN:
        s.silent_since = None
        s.error = obs.error
        if s.down_since is None:
            s.down_since = now
        if now - s.down_since >= spec.error_after_s:
            return _enter(s, AlertState.ERROR, now, value)
        return None
    s.down_since = None

    s.learning = value is None and obs.learning
    if s.learning:
        s.silent_since = None  # read, not silent: judged once its usual is known
        if before in (AlertState.NO_DATA, AlertState.ERROR):
            return _enter(s, AlertState.NORMAL, now, None)
        return None
    if value is None:
        if s.silent_since is None:
            s.silent_since = now
        if now - s.silent_since >= spec.no_data_after_s:
            return _enter(s, AlertState.NO_DATA, now, None)
        # A short gap changes nothing: pending keeps its clock, firing keeps firing.
        return None
    s.silent_since = None

    if before in (AlertState.NO_DATA, AlertState.ERROR):
        # Back from silence: judge the value afresh, as if from normal.
        s.state = AlertState.NORMAL
        s.pending_since = s.clear_since = None

    if s.state is AlertState.FIRING:
        if spec.clear(value):
            if s.clear_since is None:
                s.clear_since = now
            if now - s.clear_since >= spec.resolve_for_s:
                s.clear_since = None
                return _enter(s, AlertState.NORMAL, now, value, label=RESOLVED, previous=before)
        else:
            s.clear_since = None
        return None

    if spec.breaching(value):
        if s.pending_since is None:
            s.pending_since = now
        if now - s.pending_since >= spec.for_s:
            s.pending_since = None
            return _enter(s, AlertState.FIRING, now, value, previous=before)
        return _enter(s, AlertState.PENDING, now, value, previous=before)
    s.pending_since = None
    return _enter(s, AlertState.NORMAL, now, value, previous=before)


def _enter(s: _RuleState, state: AlertState, now: float, value: float | None, *,
           label: str | None = None, previous: AlertState | None = None) -> AlertEvent | None:
    before = previous if previous is not None else s.state
    if state is s.state and label is None and before is s.state:
        return None
    if state is not AlertState.PENDING:
        s.pending_since = None
    if state is not AlertState.FIRING:
        s.clear_since = None
    s.state = state
    s.since = now
    event_state = label or state.value
    s.last_event = event_state
    return AlertEvent(ts=now, rule=s.spec.name, state=event_state, previous=before.value,
                      severity=s.spec.severity, value=value, series=s.series,
                      message=_event_message(s, event_state, value))


def _event_message(s: _RuleState, event_state: str, value: float | None) -> str:
    spec = s.spec
    shown = spec.show(value)
    if event_state == AlertState.FIRING:
        return f"{spec.name}: {shown} ({spec.describe()})"
    if event_state == RESOLVED:
        return f"{spec.name} resolved: {shown}"
    if event_state == AlertState.PENDING:
        return f"{spec.name} pending: {shown}"
    if event_state == AlertState.NO_DATA:
        return f"{spec.name}: no data for {format_duration(spec.no_data_after_s)}"
    if event_state == AlertState.ERROR:
        return f"{spec.name}: source {spec.source or '?'} down" + (f" ({s.error})" if s.error
                                                                  else "")
    return f"{spec.name} normal: {shown}"


# -- observations from readings ------------------------------------------------------------------


def observe(spec: RuleSpec, latest: Iterable[Reading], now: float, max_age_s: float,
            source_state: SourceState = SourceState.UP, error: str = "",
            usual: Mapping[str, float] | None = None) -> Observation:
    """The rule's view of the newest readings: the worst fresh, finite value among the
    series it watches (highest for 'above', lowest for 'below'); None when all are silent.
    For a relative rule the value is each reading over its series' ``usual`` value (a series
    without one is not judged yet).

    ``latest`` may hold readings of other series; they are ignored.
    """
    best: tuple[float, str] | None = None
    learning = False
    for reading in latest:
        if not spec.matches(reading.series):
            continue
        if not math.isfinite(reading.value) or now - reading.ts > max_age_s:
            continue
        value = reading.value
        if spec.relative:
            base = (usual or {}).get(reading.series)
            if base is None or base <= 0:
                learning = True
                continue
            value = value / base
        if best is None or (value > best[0] if spec.direction == "above" else value < best[0]):
            best = (value, reading.series)
    if best is None:
        return Observation(None, source_state, "", error, learning=learning)
    return Observation(best[0], source_state, best[1], error)


def replay(spec: RuleSpec, samples: Iterable[tuple[float, float | None]
                                             | tuple[float, float | None, SourceState]]
           ) -> list[AlertEvent]:
    """Run one rule over a recorded series of (ts, value[, source state]); the events."""
    engine = AlertEngine([spec])
    events: list[AlertEvent] = []
    for sample in samples:
        ts, value = sample[0], sample[1]
        state = sample[2] if len(sample) > 2 else SourceState.UP  # type: ignore[misc]
        event = engine.step(spec.name, ts, Observation(value, state))
        if event is not None:
            events.append(event)
    return events
