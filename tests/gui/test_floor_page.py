"""The Floor page as a manager uses it: the day by table, a click, a drag, a walk-in, covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtTest import QTest

from console.shop import BookingDraft, BookingStatus
from services.bootstrap import Diagnostics, Local
from services.shop.db import init_db, make_engine
from services.shop.sql import SqlShopRepository
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.models.formatting import when_text
from ui.pages.floor import NO_TABLES, FloorPage
from ui.pages.today import TodayPage
from ui.widgets.floor_grid import PX_PER_MIN, FloorGrid
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: Any, ctx: AppContext) -> FloorPage:
    widget = FloorPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitUntil(lambda: widget.day is not None, timeout=10_000)
    return widget


def open_day(qtbot: Any, page: FloorPage, day: Any) -> None:
    with qtbot.waitSignal(page.sig_loaded, timeout=10_000):
        page.set_day(day)


def centre(grid: FloorGrid, booking_id: int) -> QPoint:
    return grid.block_rect(booking_id).center()


def book(backend: Backend, day: Any, name: str, hour: int, party: int, table: int,
         minute: int = 0) -> Any:
    return backend.repo.create_booking(BookingDraft(name, party, backend.at(day, hour, minute),
                                                    table_no=table))


def test_the_day_shows_each_booking_on_its_table_and_flags_clashes_and_small_tables(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    first = book(backend, day, "Ada Clash", 19, 2, table=5)
    second = book(backend, day, "Bo Clash", 20, 3, table=5)
    big = book(backend, day, "Cy Crowd", 19, 6, table=1)  # table 1 seats 2
    fine = book(backend, day, "Di Fine", 19, 4, table=6)
    open_day(qtbot, page, day)
    floor = page.day
    assert floor is not None and len(floor.plan.tables) == 30
    flags = {s.booking.id: s.flags for seats in floor.seatings.values() for s in seats}
    assert flags[first.id] == flags[second.id] == ("double-booked",)
    assert flags[big.id] == ("party larger than the table",)
    assert flags[fine.id] == ()
    summary = page.summary.text()
    assert "30 tables, 120 seats" in summary and "15 covers booked" in summary
    assert "3 to fix" in summary
    # Blocks sit on their table's row and are as long as the party's expected stay.
    grid = page.grid
    rect = grid.block_rect(fine.id)
    assert grid.row_top(6) < rect.center().y() < grid.row_top(7)
    assert rect.width() == pytest.approx(floor.plan.expected_minutes(4) * PX_PER_MIN - 2,
                                         abs=2)
    assert grid.block_rect(big.id).width() > rect.width() or \
        floor.plan.large_party_turn_minutes == floor.plan.turn_minutes
    # Covers per slot against the limit; the tables without a booking read as free.
    at_seven = next(s for s in floor.slots if s.start == backend.at(day, 19))
    assert at_seven.text == f"12/{floor.plan.covers_per_slot}"
    free = {r.table_no for r in grid.rows if r.free}
    assert 5 not in free and 2 in free


def test_a_click_opens_the_booking_in_the_side_panel(qtbot: Any, page: FloorPage,
                                                     backend: Backend) -> None:
    day = backend.fresh_day()
    booking = book(backend, day, "Eve Click", 13, 2, table=3)
    open_day(qtbot, page, day)
    assert page.panel_tabs.isHidden()  # no side panel until a booking is clicked
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton, pos=centre(page.grid, booking.id))
    assert page.form.isVisible()
    assert page.form.booking is not None and page.form.booking.id == booking.id
    assert page.form.name_edit.text() == "Eve Click"


def drag(grid: FloorGrid, booking_id: int, to_table: int, minutes: int) -> None:
    start = centre(grid, booking_id)
    rect = grid.block_rect(booking_id)
    end = QPoint(start.x() + int(minutes * PX_PER_MIN),
                 grid.row_top(to_table) + rect.height() // 2 + 3)
    QTest.mousePress(grid, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(grid, QPoint(start.x() + 10, start.y()))
    QTest.mouseMove(grid, end)
    QTest.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=end)


def test_a_drag_moves_the_booking_to_another_table_and_time(qtbot: Any, page: FloorPage,
                                                            backend: Backend) -> None:
    day = backend.fresh_day()
    booking = book(backend, day, "Fay Move", 19, 4, table=5)
    open_day(qtbot, page, day)
    with qtbot.waitSignal(page.sig_saved, timeout=10_000) as saved:
        drag(page.grid, booking.id, to_table=17, minutes=60)
    moved = saved.args[0]
    stored = backend.repo.get_booking(booking.id)
    assert (stored.table_no, stored.start_at) == (17, backend.at(day, 20))
    assert stored.version == booking.version + 1 == moved.version
    table = page.day.plan.table(17)  # type: ignore[union-attr]
    assert table is not None
    assert page.said.text() == f"Moved Fay Move to {table.name}, {when_text(stored.start_at)}."
    rect = page.grid.block_rect(booking.id)
    assert page.grid.row_top(17) < rect.center().y()


def test_a_drag_over_someone_elses_change_opens_the_conflict_dialog(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    booking = book(backend, day, "Gil Late", 18, 2, table=8)
    open_day(qtbot, page, day)
    other = backend.other_client()
    other.update_booking(booking.id, booking.version,
                         BookingDraft("Gil Late", 3, backend.at(day, 18), table_no=8))
    drag(page.grid, booking.id, to_table=9, minutes=30)
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=10_000)
    dialog = page.conflict_dialog
    assert dialog is not None and dialog.isVisible()
    stored = backend.repo.get_booking(booking.id)
    assert (stored.table_no, stored.party_size) == (8, 3), "nothing overwritten"
    dialog.reject()


def test_a_drag_into_the_past_is_refused_in_words(qtbot: Any, page: FloorPage,
                                                  backend: Backend) -> None:
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    booking = book(backend, day, "Hal Past", 12, 2, table=4)
    open_day(qtbot, page, day)
    drag(page.grid, booking.id, to_table=4, minutes=-60 * 24 * 3)
    assert page.said.text().startswith("Hal Past was not moved")
    assert backend.repo.get_booking(booking.id).version == booking.version


def test_another_day_opens_at_its_start_when_today_was_scrolled_to_the_evening(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    today = datetime.now().astimezone().date()
    evening = datetime(today.year, today.month, today.day, 22, 30).astimezone()
    page.clock = lambda: evening.astimezone(UTC)
    open_day(qtbot, page, today)
    bar = page.floor_area.horizontalScrollBar()
    assert bar is not None and bar.value() > 0, "today opens at its now-line"
    day = today + timedelta(days=1)
    lunch = book(backend, day, "Ivo Lunch", 11, 2, table=3, minute=30)
    open_day(qtbot, page, day)
    assert bar.value() == 0
    hit = page.grid.block_at(QPointF(centre(page.grid, lunch.id)))
    assert hit is not None and hit.seating.booking.id == lunch.id, "lunch can be clicked"
    bar.setValue(bar.maximum() // 2)  # read again (F5): the manager's scroll stays
    open_day(qtbot, page, day)
    assert bar.value() == bar.maximum() // 2 > 0


def test_walk_in_seats_a_party_now_at_a_free_table_in_one_step(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    open_day(qtbot, page, datetime.now().astimezone().date())
    assert page.walk_in_button.isEnabled()
    QTest.mouseClick(page.walk_in_button, Qt.MouseButton.LeftButton)
    dialog = page.walk_in_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.covers.setValue(3)
    table_no = dialog.table_combo.currentData()
    table = page.day.plan.table(table_no)  # type: ignore[union-attr]
    assert table is not None and table.seats >= 3
    if backend.name == "sqlite":
        save_shot(dialog, "floor-walk-in.png")
    with qtbot.waitSignal(page.sig_saved, timeout=10_000) as saved:
        QTest.mouseClick(dialog.seat_button, Qt.MouseButton.LeftButton)
    if backend.name == "sqlite":
        save_shot(page, "floor-walk-in-seated.png")
    seated = saved.args[0]
    assert seated.status is BookingStatus.SEATED and seated.table_no == table_no
    assert abs(seated.start_at - datetime.now(UTC)) < timedelta(minutes=2)
    assert page.said.text() == f"Seated Walk-in, 3 covers, at {table.name} now."
    assert page.form.booking is not None and page.form.booking.id == seated.id
    # Seated to the second (or finer): the panel holds no change to save or discard.
    assert not page.form.dirty() and not page.form.save_button.isEnabled()


def test_a_walk_in_before_opening_is_told_so_before_anyone_is_seated(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    today = datetime.now().astimezone().date()
    for hour, minute in ((8, 30), (12, 0)):
        at = datetime(today.year, today.month, today.day, hour, minute).astimezone()
        page.clock = lambda at=at: at.astimezone(UTC)
        open_day(qtbot, page, today)
        QTest.mouseClick(page.walk_in_button, Qt.MouseButton.LeftButton)
        dialog = page.walk_in_dialog
        assert dialog is not None and dialog.isVisible()
        plan = page.day.plan  # type: ignore[union-attr]
        if hour == 8:
            assert dialog.hours.isVisible()
            assert dialog.hours.text() == (f"Before opening (the shop opens at "
                                           f"{plan.opens_at:%H:%M}): they are seated at 08:30 "
                                           "all the same.")
            assert dialog.seat_button.isEnabled(), "the host may still seat them"
            if backend.name == "sqlite":
                save_shot(dialog, "floor-walk-in-before-opening.png")
        else:
            assert not dialog.hours.isVisible() and dialog.hours.text() == ""
        dialog.reject()


def test_a_shop_without_tables_says_so_and_its_list_still_works(
        qtbot: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-tables.db'}"
    init_db(url)
    repo = SqlShopRepository(make_engine(url))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=19, minute=0, second=0,
                                                               microsecond=0)
    repo.create_booking(BookingDraft("Ida Listed", 2, tomorrow))
    tasks = TaskRunner()
    ctx = AppContext(services=SimpleNamespace(shop=repo, profile=None), tasks=tasks,
                     diagnostics=Diagnostics(), local=Local())
    try:
        floor = FloorPage(ctx)
        qtbot.add_widget(floor)
        floor.show()
        qtbot.waitUntil(lambda: floor.day is not None, timeout=10_000)
        assert floor.stack.currentWidget() is floor.empty
        assert floor.empty.text() == NO_TABLES
        assert not floor.walk_in_button.isEnabled()
        with qtbot.waitSignal(floor.sig_loaded, timeout=10_000):
            floor.set_day(tomorrow.astimezone().date())
        assert [b.customer_name for b in floor.bookings] == ["Ida Listed"]
    finally:
        tasks.shutdown()
        repo.close()


def test_today_shows_covers_per_slot_against_the_limit(qtbot: Any, ctx: AppContext,
                                                       backend: Backend) -> None:
    today = datetime.now().astimezone().date()
    if datetime.now(UTC).hour >= 20:
        pytest.skip("the 21:00 slot has passed today: no booking can be made for it")
    for name in ("Jo Group", "Ky Group", "Lu Group", "Mo Group"):
        backend.repo.create_booking(BookingDraft(name, 8, backend.at(today, 21)))
    widget = TodayPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.floor_day is not None, timeout=10_000)
    day = widget.floor_day
    limit = day.plan.covers_per_slot
    at_nine = next(s for s in day.slots if s.start == backend.at(today, 21))
    assert at_nine.covers >= 32 and at_nine.over
    assert f"21:00 {at_nine.covers}/{limit}" in widget.covers_strip.texts()
    assert "over the limit" in widget.slots_note.text()


@pytest.mark.integration
def test_the_demo_shops_evening_fills_the_room_without_a_clash(qtbot: Any,
                                                                tmp_path: Path) -> None:
    """The demo shop at full size: every booking of tonight on a table that seats it, none
    double-booked, seated up to the now-line (20:00 on the page's clock)."""
    from services.shop.api import ApiShopRepository
    from tests.support.demo_shop import quiet_demo

    today = datetime.now(UTC).date()
    eight = datetime(today.year, today.month, today.day, 20, tzinfo=UTC)
    with quiet_demo(tmp_path, seed_scale=1.0, workers=1) as shop:
        repo = ApiShopRepository(shop.base_url, shop.token)
        tasks = TaskRunner()
        ctx = AppContext(services=SimpleNamespace(shop=repo, profile=None), tasks=tasks,
                         diagnostics=Diagnostics(), local=Local())
        try:
            page = FloorPage(ctx)
            page.clock = lambda: eight
            qtbot.add_widget(page)
            page.resize(1700, 900)  # the waitlist on the left, the evening, the side panel
            page.show()
            qtbot.waitUntil(lambda: page.day is not None, timeout=20_000)
            day = page.day
            assert day is not None
            # the day's bookings still to come are confirmed, those already past seated (the
            # seed goes by the real clock): together the room's day, whatever the hour
            booked = [b for b in page.bookings
                      if b.status in (BookingStatus.CONFIRMED, BookingStatus.SEATED)]
            assert len(booked) >= 30 and day.problems == 0
            assert all(b.table_no is not None for b in booked)
            tonight = [b for b in booked if b.status is BookingStatus.CONFIRMED]
            # As the evening would stand at 20:00: those who came are seated.
            for b in tonight:
                if b.start_at <= eight - timedelta(minutes=15):
                    repo.set_booking_status(b.id, b.version, BookingStatus.SEATED)
            with qtbot.waitSignal(page.sig_loaded, timeout=20_000):
                page.refresh()
            assert "tables free now" in page.summary.text()
            assert any(r.free for r in page.grid.rows) or "0 tables free" in page.summary.text()
            page.grid.setFocus()
            save_shot(page, "floor-demo-evening.png")
            first = page.bookings[0]
            QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton,
                             pos=centre(page.grid, first.id))
            assert page.form.booking is not None
            save_shot(page, "floor-side-panel.png")
            today_page = TodayPage(ctx)
            qtbot.add_widget(today_page)
            today_page.resize(1300, 800)
            today_page.show()
            qtbot.waitUntil(lambda: today_page.floor_day is not None, timeout=20_000)
            texts = today_page.covers_strip.texts()
            assert len(texts) == 24 and all(t.endswith("/24") for t in texts)
            save_shot(today_page, "today-covers-per-slot.png")
        finally:
            tasks.shutdown()
            repo.close()


def test_the_table_column_and_time_header_stay_in_view_when_scrolled(
        qtbot: Any, page: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    late = book(backend, day, "Ivy Late", 22, 2, table=30)
    open_day(qtbot, page, day)
    page.resize(700, 400)
    area = page.floor_area
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0  # type: ignore[union-attr]
                    and area.horizontalScrollBar().maximum() > 0)  # type: ignore[union-attr]
    area.ensureVisible(page.grid.block_rect(late.id).center().x(),
                       page.grid.block_rect(late.id).center().y())
    view = page.grid.view_rect()
    assert view.top() > 0 and view.left() > 0
    # A click on the table column over a block that scrolled under it opens nothing.
    under_column = QPoint(view.left() + 20, page.grid.row_top(30) + 10)
    assert page.grid.block_at(QPointF(under_column)) is None
    image = page.grid.grab(view)
    header_row = image.toImage().pixelColor(view.width() // 2, 19)  # between its lines
    assert header_row == page.grid.palette().base().color()  # the header, not a block
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton,
                     pos=page.grid.block_rect(late.id).center())
    assert page.form.booking is not None and page.form.booking.id == late.id
