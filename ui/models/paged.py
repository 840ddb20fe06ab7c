"""A table model over a keyset-paged list: pages fetched off the GUI thread, an LRU of pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from PyQt6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    pyqtSignal,
)
from PyQt6.QtGui import QColor

from console.shop import Page, RowCount
from ui.models.csv_export import write_csv
from ui.models.list_source import Column, ListSource, read_pages
from ui.models.page_cache import PageCache
from ui.models.roles import ROW_ROLE, STATE_ROLE
from ui.theme import tabular_font
from ui.worker import TaskHandle, TaskRunner, TaskState

log = logging.getLogger(__name__)

R = TypeVar("R")
Q = TypeVar("Q")

_Index = QModelIndex | QPersistentModelIndex
LOADING_TEXT = "Loading…"

# data() runs for every role of every visible cell at each repaint (some 1,500 calls for a
# page of a table): the roles as plain ints, and the constant answers, worked out once.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ANSWERED = frozenset({_DISPLAY, _ALIGNMENT, _FONT, _TOOLTIP, _BACKGROUND, _FOREGROUND,
                       STATE_ROLE, ROW_ROLE})
_ITEM_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
               | Qt.ItemFlag.ItemNeverHasChildren)


class PagedTableModel(QAbstractTableModel, Generic[R, Q]):
    """Rows of a server-side sorted and filtered list, fetched a page at a time.

    The row count is virtual: the repository's count (the PostgreSQL planner's estimate for
    big sets) sets it, and it is corrected when paging reaches the real end. Only the pages
    the view paints are fetched, on the task runner; a page is located by the previous
    page's keyset cursor, or, after a jump, by one cheap ``seek`` (or by walking forward
    when the back end cannot seek). At most ``max_pages`` pages stay in memory.
    """

    sig_loading = pyqtSignal(bool)
    """Emitted with True when fetching starts and False when nothing is in flight."""
    sig_failed = pyqtSignal(object)
    """Emitted with the exception when a page or the count could not be fetched."""
    sig_count = pyqtSignal(object)
    """Emitted with the :class:`RowCount` once it is known (or corrected)."""
    sig_page_loaded = pyqtSignal(int)
    """Emitted with the page index after a page arrived and its rows were updated."""

    def __init__(self, tasks: TaskRunner, columns: Sequence[Column[R]],
                 source: Callable[[], ListSource[R, Q] | None], query: Q, *,
                 page_size: int = 200, max_pages: int = 40, max_in_flight: int = 2,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.columns = list(columns)
        self._source_fn = source
        self._query = query
        self.page_size = page_size
        self.max_pages = max_pages
        self._max_in_flight = max_in_flight
        self._generation = 0
        self._rows = 0
        self._count: RowCount | None = None
        self._end_row: int | None = None
        self._cache: PageCache[R] = PageCache(page_size, max_pages)
        self._in_flight: dict[int, TaskHandle[Any]] = {}
        self._wanted: list[int] = []
        self._exact_asked = False
        self._count_task: TaskHandle[Any] | None = None
        self.error: BaseException | None = None
        self.opened_at = time.perf_counter()
        self.first_rows_at: float | None = None
        self._font = tabular_font()
        self._muted = QColor("#8a8a8a")
        self._row_background: Callable[[R], str | None] | None = None
        self._dispatch_timer = QTimer(self)
        self._dispatch_timer.setSingleShot(True)
        self._dispatch_timer.setInterval(0)
        self._dispatch_timer.timeout.connect(self._dispatch)

    # ------------------------------------------------------------------ public API

    @property
    def query(self) -> Q:
        return self._query

    @property
    def count(self) -> RowCount | None:
        return self._count

    @property
    def loading(self) -> bool:
        return bool(self._in_flight) or self._count_task is not None

    def set_row_background(self, fn: Callable[[R], str | None] | None) -> None:
        self._row_background = fn

    def set_query(self, query: Q, *, force: bool = False) -> None:
        """Show another filter or sort: everything is fetched again."""
        if query == self._query and not force:
            return
        self._query = query
        self.reload()

    def reload(self) -> None:
        """Drop every page and fetch the count and the first page again (F5)."""
        self._generation += 1
        for handle in self._in_flight.values():
            handle.cancel()
        if self._count_task is not None:
            self._count_task.cancel()
        self.beginResetModel()
        self._rows = 0
        self._count = None
        self._end_row = None
        self._cache = PageCache(self.page_size, self.max_pages)
        self._in_flight = {}
        self._wanted = []
        self._exact_asked = False
        self._count_task = None
        self.error = None
        self.opened_at = time.perf_counter()
        self.first_rows_at = None
        self.endResetModel()
        if self._source_fn() is None:
            return
        self._request(0)
        self._dispatch()  # the first rows go first: the count only sizes the scroll bar
        self._start_count(exact=False)

    def clear(self) -> None:
        """No rows and nothing in flight (the back end went away)."""
        self._generation += 1
        for handle in self._in_flight.values():
            handle.cancel()
        self.beginResetModel()
        self._rows = 0
        self._count = None
        self._cache = PageCache(self.page_size, self.max_pages)
        self._in_flight = {}
        self._wanted = []
        self._count_task = None
        self.endResetModel()

    def row_object(self, row: int) -> R | None:
        """The row's object, or None while its page is not loaded."""
        if not 0 <= row < self._rows:
            return None
        return self._cache.row(row)

    def find_row(self, row_id: int) -> int | None:
        """The row number of a loaded object with this id."""
        source = self._source_fn()
        if source is None:
            return None
        return self._cache.find(lambda obj: source.row_id(obj) == row_id)

    def replace_row(self, obj: R) -> bool:
        """Show a saved object in place (same id) without a reload; True if it was loaded."""
        source = self._source_fn()
        if source is None:
            return False
        row_id = source.row_id(obj)
        row = self._cache.find(lambda old: source.row_id(old) == row_id)
        if row is None:
            return False
        self._cache.replace(row, obj)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        return True

    def cached_pages(self) -> int:
        return len(self._cache)

    def held(self, rows: Sequence[int]) -> tuple[ListSource[R, Q] | None, int,
                                                  dict[int, tuple[str | None, tuple[R, ...]]]]:
        """What a freshness check compares: the source, this query's generation, and for the
        loaded pages holding ``rows`` each page's start cursor and the rows it was given."""
        return self._source_fn(), self._generation, self._cache.held(rows)

    def generation(self) -> int:
        """Bumped by every reload: a check started before one is void."""
        return self._generation

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            col = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(_align(col.numeric))
            if role == Qt.ItemDataRole.ToolTipRole and col.sort:
                return f"Click to sort by {col.title.lower()}"
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ITEM_FLAGS

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role not in _ANSWERED or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < self._rows and 0 <= column < len(self.columns)):
            return None
        k, at = divmod(row, self.page_size)
        page = self._cache.page(k)
        col = self.columns[column]
        if page is None or at >= len(page):
            if page is None and self.error is None:
                self._request(k)
            if role == _DISPLAY:
                if column != 0:
                    return ""
                return "Could not load" if self.error is not None else LOADING_TEXT
            if role == _FOREGROUND:
                return self._muted
            return None
        if role == _DISPLAY:
            self._cache.shown(k)
            return col.text(page[at])
        if role == _ALIGNMENT:
            return _ALIGN_RIGHT if col.numeric else _ALIGN_LEFT
        if role == _FONT:
            return self._font if col.numeric else None
        obj = page[at]
        if role == STATE_ROLE:
            return col.state(obj) if col.state is not None else None
        if role == _TOOLTIP:
            return col.tooltip(obj) if col.tooltip is not None else None
        if role == _BACKGROUND and self._row_background is not None:
            colour = self._row_background(obj)
            if colour:
                c = QColor(colour)
                c.setAlpha(40)
                return c
            return None
        if role == ROW_ROLE:
            return obj
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting happens on the server: a new query, fetched again."""
        if not 0 <= column < len(self.columns):
            return
        col = self.columns[column]
        if col.sort is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder and col.descending_only_ok
        self.set_query(self._with_sort(col.sort, descending))

    def _with_sort(self, sort: str, descending: bool) -> Q:
        import dataclasses

        current = self._query
        sort_type = type(current.sort)  # type: ignore[attr-defined]
        return dataclasses.replace(current, sort=sort_type(sort),  # type: ignore[type-var]
                                   descending=descending)

    def sort_column(self) -> tuple[int, Qt.SortOrder] | None:
        """The column and order the current query sorts by (for the header's indicator)."""
        sort = getattr(self._query, "sort", None)
        desc = bool(getattr(self._query, "descending", False))
        for i, col in enumerate(self.columns):
            if col.sort is not None and sort is not None and col.sort == str(sort):
                return i, (Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder)
        return None

    # ------------------------------------------------------------------ fetching

    def _request(self, k: int) -> None:
        if k in self._wanted:
            self._wanted.remove(k)
        self._wanted.append(k)
        # Fast scrolling paints many positions; only the latest few are worth fetching.
        del self._wanted[:-4]
        if not self._dispatch_timer.isActive():
            self._dispatch_timer.start()

    def _dispatch(self) -> None:
        source = self._source_fn()
        if source is None or self.error is not None:
            self._wanted.clear()
            return
        while self._wanted and len(self._in_flight) < self._max_in_flight:
            k = self._wanted.pop()
            if k in self._cache or k in self._in_flight:
                continue
            if k > 0 and self._end_row is not None and k * self.page_size >= self._end_row:
                continue
            self._start_page(source, k)
        self.sig_loading.emit(self.loading)

    def _start_page(self, source: ListSource[R, Q], k: int) -> None:
        query, size, generation = self._query, self.page_size, self._generation
        walk_from = self._cache.start_of(k, source.can_seek)

        def fetch(state: TaskState) -> tuple[int, int, list[tuple[int, str | None, Page[R]]]]:
            return generation, k, read_pages(source, query, size, k, walk_from, state)

        handle = self._tasks.run(fetch, owner=self, on_success=self._page_arrived,
                                 on_failure=partial(self._failed, generation=generation, k=k),
                                 name=f"page-{k}")
        self._in_flight[k] = handle

    def _page_arrived(self, result: tuple[int, int, list[tuple[int, str | None, Page[R]]]]
                      ) -> None:
        generation, requested, got = result
        if generation != self._generation:
            return
        self._in_flight.pop(requested, None)
        for k, start, page in got:
            self._store_page(k, start, page)
        if self._wanted:
            self._dispatch_timer.start()
        self.sig_loading.emit(self.loading)

    def _store_page(self, k: int, start: str | None, page: Page[R]) -> None:
        size = self.page_size
        rows = page.rows
        self._cache.store(k, start, rows, page.next_cursor)
        if page.next_cursor is None:
            if not rows and k > 0:
                # Past the real end (the estimate was high): learn the exact count.
                self._ask_exact()
            else:
                self._set_end(k * size + len(rows))
        elif (k + 1) * size >= self._rows:
            # More rows than the count said (or no count yet): show the next page's rows
            # as loading, like fetchMore, and have the count corrected.
            self._resize((k + 2) * size)
            if self._count is not None:
                self._ask_exact()
        if k == 0 and self.first_rows_at is None:
            self.first_rows_at = time.perf_counter()
        first = k * size
        last = min(first + len(rows), self._rows) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        self.sig_page_loaded.emit(k)

    def _set_end(self, end: int) -> None:
        self._end_row = end
        if self._rows != end:
            self._resize(end)
        if self._count is None or self._count.value != end or not self._count.exact:
            self._count = RowCount(end, exact=True)
            self.sig_count.emit(self._count)

    def _resize(self, rows: int) -> None:
        rows = max(0, rows)
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = rows
            self.endRemoveRows()
            self._cache.drop_from(rows)

    def _start_count(self, *, exact: bool) -> None:
        source = self._source_fn()
        if source is None:
            return
        query, generation = self._query, self._generation

        def count(_state: TaskState) -> tuple[int, RowCount]:
            return generation, source.count(query, exact)

        self._count_task = self._tasks.run(
            count, owner=self, on_success=self._count_arrived,
            on_failure=partial(self._failed, generation=generation, k=None), name="count")

    def _ask_exact(self) -> None:
        if not self._exact_asked:
            self._exact_asked = True
            self._start_count(exact=True)

    def _count_arrived(self, result: tuple[int, RowCount]) -> None:
        generation, count = result
        if generation != self._generation:
            return
        self._count_task = None
        if self._end_row is not None:
            # Paging already reached the end: that is the truth.
            self.sig_loading.emit(self.loading)
            return
        self._count = count
        self._resize(max(count.value, self._cache.known_rows()))
        self.sig_count.emit(count)
        self.sig_loading.emit(self.loading)

    def _failed(self, exc: BaseException, *, generation: int, k: int | None) -> None:
        if generation != self._generation:
            return
        if k is None:
            self._count_task = None
        else:
            self._in_flight.pop(k, None)
        first_error = self.error is None
        self.error = exc
        self._wanted.clear()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, 0))
        if first_error:
            self.sig_failed.emit(exc)
        self.sig_loading.emit(self.loading)

    # ------------------------------------------------------------------ export

    def export_csv(self, path: Path, *, on_done: Callable[[int], None],
                   on_failure: Callable[[BaseException], None],
                   on_progress: Callable[[float, str], None] | None = None) -> TaskHandle[int]:
        """Write every row of the current filter and sort to ``path`` (walks all pages)."""
        source = self._source_fn()
        if source is None:
            raise RuntimeError("no back end")
        query, columns = self._query, list(self.columns)
        total = self._count.value if self._count is not None else 0
        work = partial(write_csv, path, source, query, columns, total)
        return self._tasks.run(work, owner=self, on_success=on_done, on_failure=on_failure,
                               on_progress=on_progress, name="export-csv")


def _align(numeric: bool) -> Qt.AlignmentFlag:
    return (Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft) | \
        Qt.AlignmentFlag.AlignVCenter


_ALIGN_RIGHT = int(_align(True).value)
_ALIGN_LEFT = int(_align(False).value)

