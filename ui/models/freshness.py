"""Lists that refresh on their own: a cheap "changed since" check, then a reload in place."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtWidgets import QTableView

from console.shop import RowCount
from ui.models.paged import PagedTableModel
from ui.worker import TaskHandle, TaskState

#: How often a shown list asks whether it is still what the server holds.
CHECK_INTERVAL_MS = 15_000


class ListFreshness(QObject):
    """Keeps one paged table current while it is shown.

    The check asks the server, off the GUI thread, for the count and for the page(s) on
    screen (the one with the selected row too), and compares them with what the table holds:
    one count and one page per check, whatever the list's length. When something moved
    (a row's status, a new row, a deleted one) the list is fetched again, and the selected
    row and the scroll position are put back.
    """

    sig_checked = pyqtSignal(bool)
    """Emitted after each check: True when the list had changed and is being fetched again."""

    def __init__(self, model: PagedTableModel[Any, Any], table: QTableView,
                 tasks: Any, *, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(table)
        self._model = model
        self._table = table
        self._tasks = tasks
        self._task: TaskHandle[Any] | None = None
        self._scroll: int | None = None
        self._select: int | None = None
        self._tries = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        model.sig_page_loaded.connect(self._put_back)
        bar = table.verticalScrollBar()
        if bar is not None:  # the view sizes its scroll bar later than the rows arrive
            bar.rangeChanged.connect(lambda _low, high: self._scroll_back(high))

    def start(self) -> None:
        """The list is shown: check now, then on the interval."""
        self.timer.start()
        self.check()

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> None:
        model = self._model
        if model.loading or model.count is None or model.error is not None or (
                self._task is not None and not self._task.done):
            return
        rows = [self._table.rowAt(0), self._table.rowAt(max(0, self._table.height() - 1))]
        current = self._table.currentIndex()
        if current.isValid():
            rows.append(current.row())
        source, generation, held = model.held(rows)
        if source is None:
            return
        query, known, size = model.query, model.count, model.page_size

        def ask(_state: TaskState) -> tuple[int, RowCount, dict[int, tuple[Any, ...]]]:
            count = source.count(query, known.exact)
            return generation, count, {k: source.page(query, cursor, size).rows
                                       for k, (cursor, _rows) in held.items()}

        def answered(result: tuple[int, RowCount, dict[int, tuple[Any, ...]]]) -> None:
            gen, count, fresh = result
            if gen != model.generation():
                return  # the user changed the filters meanwhile: that list is new anyway
            moved = count.value != known.value or any(
                fresh[k] != rows_held for k, (_cursor, rows_held) in held.items())
            if moved:
                self._reload_in_place()
            self.sig_checked.emit(moved)

        self._task = self._tasks.run(ask, owner=self._table, on_success=answered,
                                     on_failure=lambda _exc: None, name="list-check")

    def _reload_in_place(self) -> None:
        current = self._table.currentIndex()
        selected = self._model.row_object(current.row()) if current.isValid() else None
        source = self._model.held([])[0]
        bar = self._table.verticalScrollBar()
        self._scroll = bar.value() if bar is not None else None
        self._select = (None if selected is None or source is None
                        else int(source.row_id(selected)))
        self._tries = 0
        self._model.reload()

    def _put_back(self, _k: int) -> None:
        """After a reload: the scroll position once the rows are there, then the row."""
        self._tries += 1
        bar = self._table.verticalScrollBar()
        if bar is not None:
            self._scroll_back(bar.maximum())
        if self._select is not None:
            row = self._model.find_row(self._select)
            if row is not None:
                self._table.selectRow(row)
                self._select = None
        if self._tries >= 4:  # the row left the list, or the list got shorter
            self._scroll = self._select = None

    def _scroll_back(self, high: int) -> None:
        bar = self._table.verticalScrollBar()
        if self._scroll is not None and bar is not None and high >= self._scroll:
            bar.setValue(self._scroll)
            self._scroll = None
