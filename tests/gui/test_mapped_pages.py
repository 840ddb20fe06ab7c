"""Bookings and Products on a restaurant's own tables (SQLite, PostgreSQL, MariaDB) as seen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.bootstrap import Diagnostics, Local
from services.shop import make_repository
from tests.support.restaurant import Restaurant, open_restaurant
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.products import ProductsPage
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration),
         pytest.param("mariadb", marks=pytest.mark.integration)]
#: Where to save what the page looked like (docs/screenshots when refreshing the docs).
SHOTS = os.environ.get("BACKROOM_SHOTS")


@pytest.fixture(params=KINDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Restaurant]:
    made = open_restaurant(request.param, tmp_path)
    try:
        yield made
    finally:
        made.drop()


def context(shop: Restaurant, *, bookings_version: bool = True) -> tuple[AppContext, Any]:
    shop_map = shop.shop_map
    if not bookings_version:
        assert shop_map.bookings is not None
        shop_map = replace(shop_map, bookings=replace(shop_map.bookings, version=None))
    repo = make_repository(db_url=shop.url, db_map=shop_map)
    tasks = TaskRunner()
    return AppContext(services=SimpleNamespace(shop=repo, profile=None), tasks=tasks,
                      diagnostics=Diagnostics(), local=Local()), repo


def shown(qtbot: Any, page: Any) -> None:
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)


def test_bookings_of_the_shop_s_own_table_list_and_save(qtbot: Any, shop: Restaurant,
                                                        request: pytest.FixtureRequest) -> None:
    ctx, repo = context(shop)
    try:
        page = BookingsPage(ctx)
        qtbot.add_widget(page)
        page.set_day(shop.day.date())
        shown(qtbot, page)
        assert page.model.rowCount() == 60
        assert page.new_button.isEnabled() and page.new_button.toolTip() == ""
        page.table.selectRow(2)
        qtbot.waitUntil(lambda: page.form.booking is not None)
        booking = page.form.booking
        assert booking is not None
        page.form.party_spin.setValue(6)
        assert page.form.save_button.isEnabled()
        page.form.save_button.click()
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                        timeout=10_000)
        assert repo.get_booking(booking.id).party_size == 6
        if SHOTS:
            kind = request.node.callspec.params["shop"]
            page.grab().save(str(Path(SHOTS) / f"bookings-mapped-{kind}.png"))
    finally:
        ctx.tasks.shutdown()
        repo.close()


def test_a_table_without_a_version_column_greys_every_edit(qtbot: Any,
                                                           shop: Restaurant) -> None:
    ctx, repo = context(shop, bookings_version=False)
    try:
        page = BookingsPage(ctx)
        qtbot.add_widget(page)
        page.set_day(shop.day.date())
        shown(qtbot, page)
        assert page.model.rowCount() == 60
        assert "reservations_reservation has no version column" in page.notice.text()
        assert page.notice.isVisible()
        assert not page.new_button.isEnabled()
        assert "reservations_reservation has no version column" in page.new_button.toolTip()
        page.table.selectRow(0)
        qtbot.waitUntil(lambda: page.form.booking is not None)
        page.form.party_spin.setValue(5)
        assert not page.form.save_button.isEnabled()
        assert "no version column" in page.form.save_button.toolTip()
        visible = [b for b in page.form.action_buttons.values() if b.isVisibleTo(page.form)]
        assert visible and not any(b.isEnabled() for b in visible)
        assert all("no version column" in b.toolTip() for b in visible)

        products = ProductsPage(ctx)
        qtbot.add_widget(products)
        shown(qtbot, products)
        assert products.model.rowCount() == 4
        products.table.selectRow(0)
        qtbot.waitUntil(lambda: products.form.product is not None)
        assert not products.form.restock_button.isEnabled()
        assert "menu_item has no version column" in products.form.restock_button.toolTip()
        assert "menu_item has no version column" in products.notice.text()
        if SHOTS:
            page.grab().save(str(Path(SHOTS) / "bookings-mapped-read-only.png"))
    finally:
        ctx.tasks.shutdown()
        repo.close()


def test_cancelling_an_order_of_the_shop_s_own_tables(qtbot: Any, shop: Restaurant) -> None:
    from console.shop import OrderQuery, OrderStatus
    from ui.pages.orders import OrdersPage

    ctx, repo = context(shop)
    try:
        page = OrdersPage(ctx)
        qtbot.add_widget(page)
        page.set_range("all")
        shown(qtbot, page)
        ids = [page.model.row_object(r).id for r in range(page.model.rowCount())]
        assert ids == [r.id for r in repo.list_orders(OrderQuery()).rows] == [2, 1]
        page.table.selectRow(1)
        qtbot.waitUntil(lambda: page.panel.detail is not None)
        assert page.panel.items.rowCount() == 2  # the order's lines from orders_line
        page.panel.action_buttons[OrderStatus.CANCELLED].click()
        text = page.panel.confirm_label.text()
        assert "the shop's app keeps its own stock" in text and "back in stock" not in text
        page.panel.confirm_yes.click()
        qtbot.waitUntil(lambda: page.panel.detail is not None
                        and page.panel.detail.order.status is OrderStatus.CANCELLED,
                        timeout=10_000)
        assert repo.get_order(1).order.status is OrderStatus.CANCELLED
    finally:
        ctx.tasks.shutdown()
        repo.close()


def _index_said(qtbot: Any, page: Any) -> str:
    """What the page's index line says once the shop answered ('' when hidden)."""
    qtbot.waitUntil(lambda: page.index_hint.statement is not None, timeout=10_000)
    return page.index_hint.label.text() if page.index_hint.isVisible() else ""


@pytest.mark.integration
def test_a_list_whose_table_lacks_its_index_says_which_to_add_and_never_adds_it(
        qtbot: Any, tmp_path: Path) -> None:
    import sqlalchemy as sa
    from PyQt6.QtGui import QGuiApplication

    made = open_restaurant("postgres", tmp_path)
    engine = sa.create_engine(made.url)
    try:
        # The restaurant's reservations are indexed by time: nothing to say on Bookings.
        ctx, repo = context(made)
        try:
            page = BookingsPage(ctx)
            qtbot.add_widget(page)
            page.set_day(made.day.date())
            shown(qtbot, page)
            assert _index_said(qtbot, page) == ""
        finally:
            ctx.tasks.shutdown()
            repo.close()

        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_reservations_reservation_time")
        ctx, repo = context(made)
        try:
            page = BookingsPage(ctx)
            qtbot.add_widget(page)
            page.set_day(made.day.date())
            shown(qtbot, page)
            said = _index_said(qtbot, page)
            assert said.startswith("This list would load faster with an index: CREATE INDEX")
            assert "reservations_reservation" in said and "shop's developer" in said
            assert page.notice.text() == ""  # quiet: not the error or read-only banner
            if SHOTS:
                page.grab().save(str(Path(SHOTS) / "bookings-mapped-index.png"))
            page.index_hint.copy_button.click()
            copied = QGuiApplication.clipboard().text()
            assert copied.startswith("CREATE INDEX") and copied in said
            # The console never created it.
            assert not any(ix["column_names"][:1] == ["time"] for ix in
                           sa.inspect(engine).get_indexes("reservations_reservation"))
            # Products sort by the menu's title, which has no index either; the catalogue
            # was read once for the profile, not again for this page.
            statements: list[str] = []
            sa.event.listen(repo.engine, "before_cursor_execute",
                            lambda *a: statements.append(str(a[2])))
            products = ProductsPage(ctx)
            qtbot.add_widget(products)
            shown(qtbot, products)
            assert "menu_item" in _index_said(qtbot, products)
            assert statements and not any("pg_catalog" in s for s in statements)
        finally:
            ctx.tasks.shutdown()
            repo.close()

        # What was copied is what the developer runs; then the notice goes.
        with engine.begin() as conn:
            conn.exec_driver_sql(copied)
        ctx, repo = context(made)
        try:
            page = BookingsPage(ctx)
            qtbot.add_widget(page)
            page.set_day(made.day.date())
            shown(qtbot, page)
            assert _index_said(qtbot, page) == ""
        finally:
            ctx.tasks.shutdown()
            repo.close()
    finally:
        engine.dispose()
        made.drop()


def test_past_days_on_the_shop_s_own_tables_says_it_is_not_available(
        qtbot: Any, shop: Restaurant) -> None:
    from ui.pages.past_days import PastDaysPage

    ctx, _repo = context(shop)
    try:
        page = PastDaysPage(ctx)
        qtbot.add_widget(page)
        page.show()
        qtbot.waitUntil(lambda: page.notice.text() != "", timeout=10_000)
        assert page.notice.text().startswith("The day report reads Backroom's own schema or the "
                                             "shop's API")
        assert not page.export_button.isEnabled()
    finally:
        ctx.tasks.shutdown()


def test_guest_history_on_the_shop_s_own_tables_says_how_it_was_searched(
        qtbot: Any, shop: Restaurant) -> None:
    ctx, _repo = context(shop)
    try:
        page = BookingsPage(ctx)
        qtbot.add_widget(page)
        page.set_day(shop.day.date())
        shown(qtbot, page)
        page.table.selectRow(0)
        qtbot.waitUntil(lambda: page.form.guest.history is not None, timeout=10_000)
        assert page.form.guest.summary.text()
        assert "Only bookings under the same name or the same phone as typed were searched" \
            in page.form.guest.basis.text()
    finally:
        ctx.tasks.shutdown()
