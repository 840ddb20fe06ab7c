"""PostgreSQL, live: the sessions (cancel, terminate), who blocks whom, statements per window."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.index_advice import index_advice
from services.collectors.database import pg_statement_totals
from services.diagnostics import mysql_live, pg_live
from services.local import statement_history
from ui.models.sweep_model import RowsTableModel
from ui.plain_text import ask, plain_label, preview, set_plain_text, set_plain_tooltip

SESSION_COLUMNS = ("PID", "User", "Application", "State", "Waiting for", "Duration", "Query")
WINDOW_COLUMNS = ("Total ms", "Mean ms", "Calls", "Rows", "Query", "Index to try")
#: Sessions and locks are read again this often while shown.
LIVE_INTERVAL_MS = 5_000
#: pg_stat_statements is sampled into the local history this often while the console runs.
SAMPLE_INTERVAL_MS = 300_000

Confirm = Callable[[QWidget, str, str], bool]


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """The database the live views read: a profile's database and how to reach it."""

    profile: str
    name: str
    url: str
    password_ref: Any
    timeout_s: float
    dialect: str = "postgresql"  # or "mysql": only the sessions view

    def password(self) -> str | None:
        if self.password_ref is None:
            return None
        from services.local.secrets import resolve_secret

        return resolve_secret(self.password_ref)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _confirm(parent: QWidget, title: str, words: str) -> bool:
    return ask(parent, title, words)


class _LiveView(QWidget):
    """A view read off the GUI thread for one :class:`LiveTarget`, again every few seconds
    while shown."""

    sig_loaded = pyqtSignal()

    def __init__(self, tasks: Any, interval_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._handle: Any = None
        self.target: LiveTarget | None = None
        self.state = plain_label()
        self.state.setObjectName("muted")
        self.outcome = plain_label()  # what the last action did; kept across reads
        self.error = plain_label()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def set_target(self, target: LiveTarget | None) -> None:
        changed = target != self.target
        self.target = target
        if changed and target is not None and self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.target is not None:
            self.refresh()

    def _tick(self) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        target = self.target
        if target is None or (self._handle is not None and not self._handle.done):
            return
        self.state.setText("Reading…")
        options = self.options()

        def work(_state: Any) -> Any:
            return self.read(target, target.password(), *options)

        if self._tasks is None:
            self._done(work(None))
            return
        self._handle = self._tasks.run(work, owner=self, on_success=self._done,
                                       on_failure=self._failed, name="db-live")

    def _done(self, found: Any) -> None:
        self.error.setVisible(False)
        self.state.setText(f"read at {time.strftime('%H:%M:%S')}")
        self.show_found(found)
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.state.setText("")
        set_plain_text(self.error, f"Could not read the database: {exc}")
        self.error.setVisible(True)
        self.sig_loaded.emit()

    def options(self) -> tuple[Any, ...]:
        """What the user chose, read on the GUI thread and handed to :meth:`read`."""
        return ()

    def read(self, target: LiveTarget, password: str | None, *options: Any) -> Any:
        """Read the view (off the GUI thread)."""
        raise NotImplementedError

    def show_found(self, found: Any) -> None:
        raise NotImplementedError

    def act(self, what: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run an action (cancel, terminate, reset) off the GUI thread, then read again."""
        def finished(result: Any) -> None:
            done(result)
            self.refresh()

        if self._tasks is None:
            finished(what())
            return
        self._tasks.run(lambda _state: what(), owner=self, on_success=finished,
                        on_failure=self._failed, name="db-live-action")


def _table(model: RowsTableModel, stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)  # type: ignore[union-attr]
    header = view.horizontalHeader()
    assert header is not None
    for column in range(model.columnCount()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


class SessionsView(_LiveView):
    """pg_stat_activity: what each session runs, waits for and for how long; cancel or end
    one (asked first, naming its pid and query start)."""

    def __init__(self, tasks: Any, parent: QWidget | None = None,
                 confirm: Confirm = _confirm) -> None:
        super().__init__(tasks, LIVE_INTERVAL_MS, parent)
        self.confirm = confirm
        self.sessions: tuple[pg_live.Session, ...] = ()
        self.right: pg_live.SignalRight | None = None
        self.model = RowsTableModel(SESSION_COLUMNS, self)
        self.table = _table(self.model, SESSION_COLUMNS.index("Query"))
        self.table.selectionModel().selectionChanged.connect(  # type: ignore[union-attr]
            self._selected)
        self.cancel_button = QPushButton("Cancel query…")
        self.cancel_button.setToolTip("Stop the selected session's statement "
                                      "(pg_cancel_backend); its connection stays")
        self.terminate_button = QPushButton("Terminate session…")
        self.terminate_button.setToolTip("End the selected session (pg_terminate_backend); "
                                         "its open transaction is rolled back")
        self.cancel_button.clicked.connect(lambda: self._signal(terminate=False))
        self.terminate_button.clicked.connect(lambda: self._signal(terminate=True))
        self.no_right = QLabel("Cancel and terminate are not available to this user")
        self.no_right.setObjectName("muted")
        self.no_right.setVisible(False)
        bar = QHBoxLayout()
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.terminate_button)
        bar.addWidget(self.no_right)
        bar.addStretch(1)
        bar.addWidget(self.outcome)
        bar.addWidget(self.state)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        self._selected()

    def read(self, target: LiveTarget, password: str | None, *options: Any) -> Any:
        if target.dialect == "mysql":
            with mysql_live.mysql_connection(target.url, password, target.timeout_s) as conn:
                return mysql_live.read_sessions(conn), mysql_live.signal_right(conn)
        with pg_live.pg_connection(target.url, password, target.timeout_s) as conn:
            return pg_live.read_sessions(conn), pg_live.signal_right(conn)

    def show_found(self, found: Any) -> None:
        chosen = self.selected()
        self.sessions, self.right = found
        self.model.set_rows(
            [(str(s.pid), s.user, s.application, s.state or "?", s.waiting,
              _duration(s.duration_s), " ".join(s.query.split())) for s in self.sessions],
            ["active" if s.state == "active" else "warn" if s.wait_event_type == "Lock"
             else "" for s in self.sessions])
        allowed = self.right.allowed
        self.cancel_button.setVisible(allowed)
        self.terminate_button.setVisible(allowed)
        self.no_right.setVisible(not allowed)
        set_plain_tooltip(self.no_right, self.right.reason)
        if chosen is not None:
            self.select_pid(chosen.pid)
        self._selected()

    def select_pid(self, pid: int) -> bool:
        for row, session in enumerate(self.sessions):
            if session.pid == pid:
                self.table.selectRow(row)
                return True
        return False

    def selected(self) -> pg_live.Session | None:
        rows = self.table.selectionModel().selectedRows()  # type: ignore[union-attr]
        if not rows or not 0 <= rows[0].row() < len(self.sessions):
            return None
        return self.sessions[rows[0].row()]

    def _selected(self, *_args: Any) -> None:
        session = self.selected()
        self.cancel_button.setEnabled(session is not None and session.state == "active")
        self.terminate_button.setEnabled(session is not None)

    def _signal(self, *, terminate: bool) -> None:
        session, target = self.selected(), self.target
        if session is None or target is None:
            return
        started = (session.query_start.strftime("%Y-%m-%d %H:%M:%S")
                   if session.query_start is not None else "an unknown time")
        query = preview(" ".join(session.query.split()))
        noun = "connection" if target.dialect == "mysql" else "pid"
        if terminate:
            title = "Terminate session"
            who = f"{session.user}, {session.application or 'no application name'}"
            words = (f"End session {noun} {session.pid} ({who})? Its last query started at "
                     f"{started}; an open transaction is rolled back.\n\n{query}")
        else:
            title = "Cancel query"
            words = (f"Cancel the query of {noun} {session.pid}, started at {started}? The "
                     f"session stays connected.\n\n{query}")
        if not self.confirm(self, title, words):
            return
        pid, url = session.pid, target.url
        module: Any = mysql_live if target.dialect == "mysql" else pg_live
        action = module.terminate_session if terminate else module.cancel_query

        def done(signalled: Any) -> None:
            verb = "terminated" if terminate else "cancelled"
            self.outcome.setText(f"{noun} {pid} {verb}" if signalled else
                                 f"{noun} {pid} had already gone")

        self.act(lambda: action(url, target.password(), pid, target.timeout_s), done)


class BlockingView(_LiveView):
    """pg_locks and pg_blocking_pids as trees: each holder, and below it who waits for it."""

    COLUMNS = ("Session", "State", "Waiting for", "Query")

    def __init__(self, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(tasks, LIVE_INTERVAL_MS, parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(self.COLUMNS)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        assert header is not None
        for column in range(len(self.COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.empty = QLabel("No session waits for another's lock.")
        self.empty.setObjectName("muted")
        bar = QHBoxLayout()
        bar.addWidget(self.empty)
        bar.addStretch(1)
        bar.addWidget(self.outcome)
        bar.addWidget(self.state)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(self.tree, 1)

    def read(self, target: LiveTarget, password: str | None, *options: Any) -> Any:
        with pg_live.pg_connection(target.url, password, target.timeout_s) as conn:
            waits = pg_live.read_waits(conn)
            sessions = {s.pid: s for s in pg_live.read_sessions(conn)} if waits else {}
            return waits, sessions

    def show_found(self, found: Any) -> None:
        waits, sessions = found
        self.tree.clear()
        self.empty.setVisible(not waits)

        def item(node: pg_live.ChainNode) -> QTreeWidgetItem:
            session = sessions.get(node.pid)
            first = node.wait.words() if node.wait is not None else (
                f"pid {node.pid} blocks others")
            row = [first, "", node.wait.wanted if node.wait is not None else "", ""]
            if session is not None:
                row[1] = f"{session.state} {_duration(session.duration_s)}"
                row[3] = " ".join(session.query.split())
            widget = QTreeWidgetItem(row)
            for column, words in enumerate(row):
                if len(words) > 40:
                    set_plain_tooltip(_ItemTip(widget, column), words)
            widget.setData(0, Qt.ItemDataRole.UserRole, node.pid)
            for child in node.children:
                widget.addChild(item(child))
            return widget

        for root in pg_live.blocking_tree(waits):
            self.tree.addTopLevelItem(item(root))
        self.tree.expandAll()

    def lines(self) -> list[str]:
        """The tree as indented lines (what the user reads), for tests and copying."""
        out: list[str] = []

        def walk(node: QTreeWidgetItem, depth: int) -> None:
            out.append("  " * depth + node.text(0))
            for i in range(node.childCount()):
                child = node.child(i)
                assert child is not None
                walk(child, depth + 1)

        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            assert top is not None
            walk(top, 0)
        return out


class _ItemTip:
    """A tree item's column as something with setToolTip (for set_plain_tooltip)."""

    def __init__(self, item: QTreeWidgetItem, column: int) -> None:
        self._item, self._column = item, column

    def setToolTip(self, text: str | None) -> None:
        self._item.setToolTip(self._column, text or "")


class StatementWindowView(_LiveView):
    """Top statements over a chosen window from the local history of pg_stat_statements
    deltas; resetting the statistics (asked first)."""

    def __init__(self, tasks: Any, history: statement_history.StatementHistory,
                 parent: QWidget | None = None, confirm: Confirm = _confirm) -> None:
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
        self.table = _table(self.model, WINDOW_COLUMNS.index("Query"))
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
