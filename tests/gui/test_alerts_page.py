"""The Alerts page and the tray notifier: what a user sees as rules fire and resolve."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QMainWindow, QWidget

from console.alert_rules import RuleSpec
from console.domain import Reading, SourceState
from console.store import MetricStore
from services.bootstrap import Diagnostics, Local
from services.monitoring.alert_log import AlertLog
from services.monitoring.alerting import AlertService
from ui.context import AppContext
from ui.models.alert_tables import AlertHistoryModel, AlertRulesModel
from ui.models.roles import STATE_ROLE
from ui.pages.alerts import AlertsPage
from ui.tray import AlertNotifier
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@dataclass
class FakeStatus:
    name: str
    state: SourceState
    last_error: str = ""


@dataclass
class FakePoller:
    states: dict[str, SourceState] = field(default_factory=lambda: {
        "web": SourceState.UP, "cache": SourceState.UP, "broker": SourceState.UP})

    def statuses(self) -> list[FakeStatus]:
        return [FakeStatus(n, s) for n, s in self.states.items()]


RULES = [
    RuleSpec.create("Pages slow (p95 latency high)", "latency_p95", "web", above=0.5, for_s=30),
    RuleSpec.create("Cache hit rate low", "cache_hit_rate", "cache", below=0.8, for_s=60),
    RuleSpec.create("Queue backing up", "queue_depth", "broker", above=100, for_s=0,
                    resolve_for_s=0),
]


@pytest.fixture
def shop(tmp_path: Path, qapp):
    store = MetricStore()
    log = AlertLog(tmp_path / "alerts.sqlite", profile="Main Street Bistro")
    service = AlertService(RULES, store, FakePoller(), log, max_age_s=3600)
    runner = TaskRunner()
    ctx = AppContext(services=SimpleNamespace(alerts=service, profile=None, store=store),
                     tasks=runner, diagnostics=Diagnostics(), local=Local())
    yield SimpleNamespace(store=store, service=service, ctx=ctx, log=log)
    runner.shutdown()
    log.close()


def show(qtbot, page) -> QMainWindow:
    """Show a page the way the console does: inside a main window (a bare top-level with a
    layout makes the offscreen platform warn about size hints)."""
    window = QMainWindow()
    window.setMinimumSize(1200, 700)
    window.setCentralWidget(page)
    qtbot.addWidget(window)
    window.show()
    return window


def feed(shop, now: float, **values: float) -> None:
    series = {"latency": "web/latency_p95", "hit": "cache/cache_hit_rate",
              "queue": 'broker/queue_depth{queue="celery"}'}
    shop.store.append([Reading(series[k], now, v) for k, v in values.items()])
    shop.service.evaluate_once(now)


def cell(view, row: int, column: int) -> str:
    return str(view.model().index(row, column).data())


def test_rules_and_history_show_firing_and_resolution(qtbot, shop, qtmodeltester) -> None:
    now = time.time() - 600
    feed(shop, now, latency=0.2, hit=0.95, queue=5)
    page = AlertsPage(shop.ctx)
    window = show(qtbot, page)
    assert [cell(page.rules_view, r, 1) for r in range(3)] == [r.name for r in RULES]
    assert {cell(page.rules_view, r, 0) for r in range(3)} == {"Normal"}
    assert page.summary.text() == "Nothing firing (3 rules watching)"

    feed(shop, now + 10, latency=0.2, hit=0.6, queue=340)
    feed(shop, now + 40, latency=0.2, hit=0.6, queue=20)
    feed(shop, now + 70, latency=0.2, hit=0.58, queue=20)
    feed(shop, now + 80, latency=0.2, hit=0.55, queue=20)
    qtbot.waitUntil(lambda: page.summary.text() == "1 firing: Cache hit rate low",
                    timeout=5000)
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 3, timeout=5000)
    row = [s.name for s in shop.service.statuses()].index("Cache hit rate low")
    assert cell(page.rules_view, row, 0) == "Firing"
    assert cell(page.rules_view, row, 3) == "55%"
    assert cell(page.rules_view, row, 5) == "cache/cache_hit_rate below 80% for 1 min"
    assert cell(page.rules_view, row, 2) == "Warning"
    # Default filter: firing and resolved, newest first.
    history = [(cell(page.history_view, r, 1), cell(page.history_view, r, 2))
               for r in range(page.history_model.rowCount())]
    assert history == [("Cache hit rate low", "Firing"), ("Queue backing up", "Resolved"),
                       ("Queue backing up", "Firing")]
    assert cell(page.history_view, 0, 4) == ("Cache hit rate low: 58% "
                                             "(cache/cache_hit_rate below 80% for 1 min)")
    assert cell(page.history_view, 2, 3) == "340"
    qtmodeltester.check(page.rules_model)
    qtmodeltester.check(page.history_model)

    # Every change, one rule: pending shows up too.
    page.state_filter.setCurrentIndex(page.state_filter.findText("Every change"))
    page.rule_filter.setCurrentIndex(page.rule_filter.findText("Cache hit rate low"))
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 2, timeout=5000)
    assert [cell(page.history_view, r, 2) for r in range(2)] == ["Firing", "Pending"]

    page.state_filter.setCurrentIndex(0)
    page.rule_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 3, timeout=5000)
    assert not window.grab().isNull()


def test_double_clicking_a_rule_filters_the_history(qtbot, shop) -> None:
    page = AlertsPage(shop.ctx)
    qtbot.addWidget(page)
    index = page.rules_model.index(2, 1)
    page.rules_view.doubleClicked.emit(index)
    assert page.rule_filter.currentText() == "Queue backing up"
    assert page.history_filters()["rule"] == "Queue backing up"


def test_no_rules_and_no_service_say_what_to_do(qtbot, qapp, tmp_path: Path) -> None:
    runner = TaskRunner()
    try:
        idle = AlertService([], MetricStore(), None)
        page = AlertsPage(AppContext(services=SimpleNamespace(alerts=idle), tasks=runner,
                                     diagnostics=Diagnostics(), local=Local()))
        qtbot.addWidget(page)
        assert page.rules_stack.currentWidget() is page.rules_empty
        assert "Settings" in page.rules_empty.text()
        bare = AlertsPage(AppContext(services=SimpleNamespace(), tasks=runner,
                                     diagnostics=Diagnostics(), local=Local()))
        qtbot.addWidget(bare)
        assert bare.rules_empty.text() == "Alerts are not running for this profile."
        assert not bare.refresh_button.isEnabled()
    finally:
        runner.shutdown()


def test_a_firing_is_notified_once_in_the_status_bar_without_a_tray(qtbot, shop) -> None:
    window = show(qtbot, QWidget())
    notifier = AlertNotifier(shop.service, window, use_tray=False, interval_ms=20)
    assert not notifier.uses_tray
    now = time.time()
    feed(shop, now, queue=500)
    with qtbot.waitSignal(notifier.sig_notified, timeout=5000) as blocker:
        pass
    title, body = blocker.args
    assert title == "Queue backing up"
    assert body == '500 on broker/queue_depth{queue="celery"} — fires above 100'
    assert window.statusBar().currentMessage().startswith("⚠ Queue backing up")
    # Still firing on later evaluations and checks: no second notification.
    feed(shop, now + 1, queue=600)
    assert notifier.check() == []
    # Resolved, then firing again: that is a new firing, notified again.
    feed(shop, now + 2, queue=5)
    assert notifier.check() == []
    feed(shop, now + 3, queue=700)
    assert [t for t, _ in notifier.check()] == ["Queue backing up"]
    assert notifier.check() == []
    notifier.stop()


def test_rules_model_keeps_rows_when_only_values_change(qtbot, shop) -> None:
    model = AlertRulesModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.set_statuses(shop.service.statuses())
    model.set_statuses(shop.service.statuses())
    assert len(resets) == 1
    assert model.data(model.index(0, 0), STATE_ROLE) == "normal"
    history = AlertHistoryModel()
    assert history.rowCount() == 0


def test_a_firing_warning_has_the_amber_dot_the_status_light_has(qtbot, shop) -> None:
    from ui.theme import WARN, state_colour

    now = time.time() - 600
    for step in range(0, 90, 10):
        feed(shop, now + step, latency=0.2, hit=0.5, queue=5)
    page = AlertsPage(shop.ctx)
    window = show(qtbot, page)
    qtbot.waitUntil(lambda: page.summary.text() == "1 firing: Cache hit rate low", timeout=5000)
    assert window.isVisible()
    light_state, _words = shop.service.health_summary()
    assert light_state == "warn"
    row = [s.name for s in shop.service.statuses()].index("Cache hit rate low")
    dot = page.rules_model.index(row, 0).data(Qt.ItemDataRole.DecorationRole)
    image = dot.pixmap(12, 12).toImage()
    assert image.pixelColor(6, 6).name() == QColor(state_colour(light_state)).name()
    assert image.pixelColor(6, 6).name() == QColor(WARN).name()
    qtbot.waitUntil(lambda: page.history_model.rowCount() >= 1, timeout=5000)
    event_dot = page.history_model.index(0, 2).data(Qt.ItemDataRole.DecorationRole)
    assert event_dot.pixmap(12, 12).toImage().pixelColor(6, 6).name() == QColor(WARN).name()


def test_a_pending_rule_says_how_long_and_when_it_fires(qtbot, shop, tmp_path: Path) -> None:
    now = time.time()
    feed(shop, now - 20, latency=0.2, hit=0.4, queue=5)
    feed(shop, now, latency=0.2, hit=0.4, queue=5)
    page = AlertsPage(shop.ctx)
    window = show(qtbot, page)
    qtbot.waitUntil(lambda: page.summary.text().startswith(
        "Nothing firing; pending: Cache hit rate low for 2"), timeout=5000)
    assert page.summary.text().endswith(" s, fires at 1 min")
    row = [s.name for s in shop.service.statuses()].index("Cache hit rate low")
    assert cell(page.rules_view, row, 0) == "Pending"
    assert window.grab().save(str(tmp_path / "alerts_pending.png"))


def test_a_relative_rule_still_learning_says_so_in_its_row(qtbot, tmp_path: Path) -> None:
    """'Busier than usual' with a minute of a 15-minute usual: normal, and its Now cell says
    it is learning (not a dash), the tooltip for how long."""
    busier = RuleSpec.create("Busier than usual", "request_rate", "shop", above=3.0, for_s=20,
                             baseline_s=900)
    store = MetricStore()
    now = time.time()
    store.append([Reading("shop/request_rate", now - 60 + t, 6.0) for t in range(0, 60, 5)])
    log = AlertLog(tmp_path / "alerts.sqlite", profile="Demo")
    service = AlertService([busier], store, FakePoller({"shop": SourceState.UP}), log,
                           max_age_s=3600)
    runner = TaskRunner()
    page = AlertsPage(AppContext(services=SimpleNamespace(alerts=service, profile=None,
                                                          store=store),
                                 tasks=runner, diagnostics=Diagnostics(), local=Local()))
    try:
        window = show(qtbot, page)
        service.evaluate_once(now)
        qtbot.waitUntil(lambda: page.rules_model.rowCount() == 1
                        and cell(page.rules_view, 0, 3) == "learning its usual", timeout=5000)
        assert cell(page.rules_view, 0, 0) == "Normal"
        assert page.summary.text() == "Nothing firing (1 rule watching)"
        tip = page.rules_model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith("Learning its usual: judged once shop/request_rate has 5 min")
        assert window.grab().save(str(tmp_path / "alerts_learning.png"))
    finally:
        runner.shutdown()
        log.close()
