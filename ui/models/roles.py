"""The console's own item-data roles, one set for every table model and delegate."""

from __future__ import annotations

from PyQt6.QtCore import Qt

STATE_ROLE = Qt.ItemDataRole.UserRole + 1
"""A cell's state word: ok, warn, fail or stale for the status chip and row marks, or an
alert rule's state (normal, pending, firing…) on the Alerts page."""
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
"""The whole row object (None while a paged list's page is loading)."""
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
"""The value a column sorts by in a ``QSortFilterProxyModel`` (a number, a folded word)."""
