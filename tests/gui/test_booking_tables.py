"""The booking panel names a table as the floor does ("T1"), on Bookings and on the Floor."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from console.shop import BookingDraft
from tests.gui.test_booking_actions import page  # noqa: F401  (fixture)
from tests.gui.test_bookings_page import open_day, select
from tests.gui.test_floor_page import centre
from tests.gui.test_floor_page import open_day as open_floor_day
from tests.support.shops import Backend
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.floor import FloorPage
from ui.widgets.table_spin import TableSpin

pytestmark = pytest.mark.gui


def test_the_panel_shows_the_table_by_name_and_a_name_typed_picks_it(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:  # noqa: F811
    day = backend.fresh_day()
    backend.repo.create_booking(BookingDraft("Lu Terrace", 2, backend.at(day, 13),
                                             table_no=19))
    qtbot.waitUntil(lambda: bool(page.form.table_spin.tables), timeout=10_000)
    open_day(qtbot, page, day)
    booking = select(qtbot, page, "Lu Terrace")
    spin = page.form.table_spin
    assert spin.text() == "T1 (2 seats, Terrace)"
    spin.stepBy(1)  # the arrows walk the room's tables, not bare numbers
    assert spin.text() == "T2 (2 seats, Terrace)" and spin.value() == 20
    spin.lineEdit().selectAll()  # type: ignore[union-attr]
    QTest.keyClicks(spin, "d3")
    spin.interpretText()
    assert spin.value() == 3 and spin.text().startswith("D3 (2 seats")
    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.save_button.click()
    assert backend.repo.get_booking(booking.id).table_no == 3
    assert page.form.message.text() == f"Saved booking #{booking.id}: table T1 → D3."


def test_the_floors_panel_names_the_table_of_the_block_clicked(
        qtbot: Any, ctx: AppContext, backend: Backend) -> None:
    floor = FloorPage(ctx)
    qtbot.add_widget(floor)
    floor.resize(1400, 900)
    floor.show()
    day = backend.fresh_day()
    booking = backend.repo.create_booking(BookingDraft("Mo Big", 6, backend.at(day, 19),
                                                       table_no=13))
    open_floor_day(qtbot, floor, day)
    QTest.mouseClick(floor.grid, Qt.MouseButton.LeftButton,
                     pos=centre(floor.grid, booking.id))
    assert floor.form.table_spin.text() == "D13 (6 seats, Dining room)"


def test_without_tables_the_field_is_a_plain_number() -> None:
    spin = TableSpin()
    spin.setValue(7)
    assert spin.text() == "7"
    spin.setValue(0)
    assert spin.text() == "none"
