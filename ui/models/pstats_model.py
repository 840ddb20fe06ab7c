"""The table model of a loaded profile: one row per function, sortable and filtered by name."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from console.pstats_view import (
    FunctionRow,
    ProfileStats,
    filter_rows,
    sort_rows,
)
from ui.plain_text import plain_tooltip

_Index = QModelIndex | QPersistentModelIndex

#: (column key of console.pstats_view, header, tooltip)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("function", "Function", "Function name with file and line"),
    ("calls", "Calls", "Calls in all; total/primitive when some were recursive"),
    ("tottime", "Own ms", "Time spent in the function itself"),
    ("percall", "Own ms/call", "Own time per call"),
    ("cumtime", "Cumulative ms", "Time in the function and everything it called"),
    ("cumpercall", "Cum. ms/call", "Cumulative time per primitive call"),
)

#: Role that gives a row's raw :class:`FunctionRow`.
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds with sensible precision."""
    value = seconds * 1000.0
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    if value >= 0.001 or value == 0:
        return f"{value:.3f}"
    return "<0.001"


class PstatsTableModel(QAbstractTableModel):
    """Rows of a :class:`ProfileStats`, sorted with :func:`sort_rows` and filtered with
    :func:`filter_rows`; both reset the model (the rows are a few thousand at most)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stats: ProfileStats | None = None
        self._rows: tuple[FunctionRow, ...] = ()
        self._filter = ""
        self._sort_column = "cumtime"
        self._descending = True

    # -- what the browser drives -----------------------------------------------------------
    @property
    def stats(self) -> ProfileStats | None:
        return self._stats

    def set_stats(self, stats: ProfileStats | None) -> None:
        self._stats = stats
        self._rebuild()

    def set_filter(self, text: str) -> None:
        if text != self._filter:
            self._filter = text
            self._rebuild()

    def row_at(self, row: int) -> FunctionRow:
        return self._rows[row]

    def row_of(self, key: tuple[str, int, str]) -> int:
        """The row number showing ``key``, or -1 when it is filtered out."""
        for number, row in enumerate(self._rows):
            if row.key == key:
                return number
        return -1

    def _rebuild(self) -> None:
        self.beginResetModel()
        rows = self._stats.rows if self._stats is not None else ()
        self._rows = sort_rows(filter_rows(rows, self._filter), self._sort_column,
                               self._descending)
        self.endResetModel()

    # -- Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "function":
                return row.function
            if key == "calls":
                return row.calls_text
            return ms(float(getattr(row, key)))
        if role == Qt.ItemDataRole.ToolTipRole and key == "function":
            return plain_tooltip(f"{row.name}\n{row.file}:{row.line}")
        if role == Qt.ItemDataRole.TextAlignmentRole and key != "function":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort_column = COLUMNS[column][0]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        old = self._rows
        self._rows = sort_rows(self._rows, self._sort_column, self._descending)
        moved = {row.key: number for number, row in enumerate(self._rows)}
        for persistent in self.persistentIndexList():
            if persistent.isValid():
                new_row = moved[old[persistent.row()].key]
                self.changePersistentIndex(persistent,
                                           self.index(new_row, persistent.column()))
        self.layoutChanged.emit()
