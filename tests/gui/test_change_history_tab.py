"""Two people edit one booking: the conflict names who saved first, the History tab shows both."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from console.shop import BookingDraft, OrderStatus, ProductQuery
from services.bootstrap import Diagnostics, Local
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.models.formatting import when_text
from ui.pages.bookings import BookingsPage
from ui.pages.orders import OrdersPage
from ui.pages.products import ProductsPage
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

MARIA, ZOE = "Maria Rossi", "Zoë <b>Ng</b>"


@pytest.fixture
def maria_ctx(backend: Backend) -> Iterator[AppContext]:
    """The console as Maria, at the front desk."""
    tasks = TaskRunner()
    yield AppContext(services=SimpleNamespace(shop=backend.as_user(MARIA), profile=None),
                     tasks=tasks, diagnostics=Diagnostics(), local=Local())
    tasks.shutdown()


def bookings_page(qtbot: Any, ctx: AppContext) -> BookingsPage:
    page = BookingsPage(ctx)
    qtbot.add_widget(page)
    page.resize(1400, 820)
    page.show()
    return page


def rows(page: Any) -> list[tuple[str, ...]]:
    model = page.history_box.model
    return [tuple(str(model.data(model.index(r, c))) for c in range(model.columnCount()))
            for r in range(model.rowCount())]


def test_the_conflict_names_who_saved_first_and_history_shows_both_edits(
        qtbot: Any, maria_ctx: AppContext, backend: Backend) -> None:
    maria = maria_ctx.shop
    assert maria is not None
    day = backend.fresh_day()
    made = backend.add_booking(day, "Ada Lovelace", hour=19, party=2, repo=maria)
    page = bookings_page(qtbot, maria_ctx)
    page.set_day(day)
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.form.booking is not None and page.form.booking.id == made.id)
    page.form.notes_edit.setPlainText("birthday cake")
    # Zoë, at the other till, saves first: four covers now.
    theirs = backend.as_user(ZOE).update_booking(made.id, made.version, BookingDraft(
        made.customer_name, 4, made.start_at, made.phone, made.table_no, made.notes))
    page.form.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
    dialog = page.conflict_dialog
    assert dialog is not None
    assert theirs.updated_at is not None
    assert ZOE in dialog.windowTitle()
    assert dialog.saved_by_text.endswith(f"at {when_text(theirs.updated_at)}")
    assert ZOE in dialog.saved_by_text  # the name as text: its <b> is not bold
    intro = dialog.findChildren(type(page.count_label))[0]
    assert "&lt;b&gt;Ng&lt;/b&gt;" in intro.text()
    save_shot(dialog, "conflict-named.png")
    dialog.merge_button.click()
    qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                    timeout=10_000)

    page.panel_tabs.setCurrentWidget(page.history_box)
    qtbot.waitUntil(lambda: page.history_box.changes is not None, timeout=10_000)
    shown = rows(page)
    assert [(r[1], r[2], r[3], r[4]) for r in shown] == [
        (MARIA, "Notes", "—", "birthday cake"),
        (ZOE, "Party size", "2", "4"),
        (MARIA, "Created", "", "booked: Ada Lovelace, 2"),
    ]
    assert page.history_box.summary.text().startswith("Last changed ")
    assert page.history_box.summary.text().endswith(f"by {MARIA}.")
    split = page.panel_tabs.parentWidget()
    split.setSizes([700, 700])  # type: ignore[union-attr]  # the panel dragged wider
    save_shot(page, "history-tab.png")


def test_history_follows_the_selected_product(qtbot: Any, maria_ctx: AppContext,
                                              backend: Backend) -> None:
    maria = maria_ctx.shop
    assert maria is not None
    product = maria.list_products(ProductQuery(search="", include_inactive=True),
                                  limit=1).rows[0]
    maria.restock_product(product.id, 5)
    page = ProductsPage(maria_ctx)
    qtbot.add_widget(page)
    page.resize(1400, 820)
    page.show()
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)
    page.panel_tabs.setCurrentWidget(page.history_box)
    assert page.history_box.summary.text() == "Pick a row to see who changed it."
    row = page.model.find_row(product.id)
    assert row is not None
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.history_box.changes is not None, timeout=10_000)
    first = rows(page)[0]
    assert (first[1], first[2]) == (MARIA, "Stock")
    assert int(first[4]) == int(first[3]) + 5


def test_an_orders_history_shows_its_status_move(qtbot: Any, maria_ctx: AppContext,
                                                 backend: Backend) -> None:
    order_id = backend.add_order("Barbara Liskov")
    page = OrdersPage(maria_ctx)
    qtbot.add_widget(page)
    page.resize(1400, 820)
    page.show()
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)
    page.panel_tabs.setCurrentWidget(page.history_box)
    row = page.model.find_row(order_id)
    assert row is not None
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.history_box.changes == (), timeout=10_000)
    assert page.history_box.summary.text() == "No changes recorded since it was made."
    page.move_order(OrderStatus.PAID)  # what the panel's Paid button asks
    qtbot.waitUntil(lambda: bool(page.history_box.changes), timeout=10_000)
    assert [r[1:] for r in rows(page)] == [(MARIA, "Status", "Pending", "Paid")]
