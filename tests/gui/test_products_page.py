"""The Products page against SQLite, PostgreSQL and the demo shop over HTTP, as a user sees it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from console.shop import Product, ProductQuery
from services.bootstrap import Diagnostics, Local
from tests.support.shops import Backend
from ui.context import AppContext
from ui.models.paged import STATE_ROLE
from ui.pages.products import ALL_CATEGORIES, ProductsPage
from ui.pages.shop_texts import NO_BACKEND
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: Any, ctx: AppContext) -> ProductsPage:
    widget = ProductsPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 900)
    widget.show()
    settled(qtbot, widget)
    qtbot.waitUntil(lambda: widget.category_combo.count() > 1, timeout=10_000)
    return widget


def settled(qtbot: Any, page: ProductsPage) -> None:
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)


def shown(page: ProductsPage) -> list[Product]:
    return [p for r in range(page.model.rowCount())
            if (p := page.model.row_object(r)) is not None]


def search(qtbot: Any, page: ProductsPage, text: str) -> None:
    page.search_edit.setText(text)
    qtbot.waitUntil(lambda: page.model.query.search == text.strip())
    settled(qtbot, page)


def pick(qtbot: Any, page: ProductsPage, product_id: int) -> Product:
    row = next(i for i, p in enumerate(shown(page)) if p.id == product_id)
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.form.product is not None and page.form.product.id == product_id)
    return page.form.product


def a_product(backend: Backend, index: int) -> Product:
    return backend.repo.list_products(ProductQuery(include_inactive=False), limit=60).rows[index]


def test_search_category_and_low_stock(qtbot: Any, page: ProductsPage,
                                       backend: Backend) -> None:
    names = [p.name for p in shown(page)]
    assert names == sorted(names)
    target = a_product(backend, 4)
    search(qtbot, page, target.sku.lower())
    assert target.id in {p.id for p in shown(page)}
    search(qtbot, page, "")
    page.category_combo.setCurrentText(target.category)
    settled(qtbot, page)
    assert {p.category for p in shown(page)} == {target.category}
    page.category_combo.setCurrentText(ALL_CATEGORIES)
    page.low_check.setChecked(True)
    settled(qtbot, page)
    low = shown(page)
    assert low and all(p.is_low_stock for p in low)
    stock = [c.title for c in page.model.columns].index("Stock")
    for row in range(len(low)):
        assert page.model.data(page.model.index(row, stock), STATE_ROLE) in ("warn", "fail")
        assert page.model.data(page.model.index(row, 0),
                               Qt.ItemDataRole.BackgroundRole) is not None


def test_nothing_found_says_what_to_do(qtbot: Any, page: ProductsPage) -> None:
    search(qtbot, page, "no such thing %_'\"")
    assert page.area.empty_text() == "No products match. To see more, clear the search."


def test_edit_price_and_stock(qtbot: Any, page: ProductsPage, backend: Backend) -> None:
    target = a_product(backend, 7)
    search(qtbot, page, target.sku)
    product = pick(qtbot, page, target.id)
    page.form.price_spin.setValue(product.price_cents / 100 + 1.25)
    page.form.stock_spin.setValue(product.stock + 3)
    assert not page.form.restock_button.isEnabled()  # save or discard first
    page.form.save_button.click()
    qtbot.waitUntil(lambda: page.form.message.text() == "Saved.", timeout=10_000)
    stored = backend.repo.get_product(target.id)
    assert stored.price_cents == product.price_cents + 125
    assert stored.stock == product.stock + 3
    assert page.model.data(page.model.index(0, 3)) == f"€{stored.price_cents / 100:,.2f}"


def test_restock_adds_to_what_is_there(qtbot: Any, page: ProductsPage,
                                       backend: Backend) -> None:
    target = a_product(backend, 9)
    search(qtbot, page, target.sku)
    product = pick(qtbot, page, target.id)
    backend.other_client().restock_product(target.id, 5)  # someone else restocks too
    page.form.restock_spin.setValue(12)
    page.form.restock_button.click()
    qtbot.waitUntil(lambda: page.form.message.text().startswith("Restocked"), timeout=10_000)
    assert backend.repo.get_product(target.id).stock == product.stock + 17
    assert page.form.stock_spin.value() == product.stock + 17


def test_bad_values_are_explained_next_to_the_field(qtbot: Any, page: ProductsPage,
                                                     backend: Backend) -> None:
    target = a_product(backend, 11)
    search(qtbot, page, target.sku)
    product = pick(qtbot, page, target.id)
    page.form.price_spin.setValue(-2)
    page.form.stock_spin.setValue(-1)
    page.form.save_button.click()
    assert page.form.errors["price_cents"].text() == "The price cannot be negative."
    assert page.form.errors["stock"].text() == "Stock cannot be negative."
    assert page.form.price_spin.value() == -2
    assert backend.repo.get_product(target.id).version == product.version
    page.form.discard_button.click()
    page.form.restock_spin.setValue(0)
    page.form.restock_button.click()
    assert page.form.restock_error.isVisible()


def test_stale_save_offers_a_merge(qtbot: Any, page: ProductsPage, backend: Backend) -> None:
    target = a_product(backend, 13)
    search(qtbot, page, target.sku)
    mine = pick(qtbot, page, target.id)
    page.form.price_spin.setValue(mine.price_cents / 100 + 2)
    theirs = backend.other_client().update_product(mine.id, mine.version, type(
        mine.draft())(mine.name, mine.category, mine.price_cents, mine.stock + 40,
                      mine.low_stock_threshold, mine.active))
    page.form.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
    dialog = page.conflict_dialog
    assert {d.name for d in dialog.diffs} == {"price_cents", "stock"}
    dialog.merge_button.click()
    qtbot.waitUntil(lambda: page.form.message.text() == "Saved.", timeout=10_000)
    stored = backend.repo.get_product(target.id)
    assert (stored.price_cents, stored.stock) == (mine.price_cents + 200, theirs.stock)
    assert stored.version == theirs.version + 1


def test_back_end_down_keeps_the_form(qtbot: Any, page: ProductsPage, ctx: AppContext,
                                      backend: Backend) -> None:
    target = a_product(backend, 15)
    search(qtbot, page, target.sku)
    pick(qtbot, page, target.id)
    page.form.name_edit.setText("Renamed while offline")
    dead = backend.dead_client()
    ctx.services.shop = dead
    try:
        qtbot.keyClick(page.table, Qt.Key.Key_F5)
        qtbot.waitUntil(page.notice.isVisible, timeout=10_000)
        assert page.notice.label.text().startswith(f"Could not reach the shop at {dead.location}")
        page.form.save_button.click()
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Not saved"),
                        timeout=10_000)
        assert page.form.name_edit.text() == "Renamed while offline"
    finally:
        ctx.services.shop = backend.repo
        dead.close()


def test_without_a_back_end(qtbot: Any) -> None:
    tasks = TaskRunner()
    try:
        page = ProductsPage(AppContext(services=SimpleNamespace(shop=None, profile=None),
                                       tasks=tasks, diagnostics=Diagnostics(), local=Local()))
        qtbot.add_widget(page)
        assert page.notice.label.text() == NO_BACKEND
        assert "Settings" in page.area.empty_text()
    finally:
        tasks.shutdown()
