"""Text from a shop's database or a server is shown as typed, never as markup (issue 14).

A shop's web site writes what its customers type straight into its database; these tests do
the same (an UPDATE on the shop's own tables, on SQLite, PostgreSQL and the demo shop's
database behind its REST API), then open the pages a manager uses and check what is on the
screen: the literal text, no image loaded from an `<img>`, the GUI thread never blocked.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from console.shop import BookingDraft, OrderStatus, ProductQuery
from services.shop.db import make_engine
from tests.gui.hostile import (
    Hostile,
    assert_label_shows,
    labels_showing,
)
from tests.support.shops import Backend
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.orders import ALL_TIME, OrdersPage
from ui.pages.products import ProductsPage

pytestmark = pytest.mark.gui

PLAIN = Qt.TextFormat.PlainText


def outside_strings(backend: Backend, hostile: Hostile) -> dict[str, str]:
    """The corpus a shop of this kind can hold: PostgreSQL's text cannot hold a NUL, and our
    schema's indexed text on MySQL/MariaDB is VARCHAR(255), so the 100 kB text is cut there
    to what the column takes (the 100 kB case runs on the other back ends)."""
    strings = {k: v for k, v in hostile.strings.items()
               if not (k == "nul" and backend.name == "postgres")}
    if backend.name == "mariadb":
        strings["big"] = strings["big"][:251] + "</b>"
    return strings


def shop_writes(backend: Backend, table: str, row_id: int, **values: Any) -> None:
    """What the shop's own web site does: write a row in its database (and bump its version)."""
    url = backend.sql_url or f"sqlite:///{backend.demo.db_path}"  # type: ignore[attr-defined]
    engine = make_engine(url)
    try:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        with engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE {table} SET {sets}, version = version + 1 "
                                 "WHERE id = :row_id"), {**values, "row_id": row_id})
    finally:
        engine.dispose()


def shown(qtbot: Any, page: Any) -> None:
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()


def settled(qtbot: Any, page: Any) -> None:
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)


def row_of(page: Any, record_id: int) -> int:
    return next(r for r in range(page.model.rowCount())
                if (o := page.model.row_object(r)) is not None and o.id == record_id)


def head(text: str) -> str:
    """What a dialog or tooltip must show of ``text`` literally: all of it, or for 100 kB
    its first 2,000 characters (it says how long the rest is)."""
    return text if len(text) <= 2000 else text[:2000]


def assert_plain(label: QLabel, literal: str) -> None:
    assert_label_shows(label, literal)
    assert label.textFormat() == PLAIN


def test_order_panel_shows_the_customer_as_typed(qtbot: Any, ctx: AppContext,
                                                 backend: Backend, hostile: Hostile) -> None:
    strings = outside_strings(backend, hostile)
    ids = {}
    with hostile.ticks.aside():
        for key, text in strings.items():
            ids[key] = backend.add_order(f"Outside {key}")
            shop_writes(backend, "orders", ids[key], customer_name=text, status="completed")
    page = OrdersPage(ctx)
    shown(qtbot, page)
    page.set_range(ALL_TIME)
    settled(qtbot, page)
    panel = page.panel
    for key, text in strings.items():
        page.table.selectRow(row_of(page, ids[key]))
        qtbot.waitUntil(lambda k=key: panel.detail is not None
                        and panel.detail.order.id == ids[k], timeout=10_000)
        assert panel.detail.order.customer_name == text
        assert_plain(panel.summary, text)
        if key == "rtl":  # the override ends with the name: "· placed …" reads left to right
            assert f"\u2068{text}\u2069 · placed" in panel.summary.text()
        # Refunding names the customer in the question asked before it.
        panel.action_buttons[OrderStatus.REFUNDED].click()
        assert panel.confirm_label.isVisible()
        assert_plain(panel.confirm_label, text)
        panel.confirm_no.click()
    hostile.check_gui_was_free()


def test_product_heading_and_conflict_dialog_show_names_as_typed(
        qtbot: Any, ctx: AppContext, backend: Backend, hostile: Hostile) -> None:
    strings = outside_strings(backend, hostile)
    products = backend.repo.list_products(ProductQuery(include_inactive=False), limit=60).rows
    targets = dict(zip(strings, products[20:], strict=False))
    page = ProductsPage(ctx)
    shown(qtbot, page)
    settled(qtbot, page)
    form = page.form
    for key, text in strings.items():
        target = targets[key]
        page.table.selectRow(row_of(page, target.id))
        qtbot.waitUntil(lambda t=target: form.product is not None and form.product.id == t.id)
        form.price_spin.setValue(form.price_spin.value() + 1)
        # Meanwhile the shop's site renames the product: saving meets their version.
        with hostile.ticks.aside():
            shop_writes(backend, "products", target.id, name=text)
        form.save_button.click()
        qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
        dialog = page.conflict_dialog
        assert dialog is not None and {d.name for d in dialog.diffs} >= {"name"}
        # Their name in the "their version" column and in the heading sentence.
        showing = labels_showing(dialog, head(text))
        assert any(label.textFormat() == PLAIN for label in showing), key
        # the sentence at the top names the product (bold, ours; the name escaped)
        assert any(label.textFormat() == Qt.TextFormat.RichText
                   for label in labels_showing(dialog, head(text)[:200])), key
        if key == "big":
            assert labels_showing(dialog, f"({len(text):,} characters in all)")
        assert dialog.width() < 2000
        dialog.take_theirs_button.click()
        qtbot.waitUntil(lambda t=text: form.product is not None and form.product.name == t,
                        timeout=10_000)
        assert_plain(form.heading, text)
        if key != "big":  # the field keeps at most a name's length
            assert form.name_edit.text() == text
    hostile.check_gui_was_free()


def test_booking_conflict_dialog_shows_their_guest_and_notes_as_typed(
        qtbot: Any, ctx: AppContext, backend: Backend, hostile: Hostile) -> None:
    strings = outside_strings(backend, hostile)
    day = backend.fresh_day()
    with hostile.ticks.aside():
        ids = {key: backend.repo.create_booking(BookingDraft(
            f"Guest {key}", 2, backend.at(day, 12, n))).id for n, key in enumerate(strings)}
    page = BookingsPage(ctx)
    shown(qtbot, page)
    page.set_day(day)
    settled(qtbot, page)
    form = page.form
    for key, text in strings.items():
        page.table.selectRow(row_of(page, ids[key]))
        qtbot.waitUntil(lambda k=key: form.booking is not None and form.booking.id == ids[k])
        form.phone_edit.setText("+44 7700 900123")
        with hostile.ticks.aside():
            shop_writes(backend, "bookings", ids[key], customer_name=text, notes=text)
        form.save_button.click()
        qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
        dialog = page.conflict_dialog
        assert dialog is not None
        assert {d.name for d in dialog.diffs} >= {"customer_name", "notes"}
        plain = [label for label in labels_showing(dialog, head(text))
                 if label.textFormat() == PLAIN]
        assert len(plain) >= 2, key  # the guest and the notes, their version
        assert dialog.width() < 2000
        dialog.take_theirs_button.click()
        qtbot.waitUntil(lambda t=text: form.booking is not None
                        and form.booking.customer_name == t, timeout=10_000)
        if key != "big":
            assert form.name_edit.text() == text
        assert form.notes_edit.toPlainText() == text
    hostile.check_gui_was_free()


def test_history_shows_who_and_what_as_the_shop_stored_them(
        qtbot: Any, ctx: AppContext, backend: Backend, hostile: Hostile) -> None:
    from datetime import UTC, datetime

    from services.shop.schema import change_log

    strings = outside_strings(backend, hostile)
    day = backend.fresh_day()
    booking = backend.add_booking(day, "History Guest", hour=14)
    url = backend.sql_url or f"sqlite:///{backend.demo.db_path}"  # type: ignore[attr-defined]
    engine = make_engine(url)
    try:
        with hostile.ticks.aside(), engine.begin() as conn:
            # What the shop's database holds: names and values its own users typed.
            conn.execute(change_log.insert(), [
                {"entity": "bookings", "record_id": booking.id, "version": 2 + i,
                 "field": "notes", "old_value": None, "new_value": text,
                 "changed_by": text, "changed_at": datetime.now(UTC).replace(tzinfo=None)}
                for i, text in enumerate(strings.values())])
    finally:
        engine.dispose()
    page = BookingsPage(ctx)
    shown(qtbot, page)
    page.set_day(day)
    settled(qtbot, page)
    page.panel_tabs.setCurrentWidget(page.history_box)
    page.table.selectRow(row_of(page, booking.id))
    box = page.history_box
    qtbot.waitUntil(lambda: box.changes is not None and len(box.changes) >= len(strings),
                    timeout=10_000)
    assert box.summary.textFormat() == PLAIN
    last = list(strings.values())[-1]
    assert_plain(box.summary, last[:120])
    model = box.model
    shown_who = {str(model.data(model.index(r, 1))).translate({0x2068: None, 0x2069: None})
                 for r in range(model.rowCount())}
    for text in strings.values():
        assert text[:120] in "\n".join(shown_who)
    hostile.check_gui_was_free()
