"""The Bookings page against SQLite, PostgreSQL and the demo shop over HTTP, as a user sees it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from console.shop import BookingDraft, BookingStatus
from services.bootstrap import Diagnostics, Local
from tests.support.shops import Backend
from ui.context import AppContext
from ui.pages.booking_form import from_qdatetime, to_qdatetime
from ui.pages.bookings import ALL_DATES, BookingsPage
from ui.pages.shop_texts import NO_BACKEND
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: Any, ctx: AppContext) -> BookingsPage:
    widget = BookingsPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 900)
    widget.show()
    settled(qtbot, widget)
    return widget


def settled(qtbot: Any, page: BookingsPage) -> None:
    qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                    timeout=10_000)


def shown_names(page: BookingsPage) -> list[str]:
    names = []
    for row in range(page.model.rowCount()):
        b = page.model.row_object(row)
        names.append(b.customer_name if b else "?")
    return names


def open_day(qtbot: Any, page: BookingsPage, day: Any) -> None:
    page.set_day(day)
    settled(qtbot, page)


def select(qtbot: Any, page: BookingsPage, name: str) -> Any:
    row = shown_names(page).index(name)
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.form.booking is not None
                    and page.form.booking.customer_name == name)
    return page.form.booking


def test_a_day_lists_its_bookings_in_time_order(qtbot: Any, page: BookingsPage,
                                                backend: Backend) -> None:
    day = backend.fresh_day()
    for name, minute in (("Late Lunch", 50), ("Early Lunch", 0), ("Mid Lunch", 20)):
        backend.repo.create_booking(BookingDraft(name, 2, backend.at(day, 12, minute)))
    open_day(qtbot, page, day)
    assert shown_names(page) == ["Early Lunch", "Mid Lunch", "Late Lunch"]
    assert page.count_label.text() == "3 bookings"
    assert page.model.data(page.model.index(0, 5)) == "Confirmed"
    page.set_day(day + timedelta(days=400))
    settled(qtbot, page)
    assert page.area.empty_text().startswith("No bookings on")
    assert "New booking" in page.area.empty_text()


def test_a_search_looks_across_all_dates_soonest_first_and_says_so(
        qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    days = sorted(backend.fresh_day() for _ in range(3))
    for n, day in enumerate(reversed(days)):
        backend.add_booking(day, f"Hephzibah Larkspur {n}", hour=13)
    open_day(qtbot, page, days[0] - timedelta(days=1))  # a day none of them is on
    assert not page.order_note.isVisible()
    qtbot.keyClicks(page.search_edit, "hephzibah")
    qtbot.waitUntil(lambda: page.model.query.search == "hephzibah")
    settled(qtbot, page)
    assert shown_names(page) == ["Hephzibah Larkspur 2", "Hephzibah Larkspur 1",
                                 "Hephzibah Larkspur 0"]  # soonest first
    qtbot.waitUntil(page.order_note.isVisible)
    assert page.order_note.text() == ('Searching all dates for "hephzibah": upcoming first '
                                      "(soonest at the top), then past (most recent first).")
    page.search_edit.clear()
    qtbot.waitUntil(lambda: page.model.query.search == "")
    settled(qtbot, page)
    assert "Hephzibah Larkspur 0" not in shown_names(page)  # back to the one day
    assert not page.order_note.isVisible()


def test_search_and_status_filter(qtbot: Any, page: BookingsPage, backend: Backend) -> None:
    day = backend.fresh_day()
    # a search spans all dates: names no seeded guest has
    for name in ("Dana O'Hara", "Percy 100% Sure", "Zoë Quaxley-Müller", "Plain Name"):
        backend.add_booking(day, name, hour=12)
    cancelled = backend.add_booking(day, "Gone Guest", hour=12)
    backend.repo.set_booking_status(cancelled.id, cancelled.version, BookingStatus.CANCELLED)
    open_day(qtbot, page, day)
    for needle, expect in (("o'hara", ["Dana O'Hara"]), ("100%", ["Percy 100% Sure"]),
                           ("ZOË QUAX", ["Zoë Quaxley-Müller"]), ("%_%", []), ("'; --", [])):
        qtbot.keyClicks(page.search_edit, needle)
        qtbot.waitUntil(lambda n=needle: page.model.query.search == n)
        settled(qtbot, page)
        assert shown_names(page) == expect, needle
        page.search_edit.clear()
    page.search_edit.clear()
    page.status_combo.setCurrentText("Cancelled")
    settled(qtbot, page)
    assert shown_names(page) == ["Gone Guest"]
    assert page.model.data(page.model.index(0, 5)) == "Cancelled"


def test_create_a_booking_in_the_side_panel(qtbot: Any, page: BookingsPage,
                                            backend: Backend) -> None:
    day = backend.fresh_day()
    open_day(qtbot, page, day)
    page.new_button.click()
    form = page.form
    assert form.heading.text() == "New booking"
    qtbot.keyClicks(form.name_edit, "Nadia Haddad")
    form.phone_edit.setText("+44 7700 900555")
    form.party_spin.setValue(5)
    form.when_edit.setDateTime(to_qdatetime(backend.at(day, 20, 30)))
    form.notes_edit.setPlainText("window seat")
    form.save_button.click()
    qtbot.waitUntil(lambda: form.booking is not None, timeout=10_000)
    assert form.message.text().startswith(f"Booking #{form.booking.id} created")
    stored = backend.repo.get_booking(form.booking.id)
    assert (stored.customer_name, stored.party_size, stored.notes) == ("Nadia Haddad", 5,
                                                                        "window seat")
    assert stored.start_at == backend.at(day, 20, 30)
    settled(qtbot, page)
    assert "Nadia Haddad" in shown_names(page)


def test_edit_and_save_updates_the_row(qtbot: Any, page: BookingsPage,
                                       backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Edit Me", hour=12, party=2)
    open_day(qtbot, page, day)
    booking = select(qtbot, page, "Edit Me")
    assert not page.form.save_button.isEnabled()
    page.form.party_spin.setValue(7)
    assert page.form.save_button.isEnabled()
    page.form.save_button.click()
    qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                        timeout=10_000)
    assert backend.repo.get_booking(booking.id).party_size == 7
    assert page.form.message.text() == f"Saved booking #{booking.id}: party size 2 → 7."
    assert page.model.data(page.model.index(0, 3)) == "7"
    assert page.form.hint.text().startswith(f"Version {booking.version + 1}")


def test_invalid_values_get_a_message_next_to_the_field(qtbot: Any, page: BookingsPage,
                                                        backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Valid Guest", hour=12)
    open_day(qtbot, page, day)
    booking = select(qtbot, page, "Valid Guest")
    page.form.party_spin.setValue(25)
    page.form.when_edit.setDateTime(to_qdatetime(datetime.now(UTC) - timedelta(days=1)))
    page.form.save_button.click()
    assert page.form.party_error.isVisible()
    assert "1 to 20" in page.form.party_error.text()
    assert page.form.when_error.text() == "Pick a time in the future."
    assert page.form.party_spin.value() == 25  # the form keeps what was typed
    assert backend.repo.get_booking(booking.id).version == booking.version  # nothing saved


def test_the_server_refusing_a_field_shows_under_it(qtbot: Any, page: BookingsPage,
                                                     backend: Backend) -> None:
    if backend.name != "api":
        pytest.skip("only the demo shop has opening hours and 30 tables")
    day = backend.fresh_day()
    backend.add_booking(day, "Table Guest", hour=12)
    open_day(qtbot, page, day)
    select(qtbot, page, "Table Guest")
    page.form.table_spin.setValue(31)
    page.form.save_button.click()
    qtbot.waitUntil(page.form.table_error.isVisible, timeout=10_000)
    assert "1 to 30" in page.form.table_error.text()
    assert page.form.table_spin.value() == 31


@pytest.mark.parametrize("choice", ["merge", "mine", "theirs"])
def test_a_stale_save_shows_both_versions(qtbot: Any, page: BookingsPage, backend: Backend,
                                          choice: str) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Shared Guest", hour=12, party=2, notes="")
    open_day(qtbot, page, day)
    mine = select(qtbot, page, "Shared Guest")
    page.form.notes_edit.setPlainText("birthday cake")
    # Someone else saves first, changing the party size.
    other = backend.other_client()
    theirs = other.update_booking(mine.id, mine.version, BookingDraft(
        mine.customer_name, 6, mine.start_at, mine.phone, mine.table_no, mine.notes))
    page.form.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
    dialog = page.conflict_dialog
    assert dialog is not None and dialog.isVisible()
    assert {d.name for d in dialog.diffs} == {"party_size", "notes"}
    assert dialog.mine_buttons["notes"].isChecked()  # only I changed the notes
    assert dialog.theirs_buttons["party_size"].isChecked()  # only they changed the size
    button = {"merge": dialog.merge_button, "mine": dialog.keep_mine_button,
              "theirs": dialog.take_theirs_button}[choice]
    button.click()
    expected = {"merge": (6, "birthday cake"), "mine": (2, "birthday cake"),
                "theirs": (6, "")}[choice]
    if choice == "theirs":
        qtbot.waitUntil(lambda: page.form.booking.version == theirs.version)
        assert backend.repo.get_booking(mine.id).version == theirs.version
    else:
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Saved booking #"),
                        timeout=10_000)
        assert backend.repo.get_booking(mine.id).version == theirs.version + 1
    stored = backend.repo.get_booking(mine.id)
    assert (stored.party_size, stored.notes) == expected
    assert (page.form.party_spin.value(), page.form.notes_edit.toPlainText()) == expected


def test_status_buttons_offer_only_allowed_moves(qtbot: Any, page: BookingsPage,
                                                  backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Walk In", hour=12)
    open_day(qtbot, page, day)
    booking = select(qtbot, page, "Walk In")
    visible = {s for s, b in page.form.action_buttons.items() if b.isVisibleTo(page.form)}
    assert visible == {BookingStatus.SEATED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED}
    page.form.action_buttons[BookingStatus.SEATED].click()
    page.form.confirm_yes.click()  # not today: it asks first
    qtbot.waitUntil(lambda: page.form.booking.status is BookingStatus.SEATED, timeout=10_000)
    assert backend.repo.get_booking(booking.id).status is BookingStatus.SEATED
    assert page.model.data(page.model.index(0, 5)) == "Seated"
    visible = {s for s, b in page.form.action_buttons.items() if b.isVisibleTo(page.form)}
    assert visible == {BookingStatus.CONFIRMED}
    # While the form has unsaved changes, moving the status would lose them: not offered.
    page.form.notes_edit.setPlainText("changed")
    assert not page.form.action_buttons[BookingStatus.CONFIRMED].isEnabled()


def test_back_end_down_says_so_and_keeps_the_form(qtbot: Any, page: BookingsPage,
                                                  ctx: AppContext, backend: Backend) -> None:
    day = backend.fresh_day()
    backend.add_booking(day, "Keep Typing", hour=12)
    open_day(qtbot, page, day)
    select(qtbot, page, "Keep Typing")
    page.form.notes_edit.setPlainText("half-typed note")
    dead = backend.dead_client()
    ctx.services.shop = dead
    try:
        qtbot.keyClick(page.table, Qt.Key.Key_F5)
        qtbot.waitUntil(page.notice.isVisible, timeout=10_000)
        text = page.notice.label.text()
        assert text.startswith(f"Could not reach the shop at {dead.location}: ")
        assert text.endswith("Check the connection and press F5.")
        page.form.save_button.click()
        qtbot.waitUntil(lambda: page.form.message.text().startswith("Not saved"),
                        timeout=10_000)
        assert "Your changes are still here" in page.form.message.text()
        assert page.form.notes_edit.toPlainText() == "half-typed note"
        assert page.form.name_edit.text() == "Keep Typing"
    finally:
        ctx.services.shop = backend.repo
        dead.close()
    page.refresh()
    settled(qtbot, page)
    assert not page.notice.isVisible()
    assert page.form.notes_edit.toPlainText() == "half-typed note"


def test_without_a_back_end_it_says_where_to_add_one(qtbot: Any) -> None:
    tasks = TaskRunner()
    try:
        ctx = AppContext(services=SimpleNamespace(shop=None, profile=None), tasks=tasks,
                         diagnostics=Diagnostics(), local=Local())
        page = BookingsPage(ctx)
        qtbot.add_widget(page)
        assert page.notice.label.text() == NO_BACKEND
        assert "Settings" in page.area.empty_text()
        assert page.model.rowCount() == 0
    finally:
        tasks.shutdown()


def test_keyboard_and_export(qtbot: Any, page: BookingsPage, backend: Backend,
                             tmp_path: Path) -> None:
    day = backend.fresh_day()
    for i in range(3):
        backend.add_booking(day, f"Export {i}", hour=12 + i)
    open_day(qtbot, page, day)
    page.activateWindow()
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.search_edit.hasFocus)
    path = tmp_path / "bookings.csv"
    page.export_csv(path)
    qtbot.waitUntil(lambda: page.count_label.text().startswith("Exported 3"), timeout=10_000)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][:2] == ["When", "Guest"]
    assert [r[1] for r in rows[1:]] == ["Export 0", "Export 1", "Export 2"]
    assert rows[1][0] == backend.at(day, 12).isoformat().replace("+00:00", "Z")


def test_the_list_stays_usable_across_all_dates(qtbot: Any, page: BookingsPage) -> None:
    page.set_range(ALL_DATES)
    settled(qtbot, page)
    total = page.model.rowCount()
    assert total >= 300
    last = total - 1
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.row_object(last) is not None, timeout=10_000)
    first, oldest = page.model.row_object(0), page.model.row_object(last)
    assert first is not None and oldest is not None
    # upcoming first (soonest at the top), then past (most recent first): the oldest is last
    split = page.model.query.upcoming_from
    assert first.start_at >= split > oldest.start_at
    assert page.order_note.text().startswith("All dates: upcoming first")


def test_qdatetime_round_trip() -> None:
    moment = datetime(2031, 5, 17, 18, 45, tzinfo=UTC)
    assert from_qdatetime(to_qdatetime(moment)) == moment
