"""The database, live: the sessions (cancel, terminate) and who blocks whom."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
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

from ui.models.sweep_model import RowsTableModel
from ui.plain_text import ask, plain_label, preview, set_plain_text, set_plain_tooltip

if TYPE_CHECKING:
    from services.diagnostics.database_live import DatabaseLiveTools, LiveTarget
    from services.diagnostics.pg_live import ChainNode, Session, SignalRight

SESSION_COLUMNS = ("PID", "User", "Application", "State", "Waiting for", "Duration", "Query")
#: Sessions and locks are read again this often while shown.
LIVE_INTERVAL_MS = 5_000
#: The chip of a statement Backroom itself sent (its monitoring queries).
OWN_CHIP = "Backroom"

Confirm = Callable[[QWidget, str, str], bool]
"""Asks the user (parent, title, words) and says whether they agreed."""


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def confirm_action(parent: QWidget, title: str, words: str) -> bool:
    return ask(parent, title, words)


class LiveView(QWidget):
    """A view read off the GUI thread for one :class:`LiveTarget` through ``tools``, again
    every few seconds while shown."""

    sig_loaded = pyqtSignal()

    def __init__(self, tasks: Any, tools: DatabaseLiveTools, interval_ms: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.tools = tools
        self._handle: Any = None
        self.target: LiveTarget | None = None
        self.state = plain_label()
        self.state.setObjectName("muted")
        # as wide as its widest text, so the bar does not jump (nor clip) at each read
        self.state.setMinimumWidth(self.state.fontMetrics().horizontalAdvance("read at 00:00:00"))
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

    def lay_out(self, tools: list[QWidget], body: list[QWidget]) -> None:
        """The view's bar (``tools`` on the left; what the last action did, when it was read
        and Refresh on the right), the error line, then ``body`` (the last one stretches)."""
        bar = QHBoxLayout()
        for widget in tools:
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.outcome)
        bar.addWidget(self.state)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        for widget in body:
            layout.addWidget(widget, 1 if widget is body[-1] else 0)

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
            return self.read(target, *options)

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

    def read(self, target: LiveTarget, *options: Any) -> Any:
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


def live_table(model: RowsTableModel, stretch: int) -> QTableView:
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


class SessionsView(LiveView):
    """pg_stat_activity: what each session runs, waits for and for how long; cancel or end
    one (asked first, naming its pid and query start)."""

    def __init__(self, tasks: Any, tools: DatabaseLiveTools, parent: QWidget | None = None,
                 confirm: Confirm = confirm_action) -> None:
        super().__init__(tasks, tools, LIVE_INTERVAL_MS, parent)
        self.confirm = confirm
        self.sessions: tuple[Session, ...] = ()
        self.right: SignalRight | None = None
        self.model = RowsTableModel(SESSION_COLUMNS, self)
        self.table = live_table(self.model, SESSION_COLUMNS.index("Query"))
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
        self.lay_out([self.cancel_button, self.terminate_button, self.no_right], [self.table])
        self._selected()

    def read(self, target: LiveTarget, *options: Any) -> Any:
        return self.tools.sessions(target)

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

    def selected(self) -> Session | None:
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
        pid, tools = session.pid, self.tools
        action = tools.terminate if terminate else tools.cancel

        def done(signalled: Any) -> None:
            verb = "terminated" if terminate else "cancelled"
            self.outcome.setText(f"{noun} {pid} {verb}" if signalled else
                                 f"{noun} {pid} had already gone")

        self.act(lambda: action(target, pid), done)


class BlockingView(LiveView):
    """Lock waits as trees (PostgreSQL's pg_locks and pg_blocking_pids, InnoDB's lock
    waits on MySQL/MariaDB): each holder, and below it who waits for it."""

    COLUMNS = ("Session", "State", "Waiting for", "Query")

    def __init__(self, tasks: Any, tools: DatabaseLiveTools,
                 parent: QWidget | None = None) -> None:
        super().__init__(tasks, tools, LIVE_INTERVAL_MS, parent)
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
        self.lay_out([self.empty], [self.tree])

    def read(self, target: LiveTarget, *options: Any) -> Any:
        return self.tools.waits(target)

    def show_found(self, found: Any) -> None:
        waits, sessions = found
        self.tree.clear()
        self.empty.setVisible(not waits)
        noun = waits[0].noun if waits else "pid"

        def item(node: ChainNode) -> QTreeWidgetItem:
            session = sessions.get(node.pid)
            first = node.wait.words() if node.wait is not None else (
                f"{noun} {node.pid} blocks others")
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

        for root in self.tools.blocking_tree(waits):
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
