"""Table models of the Alerts page: every rule's state now, and the alert log's firings."""

from __future__ import annotations

import time
from datetime import datetime

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap

from console.alert_rules import format_value
from console.alerts import (
    RESOLVED,
    AlertEvent,
    AlertState,
    AlertStatus,
    format_duration,
    state_words,
)
from ui.models.list_table import ListColumn, ListTableModel
from ui.theme import state_colour

SEVERITY_WORDS = {"info": "Info", "warn": "Warning", "fail": "Critical"}

_ICONS: dict[str, QIcon] = {}


def state_icon(state: str) -> QIcon:
    """A small dot in the state's colour (cached)."""
    icon = _ICONS.get(state)
    if icon is None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(state_colour(state)))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = _ICONS[state] = QIcon(pixmap)
    return icon


def when(ts: float, now: float | None = None) -> str:
    """'14:02:33' today, 'Mon 12 May 14:02' before."""
    moment = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(now if now is not None else time.time()).date()
    if moment.date() == today:
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%a %d %b %H:%M")


def _colour_for(state: str, severity: str = "fail") -> str:
    """A firing rule's dot is its severity's colour, as the status light shows it: amber for
    a warning, red for a critical one (was red for both)."""
    if state == "firing":
        return "fail" if severity == "fail" else "warn"
    return {"normal": "ok", RESOLVED: "ok"}.get(state, state)


class AlertRulesModel(ListTableModel[AlertStatus]):
    """One row per rule: state, name, severity, value now, for how long, what it watches."""

    def __init__(self, parent: QObject | None = None) -> None:
        self._now = time.time()

        def state(s: AlertStatus) -> str:
            return s.state.value

        def message(s: AlertStatus) -> str:
            return s.message

        super().__init__((
            ListColumn("State", lambda s: state_words(s.state.value), tooltip=message,
                       state=state,
                       icon=lambda s: state_icon(_colour_for(s.state.value, s.severity.value))),
            ListColumn("Rule", lambda s: s.name, tooltip=message, state=state),
            ListColumn("Severity", lambda s: SEVERITY_WORDS.get(s.severity.value,
                                                                s.severity.value),
                       tooltip=message, state=state),
            ListColumn("Now", self._now_value, tooltip=message, state=state, tabular=True),
            ListColumn("For", self._held_for, tooltip=message, state=state, tabular=True),
            ListColumn("Watches", lambda s: s.rule.describe(), tooltip=message, state=state),
        ), parent)

    def set_statuses(self, statuses: list[AlertStatus], now: float | None = None) -> None:
        """The rules' states at ``now``; the same rules only update their cells."""
        self._now = time.time() if now is None else now
        if [s.name for s in statuses] == [s.name for s in self.all_rows()]:
            self.update_rows(statuses)
        else:
            self.show_rows(statuses)

    @staticmethod
    def _now_value(s: AlertStatus) -> str:
        """The value now; a rule still learning its usual says so (its tooltip says how long)."""
        if s.learning:
            return "learning its usual"
        return format_value(s.rule.metric, s.value)

    def _held_for(self, s: AlertStatus) -> str:
        if s.state is AlertState.NORMAL or not s.since:
            return ""
        return format_duration(self._now - s.since)


class AlertHistoryModel(ListTableModel[AlertEvent]):
    """The alert log, newest first: time, rule, state, value, message."""

    def __init__(self, parent: QObject | None = None) -> None:
        self._metrics: dict[str, str] = {}

        def tooltip(e: AlertEvent) -> str:
            return f"{datetime.fromtimestamp(e.ts):%Y-%m-%d %H:%M:%S}: {e.message}"

        super().__init__((
            ListColumn("Time", lambda e: when(e.ts), tooltip=tooltip, tabular=True),
            ListColumn("Rule", lambda e: e.rule, tooltip=tooltip),
            ListColumn("State", lambda e: state_words(e.state), tooltip=tooltip,
                       icon=lambda e: state_icon(_colour_for(e.state, e.severity.value))),
            ListColumn("Value", lambda e: format_value(self._metrics.get(e.rule, ""), e.value),
                       tooltip=tooltip, tabular=True),
            ListColumn("What happened", lambda e: e.message, tooltip=tooltip),
        ), parent)

    def set_events(self, events: list[AlertEvent], metrics: dict[str, str] | None = None) -> None:
        """Show ``events``; ``metrics`` (rule -> metric) says how each value reads."""
        self._metrics = dict(metrics or {})
        self.show_rows(events)
