"""The table model of a loaded profile: one row per function, sortable and filtered by name."""

from __future__ import annotations

from PyQt6.QtCore import QObject, Qt

from console.pstats_view import (
    FunctionRow,
    ProfileStats,
    filter_rows,
    sort_rows,
)
from ui.models.list_table import ListColumn, ListTableModel


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


def _ms_column(title: str, key: str, tip: str) -> ListColumn[FunctionRow]:
    return ListColumn(title, lambda row: ms(float(getattr(row, key))), numeric=True,
                      header_tooltip=tip)


#: (key of :func:`console.pstats_view.sort_rows`, column)
_KEYED_COLUMNS: tuple[tuple[str, ListColumn[FunctionRow]], ...] = (
    ("function", ListColumn("Function", lambda row: row.function,
                            tooltip=lambda row: f"{row.name}\n{row.file}:{row.line}",
                            header_tooltip="Function name with file and line")),
    ("calls", ListColumn("Calls", lambda row: row.calls_text, numeric=True,
                         header_tooltip="Calls in all; total/primitive when some were "
                                        "recursive")),
    ("tottime", _ms_column("Own ms", "tottime", "Time spent in the function itself")),
    ("percall", _ms_column("Own ms/call", "percall", "Own time per call")),
    ("cumtime", _ms_column("Cumulative ms", "cumtime",
                           "Time in the function and everything it called")),
    ("cumpercall", _ms_column("Cum. ms/call", "cumpercall",
                              "Cumulative time per primitive call")),
)
COLUMNS = tuple(column for _key, column in _KEYED_COLUMNS)
SORT_KEYS = tuple(key for key, _column in _KEYED_COLUMNS)


class PstatsTableModel(ListTableModel[FunctionRow]):
    """Rows of a :class:`ProfileStats`, sorted with :func:`sort_rows` and filtered with
    :func:`filter_rows`; a new profile or filter resets the model (a few thousand rows at
    most), a sort moves the rows and keeps the selection."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self._stats: ProfileStats | None = None
        self._filter = ""
        self._sort_column = "cumtime"
        self._descending = True

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

    def row_of(self, key: tuple[str, int, str]) -> int:
        """The row number showing ``key``, or -1 when it is filtered out."""
        for number, row in enumerate(self.all_rows()):
            if row.key == key:
                return number
        return -1

    def _rebuild(self) -> None:
        rows = self._stats.rows if self._stats is not None else ()
        self.show_rows(sort_rows(filter_rows(rows, self._filter), self._sort_column,
                                 self._descending))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(SORT_KEYS):
            return
        self._sort_column = SORT_KEYS[column]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.rearrange(sort_rows(self.all_rows(), self._sort_column, self._descending),
                       key=lambda row: row.key)
