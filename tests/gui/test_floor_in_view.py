"""What the Floor keeps in view: the block clicked beside the panel, a walk-in before opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from console.shop import BookingDraft, BookingStatus
from services.shop.db import make_engine
from services.shop.sql import SqlShopRepository
from tests.gui.test_floor_history import backend, click, floor
from tests.gui.test_floor_page import open_day
from tests.support.shops import Backend
from ui.pages.floor import FloorPage
from ui.widgets.floor_grid import LABEL_W

pytestmark = pytest.mark.gui
__all__ = ["backend", "floor"]  # the fixtures, shared with the History tab's tests


def test_a_block_clicked_late_in_the_evening_stays_in_view_when_the_panel_opens(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    day = backend.fresh_day()
    late = floor.ctx.shop.create_booking(  # type: ignore[union-attr]
        BookingDraft("Di Late", 2, backend.at(day, 21, 30), table_no=3))
    open_day(qtbot, floor, day)
    bar = floor.floor_area.horizontalScrollBar()
    viewport = floor.floor_area.viewport()
    assert bar is not None and viewport is not None
    bar.setValue(bar.maximum())  # the manager scrolls to the end of the evening

    def in_view() -> bool:
        rect = floor.grid.block_rect(late.id)
        return (rect.left() - bar.value() >= LABEL_W
                and rect.right() - bar.value() <= viewport.width())

    assert in_view()
    click(floor, late.id)
    assert floor.panel_tabs.isVisible()
    # The panel took its width from the grid; the block clicked is not hidden behind it.
    qtbot.waitUntil(lambda: viewport.width() < 800 and in_view(), timeout=5_000)



def test_a_walk_in_seated_before_opening_is_drawn_at_its_time_not_under_the_tables(
        qtbot: Any, floor: FloorPage, backend: Backend) -> None:
    if backend.sql_url is None:
        pytest.skip("the API seats a walk-in at the server's own time; our schema takes the "
                    "console's clock")
    day = backend.fresh_day()
    early = datetime(day.year, day.month, day.day, 8, 30, tzinfo=UTC)  # opens at 11:00
    shop = SqlShopRepository(make_engine(backend.sql_url), clock=lambda: early,
                             user="Maria Rossi")
    floor.ctx.services.shop = shop  # type: ignore[attr-defined]
    floor.clock = lambda: early
    try:
        open_day(qtbot, floor, day)
        QTest.mouseClick(floor.walk_in_button, Qt.MouseButton.LeftButton)
        dialog = floor.walk_in_dialog
        assert dialog is not None
        with qtbot.waitSignal(floor.sig_saved, timeout=10_000) as saved:
            QTest.mouseClick(dialog.seat_button, Qt.MouseButton.LeftButton)
        seated = saved.args[0]
        assert seated.status is BookingStatus.SEATED and seated.start_at == early
        assert floor.said.text().startswith("Seated Walk-in")
        # The grid reaches back to 08:00 for it: the block sits at 08:30, in view.
        rect = floor.grid.block_rect(seated.id)
        assert rect.left() >= LABEL_W
        assert floor.grid.time_at(rect.left()) == early
        bar = floor.floor_area.horizontalScrollBar()
        viewport = floor.floor_area.viewport()
        assert bar is not None and viewport is not None
        qtbot.waitUntil(lambda: rect.left() - bar.value() >= LABEL_W
                        and rect.right() - bar.value() <= viewport.width(), timeout=5_000)
        assert floor.grid.x_of(early + timedelta(hours=3)) > rect.right()
    finally:
        shop.close()
