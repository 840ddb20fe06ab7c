"""A guest's other bookings in the booking's side panel: found by phone, e-mail or name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.guests import BY_NAME, guest_history, phone_tail, same_phone
from console.shop import Booking, BookingDraft, BookingStatus
from services.shop.db import make_engine
from services.shop.sql import SqlShopRepository
from tests.gui.test_bookings_page import open_day, select
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.pages.bookings import BookingsPage

pytestmark = pytest.mark.gui


@pytest.fixture
def page(bookings_page: BookingsPage) -> BookingsPage:
    return bookings_page


def set_status(backend: Backend, booking: Booking, status: BookingStatus) -> None:
    backend.repo.set_booking_status(booking.id, booking.version, status)


def history_shown(qtbot: Any, page: BookingsPage) -> Any:
    qtbot.waitUntil(lambda: page.form.guest.history is not None, timeout=10_000)
    return page.form.guest.history


def test_the_side_panel_shows_the_guest_s_no_shows_cancels_and_notes_by_phone(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Hana Ito", hour=19, phone="+44 7911 123456")
    missed = backend.add_booking(backend.fresh_day(), "Hana Ito", phone="07911 123456",
                                 notes="Shellfish allergy")
    set_status(backend, missed, BookingStatus.NO_SHOW)
    # Another name, the same phone spelled otherwise: the same guest.
    gone = backend.add_booking(backend.fresh_day(), "H. Ito", phone="+44 (0)7911-123-456")
    set_status(backend, gone, BookingStatus.CANCELLED)
    backend.add_booking(backend.fresh_day(), "Hana Ito", phone="07911123456",
                        notes="<b>Window</b> table please")
    # The same name with another phone is someone else.
    backend.add_booking(backend.fresh_day(), "Hana Ito", phone="+44 7911 999888",
                        notes="not her")

    open_day(qtbot, page, day)
    select(qtbot, page, "Hana Ito")
    h = history_shown(qtbot, page)
    box = page.form.guest
    assert (h.no_shows, h.cancelled, h.upcoming, h.visits) == (1, 1, 1, 0)
    assert box.summary.text() == "No visits yet · 1 no-show · 1 cancelled · 1 more booked"
    notes = box.notes.text().splitlines()
    assert [n.split(": ", 1)[1] for n in notes] == ["<b>Window</b> table please",
                                                    "Shellfish allergy"]
    assert box.basis.text().startswith("Matched by phone.")
    if backend.name == "sqlite":
        save_shot(page, "booking-guest-history.png")


def test_a_guest_without_phone_is_matched_by_name_and_a_first_booking_says_so(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Only Once Olga", hour=13)
    backend.add_booking(day, "Namesake Ned", hour=18)
    backend.add_booking(backend.fresh_day(), "Namesake Ned", notes="birthday")
    open_day(qtbot, page, day)
    select(qtbot, page, "Only Once Olga")
    h = history_shown(qtbot, page)
    assert h.first_time and h.matched_by == BY_NAME
    assert page.form.guest.summary.text() == "First booking with us: no other bookings found."
    select(qtbot, page, "Namesake Ned")
    qtbot.waitUntil(lambda: page.form.guest.history is not None
                    and page.form.guest.history.upcoming == 1, timeout=10_000)
    assert page.form.guest.basis.text().startswith("Matched by name.")


def test_past_visits_count_on_our_schema(backend: Backend) -> None:
    """Bookings made a month ago (through a repository whose clock says so) are visits."""
    if backend.sql_url is None:
        pytest.skip("the API takes only bookings in the future; the SQL back ends show it")
    month_ago = datetime.now(UTC) - timedelta(days=30)
    then = SqlShopRepository(make_engine(backend.sql_url), clock=lambda: month_ago)
    try:
        made = [then.create_booking(BookingDraft("Regular Rita", 2, month_ago + timedelta(days=d),
                                                 phone="+44 7922 555000"))
                for d in (1, 5, 9)]
        set_status_on = then.set_booking_status
        set_status_on(made[0].id, made[0].version, BookingStatus.SEATED)
    finally:
        then.close()
    now = backend.add_booking(backend.fresh_day(), "Rita R.", phone="07922 555000")
    h = backend.repo.guest_history(now)
    assert (h.visits, h.no_shows, h.upcoming, h.matched_by) == (3, 0, 0, "phone")
    assert h.last_visit == made[2].start_at


def test_phone_spellings_are_one_phone() -> None:
    assert same_phone("+44 7700 900123", "07700 900123")
    assert same_phone("+44 (0)7700-900-123", "07700900123")
    assert not same_phone("+44 7700 900123", "+44 7700 900124")
    assert phone_tail("12 34") == ""  # too short to tell anyone apart
    start = datetime(2030, 1, 1, 19, tzinfo=UTC)
    me = Booking(1, "A", 2, start, BookingStatus.CONFIRMED, 1)
    same_text = [Booking(i, "A", 2, start - timedelta(days=i), BookingStatus.CONFIRMED, 1,
                         notes="Nut allergy" if i % 2 else "nut ALLERGY") for i in (2, 3)]
    h = guest_history(me, same_text, matched_by="phone", now=start)
    assert h.visits == 2 and [n.notes for n in h.notes] == ["nut ALLERGY"]  # each text once
