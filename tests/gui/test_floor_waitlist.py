"""The Floor's waitlist as a host uses it: add a party, seat it at a free table, remove one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from console.shop import BookingStatus
from console.waitlist import WaitState
from services.bootstrap import Diagnostics, Local
from services.shop.db import alembic_config, make_engine
from services.shop.sql import SqlShopRepository
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.floor import FloorPage
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def floor(qtbot: Any, ctx: AppContext) -> FloorPage:
    widget = FloorPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1500, 900)
    with qtbot.waitSignal(widget.sig_waitlist, timeout=10_000):
        widget.show()
    qtbot.waitUntil(lambda: widget.day is not None, timeout=10_000)
    return widget


def listed(floor: FloorPage) -> list[str]:
    model = floor.waitlist_box.model
    return [model.data(model.index(r, 0)) for r in range(model.rowCount())]


def add(qtbot: Any, floor: FloorPage, name: str, covers: int, quoted: int,
        phone: str = "") -> None:
    box = floor.waitlist_box
    box.name_edit.setText(name)
    box.phone_edit.setText(phone)
    box.covers_spin.setValue(covers)
    box.quoted_spin.setValue(quoted)
    with qtbot.waitSignal(floor.sig_waitlist, timeout=10_000):
        QTest.mouseClick(box.add_button, Qt.MouseButton.LeftButton)


def choose(floor: FloorPage, name: str) -> None:
    row = listed(floor).index(name)
    floor.waitlist_box.table.selectRow(row)


def test_a_party_waits_then_is_seated_at_a_free_table_and_the_average_wait_shows(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    box = floor.waitlist_box
    add(qtbot, floor, "<b>Nia</b> Wait", 3, 25, phone="+44 7700 900555")
    assert "<b>Nia</b> Wait" in listed(floor)
    assert box.message.text() == "Added <b>Nia</b> Wait (3) to the waitlist, quoted 25 min."
    assert box.chosen() is not None and box.chosen().name == "<b>Nia</b> Wait"  # type: ignore[union-attr]
    row = listed(floor).index("<b>Nia</b> Wait")
    assert box.model.data(box.model.index(row, 1)) == "3"
    assert box.model.data(box.model.index(row, 2)) == "0 of 25 min"
    assert "waiting" in box.summary.text()
    if backend.name == "sqlite":
        add(qtbot, floor, "Oskar Lund", 2, 15)
        add(qtbot, floor, "Priya Shah", 6, 40)
        choose(floor, "<b>Nia</b> Wait")
        save_shot(floor, "floor-waitlist.png")

    choose(floor, "<b>Nia</b> Wait")
    assert box.seat_button.isEnabled()
    QTest.mouseClick(box.seat_button, Qt.MouseButton.LeftButton)
    dialog = floor.walk_in_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Seat from the waitlist"
    assert dialog.covers.value() == 3 and not dialog.covers.isEnabled()
    assert dialog.name_edit.text() == "<b>Nia</b> Wait"
    table_no = dialog.table_combo.currentData()
    table = floor.day.plan.table(table_no)  # type: ignore[union-attr]
    assert table is not None and table.seats >= 3
    with qtbot.waitSignal(floor.sig_waitlist, timeout=10_000):
        QTest.mouseClick(dialog.seat_button, Qt.MouseButton.LeftButton)
    assert "<b>Nia</b> Wait" not in listed(floor)
    said = box.message.text()
    assert said.startswith(f"Seated <b>Nia</b> Wait, 3 covers, at {table.name} after ")
    assert said.endswith(" min (quoted 25).")
    assert floor.said.text() == said
    booking = floor.form.booking
    assert booking is not None and booking.status is BookingStatus.SEATED
    stored = backend.repo.get_booking(booking.id)
    assert (stored.customer_name, stored.party_size, stored.table_no, stored.phone) == (
        "<b>Nia</b> Wait", 3, table_no, "+44 7700 900555")
    assert stored.notes.startswith("From the waitlist: waited ")
    assert stored.id in {s.booking.id for s in floor.day.seatings[table_no]}  # type: ignore[union-attr]
    assert box.average.text().startswith("Average wait today: ")
    assert box.average.text().endswith(" seated)")


def test_remove_asks_first_and_a_party_another_host_took_off_is_said(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    box = floor.waitlist_box
    add(qtbot, floor, "Quinn Gone", 2, 10)
    choose(floor, "Quinn Gone")
    box.remove_button.click()
    assert box.confirm_label.text() == "Take Quinn Gone (2) off the waitlist?"
    box.confirm_no.click()
    assert not box.confirm_label.isVisibleTo(floor)
    assert "Quinn Gone" in listed(floor)

    party = next(p for p in box.model.all_rows() if p.name == "Quinn Gone")
    other = backend.other_client()
    try:
        other.remove_from_waitlist(party.id)
    finally:
        close = getattr(other, "close", None)
        if close:
            close()
    box.remove_button.click()
    with qtbot.waitSignal(floor.sig_waitlist, timeout=10_000):
        box.confirm_yes.click()
    assert box.message.text() == "Not removed: someone else already took Quinn Gone off the list."
    assert "Quinn Gone" not in listed(floor)

    add(qtbot, floor, "Rae Left", 4, 30)
    choose(floor, "Rae Left")
    box.remove_button.click()
    with qtbot.waitSignal(floor.sig_waitlist, timeout=10_000):
        box.confirm_yes.click()
    assert box.message.text() == "Took Rae Left (4) off the waitlist after 0 min."
    assert "Rae Left" not in listed(floor)
    gone = [p for p in backend.repo.waitlist(datetime.now(UTC) - timedelta(hours=1)).parties
            if p.name == "Rae Left"]
    assert [p.state for p in gone] == [WaitState.REMOVED]


def test_the_wait_is_counted_against_the_quote_and_a_bad_party_is_refused_in_words(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    box = floor.waitlist_box
    add(qtbot, floor, "Sam Long", 2, 20)
    row = listed(floor).index("Sam Long")
    box.set_now(datetime.now(UTC) + timedelta(minutes=31))
    assert box.model.data(box.model.index(row, 2)) == "31 of 20 min ⚠"
    box.name_edit.setText("  ")
    box.add_button.click()
    assert box.message.text() == "Enter the guest's name."


def test_a_database_before_the_waitlist_greys_the_panel_with_the_reason(
        qtbot: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
    engine.dispose()
    repo = SqlShopRepository(make_engine(url))
    tasks = TaskRunner()
    ctx = AppContext(services=SimpleNamespace(shop=repo, profile=None), tasks=tasks,
                     diagnostics=Diagnostics(), local=Local())
    try:
        floor = FloorPage(ctx)
        qtbot.add_widget(floor)
        floor.show()
        box = floor.waitlist_box
        qtbot.waitUntil(lambda: "no waitlist yet" in box.summary.text(), timeout=10_000)
        assert "backroom db init" in box.summary.text()
        assert not box.add_button.isEnabled() and not box.name_edit.isEnabled()
    finally:
        tasks.shutdown()
        repo.close()
