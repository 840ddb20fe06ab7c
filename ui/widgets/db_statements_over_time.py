"""Top statements over a window (last hour, 24 h, since reset) and the index to copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.index_advice import index_advice
from services.collectors.database import STATEMENT_SAMPLE_S, pg_statement_totals
from services.diagnostics import pg_live
from services.local import statement_history
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_label, set_plain_text
from ui.widgets.db_live import Confirm, LiveTarget, LiveView, confirm_action, live_table

WINDOW_COLUMNS = ("Total ms", "Mean ms", "Calls", "Rows", "Query", "Index to try")
#: The view samples pg_stat_statements as often as the database source does.
SAMPLE_INTERVAL_MS = int(STATEMENT_SAMPLE_S * 1000)


class StatementWindowView(LiveView):
    """Top statements over a chosen window from the local history of pg_stat_statements
    deltas; resetting the statistics (asked first)."""

    def __init__(self, tasks: Any, history: statement_history.StatementHistory,
                 parent: QWidget | None = None, confirm: Confirm = confirm_action) -> None:
        super().__init__(tasks, SAMPLE_INTERVAL_MS, parent)
        self.history = history
        self.confirm = confirm
        self.found: tuple[statement_history.WindowStatement, ...] = ()
        self.window_combo = QComboBox()
        for words in statement_history.WINDOWS:
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
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Window"))
        bar.addWidget(self.window_combo)
        bar.addWidget(self.order_combo)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.reset_button)
        bar.addStretch(1)
        bar.addWidget(self.outcome)
        bar.addWidget(self.state)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)

    def _tick(self) -> None:  # sample even when not shown: the history needs its points
        self.refresh()

    def options(self) -> tuple[Any, ...]:
        return (statement_history.WINDOWS[self.window_combo.currentText()],
                str(self.order_combo.currentData() or "total"))

    def read(self, target: LiveTarget, password: str | None, *options: Any) -> Any:
        window, order = options
        with pg_live.pg_connection(target.url, password, target.timeout_s) as conn:
            totals = pg_statement_totals(conn)
            may_reset = pg_live.may_reset_statements(conn)
        self.history.record(target.profile, target.name, totals)
        oldest = self.history.oldest(target.profile, target.name)
        if window is None:
            key: Callable[[statement_history.WindowStatement], float] = {
                "total": lambda s: s.total_ms, "mean": lambda s: s.mean_ms,
                "calls": lambda s: s.calls}[order]
            everything = (statement_history.WindowStatement(q, c, t, n)
                          for _i, q, c, t, n in totals)
            top = sorted(everything, key=key, reverse=True)[:30]
            return tuple(top), may_reset, oldest, window
        since = time.time() - window
        return (self.history.top(target.profile, target.name, since, 30, order), may_reset,
                oldest, window)

    def show_found(self, found: Any) -> None:
        self.found, may_reset, oldest, window = found
        self.reset_button.setVisible(may_reset)
        rows = []
        for s in self.found:
            advice = index_advice(s.query)
            rows.append((f"{s.total_ms:,.1f}", f"{s.mean_ms:,.2f}", f"{s.calls:,}",
                         f"{s.rows:,}", " ".join(s.query.split()),
                         " ".join(advice.sql.split()) if advice else ""))
        self.model.set_rows(rows)
        since = ("no sample yet with a change" if oldest is None else
                 time.strftime("%Y-%m-%d %H:%M", time.localtime(oldest)))
        set_plain_text(self.note, (
            "Totals since pg_stat_statements was last reset." if window is None else
            f"Calls and time within the window, from the console's samples of "
            f"pg_stat_statements every {SAMPLE_INTERVAL_MS // 60000} min (history since "
            f"{since}; kept {int(statement_history.KEEP_S // 86400)} days)."))

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
        self.act(lambda: pg_live.reset_statements(target.url, target.password(),
                                                  target.timeout_s),
                 lambda _r: self.outcome.setText("Statistics reset"))


def history_file() -> Path:
    """The statement history beside the alert log, in the console's data folder."""
    from services.bootstrap import data_dir

    return data_dir(create=False) / "statements.sqlite"
