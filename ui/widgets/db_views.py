"""Database views: top statements, index candidates, unused indexes, plans, live sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.models.roles import SORT_ROLE
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import plain_label, set_plain_text
from ui.theme import tabular_font
from ui.widgets.db_live import OWN_CHIP, BlockingView, SessionsView
from ui.widgets.db_statements_over_time import StatementWindowView
from ui.widgets.sweep_table import StatusChipDelegate

if TYPE_CHECKING:
    from console.profile import Profile
    from services.bootstrap import Diagnostics
    from services.diagnostics.database_live import DatabaseLiveTools
    from services.diagnostics.db_insights import DatabaseInsights
    from ui.worker import TaskRunner, TaskState

STATEMENT_COLUMNS = ("By", "Total ms", "Mean ms", "Calls", "Rows", "Query")
SCAN_COLUMNS = ("Verdict", "Table", "Seq scans", "Rows read by seq scans", "Index scans",
                "Live rows", "Index use")
UNUSED_COLUMNS = ("Table", "Index", "Size")
PLAN_COLUMNS = ("Verdict", "Query", "Plan", "Rows scanned", "Fix", "Steps")


def rows_table(model: RowsTableModel, stretch: int, chip: bool = False) -> QTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)  # type: ignore[union-attr]
    view.setFont(tabular_font(view.font()))
    header = view.horizontalHeader()
    assert header is not None
    for column in range(model.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    # the database's own order until the user clicks a header
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    proxy.sort(-1)
    if chip:
        view.setItemDelegateForColumn(0, StatusChipDelegate(view))
    return view


def size_text(size_bytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size_bytes < 1024 or unit == "GB":
            return f"{size_bytes:,.0f} {unit}" if unit == "B" else f"{size_bytes:,.1f} {unit}"
        size_bytes /= 1024  # type: ignore[assignment]
    return str(size_bytes)


class DbViews(QWidget):
    """What a database is doing, read-only: pick a database, then a view.

    Filled from a sweep's result (:meth:`show_insights`) or read anew with :meth:`refresh`
    (off the GUI thread through ``tasks``).
    """

    sig_loaded = pyqtSignal(int)
    """Emitted with the number of databases shown."""

    EMPTY = ("No database views yet. Press Refresh (F5) to read the profile's databases, or run "
             "a sweep (Ctrl+Shift+D). Nothing is ever written to the database.")

    def __init__(self, profile: Profile, tasks: TaskRunner, diagnostics: Diagnostics,
                 parent: QWidget | None = None, *,
                 live: DatabaseLiveTools | None = None) -> None:
        super().__init__(parent)
        self._profile = profile
        self._tasks = tasks
        self._diagnostics = diagnostics
        self._handle: Any = None
        self._insights: tuple[DatabaseInsights, ...] = ()

        self.database_combo = QComboBox()
        self.database_combo.currentIndexChanged.connect(self._show_current)
        self.ordering_combo = QComboBox()
        for key, words in diagnostics.statement_orderings.items():
            self.ordering_combo.addItem(f"by {words}", key)
        self.ordering_combo.currentIndexChanged.connect(self._show_current)
        self.own_check = QCheckBox("Backroom's own")
        self.own_check.setChecked(True)
        self.own_check.setToolTip("Show the statements Backroom itself sends (its monitoring "
                                  "queries, chip “Backroom”) among the shop's")
        self.own_check.toggled.connect(self._show_current)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the database views again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.state = plain_label()
        self.state.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(QLabel("Database"))
        top.addWidget(self.database_combo)
        top.addWidget(QLabel("Top statements"))
        top.addWidget(self.ordering_combo)
        top.addWidget(self.own_check)
        top.addStretch(1)
        top.addWidget(self.state)
        top.addWidget(self.refresh_button)

        self.notes = plain_label()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("muted")
        self.error = plain_label()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.statements = RowsTableModel(STATEMENT_COLUMNS, self)
        self.scans = RowsTableModel(SCAN_COLUMNS, self)
        self.unused = RowsTableModel(UNUSED_COLUMNS, self)
        self.plans = RowsTableModel(PLAN_COLUMNS, self)
        self.tabs = QTabWidget()
        self.tabs.addTab(rows_table(self.statements, 5, chip=True), "Top statements")
        self.tabs.addTab(rows_table(self.scans, 1, chip=True), "Index candidates")
        self.tabs.addTab(rows_table(self.unused, 1), "Unused indexes")
        self.tabs.addTab(rows_table(self.plans, 5, chip=True), "Query plans")
        # the database, live: read from the database itself, not from the sweep
        self.live = live or diagnostics.database_live_tools()
        self.sessions = SessionsView(tasks, self.live)
        self.blocking = BlockingView(tasks, self.live)
        self.statement_windows = StatementWindowView(tasks, self.live)
        self.tabs.addTab(self.sessions, "Sessions")
        self.tabs.addTab(self.blocking, "Blocking")
        self.tabs.addTab(self.statement_windows, "Statements over time")

        self.empty = QLabel(self.EMPTY)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.notes)
        body_layout.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.stack, 1)

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every database of the profile again, off the GUI thread."""
        if self._handle is not None and not self._handle.done:
            return
        self.state.setText("Reading…")
        self.refresh_button.setEnabled(False)
        profile, diagnostics = self._profile, self._diagnostics

        def work(state: TaskState) -> tuple[list[DatabaseInsights], list[str]]:
            return diagnostics.database_insights(profile, cancelled=lambda: state.cancelled)

        self._handle = self._tasks.run(work, owner=self, on_success=self._loaded,
                                       on_failure=self._failed, name="db-views")

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self.refresh_button.setEnabled(True)

    def _loaded(self, found: tuple[list[DatabaseInsights], list[str]]) -> None:
        insights, problems = found
        self.show_insights(insights, problems)

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.state.setText("")
        set_plain_text(self.error, f"Could not read the database views: {exc}")
        self.error.setVisible(True)

    def show_insights(self, insights: Sequence[DatabaseInsights],
                      problems: Sequence[str] = ()) -> None:
        self.refresh_button.setEnabled(True)
        self._insights = tuple(insights)
        set_plain_text(self.error, "\n".join(problems))
        self.error.setVisible(bool(problems))
        self.database_combo.blockSignals(True)
        previous = self.database_combo.currentText()
        self.database_combo.clear()
        for db in self._insights:
            self.database_combo.addItem(db.name)
        if previous:
            self.database_combo.setCurrentText(previous)
        self.database_combo.blockSignals(False)
        if not self._insights:
            has_db = bool(getattr(self._profile, "database", None)) or any(
                s.kind == "database" for s in getattr(self._profile, "sources", ()))
            self.empty.setText(self.EMPTY if has_db else
                               "This profile has no database. Add one in Settings "
                               "([database] url) to see its top queries and query plans.")
            self.stack.setCurrentIndex(0)
            self.state.setText("")
        else:
            self.stack.setCurrentIndex(1)
            self._show_current()
        self.sig_loaded.emit(len(self._insights))

    def _show_current(self) -> None:
        index = self.database_combo.currentIndex()
        if not 0 <= index < len(self._insights):
            return
        db = self._insights[index]
        ordering = str(self.ordering_combo.currentData() or "total")
        set_plain_text(self.state, f"{db.server_version} · read in {db.elapsed_ms:,.0f} ms")
        set_plain_text(self.notes, " ".join(db.notes))
        self.notes.setVisible(bool(db.notes))
        statements = db.top(ordering, own=self.own_check.isChecked())
        self.statements.set_rows([(OWN_CHIP if q.own else "", f"{q.total_ms:,.1f}",
                                   f"{q.mean_ms:,.2f}", f"{q.calls:,}", f"{q.rows:,}",
                                   " ".join(q.query.split())) for q in statements],
                                 ["active" if q.own else "" for q in statements])
        self.scans.set_rows([("INDEX?" if t.index_candidate else "OK", t.table,
                              f"{t.seq_scan:,}", f"{t.seq_tup_read:,}", f"{t.idx_scan:,}",
                              f"{t.live_rows:,}", f"{t.index_use:.0%}")
                             for t in db.table_scans],
                            ["warn" if t.index_candidate else "ok" for t in db.table_scans])
        self.unused.set_rows([(i.table, i.index, size_text(i.size_bytes))
                              for i in db.unused_indexes])
        self.plans.set_rows([("ERROR" if p.error else "SCAN" if p.flagged else "INDEX",
                              p.name, p.error or p.verdict,
                              f"{p.table_rows:,}" if p.scans else "",
                              p.suggestion if p.flagged else "", " · ".join(p.steps))
                             for p in db.plans],
                            ["fail" if p.error else "warn" if p.flagged else "ok"
                             for p in db.plans])
        sqlite = db.dialect == "sqlite"
        self.ordering_combo.setEnabled(not sqlite)
        target = None if sqlite else self.live.target(self._profile, db.name, db.dialect)
        self.sessions.set_target(target)
        self.blocking.set_target(target)
        self.statement_windows.set_target(target)
        self.own_check.setEnabled(not sqlite)
        # enable the new dialect's tabs and move there before disabling the others, so Qt
        # does not pick a neighbouring tab by itself
        wanted = ((3,) if sqlite else (0, 1, 2, 4, 5, 6) if target is not None
                  else (0, 1, 2))
        for tab in wanted:
            self.tabs.setTabEnabled(tab, True)
        if self.tabs.currentIndex() not in wanted:
            self.tabs.setCurrentIndex(wanted[0])
        for tab in range(self.tabs.count()):
            if tab not in wanted:
                self.tabs.setTabEnabled(tab, False)

    @property
    def insights(self) -> tuple[DatabaseInsights, ...]:
        return self._insights
