"""Hide what a shop does not share and grey what it will not let the console change, saying why."""

from __future__ import annotations

import html
from collections.abc import Mapping

from PyQt6.QtWidgets import QTableView, QWidget

from console.shop_access import EntityAccess

NOT_SHARED = "This shop does not share {what} with Backroom (its connector maps none)."
REASON_MAX = 300


def reason_tooltip(text: str) -> str:
    """A tooltip showing ``text`` literally: a read-only reason may come from the shop's own
    server, and Qt would guess markup in it. (One helper for every outside tooltip is
    ui/plain_text.py's plain_tooltip on the wt-plaintext branch: use it once merged.)"""
    if not text:
        return ""
    return f'<p style="white-space:pre-wrap">{html.escape(text[:REASON_MAX])}</p>'


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
        widget.setToolTip("" if editable else reason_tooltip(access.why_not(name)))
