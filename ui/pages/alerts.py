"""The Alerts page: every rule's state now, and the history of firings from the alert log."""

from __future__ import annotations

import logging
import time
from typing import Any

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.alerts import RESOLVED, AlertEvent, AlertState, pending_words
from ui.context import AppContext
from ui.models.alert_tables import AlertHistoryModel, AlertRulesModel
from ui.plain_text import plain_label

log = logging.getLogger(__name__)

#: (label, seconds back or None for everything) for the history's time filter.
RANGES: tuple[tuple[str, float | None], ...] = (
    ("Last hour", 3600.0), ("Last 24 hours", 86_400.0), ("Last 7 days", 7 * 86_400.0),
    ("Everything kept", None),
)
HISTORY_STATES: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("Firing and resolved", ("firing", RESOLVED)),
    ("Every change", None),
    ("Firing only", ("firing",)),
    ("No data and errors", ("no_data", "error")),
)
HISTORY_LIMIT = 500


def _table(model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    rows = view.verticalHeader()
    if rows is not None:
        rows.setVisible(False)
    view.setShowGrid(False)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    assert header is not None
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


def _empty(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("emptyState")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class AlertsPage(QWidget):
    """Rules now on top (refreshed every second from memory), history below (from the alert
    log, read off the GUI thread when something changed or a filter moved)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.ctx = ctx
        self.alerts = ctx.alerts
        self._seen_events = -1
        self._loading: Any = None
        self._reload_again = False
        self._busy = False

        title = QLabel("Alerts")
        title.setObjectName("pageTitle")
        self.summary = plain_label()
        self.summary.setObjectName("muted")
        self.edit_button = QPushButton("Edit rules…")
        self.edit_button.setToolTip("Alert rules live in the profile: Settings → Alerts")
        self.edit_button.clicked.connect(self._edit_rules)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(12)
        head.addWidget(self.summary, 1)
        head.addWidget(self.edit_button)

        self.rules_model = AlertRulesModel(self)
        self.rules_view = _table(self.rules_model)
        self.rules_view.doubleClicked.connect(self._filter_to_rule)
        self.rules_stack = QStackedWidget()
        self.rules_empty = _empty(
            "This profile has no alert rules. Add some in Settings → Profiles → Alerts: "
            "for example “Cache hit rate low” when the cache's hit rate stays below 80%.")
        self.rules_stack.addWidget(self.rules_view)
        self.rules_stack.addWidget(self.rules_empty)

        self.rule_filter = QComboBox()
        self.rule_filter.setToolTip("Show the history of one rule")
        self.state_filter = QComboBox()
        for label, states in HISTORY_STATES:
            self.state_filter.addItem(label, states)
        self.range_filter = QComboBox()
        for label, seconds in RANGES:
            self.range_filter.addItem(label, seconds)
        self.range_filter.setCurrentIndex(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the alert history again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        for combo in (self.rule_filter, self.state_filter, self.range_filter):
            combo.currentIndexChanged.connect(self.reload_history)
        filters = QHBoxLayout()
        history_title = QLabel("History")
        history_title.setStyleSheet("font-weight: 600;")
        filters.addWidget(history_title)
        filters.addStretch(1)
        filters.addWidget(self.rule_filter)
        filters.addWidget(self.state_filter)
        filters.addWidget(self.range_filter)
        filters.addWidget(self.refresh_button)

        self.history_model = AlertHistoryModel(self)
        self.history_view = _table(self.history_model)
        self.history_stack = QStackedWidget()
        self.history_empty = _empty("Nothing in this range. Alerts appear here when a rule "
                                    "goes pending, fires or resolves.")
        self.history_error = plain_label()
        self.history_error.setObjectName("errorText")
        self.history_error.setVisible(False)
        self.history_stack.addWidget(self.history_view)
        self.history_stack.addWidget(self.history_empty)

        now_title = QLabel("Rules now")
        now_title.setStyleSheet("font-weight: 600;")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(now_title)
        top_layout.addWidget(self.rules_stack, 1)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 6, 0, 0)
        bottom_layout.addLayout(filters)
        bottom_layout.addWidget(self.history_error)
        bottom_layout.addWidget(self.history_stack, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        if self.alerts is None:
            self.rules_empty.setText("Alerts are not running for this profile.")
            self.rules_stack.setCurrentWidget(self.rules_empty)
            self.history_stack.setCurrentWidget(self.history_empty)
            self.summary.setText("")
            for widget in (self.rule_filter, self.state_filter, self.range_filter,
                           self.refresh_button):
                widget.setEnabled(False)
        else:
            self._fill_rule_filter()
            self.tick()
            self._timer.start()

    # -- the rules now -------------------------------------------------------------------------

    def _fill_rule_filter(self) -> None:
        self.rule_filter.blockSignals(True)
        current = self.rule_filter.currentData()
        self.rule_filter.clear()
        self.rule_filter.addItem("All rules", "")
        for status in self.alerts.statuses():
            self.rule_filter.addItem(status.name, status.name)
        index = self.rule_filter.findData(current) if current else 0
        self.rule_filter.setCurrentIndex(max(index, 0))
        self.rule_filter.blockSignals(False)

    def tick(self) -> None:
        """Refresh the rules from memory; reload the history if something changed."""
        if self.alerts is None:
            return
        statuses = list(self.alerts.statuses())
        if [s.name for s in statuses] != [self.rule_filter.itemData(i)
                                          for i in range(1, self.rule_filter.count())]:
            self._fill_rule_filter()
        self.rules_model.set_statuses(statuses)
        self.rules_stack.setCurrentWidget(self.rules_view if statuses else self.rules_empty)
        firing = [s for s in statuses if s.state is AlertState.FIRING]
        pending = [s for s in statuses if s.state is AlertState.PENDING]
        if not statuses:
            self.summary.setText("")
        elif firing:
            self.summary.setText(f"{len(firing)} firing: " + ", ".join(s.name for s in firing))
        elif pending:
            now = time.time()
            self.summary.setText("Nothing firing; pending: "
                                 + "; ".join(pending_words(s, now) for s in pending))
        else:
            rules = f"{len(statuses)} rule" + ("" if len(statuses) == 1 else "s")
            self.summary.setText(f"Nothing firing ({rules} watching)")
        count = int(getattr(self.alerts, "event_count", 0))
        if count != self._seen_events:
            self._seen_events = count
            self.reload_history()

    def _filter_to_rule(self, index: QModelIndex) -> None:
        name = self.rules_model.row_at(index.row()).name
        found = self.rule_filter.findData(name)
        if found >= 0:
            self.rule_filter.setCurrentIndex(found)

    def _edit_rules(self) -> None:
        show_page = getattr(self.window(), "show_page", None)
        if callable(show_page):
            show_page("settings")
            settings = getattr(self.window(), "page", lambda _k: None)("settings")
            open_alerts = getattr(settings, "open_alert_rules", None)
            if callable(open_alerts):
                open_alerts()

    # -- history -------------------------------------------------------------------------------

    def history_filters(self) -> dict[str, Any]:
        seconds = self.range_filter.currentData()
        filters: dict[str, Any] = {"limit": HISTORY_LIMIT}
        if seconds is not None:
            filters["since"] = time.time() - float(seconds)
        if self.rule_filter.currentData():
            filters["rule"] = self.rule_filter.currentData()
        states = self.state_filter.currentData()
        if states:
            filters["states"] = list(states)
        return filters

    def reload_history(self) -> None:
        """Read the history with the current filters off the GUI thread."""
        if self.alerts is None:
            return
        if self._busy:
            self._reload_again = True  # one more read once this one is back
            return
        filters = self.history_filters()
        alerts = self.alerts
        self._busy = True
        self._loading = self.ctx.tasks.run(
            lambda _state: alerts.history(**filters), owner=self,
            on_success=self._show_history, on_failure=self._history_failed,
            name="alert-history")

    def _after_load(self) -> None:
        self._busy = False
        if self._reload_again:
            self._reload_again = False
            self.reload_history()

    def _show_history(self, events: list[AlertEvent]) -> None:
        stale = self._reload_again  # the filters moved while this was read
        self._after_load()
        if stale:
            return
        self.history_error.setVisible(False)
        metrics = {s.name: s.rule.metric for s in self.alerts.statuses()}
        self.history_model.set_events(events, metrics)
        self.history_stack.setCurrentWidget(self.history_view if events
                                            else self.history_empty)

    def _history_failed(self, exc: BaseException) -> None:
        self._after_load()
        log.warning("could not read the alert history: %s", exc)
        self.history_error.setText(f"Could not read the alert history: {exc}. "
                                   "Try Refresh; if it persists, check the data folder in "
                                   "Settings.")
        self.history_error.setVisible(True)

    # -- page protocol -------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tick()
        self.reload_history()

    def on_shown(self) -> None:
        self.tick()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._loading is not None:
            self._loading.cancel()
