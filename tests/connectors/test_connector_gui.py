"""The Bookings page on real shops' connectors: edits, a second editor's conflict, greyed fields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.bootstrap import Diagnostics, Local
from services.shop.api import ApiShopRepository
from tests.connectors.conftest import Shop, flask_site
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.orders import OrdersPage
from ui.pages.products import ProductsPage
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with flask_site("sqlite", tmp_path_factory.mktemp("cafe-gui")) as running:
        yield running


def open_page(qtbot: Any, repo: ApiShopRepository) -> tuple[BookingsPage, TaskRunner]:
    tasks = TaskRunner()
    page = BookingsPage(AppContext(services=SimpleNamespace(shop=repo, profile=None),
                                   tasks=tasks, diagnostics=Diagnostics(), local=Local()))
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()
    page.set_day((datetime.now(UTC) + timedelta(days=1)).date())
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading
                    and page.model.rowCount() > 0, timeout=15_000)
    return page, tasks


def select_row(qtbot: Any, page: BookingsPage, row: int) -> Any:
    page.table.selectRow(row)
    wanted = page.model.row_object(row)
    qtbot.waitUntil(lambda: page.form.booking is not None
                    and page.form.booking.id == wanted.id)
    return page.form.booking


def test_a_second_editor_gets_a_conflict_not_a_lost_update(qtbot: Any, django_shop: Shop
                                                          ) -> None:
    page, tasks = open_page(qtbot, django_shop.repo())
    try:
        mine = select_row(qtbot, page, 5)
        page.form.notes_edit.setPlainText("birthday cake")
        other = django_shop.repo(user="Zoë Ng")  # the console at the other till
        theirs = other.update_booking(mine.id, mine.version,
                                      replace(mine.draft(), party_size=6))
        page.form.save_button.click()
        qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
        dialog = page.conflict_dialog
        assert dialog is not None
        assert {d.name for d in dialog.diffs} == {"party_size", "notes"}
        # who saved first, from the connector's own log
        assert "Zoë Ng" in dialog.windowTitle() and "Zoë Ng" in dialog.saved_by_text
        save_shot(dialog, "conflict-named-django.png")
        dialog.merge_button.click()
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                        timeout=10_000)
        stored = other.get_booking(mine.id)
        assert (stored.party_size, stored.notes) == (6, "birthday cake")
        assert stored.version > theirs.version
        save_shot(page, "bookings-django-connector.png")
    finally:
        tasks.shutdown()


def test_a_field_the_shop_does_not_map_is_hidden_and_greyed(qtbot: Any, cafe: Shop) -> None:
    page, tasks = open_page(qtbot, cafe.repo())
    try:
        qtbot.waitUntil(lambda: not page.form.notes_edit.isEnabled(), timeout=10_000)
        assert page.table.isColumnHidden(6)  # Notes: the café keeps none
        assert not page.table.isColumnHidden(2)  # Phone: it does
        assert "does not map" in page.form.notes_edit.toolTip()
        select_row(qtbot, page, 0)
        page.form.party_spin.setValue(3)
        page.form.save_button.click()
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                        timeout=10_000)
        assert cafe.repo().get_booking(page.form.booking.id).party_size == 3
    finally:
        tasks.shutdown()


def test_a_shop_without_a_version_field_is_read_only_with_the_reason(qtbot: Any,
                                                                     cafe: Shop) -> None:
    repo = ApiShopRepository(cafe.base_url + "-read-only", cafe.token, timeout=10.0)
    page, tasks = open_page(qtbot, repo)
    try:
        qtbot.waitUntil(lambda: not page.new_button.isEnabled(), timeout=10_000)
        assert "read-only" in page.new_button.toolTip()
        select_row(qtbot, page, 0)
        assert not page.form.name_edit.isEnabled()
        assert not page.form.save_button.isEnabled()
        seat = next(iter(b for b in page.form.action_buttons.values()
                         if b.isVisibleTo(page.form)))
        assert not seat.isEnabled()
        assert "read-only" in seat.toolTip()
        save_shot(page, "bookings-connector-read-only.png")
    finally:
        tasks.shutdown()


def show(qtbot: Any, page: Any) -> TaskRunner:
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=15_000)
    return page.ctx.tasks


def context(repo: ApiShopRepository) -> AppContext:
    return AppContext(services=SimpleNamespace(shop=repo, profile=None), tasks=TaskRunner(),
                      diagnostics=Diagnostics(), local=Local())


def test_orders_a_shop_shares_read_only_cannot_be_moved(qtbot: Any, django_shop: Shop) -> None:
    page = OrdersPage(context(django_shop.repo()))
    tasks = show(qtbot, page)
    try:
        assert page.model.rowCount() > 0
        page.table.selectRow(0)
        qtbot.waitUntil(lambda: page.panel.detail is not None, timeout=10_000)
        qtbot.waitUntil(lambda: not page.panel.access.writable, timeout=10_000)
        offered = [b for b in page.panel.action_buttons.values() if b.isVisibleTo(page.panel)]
        assert offered
        assert all(not b.isEnabled() and "read-only" in b.toolTip() for b in offered)
    finally:
        tasks.shutdown()


def test_products_without_a_version_are_greyed_and_unkept_fields_hidden(qtbot: Any,
                                                                        cafe: Shop) -> None:
    page = ProductsPage(context(cafe.repo()))
    tasks = show(qtbot, page)
    try:
        qtbot.waitUntil(lambda: not page.form.access.writable, timeout=10_000)
        assert page.table.isColumnHidden(0)  # SKU: the café keeps none
        assert not page.table.isColumnHidden(4)  # Stock: it does
        page.table.selectRow(0)
        qtbot.waitUntil(lambda: page.form.product is not None, timeout=10_000)
        assert not page.form.stock_spin.isEnabled()
        assert not page.form.restock_button.isEnabled()
        assert "read-only" in page.form.restock_button.toolTip()
    finally:
        tasks.shutdown()


def test_orders_a_shop_does_not_share_say_so(qtbot: Any, cafe: Shop) -> None:
    page = OrdersPage(context(cafe.repo()))
    qtbot.add_widget(page)
    page.show()
    try:
        qtbot.waitUntil(lambda: "does not share orders" in page.area.empty_text(),
                        timeout=15_000)
    finally:
        page.ctx.tasks.shutdown()


def test_a_cancel_is_undone_over_the_django_connector(qtbot: Any, django_shop: Shop) -> None:
    """The connector keeps the contract's two minutes for undoing a cancel."""
    from console.shop import BookingStatus

    page, tasks = open_page(qtbot, django_shop.repo())
    try:
        qtbot.waitUntil(lambda: page.model.row_object(0) is not None, timeout=10_000)
        row = next(r for r in range(page.model.rowCount())
                   if (b := page.model.row_object(r)) is not None
                   and b.status is BookingStatus.CONFIRMED)
        booking = select_row(qtbot, page, row)
        page.form.action_buttons[BookingStatus.CANCELLED].click()
        page.form.confirm_yes.click()
        qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CANCELLED,
                        timeout=10_000)
        page.form.undo_button.click()
        qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CONFIRMED,
                        timeout=10_000)
        assert page.form.message.text().startswith("Undone: ")
        assert django_shop.repo().get_booking(booking.id).status is BookingStatus.CONFIRMED
    finally:
        tasks.shutdown()


def test_a_no_show_is_asked_said_and_undone_over_the_django_connector(
        qtbot: Any, django_shop: Shop) -> None:
    from console.shop import BookingStatus

    page, tasks = open_page(qtbot, django_shop.repo())
    try:
        qtbot.waitUntil(lambda: page.model.row_object(0) is not None, timeout=10_000)
        row = next(r for r in range(page.model.rowCount())
                   if (b := page.model.row_object(r)) is not None
                   and b.status is BookingStatus.CONFIRMED)
        booking = select_row(qtbot, page, row)
        page.form.action_buttons[BookingStatus.NO_SHOW].click()
        assert page.form.confirm_label.text().startswith("Mark ")
        page.form.confirm_yes.click()
        qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.NO_SHOW,
                        timeout=10_000)
        assert page.form.message.text().endswith(" marked a no-show (was confirmed).")
        page.form.undo_button.click()
        qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CONFIRMED,
                        timeout=10_000)
        assert django_shop.repo().get_booking(booking.id).status is BookingStatus.CONFIRMED
    finally:
        tasks.shutdown()


def test_past_days_over_the_django_connector_show_the_shops_days(qtbot: Any,
                                                                  django_shop: Shop) -> None:
    """The report the connector sums in the shop's database, on the page: the seed's three
    past days have bookings, tickets and sales by the dishes' sections."""
    from ui.pages.past_days import PastDaysPage

    tasks = TaskRunner()
    page = PastDaysPage(AppContext(services=SimpleNamespace(shop=django_shop.repo(),
                                                            profile=None),
                                   tasks=tasks, diagnostics=Diagnostics(), local=Local()))
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()
    try:
        today = datetime.now(UTC).date()
        with qtbot.waitSignal(page.sig_loaded, timeout=15_000) as loaded:
            page.set_range(today - timedelta(days=3), today - timedelta(days=1))
        report = loaded.args[0]
        assert page.days_model.rowCount() == 3
        assert all(d.booking_count > 0 for d in report.days)
        assert report.zone == "UTC"
        sections = {page.category_model.data(page.category_model.index(r, 0))
                    for r in range(page.category_model.rowCount())}
        assert {"Mains", "Starters", "Uncategorised"} <= sections
        assert page.notice.text() == ""  # no "no day report" any more
        save_shot(page, "past-days-django.png")
    finally:
        tasks.shutdown()


def test_guest_history_over_a_connector_is_searched_by_name_and_phone(
        qtbot: Any, django_shop: Shop) -> None:
    page, tasks = open_page(qtbot, django_shop.repo())
    try:
        select_row(qtbot, page, 0)
        qtbot.waitUntil(lambda: page.form.guest.history is not None, timeout=15_000)
        assert "Only bookings under the same name or the same phone as typed were searched" \
            in page.form.guest.basis.text()
    finally:
        tasks.shutdown()


def test_the_floor_draws_a_django_shops_tables_and_a_drag_saves(qtbot: Any,
                                                                django_shop: Shop) -> None:
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtTest import QTest

    from ui.pages.floor import FloorPage
    from ui.widgets.floor_grid import PX_PER_MIN

    repo = django_shop.repo()
    page = FloorPage(context(repo))
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()
    tasks = page.ctx.tasks
    try:
        with qtbot.waitSignal(page.sig_loaded, timeout=15_000):
            page.set_day((datetime.now(UTC) + timedelta(days=1)).date())
        day = page.day
        assert day is not None and len(day.plan.tables) == 20
        assert len(page.bookings) == 40
        booking = next(b for b in page.bookings if b.table_no == 3)
        grid = page.grid
        start = grid.block_rect(booking.id).center()
        end = QPoint(start.x() + int(30 * PX_PER_MIN), grid.row_top(20) + 14)
        with qtbot.waitSignal(page.sig_saved, timeout=15_000):
            QTest.mousePress(grid, Qt.MouseButton.LeftButton, pos=start)
            QTest.mouseMove(grid, QPoint(start.x() + 10, start.y()))
            QTest.mouseMove(grid, end)
            QTest.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=end)
        stored = repo.get_booking(booking.id)
        assert stored.table_no == 20
        assert stored.start_at == booking.start_at + timedelta(minutes=30)
        save_shot(page, "floor-django-connector.png")
    finally:
        tasks.shutdown()


def test_a_host_seats_a_waiting_party_over_the_django_connector(qtbot: Any,
                                                                 django_shop: Shop) -> None:
    """Tonight's Floor on the Django site: a party added in the panel waits, is seated at a
    free table through the walk-in dialog, and is a seated booking in the shop's model."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest

    from console.shop import BookingStatus
    from ui.pages.floor import FloorPage

    repo = django_shop.repo(user="Hana Host")
    page = FloorPage(context(repo))
    qtbot.add_widget(page)
    page.resize(1500, 900)
    tasks = page.ctx.tasks
    try:
        with qtbot.waitSignal(page.sig_waitlist, timeout=15_000):
            page.show()
        qtbot.waitUntil(lambda: page.day is not None, timeout=15_000)
        box = page.waitlist_box
        box.name_edit.setText("Ruth Door")
        box.covers_spin.setValue(4)
        box.quoted_spin.setValue(30)
        with qtbot.waitSignal(page.sig_waitlist, timeout=15_000):
            QTest.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
        assert box.message.text() == "Added Ruth Door (4) to the waitlist, quoted 30 min."
        names = [box.model.data(box.model.index(r, 0)) for r in range(box.model.rowCount())]
        box.table.selectRow(names.index("Ruth Door"))
        save_shot(page, "floor-waitlist-django.png")
        QTest.mouseClick(box.seat_button, Qt.MouseButton.LeftButton)
        dialog = page.walk_in_dialog
        assert dialog is not None and dialog.windowTitle() == "Seat from the waitlist"
        table_no = dialog.table_combo.currentData()
        with qtbot.waitSignal(page.sig_waitlist, timeout=15_000):
            QTest.mouseClick(dialog.seat_button, Qt.MouseButton.LeftButton)
        assert box.message.text().startswith("Seated Ruth Door, 4 covers, at ")
        assert box.average.text().startswith("Average wait today: ")
        booking = page.form.booking
        assert booking is not None
        stored = repo.get_booking(booking.id)
        assert (stored.customer_name, stored.party_size, stored.table_no, stored.status) == (
            "Ruth Door", 4, table_no, BookingStatus.SEATED)
        assert stored.notes == "From the waitlist: waited 0 min (quoted 30)."
    finally:
        tasks.shutdown()


def test_a_shop_without_a_waitlist_greys_the_panel_with_the_reason(qtbot: Any,
                                                                   cafe: Shop) -> None:
    from ui.pages.floor import FloorPage

    bare = Shop(cafe.name, cafe.base_url.replace("/backroom", "/backroom-read-only"),
                cafe.token)
    page = FloorPage(context(bare.repo()))
    qtbot.add_widget(page)
    page.resize(1400, 900)
    tasks = page.ctx.tasks
    try:
        page.show()
        box = page.waitlist_box
        qtbot.waitUntil(lambda: "keeps no waitlist" in box.summary.text(), timeout=15_000)
        assert not box.add_button.isEnabled() and not box.seat_button.isEnabled()
    finally:
        tasks.shutdown()


def test_the_run_sheet_of_a_django_shop_saved_as_pdf_reads_back(qtbot: Any, django_shop: Shop,
                                                                tmp_path: Path) -> None:
    """Print tonight over the Django connector: the service's bookings by time with covers
    and notes, an allergy called out, a cancelled booking left out, read back from the PDF."""
    from console.shop import BookingDraft, BookingStatus
    from tests.gui.test_run_sheet import local_hour, pdf_text
    from ui.pages.run_sheet import RunSheetDialog

    repo = django_shop.repo()
    day = (datetime.now(UTC) + timedelta(days=47)).date()  # no other test books this day

    def book(name: str, hour: int, party: int, notes: str = "") -> Any:
        return repo.create_booking(BookingDraft(
            customer_name=name, party_size=party, notes=notes,
            start_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC)))

    book("Early Ada", 19, 2, "window seat")
    book("<b>Bob</b> & Co", 20, 6, "Severe nut allergy, EpiPen")
    gone = book("Gone Gus", 21, 4)
    repo.set_booking_status(gone.id, gone.version, BookingStatus.CANCELLED)
    tasks = TaskRunner()
    dialog = RunSheetDialog(AppContext(services=SimpleNamespace(shop=repo, profile=None),
                                       tasks=tasks, diagnostics=Diagnostics(), local=Local()),
                            day)
    qtbot.add_widget(dialog)
    try:
        with qtbot.waitSignal(dialog.sig_loaded, timeout=15_000) as loaded:
            dialog.set_service("day")
        sheet = loaded.args[0]
        assert [line.guest for line in sheet.lines] == ["Early Ada", "<b>Bob</b> & Co"]
        assert sheet.summary == "2 bookings · 8 covers · 1 with allergies"
        path = tmp_path / "tonight.pdf"
        with qtbot.waitSignal(dialog.sig_saved, timeout=20_000):
            dialog.save_pdf(path)
        text = pdf_text(path)
        assert "<b>Bob</b> & Co" in text and "Gone Gus" not in text
        assert "ALLERGY (nut): Severe nut allergy, EpiPen" in text
        ada = next(line for line in text.splitlines() if "Early Ada" in line)
        assert local_hour(day, 19) in ada and "window seat" in ada
    finally:
        tasks.shutdown()
