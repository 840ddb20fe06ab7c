"""The dashboard's event markers: alert thresholds, alert marks and demo scenario changes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ui.charts.panel_parts import Threshold
from ui.charts.timeline import Marker
from ui.theme import FAIL, WARN, state_colour
from ui.worker import TaskState

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

log = logging.getLogger(__name__)

#: How far back the first read of events and alert marks reaches.
EVENTS_REACH_S = 7 * 86_400


class EventMarkers:
    """Draws the profile's alert thresholds and marks each event on the timeline once."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self._events_since = page.clock() - EVENTS_REACH_S
        self._alerts_since = page.clock() - EVENTS_REACH_S
        self.busy = False
        self._keys: set[tuple[float, str]] = set()

    def set_thresholds(self) -> None:
        """Horizontal lines at the profile's alert thresholds, on the panel of the metric."""
        from console.alert_rules import RuleSpec

        rules = []
        for rule in getattr(self.page.ctx.profile, "alerts", ()) or ():
            try:
                rules.append(RuleSpec.from_rule(rule))
            except (ValueError, TypeError, AttributeError) as exc:
                log.debug("alert rule not drawn: %s", exc)
        for panel in self.page.timeline.panels:
            lines = []
            for spec in rules:
                # a relative rule's threshold is a factor of the series' usual value, not a
                # level on the axis
                if spec.metric not in panel.spec.metrics or spec.baseline_s:
                    continue
                colour = FAIL if str(spec.severity) == "fail" else WARN
                word = ">" if spec.direction == "above" else "<"
                value = panel.spec.unit.format(spec.threshold)
                lines.append(Threshold(spec.threshold, f"{spec.name} ({word} {value})", colour,
                                       rule=spec.name))
            panel.set_thresholds(lines)

    def fetch(self) -> None:
        """Scenario changes (demo) and alert marks since the last fetch, off the GUI thread."""
        if self.busy:
            return
        page = self.page
        alerts = page.ctx.alerts
        want_demo = page.ctx.is_demo
        if alerts is None and not want_demo:
            return
        since_demo, since_alerts = self._events_since, self._alerts_since
        demo_control = page.demo_control

        def work(_state: TaskState) -> tuple[list[Any], list[Any], str, set[str]]:
            demo_events: list[Any] = []
            marks: list[Any] = []
            firing: set[str] = set()
            problem = ""
            if want_demo:
                try:
                    demo_events = demo_control().events(since_demo)
                except Exception as exc:
                    problem = str(exc)
            if alerts is not None and hasattr(alerts, "marks_since"):
                marks = list(alerts.marks_since(since_alerts))
            if alerts is not None and hasattr(alerts, "firing"):
                firing = {status.name for status in alerts.firing()}
            return demo_events, marks, problem, firing

        def done(result: tuple[list[Any], list[Any], str, set[str]]) -> None:
            self.busy = False
            demo_events, marks, problem, firing = result
            for panel in page.timeline.panels:
                panel.set_firing(firing)
            added = 0
            for event in demo_events:
                self._events_since = max(self._events_since, event.ts)
                added += self.add(event.ts, event.what.replace("->", "→"), page.theme.muted)
            for ts, rule, state in marks:
                self._alerts_since = max(self._alerts_since, float(ts))
                added += self.add(float(ts), f"{rule}: {state}", state_colour(state))
            if problem:
                log.debug("demo events not read: %s", problem)
            if added:
                page.sig_events_added.emit(added)

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.debug("events not read: %s", exc)

        self.busy = True
        page.ctx.tasks.run(work, owner=page, on_success=done, on_failure=failed,
                           name="dashboard-events")

    def add(self, ts: float, text: str, colour: str) -> int:
        """Mark an event on the timeline (once); returns 1 if it was new."""
        key = (round(ts, 3), text)
        if key in self._keys:
            return 0
        self._keys.add(key)
        self.page.timeline.add_marker(Marker(ts, text, colour))
        return 1
