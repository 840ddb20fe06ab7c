"""Top statements over a window (last hour, 24 h, since reset) and the index to copy."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from console.index_advice import index_advice
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_label, set_plain_text
from ui.widgets.db_live import OWN_CHIP, Confirm, LiveView, confirm_action, live_table

if TYPE_CHECKING:
    from services.diagnostics.database_live import (
        DatabaseLiveTools,
        LiveTarget,
        StatementWindow,
    )
    from services.local.statement_history import WindowStatement

WINDOW_COLUMNS = ("Total ms", "Mean ms", "Calls", "Rows", "Query", "Index to try")


class StatementWindowView(LiveView):
    """Top statements over a chosen window from the local history of pg_stat_statements
    deltas; resetting the statistics (asked first)."""

    def __init__(self, tasks: Any, tools: DatabaseLiveTools, parent: QWidget | None = None,
                 confirm: Confirm = confirm_action) -> None:
        # samples pg_stat_statements as often as the database source does
        super().__init__(tasks, tools, int(tools.sample_s * 1000), parent)
        self.confirm = confirm
        self.found: tuple[WindowStatement, ...] = ()
        self.window_combo = QComboBox()
        for words in tools.windows:
            self.window_combo.addItem(words)
        self.window_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.order_combo = QComboBox()
        for key, words in (("total", "total time"), ("mean", "mean time"), ("calls", "calls")):
            self.order_combo.addItem(f"by {words}", key)
        self.order_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.copy_button = QPushButton("Copy index")
        self.copy_button.setToolTip("Copy the CREATE INDEX CONCURRENTLY for the selected "
                                    "statement")
        self.copy_button.clicked.connect(self.copy_index)
        self.reset_button = QPushButton("Reset statistics…")
        self.reset_button.setToolTip("pg_stat_statements_reset for this database")
        self.reset_button.clicked.connect(self.reset)
        self.reset_button.setVisible(False)
        self.model = RowsTableModel(WINDOW_COLUMNS, self)
        self.table = live_table(self.model, WINDOW_COLUMNS.index("Query"))
        self.note = plain_label()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.lay_out([QLabel("Window"), self.window_combo, self.order_combo, self.copy_button,
                      self.reset_button], [self.note, self.table])

    def _tick(self) -> None:  # sample even when not shown: the history needs its points
        self.refresh()

    def options(self) -> tuple[Any, ...]:
        return (self.tools.windows[self.window_combo.currentText()],
                str(self.order_combo.currentData() or "total"))

    def read(self, target: LiveTarget, *options: Any) -> Any:
        window_s, order = options
        return self.tools.statement_window(target, window_s, order)

    def show_found(self, found: StatementWindow) -> None:
        self.found, oldest = found.statements, found.oldest
        self.reset_button.setVisible(found.may_reset)
        postgres = self.target is None or self.target.dialect != "mysql"
        self.copy_button.setVisible(postgres)  # the advice is PostgreSQL's CONCURRENTLY
        self.table.setColumnHidden(WINDOW_COLUMNS.index("Index to try"), not postgres)
        rows = []
        for s in self.found:
            advice = index_advice(s.query) if postgres else None
            own = f"{OWN_CHIP} · " if found.own(s) else ""
            rows.append((f"{s.total_ms:,.1f}", f"{s.mean_ms:,.2f}", f"{s.calls:,}",
                         f"{s.rows:,}", own + " ".join(s.query.split()),
                         " ".join(advice.sql.split()) if advice else ""))
        self.model.set_rows(rows, ["active" if found.own(s) else "" for s in self.found])
        since = ("no sample yet with a change" if oldest is None else
                 time.strftime("%Y-%m-%d %H:%M", time.localtime(oldest)))
        counted_by = found.counted_by
        set_plain_text(self.note, found.switched_off or (
            f"Totals since {counted_by} was last reset." if found.window_s is None else
            f"Calls and time within the window, from the console's samples of "
            f"{counted_by} every {int(self.tools.sample_s // 60)} min (history since "
            f"{since}; kept {int(self.tools.keep_s // 86400)} days).") + (
            f" {found.lost}" if found.lost else ""))

    def copy_index(self) -> str:
        rows = self.table.selectionModel().selectedRows()  # type: ignore[union-attr]
        if not rows or not 0 <= rows[0].row() < len(self.found):
            self.outcome.setText("Select a statement first")
            return ""
        advice = index_advice(self.found[rows[0].row()].query)
        if advice is None:
            self.outcome.setText("No index can be read off this statement's filter")
            return ""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(advice.sql)
        set_plain_text(self.outcome, f"Copied: {advice.why}")
        return advice.sql

    def reset(self) -> None:
        target = self.target
        if target is None or not self.confirm(
                self, "Reset statistics",
                f"Reset pg_stat_statements for the database {target.name}? Its totals start "
                "again from zero; the console's own history of earlier windows stays."):
            return
        tools = self.tools
        self.act(lambda: tools.reset_statements(target),
                 lambda _r: self.outcome.setText("Statistics reset"))
