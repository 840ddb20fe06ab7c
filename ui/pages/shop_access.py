"""Hide what a shop does not share and grey what it will not let the console change, saying why."""

from __future__ import annotations

from collections.abc import Mapping

from PyQt6.QtWidgets import QTableView, QWidget

from console.shop_access import EntityAccess
from ui.plain_text import plain_tooltip

NOT_SHARED = "This shop does not share {what} with Backroom (its connector maps none)."


def hide_unmapped_columns(table: QTableView, columns: Mapping[str, int],
                          access: EntityAccess) -> None:
    """A column whose field the shop does not map is hidden, not shown empty."""
    for name, column in columns.items():
        table.setColumnHidden(column, not access.shows(name))


def grey_fixed_fields(widgets: Mapping[str, QWidget], access: EntityAccess) -> None:
    """A field the console cannot change here is greyed, its tooltip saying why."""
    for name, widget in widgets.items():
        editable = access.can_edit(name)
        widget.setEnabled(editable)
        widget.setToolTip("" if editable else plain_tooltip(access.why_not(name)))
