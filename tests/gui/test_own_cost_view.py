"""Backroom's own cost on the Diagnostics page: real polling of the demo shop, then the table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PyQt6.QtWidgets import QApplication, QMainWindow
from sqlalchemy import create_engine, text

from console.own_cost import metered
from console.profile import Profile
from services.bootstrap import Diagnostics, Local, Services, build_services
from services.collectors.database import OWN_STATEMENT_TAG, DatabaseCollector, database_engine
from services.diagnostics.db_insights import collect_insights
from services.local.profiles import demo_profile
from tests.support.databases import throwaway_postgres
from tests.support.demo_shop import quiet_demo
from tests.support.shots import SHOTS
from ui.context import AppContext
from ui.pages.diagnostics import DiagnosticsPage
from ui.widgets.db_views import DbViews
from ui.widgets.own_cost import OwnCostView
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

#: docs/screenshots/diagnostics-cost.png when BACKROOM_SHOTS names that folder.
SCREENSHOT = Path(SHOTS or ".") / "diagnostics-cost.png"


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.shutdown(8000)


@pytest.fixture
def polling(tmp_path: Path) -> Iterator[Services]:
    """The demo shop's profile polled for real, as the console does (no history)."""
    with quiet_demo(tmp_path, seed_scale=0.1) as shop:
        profile = demo_profile(shop.base_url, shop.token, shop.db_path)
        services = build_services(profile, directory=tmp_path, history=False)
        services.start()
        try:
            yield services
        finally:
            services.stop()


def test_the_table_shows_what_each_source_costs_and_the_cpu(qtbot, runner: TaskRunner,
                                                            polling: Services) -> None:
    assert polling.poller is not None
    for status in polling.poller.statuses():
        polling.poller.poll_now(status.name)
    page = DiagnosticsPage(AppContext(
        services=SimpleNamespace(profile=polling.profile, store=polling.store, poller=None),
        tasks=runner, diagnostics=Diagnostics(), local=Local()))
    window = QMainWindow()
    window.resize(1100, 560)
    window.setCentralWidget(page)
    qtbot.addWidget(window)
    window.show()
    index = next(i for i in range(page.tabs.count())
                 if page.tabs.tabText(i) == "Backroom's own cost")
    page.tabs.setCurrentIndex(index)
    view = page.tabs.widget(index)
    assert isinstance(view, OwnCostView)
    sources = {s.name for s in polling.profile.sources} | {p.name for p in polling.profile.probes}

    def every_source_has_a_row() -> None:
        view.refresh()
        assert {row[0] for row in view.model.rows()} == sources

    qtbot.waitUntil(every_source_has_a_row, timeout=20_000)
    rows = {row[0]: row for row in view.model.rows()}
    for name, rps, _kib, share in rows.values():
        assert float(rps) > 0, name  # every source was asked something
        assert 0 <= float(share) <= 100
    assert sum(float(row[3]) for row in rows.values()) == pytest.approx(100, abs=2)
    # the Prometheus page is the biggest thing the console reads
    assert float(rows["shop"][2]) > float(rows["health"][2])
    cpu_text = view.cpu.text()
    assert cpu_text.startswith("Backroom's process CPU: ") and "%" in cpu_text
    cpu = float(cpu_text.split(": ")[1].split(" %")[0])
    assert 0.0 <= cpu <= 100.0 * (os.cpu_count() or 1)
    assert not view.empty.isVisible()
    if SHOTS:
        assert window.grab().save(str(SCREENSHOT))


@pytest.fixture
def watched_postgres() -> Iterator[str]:
    """An own PostgreSQL database with pg_stat_statements, dropped after the test."""
    url, drop = throwaway_postgres("br_own_cost")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.exec_driver_sql("CREATE TABLE orders (id serial PRIMARY KEY, total int)")
            conn.exec_driver_sql("INSERT INTO orders (total) SELECT g FROM "
                                 "generate_series(1, 2000) g")
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        drop()


def test_slow_query_views_label_backroom_statements_with_a_toggle(
        qtbot, runner: TaskRunner, watched_postgres: str) -> None:
    url = watched_postgres
    collector = DatabaseCollector("database", database_engine(url), url=url)
    try:
        for _ in range(3):  # Backroom polling the database, as the console does
            with metered() as tally:
                collector.collect()
            assert tally.requests >= 5  # each statement counted as a request of its own cost
    finally:
        collector.close()
    shop = create_engine(url)
    with shop.connect() as conn:  # the shop's own statement
        for total in range(4):
            conn.execute(text("SELECT count(*) FROM orders WHERE total > :t"), {"t": total})
    shop.dispose()

    insights = collect_insights(url, name="shop db", timeout_s=5.0, limit=50)
    own = insights.own_statements
    assert own and all(q.own and q.query.startswith(OWN_STATEMENT_TAG) for q in own)
    assert any("pg_stat_statements" in q.query for q in own)  # the collector's own read
    for ordering in ("total", "mean", "calls", "rows"):
        assert not any(q.own for q in insights.top(ordering))
        both = insights.top(ordering, own=True)
        assert {q.query for q in own} <= {q.query for q in both}

    views = DbViews(Profile(name="x"), runner, Diagnostics())
    show = QMainWindow()
    show.resize(1300, 420)
    show.setCentralWidget(views)
    qtbot.addWidget(show)
    show.show()
    views.show_insights([insights])
    views.ordering_combo.setCurrentIndex(list(views._diagnostics.statement_orderings)
                                         .index("calls"))
    rows = views.statements.rows()
    by = {row[5]: row[0] for row in rows}
    shop_rows = [q for q in by if "FROM orders WHERE total" in q]
    assert shop_rows and all(by[q] == "" for q in shop_rows)
    assert [by[q] for q in by if q.startswith(OWN_STATEMENT_TAG)]
    assert all(by[q] == "Backroom" for q in by if q.startswith(OWN_STATEMENT_TAG))
    assert views.own_check.isChecked()  # labelled, not hidden, by default
    views.own_check.setChecked(False)
    hidden = views.statements.rows()
    assert hidden and not any(row[0] == "Backroom" for row in hidden)
    assert any("FROM orders WHERE total" in row[5] for row in hidden)
    views.own_check.setChecked(True)
    sections = Diagnostics().report_sections([insights])
    own_section = next(s for s in sections if s.title == "shop db (" + insights.server_version
                       + "): Backroom's own statements")
    assert {row[4] for row in own_section.rows} == {q.query for q in own[:15]}
    if SHOTS:
        assert show.grab().save(str(SCREENSHOT.with_name("diagnostics-own-statements.png")))
