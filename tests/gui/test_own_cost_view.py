"""Backroom's own cost on the Diagnostics page: real polling of the demo shop, then the table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PyQt6.QtWidgets import QApplication, QMainWindow

from services.bootstrap import Diagnostics, Local, Services, build_services
from services.local.profiles import demo_profile
from tests.support.demo_shop import quiet_demo
from ui.context import AppContext
from ui.pages.diagnostics import DiagnosticsPage
from ui.widgets.own_cost import OwnCostView
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "diagnostics-cost.png"


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
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENSHOT))
