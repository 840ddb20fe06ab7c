"""The Floor's side panel acts as the Bookings one does: asks first, says, and undoes."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from console.shop import BookingStatus
from tests.gui.test_floor_page import book, centre, open_day, page  # noqa: F401  (fixture)
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.pages.floor import FloorPage

pytestmark = pytest.mark.gui


def asking(floor: FloorPage) -> str:
    return floor.form.confirm_label.text() if floor.form.confirm_label.isVisibleTo(floor) else ""


def test_cancel_on_the_floor_asks_says_and_undo_puts_the_block_back(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:  # noqa: F811
    day = backend.fresh_day()
    booking = book(backend, day, "<i>Ivy</i> Floor", 13, 4, table=6)
    open_day(qtbot, page, day)
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton, pos=centre(page.grid, booking.id))
    page.form.action_buttons[BookingStatus.CANCELLED].click()
    assert asking(page).startswith("Cancel the booking of <i>Ivy</i> Floor, 4 at ")
    page.form.confirm_no.click()
    assert asking(page) == ""
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CONFIRMED

    page.form.action_buttons[BookingStatus.CANCELLED].click()
    if backend.name == "sqlite":
        save_shot(page, "floor-cancel-asks.png")
    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.confirm_yes.click()
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CANCELLED
    said = page.form.message.text()
    assert said.startswith(f"Booking #{booking.id} of <i>Ivy</i> Floor (4, ")
    assert said.endswith(" cancelled (was confirmed).")
    assert page.said.text() == said  # the line under the floor says it too
    assert page.form.undo_button.isVisibleTo(page)
    assert booking.id not in {s.booking.id for s in page.day.seatings.get(6, ())}  # type: ignore[union-attr]
    if backend.name == "sqlite":
        save_shot(page, "floor-cancel-undo.png")

    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.undo_button.click()
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CONFIRMED
    assert page.form.message.text() == (f"Undone: booking #{booking.id} of <i>Ivy</i> Floor "
                                         "is confirmed again.")
    assert not page.form.undo_button.isVisibleTo(page)
    assert booking.id in {s.booking.id for s in page.day.seatings[6]}  # type: ignore[union-attr]


def test_no_show_on_the_floor_asks_and_can_be_undone(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:  # noqa: F811
    day = backend.fresh_day()
    booking = book(backend, day, "Jon Late", 20, 2, table=2)
    open_day(qtbot, page, day)
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton, pos=centre(page.grid, booking.id))
    page.form.action_buttons[BookingStatus.NO_SHOW].click()
    assert asking(page).startswith("Mark Jon Late, 2 at ")
    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.confirm_yes.click()
    assert page.form.message.text().endswith(" marked a no-show (was confirmed).")
    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.undo_button.click()
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CONFIRMED


def test_seat_on_a_day_not_today_asks_first_on_the_floor(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:  # noqa: F811
    day = backend.fresh_day()
    booking = book(backend, day, "Kim Early", 13, 2, table=3)
    open_day(qtbot, page, day)
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton, pos=centre(page.grid, booking.id))
    page.form.action_buttons[BookingStatus.SEATED].click()
    assert asking(page).startswith("This booking is not for today. Seat Kim Early, 2 at ")
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CONFIRMED
    with qtbot.waitSignal(page.sig_saved, timeout=10_000):
        page.form.confirm_yes.click()
    assert backend.repo.get_booking(booking.id).status is BookingStatus.SEATED
    assert page.said.text().endswith(" seated (was confirmed).")
    assert not page.form.undo_button.isVisibleTo(page)  # a seat is undone by Confirm
