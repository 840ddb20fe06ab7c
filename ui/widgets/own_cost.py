"""Backroom's own cost: what the console's polling asks of each source, and its CPU share."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QShowEvent
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.domain import Reading
from console.own_cost import OWN_SOURCE, cost_rows
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_label, set_plain_text
from ui.widgets.db_views import rows_table

if TYPE_CHECKING:
    from console.store import MetricStore
    from ui.worker import TaskRunner, TaskState

COLUMNS = ("Source", "Requests/s", "KiB/s read", "% of poll time")
REFRESH_MS = 5000
EXPLAIN = ("What Backroom's own polling asks of the shop, over the last minute: the "
           "requests it makes to each source (HTTP pages, SQL statements, Redis round trips), "
           "the bytes it reads (HTTP answers; SQL, Redis and AMQP answers are not counted) and "
           "which source takes its polling time. The same figures are charted as the "
           "“backroom” source and kept in the history.")


def own_readings(store: MetricStore) -> list[Reading]:
    """The latest point of every own series (``backroom/...``) in the store."""
    prefix = OWN_SOURCE + "/"
    found = (store.latest(name) for name in store.series_names() if name.startswith(prefix))
    return [r for r in found if r is not None]


class OwnCostView(QWidget):
    """The "Backroom's own cost" table: per source requests/s, KiB/s and share of poll time;
    above it the console's process CPU %. Read from the store off the GUI thread every few
    seconds while shown."""

    def __init__(self, store: MetricStore | None, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._tasks = tasks
        self._handle: Any = None
        self.cpu = plain_label()
        self.cpu.setObjectName("sectionTitle")
        explain = QLabel(EXPLAIN)
        explain.setObjectName("muted")
        explain.setWordWrap(True)
        self.model = RowsTableModel(COLUMNS, self)
        self.table = rows_table(self.model, 0)
        self.empty = plain_label()
        self.empty.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.cpu)
        layout.addWidget(explain)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.show_readings([])

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: Any) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        """Read the own series again, off the GUI thread."""
        store = self._store
        if store is None or (self._handle is not None and not self._handle.done):
            return

        def work(state: TaskState) -> list[Reading]:
            return own_readings(store)

        self._handle = self._tasks.run(work, owner=self, on_success=self.show_readings,
                                       name="own-cost")

    def show_readings(self, readings: list[Reading]) -> None:
        cpu, rows = cost_rows(readings)
        cores = os.cpu_count() or 1
        set_plain_text(self.cpu, "Backroom's process CPU: " + (
            "not measured yet" if cpu is None else
            f"{cpu:.1f} % (100 % is one core busy; this computer has {cores} cores)"))
        self.model.set_rows([(name, f"{rps:,.2f}", f"{bps / 1024:,.1f}", f"{share * 100:.0f}")
                             for name, rps, bps, share in rows])
        set_plain_text(self.empty, "" if rows else
                       "No figures yet: they come with the first polls of this profile's "
                       "sources (every few seconds).")
        self.empty.setVisible(not rows)
