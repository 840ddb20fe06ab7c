"""The in-memory list model: declared columns, roles, plain-text tooltips, updates, reorders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from PyQt6.QtCore import QPersistentModelIndex, QSortFilterProxyModel, Qt

from ui.models.list_table import ListColumn, ListTableModel
from ui.models.roles import ROW_ROLE, SORT_ROLE, STATE_ROLE
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_tooltip

pytestmark = pytest.mark.gui

TOOLTIP = Qt.ItemDataRole.ToolTipRole
ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class Item:
    name: str
    count: int
    state: str = "ok"


COLUMNS: tuple[ListColumn[Item], ...] = (
    ListColumn("Name", lambda i: i.name, tooltip=lambda i: i.name or None,
               state=lambda i: i.state, header_tooltip="What it is called"),
    ListColumn("Count", lambda i: f"{i.count:,}", sort_key=lambda i: i.count,
               numeric=True, tabular=True),
)


def test_a_model_of_declared_columns(qtmodeltester: Any) -> None:
    model = ListTableModel(COLUMNS)
    model.show_rows([Item("b", 1_000), Item("a", 20, "warn"), Item("", 3)])
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.columnCount() == 2
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"
    assert model.headerData(0, Qt.Orientation.Horizontal, TOOLTIP) == "What it is called"
    assert model.headerData(1, Qt.Orientation.Horizontal, TOOLTIP) is None
    assert model.data(model.index(0, 1)) == "1,000"
    assert model.data(model.index(0, 1), ALIGNMENT) == RIGHT
    assert model.data(model.index(0, 0), ALIGNMENT) is None
    assert model.data(model.index(0, 1), Qt.ItemDataRole.FontRole) is not None
    assert model.data(model.index(0, 0), Qt.ItemDataRole.FontRole) is None
    assert model.data(model.index(1, 0), STATE_ROLE) == "warn"
    assert model.data(model.index(1, 1), STATE_ROLE) is None
    assert model.data(model.index(0, 1), SORT_ROLE) == 1_000
    assert model.data(model.index(0, 0), SORT_ROLE) == "b"  # no key: the text
    assert model.data(model.index(1, 1), ROW_ROLE) == Item("a", 20, "warn")
    assert model.data(model.index(2, 0), TOOLTIP) is None
    assert model.data(model.index(0, 1), TOOLTIP) is None
    assert model.row_at(1).name == "a"


def test_outside_text_in_a_tooltip_is_shown_as_typed() -> None:
    hostile = "Ana <img src=/dev/zero> <b>bold</b>"
    model = ListTableModel(COLUMNS)
    model.show_rows([Item(hostile, 1)])
    tip = model.data(model.index(0, 0), TOOLTIP)
    assert tip == plain_tooltip(hostile)
    assert "<img" not in tip and "&lt;img" in tip
    assert model.data(model.index(0, 0)) == hostile


def test_new_values_of_the_same_rows_keep_the_model(qtbot: Any) -> None:
    model = ListTableModel(COLUMNS)
    model.show_rows([Item("a", 1), Item("b", 2)])
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.dataChanged):
        model.update_rows([Item("a", 5), Item("b", 6)])
    assert model.data(model.index(1, 1)) == "6"
    with qtbot.waitSignal(model.modelReset):
        model.update_rows([Item("a", 5)])  # fewer rows: shown afresh
    assert model.rowCount() == 1


def test_a_reorder_keeps_the_selection_on_its_row(qtmodeltester: Any) -> None:
    model = ListTableModel(COLUMNS)
    rows = [Item("a", 1), Item("b", 2), Item("c", 3)]
    model.show_rows(rows)
    held = QPersistentModelIndex(model.index(0, 1))  # "a"
    model.rearrange(list(reversed(rows)), key=lambda i: i.name)
    assert held.row() == 2 and held.column() == 1
    assert model.data(model.index(held.row(), 0)) == "a"
    qtmodeltester.check(model)


def test_rows_of_text_sort_numbers_as_numbers(qtmodeltester: Any) -> None:
    model = RowsTableModel(("Table", "Rows", "Note"))
    model.set_rows([("orders", "1,200", "x" * 41), ("bookings", "90", ""),
                    ("items", "", "short")], ["warn"])
    qtmodeltester.check(model)
    assert model.rows()[0] == ("orders", "1,200", "x" * 41)
    assert model.data(model.index(0, 1), ALIGNMENT) == RIGHT
    assert model.data(model.index(0, 0), ALIGNMENT) is None
    assert model.data(model.index(0, 0), STATE_ROLE) == "warn"
    assert model.data(model.index(1, 2), STATE_ROLE) == ""
    assert model.data(model.index(0, 2), TOOLTIP) == "x" * 41  # long cells only
    assert model.data(model.index(2, 2), TOOLTIP) is None
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(1, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["orders", "bookings", "items"]
