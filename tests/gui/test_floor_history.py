"""The Floor's side panel as on Bookings: a booking moved on the floor, who moved it, the guest."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from console.shop import BookingDraft
from services.bootstrap import Diagnostics, Local
from tests.gui.test_floor_page import centre, drag, open_day
from tests.support.shops import Backend, open_backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.models.formatting import when_text
from ui.pages.floor import FloorPage
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

MARIA, ZOE = "Maria Rossi", "Zoë <b>Ng</b>"


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgres", marks=pytest.mark.integration),
    pytest.param("api", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Our schema (SQLite, PostgreSQL) and the demo shop over its API."""
    yield from open_backend(request, tmp_path_factory)


@pytest.fixture
def floor(qtbot: Any, backend: Backend) -> Iterator[FloorPage]:
    """The Floor as Maria, the manager on duty."""
    tasks = TaskRunner()
    ctx = AppContext(services=SimpleNamespace(shop=backend.as_user(MARIA), profile=None),
                     tasks=tasks, diagnostics=Diagnostics(), local=Local())
    page = FloorPage(ctx)
    qtbot.add_widget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitUntil(lambda: page.day is not None, timeout=10_000)
    yield page
    tasks.shutdown()


def history_rows(page: FloorPage) -> list[tuple[str, ...]]:
    box = page.history_box
    assert box is not None
    model = box.model
    return [tuple(str(model.data(model.index(r, c))) for c in range(1, model.columnCount()))
            for r in range(model.rowCount())]


def click(page: FloorPage, booking_id: int) -> None:
    QTest.mouseClick(page.grid, Qt.MouseButton.LeftButton, pos=centre(page.grid, booking_id))


def test_a_booking_moved_on_the_floor_shows_who_moved_it_in_its_history_tab(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    zoe = backend.as_user(ZOE)
    made = zoe.create_booking(BookingDraft("Ada Moved", 2, backend.at(day, 19), table_no=5,
                                           phone="+44 7700 900321"))
    open_day(qtbot, floor, day)
    with qtbot.waitSignal(floor.sig_saved, timeout=10_000):
        drag(floor.grid, made.id, to_table=17, minutes=60)
    assert floor.form.booking is not None and floor.form.booking.id == made.id
    # The guest's other bookings are looked up on the Floor too.
    qtbot.waitUntil(lambda: floor.form.guest.history is not None, timeout=10_000)
    assert floor.form.guest.isVisibleTo(floor)

    box = floor.history_box
    assert box is not None
    floor.panel_tabs.setCurrentWidget(box)
    qtbot.waitUntil(lambda: bool(box.changes), timeout=10_000)
    rows = history_rows(floor)
    plan = floor.day.plan  # type: ignore[union-attr]
    was, now = plan.table(5), plan.table(17)
    assert was is not None and now is not None
    # The tables by the names the floor shows them under ("D5 → D17"), not their numbers.
    assert sorted(rows[:2]) == sorted([
        (MARIA, "When", when_text(backend.at(day, 19)), when_text(backend.at(day, 20))),
        (MARIA, "Table", was.name, now.name),
    ])
    assert rows[-1][:2] == (ZOE, "Created")
    assert box.summary.text().endswith(f"by {MARIA}.")
    if backend.name == "api":  # the demo shop
        save_shot(floor, "floor-history.png")


def test_the_history_tab_follows_the_booking_clicked_and_a_save_in_the_panel(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    first = backend.as_user(ZOE).create_booking(
        BookingDraft("Bo First", 2, backend.at(day, 13), table_no=3))
    second = floor.ctx.shop.create_booking(  # type: ignore[union-attr]
        BookingDraft("Cy Second", 4, backend.at(day, 13), table_no=8))
    open_day(qtbot, floor, day)
    click(floor, first.id)
    box = floor.history_box
    assert box is not None
    floor.panel_tabs.setCurrentWidget(box)
    qtbot.waitUntil(lambda: box.changes is not None and box.record_id == first.id,
                    timeout=10_000)
    assert [r[:2] for r in history_rows(floor)] == [(ZOE, "Created")]
    click(floor, second.id)  # the History tab stays open and shows the booking clicked
    qtbot.waitUntil(lambda: box.changes is not None and box.record_id == second.id,
                    timeout=10_000)
    assert [r[:2] for r in history_rows(floor)] == [(MARIA, "Created")]
    # An edit in the Details tab is in the History tab at once.
    floor.panel_tabs.setCurrentIndex(0)
    floor.form.notes_edit.setPlainText("window seat")
    with qtbot.waitSignal(floor.sig_saved, timeout=10_000):
        floor.form.save_button.click()
    floor.panel_tabs.setCurrentWidget(box)
    qtbot.waitUntil(lambda: box.changes is not None and len(box.changes) == 2, timeout=10_000)
    assert history_rows(floor)[0] == (MARIA, "Notes", "—", "window seat")

