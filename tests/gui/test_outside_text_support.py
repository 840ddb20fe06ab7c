"""Text from servers reaches the support side as typed, never as markup (issue 14).

Slow-query text from pg_stat_statements, the `version` a shop's /health gives, a bad line of
a /metrics page quoted in an error, queue label values in alerts and "what moved first":
each from a real server or the console's own services, checked as the user sees it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from console.alert_rules import RuleSpec
from console.correlate import rank_movers
from console.domain import Reading, SourceState
from console.profile import DatabaseConfig, Profile, Source
from console.store import MetricStore
from services.bootstrap import Diagnostics, Local
from services.monitoring.alert_log import AlertLog
from services.monitoring.alerting import AlertService
from tests.gui.hostile import (
    Hostile,
    assert_label_shows,
    assert_tooltip_shows,
    rendered,
)
from tests.reliability.support import answer_always, raw_server
from tests.support.databases import throwaway_postgres
from ui.charts.movers import MoversPanel
from ui.charts.tiles import SourceTile
from ui.charts.units import COUNT
from ui.context import AppContext
from ui.pages.diagnostics import DiagnosticsPage
from ui.pages.settings import SettingsPage
from ui.tray import AlertNotifier
from ui.widgets.db_views import STATEMENT_COLUMNS
from ui.widgets.profile_editor import ProfileEditor
from ui.widgets.source_states import SourceStates
from ui.widgets.status_light import StatusLight
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

PLAIN = Qt.TextFormat.PlainText
#: The corpus strings a /metrics line or a queue name can carry and an error quotes as is
#: (repr() escapes a NUL and a right-to-left override; a 100 kB line is cut at 120).
QUOTABLE = ("img", "link", "h1", "table")


def head(text: str) -> str:
    """What a tooltip must show of ``text`` literally: all, or the start of 100 kB."""
    return text if len(text) <= 1000 else text[:1000]


@pytest.fixture
def runner(qapp: Any) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.shutdown(8000)


def in_window(qtbot: Any, widget: QWidget) -> QMainWindow:
    """Show ``widget`` as the console does, inside a main window (kept with the widget)."""
    window = QMainWindow()
    window.setMinimumSize(1400, 900)
    window.setCentralWidget(widget)
    qtbot.addWidget(window)
    window.show()
    setattr(widget, "_test_window", window)  # noqa: B010 (keeps the window alive)
    return window


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database with pg_stat_statements."""
    url, drop = throwaway_postgres("br_outside")
    try:
        yield url
    finally:
        drop()


@pytest.mark.integration
def test_slow_query_text_is_shown_as_typed(qtbot: Any, runner: TaskRunner,
                                           pg_database: str, hostile: Hostile) -> None:
    strings = {k: v for k, v in hostile.strings.items() if k != "nul"}  # no NUL in SQL
    engine = sa.create_engine(pg_database)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            for n, text in enumerate(strings.values()):
                # pg_stat_statements keeps a statement's comment as it was sent (the first
                # time: statements of one shape are one entry, hence n more columns each)
                conn.exec_driver_sql(f"SELECT pg_sleep(0.05){', 1' * n} /* {text} */")
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
            conn.commit()
    finally:
        engine.dispose()
    page = DiagnosticsPage(AppContext(services=SimpleNamespace(
        profile=Profile(name="Outside", database=DatabaseConfig(url=pg_database)),
        store=MetricStore(), poller=None), tasks=runner, diagnostics=Diagnostics(), local=Local()))
    in_window(qtbot, page)
    views = page.db_views
    with qtbot.waitSignal(views.sig_loaded, timeout=15_000):
        views.refresh()
    model = views.statements
    query = STATEMENT_COLUMNS.index("Query")
    rows = [model.data(model.index(r, query)) for r in range(model.rowCount())]
    for key, text in strings.items():
        row = next((r for r, q in enumerate(rows) if text in q), None)
        assert row is not None, f"{key} not among the top statements: {rows}"
        tip = model.data(model.index(row, query), Qt.ItemDataRole.ToolTipRole)
        assert_tooltip_shows(tip, head(text), views)
    hostile.check_gui_was_free()


def test_health_version_and_a_bad_metrics_line_as_typed(qtbot: Any, runner: TaskRunner,
                                                        hostile: Hostile) -> None:
    editor = ProfileEditor(runner, keychain_available=False,
                           tester=Diagnostics().check_connection, keeper=Local())
    in_window(qtbot, editor)
    for key in QUOTABLE:
        text = hostile.strings[key]
        health = json.dumps({"status": "ok", "version": text}).encode()
        bad_page = f"# TYPE shop_requests_total counter\n{{{text}}} 1\n".encode()
        with raw_server(answer_always(200, health)) as shop, \
                raw_server(answer_always(200, bad_page)) as web:
            editor.load({"name": "Outside", "backend": {
                "base_url": shop.url, "token": "plain-token"}, "sources": [
                {"name": "web", "kind": "prometheus", "url": f"{web.url}/metrics"}]})
            backend = editor.backend
            with qtbot.waitSignal(editor.sig_tested, timeout=15_000) as blocker:
                backend.test_button.click()
            assert blocker.args[1] == "reachable", backend.result.text()
            assert_label_shows(backend.result, text)
            assert backend.result.textFormat() == PLAIN
            source = editor.source_forms[0]
            with qtbot.waitSignal(editor.sig_tested, timeout=15_000):
                source.test_button.click()
            assert_label_shows(source.result, text)  # the error quotes the line
            assert source.result.textFormat() == PLAIN
    hostile.check_gui_was_free()


def test_sweep_detail_tile_and_source_chip_quote_a_bad_metrics_line_as_typed(
        qtbot: Any, runner: TaskRunner, hostile: Hostile) -> None:
    for key in QUOTABLE:
        text = hostile.strings[key]
        bad_page = f"# TYPE shop_requests_total counter\n{{{text}}} 1\n".encode()
        with raw_server(answer_always(200, bad_page)) as web:
            profile = Profile(name="Outside", sources=(
                Source("web", "prometheus", f"{web.url}/metrics"),))
            page = DiagnosticsPage(AppContext(services=SimpleNamespace(
                profile=profile, store=MetricStore(), poller=None), tasks=runner,
                diagnostics=Diagnostics(), local=Local()))
            in_window(qtbot, page)
            with qtbot.waitSignal(page.sig_sweep_finished, timeout=30_000) as blocker:
                page.run_sweep()
        check = next(c for c in blocker.args[0].checks if c.name == "web")
        assert text in check.detail
        model = page.table.model()
        row = next(r for r in range(model.rowCount())
                   if model.index(r, 1).data() == "web")
        assert text in model.index(row, 4).data()
        assert_tooltip_shows(model.index(row, 4).data(Qt.ItemDataRole.ToolTipRole), text,
                             page)
        # The same error on the Dashboard: the source's tile and its status-bar chip.
        tile = SourceTile("web", "#0072B2")
        chips = SourceStates()
        for widget in (tile, chips):
            qtbot.add_widget(widget)
            widget.show()
        tile.set_state("down", check.detail)
        assert_tooltip_shows(tile.toolTip(), text, tile)
        chips.update_states([("web", "down", check.detail)])
        chip = chips._chips["web"]
        assert_tooltip_shows(chip.toolTip(), text, chip)
    hostile.check_gui_was_free()


def test_queue_names_reach_notifications_the_light_and_movers_as_typed(
        qtbot: Any, tmp_path: Path, hostile: Hostile) -> None:
    store = MetricStore()
    log = AlertLog(tmp_path / "alerts.sqlite", profile="Outside")
    poller = SimpleNamespace(statuses=lambda: [SimpleNamespace(
        name="broker", state=SourceState.UP, last_error="")])
    rule = RuleSpec.create("Queue backing up", "queue_depth", "broker", above=100, for_s=0,
                           resolve_for_s=0)
    service = AlertService([rule], store, poller, log, max_age_s=3600)
    window = in_window(qtbot, QWidget())
    notifier = AlertNotifier(service, window, use_tray=False, interval_ms=20)
    light = StatusLight()
    movers = MoversPanel("#888888")
    for widget in (light, movers):
        qtbot.add_widget(widget)
        widget.show()
    try:
        now = time.time()
        for n, key in enumerate(QUOTABLE):
            text = hostile.strings[key]
            series = f'broker/queue_depth{{queue="{text}"}}'
            with qtbot.waitSignal(notifier.sig_notified, timeout=5000) as blocker:
                store.append([Reading(series, now + n, 500)])
                service.evaluate_once(now + n)
            assert text in blocker.args[1]
            assert text in window.statusBar().currentMessage()
            # The overall light says which queue; "what moved first" names the series.
            light.set_state("warn", f"Queue backing up on {text}")
            assert_label_shows(light._words, text)
            assert_tooltip_shows(light.toolTip(), text, light)
            ts = np.arange(now - 600, now, 5.0)
            calm = np.where(ts < now - 150, 1.0, 40.0)
            ranked = rank_movers({series: (ts, calm), "web/latency_p95": (ts, ts * 0 + 0.2)},
                                 now - 200, now)
            movers.show_movers(ranked, {series: series}, {series: COUNT}, {})
            assert_label_shows(movers.headline, text)
            assert movers.headline.textFormat() == PLAIN
            store.append([Reading(series, now + n + 0.5, 5)])
            service.evaluate_once(now + n + 0.5)
    finally:
        notifier.stop()
        log.close()
    hostile.check_gui_was_free()


def test_a_profile_file_named_like_markup_is_named_as_typed(qtbot: Any, tmp_path: Path,
                                                            runner: TaskRunner,
                                                            hostile: Hostile) -> None:
    name = "<u>REFUND APPROVED<u> <h1 style=color:red>Ana<h1>"  # a file name has no "/"
    broken = tmp_path / f"{name}.toml"
    broken.write_bytes(b"name = \xff")
    config = tmp_path / "config"
    config.mkdir()
    page = SettingsPage(AppContext(
        services=SimpleNamespace(profile=SimpleNamespace(origin="demo"), alerts=None),
        tasks=runner, diagnostics=Diagnostics(), local=Local(profiles_dir=config),
        settings=QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)))
    in_window(qtbot, page)
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.append(rendered(box.text(), box.textFormat()))
        box.close()

    QTimer.singleShot(20, read_and_close)
    assert page.import_profile(broken) is False  # "Not imported", and why
    assert seen and seen[0].startswith(f"{name}.toml: not UTF-8 text"), seen
    hostile.check_gui_was_free()
