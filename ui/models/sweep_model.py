"""Table models of the Diagnostics page: the sweep's checks, and plain rows of database views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from console.domain import Check, Status
from ui.plain_text import plain_tooltip

_Index = QModelIndex | QPersistentModelIndex

#: Role giving a cell's state ("ok", "warn", "fail", "") for the chip delegate and row marks.
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
#: Role giving the value a column sorts by.
SORT_ROLE = Qt.ItemDataRole.UserRole + 3

CHECK_COLUMNS: tuple[str, ...] = ("Status", "Check", "Kind", "Figure", "Detail")
_STATUS_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class SweepTableModel(QAbstractTableModel):
    """One row per check of a sweep: status chip, name, kind, figure (ms) and detail."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._checks: tuple[Check, ...] = ()

    def set_checks(self, checks: Sequence[Check]) -> None:
        self.beginResetModel()
        self._checks = tuple(checks)
        self.endResetModel()

    def check_at(self, row: int) -> Check:
        return self._checks[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._checks)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(CHECK_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(CHECK_COLUMNS)):
            return CHECK_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._checks):
            return None
        check = self._checks[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (check.status.value.upper(), check.name, check.kind,
                    "" if check.latency_ms is None else f"{check.latency_ms:,.1f} ms",
                    check.detail)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 4:
            return plain_tooltip(check.detail)
        if role == STATE_ROLE:
            return check.status.value
        if role == SORT_ROLE:
            return (_STATUS_ORDER[check.status], check.name.casefold(), check.kind,
                    -1.0 if check.latency_ms is None else check.latency_ms,
                    check.detail)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return _RIGHT
        return None


class RowsTableModel(QAbstractTableModel):
    """Read-only rows of text with an optional state per row (a database view's table).

    Numeric-looking columns are right-aligned and sort by number.
    """

    def __init__(self, columns: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: tuple[tuple[str, ...], ...] = ()
        self._states: tuple[str, ...] = ()
        self._numeric: set[int] = set()

    def set_rows(self, rows: Sequence[Sequence[str]], states: Sequence[str] = ()) -> None:
        self.beginResetModel()
        self._rows = tuple(tuple(r) for r in rows)
        self._states = tuple(states) + ("",) * (len(self._rows) - len(states))
        self._numeric = {j for j in range(len(self._columns))
                         if self._rows and all(_number(r[j]) is not None or not r[j]
                                               for r in self._rows)
                         and any(r[j] for r in self._rows)}
        self.endResetModel()

    def rows(self) -> tuple[tuple[str, ...], ...]:
        return self._rows

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            return self._columns[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column >= len(row):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return row[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(row[column]) if len(row[column]) > 40 else None
        if role == STATE_ROLE:
            return self._states[index.row()]
        if role == SORT_ROLE:
            number = _number(row[column]) if column in self._numeric else None
            return number if number is not None else row[column].casefold()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._numeric:
            return _RIGHT
        return None


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").removesuffix(" ms"))
    except ValueError:
        return None
