"""A table model over a list held in memory, its columns described once: title, text, sort…"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PyQt6.QtGui import QIcon

from ui.models.roles import ROW_ROLE, SORT_ROLE, STATE_ROLE
from ui.plain_text import plain_tooltip
from ui.theme import tabular_font

R = TypeVar("R")

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_DECORATION = int(Qt.ItemDataRole.DecorationRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True, slots=True)
class ListColumn(Generic[R]):
    """One column of a list: its title and how a row shows in it.

    ``tooltip`` returns the words as they are, outside text included, or None for no
    tooltip: the model shows them literally (:func:`ui.plain_text.plain_tooltip`).
    """

    title: str
    text: Callable[[R], str]
    sort_key: Callable[[R], Any] | None = None
    """The value a sorting proxy compares (``SORT_ROLE``); the text when None."""
    tooltip: Callable[[R], str | None] | None = None
    state: Callable[[R], str] | None = None
    """The cell's state word (``STATE_ROLE``) for a status chip or a row mark."""
    icon: Callable[[R], QIcon] | None = None
    numeric: bool = False
    """Right-aligned, as numbers are."""
    tabular: bool = False
    """Shown in the tabular font, so digits line up."""
    header_tooltip: str | None = None


class ListTableModel(QAbstractTableModel, Generic[R]):
    """Read-only rows held in memory (a sweep's checks, a profile's functions, alert rules);
    what each column shows is described by its :class:`ListColumn`.

    The lists are small (a few thousand rows at most): a new list resets the model.
    """

    def __init__(self, columns: Sequence[ListColumn[R]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns: tuple[ListColumn[R], ...] = tuple(columns)
        self._rows: tuple[R, ...] = ()
        self._font = tabular_font()

    # -- the rows -------------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[R],
                  columns: Sequence[ListColumn[R]] | None = None) -> None:
        """Show another list (and, with ``columns``, other columns): a reset."""
        self.beginResetModel()
        self._rows = tuple(rows)
        if columns is not None:
            self._columns = tuple(columns)
        self.endResetModel()

    def update_rows(self, rows: Sequence[R]) -> None:
        """The same rows with new values (as many, in the same order): no reset, so the
        selection and the scroll position stay."""
        if len(rows) != len(self._rows):
            self.show_rows(rows)
            return
        self._rows = tuple(rows)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(self._columns) - 1))

    def rearrange(self, rows: Sequence[R], key: Callable[[R], Hashable]) -> None:
        """The same rows in another order; selections follow their rows (by ``key``)."""
        self.layoutAboutToBeChanged.emit()
        old = self._rows
        self._rows = tuple(rows)
        moved = {key(obj): number for number, obj in enumerate(self._rows)}
        for persistent in self.persistentIndexList():
            if persistent.isValid():
                new_row = moved[key(old[persistent.row()])]
                self.changePersistentIndex(persistent, self.index(new_row, persistent.column()))
        self.layoutChanged.emit()

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def all_rows(self) -> tuple[R, ...]:
        return self._rows

    # -- Qt model -------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == _DISPLAY:
            return self._columns[section].title
        if role == _TOOLTIP:
            return self._columns[section].header_tooltip
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
            return None
        obj, col = self._rows[row], self._columns[column]
        if role == _DISPLAY:
            return col.text(obj)
        if role == _TOOLTIP:
            tip = col.tooltip(obj) if col.tooltip is not None else None
            return None if tip is None else plain_tooltip(tip)
        if role == _ALIGNMENT:
            return _RIGHT if col.numeric else None
        if role == _FONT:
            return self._font if col.tabular else None
        if role == _DECORATION:
            return col.icon(obj) if col.icon is not None else None
        if role == STATE_ROLE:
            return col.state(obj) if col.state is not None else None
        if role == SORT_ROLE:
            return col.sort_key(obj) if col.sort_key is not None else col.text(obj)
        if role == ROW_ROLE:
            return obj
        return None
