"""Cancel, No-show and Seat on a booking as a manager meets them: asked first, said, undone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from console.shop import Booking, BookingStatus
from tests.gui.test_bookings_page import open_day, select
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.pages.booking_form import confirm_question
from ui.pages.bookings import BookingsPage

pytestmark = pytest.mark.gui


@pytest.fixture
def page(bookings_page: BookingsPage) -> BookingsPage:
    return bookings_page


def shown(qtbot: Any, page: BookingsPage, backend: Backend, name: str, **kw: Any) -> Booking:
    day = backend.fresh_day()
    backend.add_booking(day, name, **kw)
    open_day(qtbot, page, day)
    return select(qtbot, page, name)


def asking(page: BookingsPage) -> str:
    return page.form.confirm_label.text() if page.form.confirm_label.isVisibleTo(page) else ""


def test_cancel_asks_first_says_what_it_did_and_undo_puts_it_back(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    booking = shown(qtbot, page, backend, "<b>Ann</b> & Co", party=4)
    page.form.action_buttons[BookingStatus.CANCELLED].click()
    assert asking(page).startswith("Cancel the booking of <b>Ann</b> & Co, 4 at ")
    # "No, keep it": nothing happens.
    page.form.confirm_no.click()
    assert asking(page) == ""
    assert backend.repo.get_booking(booking.id).status is BookingStatus.CONFIRMED

    page.form.action_buttons[BookingStatus.CANCELLED].click()
    assert page.form.confirm_yes.text() == "Yes, cancel booking"
    if backend.name == "sqlite":
        save_shot(page, "booking-cancel-asks.png")
    page.form.confirm_yes.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CANCELLED, timeout=10_000)
    stored = backend.repo.get_booking(booking.id)
    assert stored.status is BookingStatus.CANCELLED
    said = page.form.message.text()
    assert said.startswith(f"Booking #{booking.id} of <b>Ann</b> & Co (4, ")
    assert said.endswith(" cancelled (was confirmed).")
    assert page.form.undo_button.isVisibleTo(page)
    if backend.name == "sqlite":
        save_shot(page, "booking-cancel-undo.png")

    page.form.undo_button.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CONFIRMED, timeout=10_000)
    again = backend.repo.get_booking(booking.id)
    assert again.status is BookingStatus.CONFIRMED
    assert again.version == stored.version + 1  # through the versioned edit
    assert page.form.message.text() == (f"Undone: booking #{booking.id} of <b>Ann</b> & Co "
                                         "is confirmed again.")
    assert not page.form.undo_button.isVisibleTo(page)
    assert page.model.data(page.model.index(0, 5)) == "Confirmed"


def test_no_show_asks_and_its_undo_is_offered_only_for_a_while(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    booking = shown(qtbot, page, backend, "Late Larry")
    page.form.undo_window_ms = 300
    page.form.action_buttons[BookingStatus.NO_SHOW].click()
    assert asking(page).startswith("Mark Late Larry, 2 at ")
    page.form.confirm_yes.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.NO_SHOW, timeout=10_000)
    assert page.form.message.text().endswith(" marked a no-show (was confirmed).")
    assert page.form.undo_button.isVisibleTo(page)
    qtbot.waitUntil(lambda: not page.form.undo_button.isVisibleTo(page), timeout=5_000)
    assert backend.repo.get_booking(booking.id).status is BookingStatus.NO_SHOW


def test_undo_after_someone_else_changed_it_changes_nothing_and_says_so(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    booking = shown(qtbot, page, backend, "Twice Tina")
    page.form.action_buttons[BookingStatus.NO_SHOW].click()
    page.form.confirm_yes.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.NO_SHOW, timeout=10_000)
    other = backend.other_client()
    now = other.get_booking(booking.id)
    other.set_booking_status(booking.id, now.version, BookingStatus.SEATED)
    page.form.undo_button.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.SEATED, timeout=10_000)
    assert "Someone else changed this booking first; it is now Seated" in \
        page.form.message.text()
    assert backend.repo.get_booking(booking.id).status is BookingStatus.SEATED


def test_seat_on_another_day_asks_and_says_what_it_did(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    booking = shown(qtbot, page, backend, "Early Eve")
    page.form.action_buttons[BookingStatus.SEATED].click()
    assert asking(page).startswith("This booking is not for today. Seat Early Eve, 2 at ")
    page.form.confirm_yes.click()
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.SEATED, timeout=10_000)
    assert backend.repo.get_booking(booking.id).status is BookingStatus.SEATED
    assert page.form.message.text().endswith(" seated (was confirmed).")
    assert not page.form.undo_button.isVisibleTo(page)  # Back to confirmed is the undo
    page.form.action_buttons[BookingStatus.CONFIRMED].click()  # asks nothing
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.CONFIRMED, timeout=10_000)
    assert page.form.message.text().endswith(" confirmed again (was seated).")


def test_only_cancel_no_show_and_a_seat_on_another_day_ask() -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    booking = Booking(id=1, customer_name="Ann", party_size=2, start_at=start,
                      status=BookingStatus.CONFIRMED, version=1)
    today = start.astimezone().date()
    assert confirm_question(booking, BookingStatus.SEATED, today) is None
    assert confirm_question(booking, BookingStatus.SEATED, today + timedelta(days=1))
    assert confirm_question(booking, BookingStatus.CONFIRMED, date(2000, 1, 1)) is None
    assert confirm_question(booking, BookingStatus.CANCELLED, today)
    assert confirm_question(booking, BookingStatus.NO_SHOW, today)


def test_the_shop_refuses_an_undo_of_a_cancel_after_two_minutes(tmp_path: Any) -> None:
    """Our schema keeps the rule itself: a cancel is final once UNDO_CANCEL has passed."""
    from console.shop import BookingDraft, ValidationFailed
    from services.shop.db import init_db, make_engine
    from services.shop.sql import SqlShopRepository

    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    init_db(url)
    clock = [datetime(2030, 5, 1, 12, 0, tzinfo=UTC)]
    repo = SqlShopRepository(make_engine(url), clock=lambda: clock[0])
    try:
        made = repo.create_booking(BookingDraft("Ann", 2, clock[0] + timedelta(days=1)))
        gone = repo.set_booking_status(made.id, made.version, BookingStatus.CANCELLED)
        clock[0] += timedelta(seconds=110)
        back = repo.set_booking_status(gone.id, gone.version, BookingStatus.CONFIRMED)
        assert back.status is BookingStatus.CONFIRMED
        gone = repo.set_booking_status(back.id, back.version, BookingStatus.CANCELLED)
        clock[0] += timedelta(seconds=121)
        with pytest.raises(ValidationFailed, match="only within 2 minutes of the cancel"):
            repo.set_booking_status(gone.id, gone.version, BookingStatus.CONFIRMED)
    finally:
        repo.close()
