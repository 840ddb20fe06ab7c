"""The Today page against SQLite, PostgreSQL and the demo shop over HTTP, as a user sees it."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from services.bootstrap import Diagnostics, Local
from tests.support.shops import Backend
from ui.context import AppContext
from ui.models.formatting import money
from ui.pages.shop_texts import NO_BACKEND
from ui.pages.today import TodayPage, compare, compare_so_far, so_far
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: Any, ctx: AppContext) -> TodayPage:
    widget = TodayPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitUntil(lambda: widget.figures is not None, timeout=10_000)
    return widget


def test_cards_and_charts_show_todays_figures(page: TodayPage, backend: Backend) -> None:
    expected = backend.repo.today(tz=datetime.now().astimezone().tzinfo)
    assert page.bookings_card.value.text() == f"{expected.bookings:,}"
    assert page.covers_card.value.text() == f"{expected.covers:,}"
    assert page.orders_card.value.text() == f"{expected.orders:,}"
    assert page.revenue_card.value.text() == money(expected.revenue_cents)
    assert page.low_stock_card.value.text() == f"{expected.low_stock:,}"
    assert page.low_stock_card.state == ("warn" if expected.low_stock else "")
    assert page.bookings_card.note.text() == compare(
        expected.bookings, sum(expected.bookings_per_hour_last_week))
    assert page.orders_card.note.text() == compare_so_far(
        expected.orders, expected.orders_per_hour_last_week, page.loaded_at)
    assert page.bookings_chart.today_values == expected.bookings_per_hour
    assert page.bookings_chart.last_week_values == expected.bookings_per_hour_last_week
    assert page.orders_chart.today_values == expected.orders_per_hour
    assert page.updated.text().startswith(f"{expected.day:%a %d %b} · updated ")
    assert not page.notice.isVisible()


def test_opening_the_page_again_shows_what_happened_meanwhile(
        qtbot: Any, page: TodayPage, ctx: AppContext, backend: Backend) -> None:
    page.hide()
    before = page.orders_card.value.text()
    backend.add_order("Came While Away")
    expected = backend.repo.today(tz=datetime.now().astimezone().tzinfo)
    assert f"{expected.orders:,}" != before
    page.show()  # as the rail does when Today is opened
    qtbot.waitUntil(lambda: page.orders_card.value.text() == f"{expected.orders:,}",
                    timeout=10_000)


def test_f5_fetches_again(qtbot: Any, page: TodayPage) -> None:
    with qtbot.waitSignal(page.sig_loaded, timeout=10_000):
        qtbot.keyClick(page, Qt.Key.Key_F5)


def test_back_end_down_says_what_to_try(qtbot: Any, page: TodayPage, ctx: AppContext,
                                        backend: Backend) -> None:
    shown = page.bookings_card.value.text()
    dead = backend.dead_client()
    ctx.services.shop = dead
    try:
        page.refresh()
        qtbot.waitUntil(page.notice.isVisible, timeout=10_000)
        text = page.notice.label.text()
        assert text.startswith(f"Could not reach the shop at {dead.location}: ")
        assert text.endswith("Check the connection and press F5.")
        assert page.updated.text() == "Not updated"
        assert page.bookings_card.value.text() == shown  # the last figures stay up
    finally:
        ctx.services.shop = backend.repo
        dead.close()
    with qtbot.waitSignal(page.sig_loaded, timeout=10_000):
        page.refresh()
    assert not page.notice.isVisible()


def test_without_a_back_end(qtbot: Any) -> None:
    tasks = TaskRunner()
    try:
        page = TodayPage(AppContext(services=SimpleNamespace(shop=None, profile=None),
                                    tasks=tasks, diagnostics=Diagnostics(), local=Local()))
        qtbot.add_widget(page)
        assert page.notice.label.text() == NO_BACKEND
        assert page.bookings_card.value.text() == "–"
        assert "Settings" in page.empty.text()
    finally:
        tasks.shutdown()


def test_orders_so_far_are_set_against_last_week_by_the_same_time() -> None:
    last_week = (0,) * 8 + (4,) + (0,) * 2 + (6, 10) + (0,) * 11  # 20 all day
    thursday_0830 = datetime(2026, 12, 3, 8, 30)
    assert so_far(last_week, thursday_0830) == 2  # half of the 08:00 hour's 4
    assert so_far(last_week, datetime(2026, 12, 3, 23, 59, 59)) == 20
    assert compare_so_far(2, last_week, thursday_0830) == \
        "same as by this time last Thu (20 all day)"
    assert compare_so_far(5, last_week, datetime(2026, 12, 3, 12, 0)) == \
        "5 fewer than by this time last Thu (10; 20 all day)"
    assert compare_so_far(3, last_week, thursday_0830) == \
        "1 more than by this time last Thu (2; 20 all day)"
