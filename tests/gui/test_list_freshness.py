"""Lists refresh on their own: changes made elsewhere show up, selection and scroll stay put."""

from __future__ import annotations

from typing import Any

import pytest

from console.shop import OrderStatus
from tests.gui.test_orders_page import page, settled
from tests.support.shops import Backend
from ui.pages.orders import OrdersPage

pytestmark = pytest.mark.gui
__all__ = ["page"]  # the Orders page fixture, shared with its own tests


def selected_id(page: OrdersPage) -> int | None:
    current = page.table.currentIndex()
    order = page.model.row_object(current.row()) if current.isValid() else None
    return None if order is None else order.id


def status_of(page: OrdersPage, order_id: int) -> str | None:
    row = page.model.find_row(order_id)
    return None if row is None else page.model.data(page.model.index(row, 5))


def test_a_status_changed_elsewhere_and_a_new_order_show_up_keeping_the_selection(
        qtbot: Any, page: OrdersPage, backend: Backend) -> None:
    order_id = backend.add_order("Stale Status")
    page.refresh()
    settled(qtbot, page)
    page.table.selectRow(page.model.find_row(order_id))
    qtbot.waitUntil(lambda: page.panel.detail is not None
                    and page.panel.detail.order.id == order_id, timeout=10_000)
    before = page.model.count.value
    assert status_of(page, order_id) == "Pending"
    seen = backend.repo.get_order(order_id).order
    backend.other_client().set_order_status(order_id, seen.version, OrderStatus.PAID)
    backend.add_order("Newer Order")
    page.freshness.timer.setInterval(200)  # the check, sooner than the 15 s a user waits
    page.freshness.start()
    qtbot.waitUntil(lambda: status_of(page, order_id) == "Paid", timeout=15_000)
    settled(qtbot, page)
    assert page.model.count.value == before + 1
    assert f"{before + 1:,} orders" in page.count_label.text()
    qtbot.waitUntil(lambda: selected_id(page) == order_id, timeout=5_000)


def test_opening_the_page_checks_and_keeps_the_scroll_position(
        qtbot: Any, page: OrdersPage, backend: Backend) -> None:
    bar = page.table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    qtbot.waitUntil(lambda: page.model.row_object(page.table.rowAt(10)) is not None,
                    timeout=10_000)
    row = page.table.rowAt(10)
    page.table.selectRow(row)
    chosen = selected_id(page)
    scroll = bar.value()
    page.hide()
    before = page.model.count.value
    backend.add_order("While Away")
    page.show()  # as the rail does when the page is opened again
    qtbot.waitUntil(lambda: page.model.count is not None
                    and page.model.count.value == before + 1, timeout=15_000)
    settled(qtbot, page)
    qtbot.waitUntil(lambda: selected_id(page) == chosen, timeout=10_000)
    assert bar.value() == scroll


def test_nothing_changed_means_no_reload(qtbot: Any, page: OrdersPage) -> None:
    results: list[bool] = []
    page.freshness.sig_checked.connect(results.append)
    reloads: list[bool] = []
    page.model.modelReset.connect(lambda: reloads.append(True))
    page.freshness.check()
    qtbot.waitUntil(lambda: results == [False], timeout=10_000)
    assert reloads == []
