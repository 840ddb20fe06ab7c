"""Runs the alert engine on a timer thread over the metric store and the poller's states."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from console import metrics
from console.advisor import Thresholds, source_thresholds
from console.alert_rules import RuleSpec, usual_value
from console.alerts import (
    AlertEngine,
    AlertEvent,
    AlertStatus,
    Observation,
    observe,
    summarise,
    summarise_pending,
)
from console.domain import NamedState, Reading, SourceState, split_series, summarise_sources
from services.monitoring.alert_log import TIMELINE_STATES, AlertLog

log = logging.getLogger(__name__)

AlertListener = Callable[[AlertEvent], None]

_STATE_RANK = {"ok": 0, "unknown": 1, "warn": 2, "fail": 3}
#: How the name of a source's error ratio series ends (``web/error_ratio``).
_ERROR_RATIO_TAIL = "/" + metrics.ERROR_RATIO


class _Store(Protocol):
    def series_names(self) -> list[str]: ...

    def latest(self, series: str) -> Reading | None: ...

    def window(self, series: str, start_ts: float, end_ts: float) -> Any: ...


@dataclass(slots=True)
class _HeldUsual:
    value: float
    taken: float
    clear_since: float | None = None


class AlertService:
    """The profile's alert rules, evaluated every ``interval_s`` on the thread ``alerts``.

    Each evaluation reads the newest reading of every series a rule watches (older than
    ``max_age_s`` counts as silent) and the poller's state of the rule's source (down means
    "error", kept apart from "no data"), advances the engine, writes the changes to the
    alert log and calls the listeners (on the evaluator thread: a listener must not touch
    Qt widgets). Reads (:meth:`statuses`, :meth:`summary`) are safe from any thread.
    """

    def __init__(self, rules: Iterable[Any], store: _Store, poller: Any = None,
                 alert_log: AlertLog | None = None, *, interval_s: float = 2.0,
                 max_age_s: float = 60.0, retention_s: float = 30 * 86_400,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = AlertEngine(_specs(rules))
        self.store = store
        self.poller = poller
        self.log = alert_log
        self.interval_s = float(interval_s)
        self.max_age_s = float(max_age_s)
        self.retention_s = float(retention_s)
        self._clock = clock
        self._listeners: list[AlertListener] = []
        self._recent: deque[AlertEvent] = deque(maxlen=500)
        self._recent_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        #: A relative rule's usual value per (rule, series), held from its first breach.
        self._usual: dict[tuple[str, str], _HeldUsual] = {}
        #: Error-ratio thresholds of the sources that set their own (else the advisor's).
        self.error_limits: dict[str, Thresholds] = {}
        self.event_count = 0
        """How many state changes so far: a cheap way for a UI timer to see news."""

    @classmethod
    def from_profile(cls, profile: Any, store: _Store, poller: Any = None,
                     alert_log: AlertLog | None = None, **kwargs: Any) -> AlertService:
        """The service for a profile's ``alerts`` rules (none: an idle service)."""
        service = cls(getattr(profile, "alerts", ()) or (), store, poller, alert_log, **kwargs)
        service.error_limits = source_thresholds(getattr(profile, "sources", ()) or ())
        return service

    # -- rules and listeners -------------------------------------------------------------------

    def set_rules(self, rules: Iterable[Any]) -> None:
        """Swap the rules (the profile was edited); unchanged rules keep their state."""
        self.engine.set_rules(_specs(rules))

    def add_listener(self, listener: AlertListener) -> None:
        """Call ``listener(event)`` for every state change, on the evaluator thread."""
        self._listeners.append(listener)

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate_once(self, now: float | None = None) -> list[AlertEvent]:
        """Read the store and the poller once and advance every rule; the events."""
        now = self._clock() if now is None else now
        rules = self.engine.rules
        if not rules:
            return []
        states, errors = self._source_states()
        names = self.store.series_names()
        observations: dict[str, Observation] = {}
        for spec in rules:
            watched = [n for n in names if spec.matches(n)]
            latest = [r for r in (self.store.latest(n) for n in watched) if r is not None]
            state = (states.get(spec.source, SourceState.UNKNOWN) if spec.source
                     else SourceState.UP)
            usual = self._usual_values(spec, watched, now) if spec.relative else None
            observations[spec.name] = observe(spec, latest, now, self.max_age_s, state,
                                              errors.get(spec.source, ""), usual)
        events = self.engine.evaluate(now, observations)
        if events:
            self._publish(events)
        return events

    def _usual_values(self, spec: RuleSpec, series: list[str], now: float) -> dict[str, float]:
        """Each watched series' usual value (its median over the rule's baseline). Taken
        afresh at each evaluation until a reading breaches; then held (a rise must not become
        its own usual, nor a dip in it restart the count) until the series has been back
        inside the line for the rule's ``for_s``, or for at most ``baseline_s``."""
        out: dict[str, float] = {}
        for name in series:
            key = (spec.name, name)
            latest = self.store.latest(name)
            now_value = None if latest is None else latest.value
            held = self._usual.get(key)
            if held is not None and now - held.taken < spec.baseline_s:
                if now_value is not None and spec.breaching(now_value / held.value):
                    held.clear_since = None
                elif held.clear_since is None:
                    held.clear_since = now
                if held.clear_since is None or now - held.clear_since < spec.for_s:
                    out[name] = held.value
                    continue
            self._usual.pop(key, None)
            window = self.store.window(name, now - spec.baseline_s, now)
            value = usual_value(window.ts.tolist(), window.value.tolist(), spec.baseline_s)
            if value is None:
                continue
            if now_value is not None and spec.breaching(now_value / value):
                self._usual[key] = _HeldUsual(value, now)
            out[name] = value
        return out

    def _source_states(self) -> tuple[dict[str, SourceState], dict[str, str]]:
        if self.poller is None:
            return {}, {}
        states: dict[str, SourceState] = {}
        errors: dict[str, str] = {}
        for status in self.poller.statuses():
            states[status.name] = SourceState(str(status.state))
            errors[status.name] = status.last_error or ""
        return states, errors

    def _publish(self, events: Sequence[AlertEvent]) -> None:
        with self._recent_lock:
            self._recent.extend(events)
        for e in events:
            level = logging.WARNING if e.state == "firing" else logging.INFO
            log.log(level, "alert %s: %s", e.state, e.message)
        if self.log is not None:
            try:
                self.log.record(events)
            except Exception:
                log.exception("could not write %d alert events to the log", len(events))
        with self._recent_lock:
            self.event_count += len(events)  # after the log write: readers see them there
        for listener in list(self._listeners):
            try:
                for e in events:
                    listener(e)
            except Exception:
                log.exception("an alert listener failed")

    # -- the thread ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start evaluating on the thread ``alerts`` (no-op when running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and wait for it; closes nothing else."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.evaluate_once()
                self._maybe_prune()
            except Exception:
                log.exception("alert evaluation failed; trying again next round")
            self._stop.wait(max(0.05, self.interval_s - (time.monotonic() - started)))

    def _maybe_prune(self) -> None:
        now = self._clock()
        if self.log is None or now - self._last_prune < 3600:
            return
        self._last_prune = now
        removed = self.log.prune(now - self.retention_s)
        if removed:
            log.info("forgot %d alert events older than %.0f days", removed,
                     self.retention_s / 86_400)

    # -- reading -------------------------------------------------------------------------------

    def statuses(self) -> list[AlertStatus]:
        return self.engine.statuses()

    def firing(self) -> list[AlertStatus]:
        return self.engine.firing()

    def summary(self) -> tuple[str, str] | None:
        """(light state, words) while something fires ("Cache hit rate low"), else None."""
        return self.engine.summary()

    def recent(self, limit: int = 200) -> list[AlertEvent]:
        """The newest state changes, newest first: from the log when there is one."""
        if self.log is not None:
            try:
                return self.log.events(limit=limit)
            except Exception:
                log.exception("could not read the alert log")
        with self._recent_lock:
            return list(reversed(self._recent))[:limit]

    def history(self, **filters: Any) -> list[AlertEvent]:
        """Filtered events from the log (see :meth:`AlertLog.events`)."""
        if self.log is None:
            return self.recent(int(filters.get("limit", 200)))
        return self.log.events(**filters)

    def marks_since(self, ts: float, states: Sequence[str] = TIMELINE_STATES
                    ) -> list[tuple[float, str, str]]:
        """For the dashboard timeline: (ts, rule name, state) since ``ts``, oldest first."""
        if self.log is not None:
            return self.log.marks_since(ts, states)
        with self._recent_lock:
            return [(e.ts, e.rule, e.state) for e in self._recent
                    if e.ts >= ts and e.state in states]

    def failing_requests(self, now: float | None = None) -> tuple[str, str] | None:
        """(light state, words) when a source's latest error ratio reaches the advisor's
        threshold (1 % warn, 5 % fail, or the source's own), the worst source named."""
        now = self._clock() if now is None else now
        worst: tuple[float, str, str] | None = None
        for series in self.store.series_names():
            if not series.endswith(_ERROR_RATIO_TAIL):  # a once-a-second walk of them all
                continue
            source, metric, labels = split_series(series)
            if metric != metrics.ERROR_RATIO or labels:
                continue
            reading = self.store.latest(series)
            if reading is None or now - reading.ts > self.max_age_s:
                continue
            limits = self.error_limits.get(source, Thresholds())
            if reading.value < limits.error_ratio_warn:
                continue
            state = "fail" if reading.value >= limits.error_ratio_fail else "warn"
            if worst is None or (_STATE_RANK[state], reading.value) > (_STATE_RANK[worst[1]],
                                                                         worst[0]):
                worst = (reading.value, state, f"{source}: {reading.value:.0%} of requests fail")
        return None if worst is None else (worst[1], worst[2])

    def health_summary(self, sources: Iterable[NamedState] | None = None) -> tuple[str, str]:
        """The overall light: the worst of "sources" (down, stale), "alerts" (firing) and
        failing requests; on a tie the alert's words win, then the failing requests', since
        they say what is wrong for the shop. With nothing firing or failing and every source
        fine, a pending rule shows ('pending': an amber outline, "Cache hit rate low for
        20 s, fires at 60 s"). ``sources``: the poller's statuses, when just read."""
        if sources is None:
            sources = self.poller.statuses() if self.poller is not None else ()
        source_state, source_words = summarise_sources(sources)
        firing, failing = summarise(self.firing()), self.failing_requests()
        if firing is None and failing is None:
            pending = summarise_pending(self.statuses(), self._clock())
            if pending is not None and source_state in ("ok", "unknown"):
                return pending
        candidates = [firing, failing, (source_state, source_words)]
        present = [c for c in candidates if c is not None]
        return max(present, key=lambda c: (_STATE_RANK.get(c[0], 1),
                                           -present.index(c)))


def _specs(rules: Iterable[Any]) -> list[RuleSpec]:
    specs = []
    for rule in rules:
        specs.append(rule if isinstance(rule, RuleSpec) else RuleSpec.from_rule(rule))
    return specs
