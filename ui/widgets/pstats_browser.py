"""The profiler view: cProfile files (one or merged) as a table, py-spy outputs as a flame graph."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QModelIndex, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.flame import FlameTree, is_sampled_profile, load_flame
from console.pstats_view import (
    CallEdge,
    FuncKey,
    ProfileStats,
    PstatsError,
    describe,
    load_merged,
)
from ui.file_dialogs import ask_open_paths
from ui.models.pstats_model import PstatsTableModel, ms
from ui.plain_text import plain_label
from ui.theme import tabular_font
from ui.widgets.flame_graph import FlameView, value_text
from ui.widgets.pyspy_record import PySpyRecorder

if TYPE_CHECKING:
    from services.diagnostics.pyspy import PySpyTools

EMPTY_TEXT = ("No profile open. Profile the back end with\n"
              "    python -m cProfile -o app.prof manage.py runserver\n"
              "(or any script), or sample a running server with py-spy\n"
              "    py-spy record --format speedscope -o profile.json --pid PID\n"
              "(every thread, no restart), then press “Open profile…” to see where the time "
              "goes.\nSeveral .prof files chosen together are merged into one profile.")
OPEN_PATTERN = ("Profiles (*.prof *.pstats *.profile *.out *.json *.txt *.folded *.collapsed);;"
                "cProfile (*.prof *.pstats *.profile *.out);;"
                "py-spy speedscope or collapsed stacks (*.json *.txt *.folded *.collapsed);;"
                "All files (*)")
PAGE_EMPTY, PAGE_TABLE, PAGE_FLAME = 0, 1, 2


def load_profile(paths: list[Path]) -> ProfileStats | FlameTree:
    """cProfile files (merged when several) or one py-spy output, told apart by content."""
    sampled = [is_sampled_profile(path) for path in paths]
    if any(sampled):
        if len(paths) > 1:
            raise PstatsError("open one py-spy recording at a time (several cProfile files "
                              "can be merged)")
        return load_flame(paths[0])
    return load_merged(paths)


class PstatsBrowser(QWidget):
    """A profile's functions in a sortable table, with who called the selected function and
    what it called in a side panel. Files load through ``tasks`` (a TaskRunner) when given."""

    sig_loaded = pyqtSignal(str)
    """Emitted with the file name once a profile is shown."""
    sig_failed = pyqtSignal(str)
    """Emitted with the message shown when a file could not be read."""

    def __init__(self, tasks: Any = None, parent: QWidget | None = None, *,
                 pyspy: PySpyTools) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.model = PstatsTableModel(self)

        self.open_button = QPushButton("Open profile…")
        self.open_button.clicked.connect(self._choose_file)
        self.record_button = QPushButton("Record with py-spy…")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Sample a running Python process of this machine")
        self.recorder = PySpyRecorder(tasks, tools=pyspy)
        self.recorder.setVisible(False)
        self.record_button.toggled.connect(self._show_recorder)
        self.recorder.sig_recorded.connect(lambda path: self.open_files([path]))
        self.flame = FlameView()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by function or file name")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.summary = plain_label()
        self.summary.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.record_button)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.summary)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        self.table.setFont(tabular_font(self.table.font()))
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        selection = self.table.selectionModel()
        assert selection is not None
        selection.currentRowChanged.connect(self._on_current)
        self.model.modelReset.connect(self._after_reset)

        self.selected_title = plain_label("Select a function to see its callers and callees.")
        self.selected_title.setWordWrap(True)
        self.selected_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.callers = _edge_tree("Called by")
        self.callees = _edge_tree("Calls to")
        for tree in (self.callers, self.callees):
            tree.itemActivated.connect(self._jump)
        # Callers and callees go under the table, side by side: the table keeps the window's
        # whole width, so a function's name, file and line are not cut off (issue 19).
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep file:line visible
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 6, 0, 0)
        side_layout.addWidget(self.selected_title)
        edges = QHBoxLayout()
        edges.addWidget(self.callers, 1)
        edges.addWidget(self.callees, 1)
        side_layout.addLayout(edges, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.error = plain_label()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(splitter)
        self.stack.addWidget(self.flame)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.recorder)
        layout.addWidget(self.error)
        layout.addWidget(self.stack, 1)
        self._selected: FuncKey | None = None

    # -- loading -------------------------------------------------------------------------------
    def _choose_file(self) -> None:
        paths = ask_open_paths(self, "Open profiles (several cProfile files are merged)",
                               OPEN_PATTERN)
        if paths:
            self.open_files(paths)

    def _show_recorder(self, shown: bool) -> None:
        self.recorder.setVisible(shown)
        if shown:
            self.recorder.refresh_processes()

    def open_file(self, path: Path) -> None:
        """Load ``path`` off the GUI thread (or at once without a task runner)."""
        self.open_files([path])

    def open_files(self, paths: list[Path]) -> None:
        """Load cProfile files (merged) or a py-spy output off the GUI thread."""
        paths = [Path(p) for p in paths]
        self.summary.setText(f"Loading {paths[0].name}…" if len(paths) == 1
                             else f"Merging {len(paths)} profiles…")
        if self._tasks is None:
            try:
                loaded = load_profile(paths)
            except ValueError as exc:
                self._on_failed(exc)
            else:
                self._show_loaded(loaded)
            return
        self._tasks.run(lambda _state: load_profile(paths), owner=self,
                        on_success=self._show_loaded, on_failure=self._on_failed,
                        name="load-profile")

    def _show_loaded(self, loaded: ProfileStats | FlameTree) -> None:
        if isinstance(loaded, FlameTree):
            self.show_flame(loaded)
        else:
            self.show_stats(loaded)

    def show_flame(self, tree: FlameTree) -> None:
        self.error.setVisible(False)
        self.filter_edit.setVisible(False)
        self.flame.set_tree(tree)
        self.stack.setCurrentIndex(PAGE_FLAME)
        threads = f", {tree.threads} threads" if tree.threads > 1 else ""
        self.summary.setText(f"{tree.source or 'recording'}: {tree.stacks:,} stacks, "
                             f"{value_text(tree.total, tree.unit)}{threads}")
        self.sig_loaded.emit(tree.source)

    def show_stats(self, stats: ProfileStats) -> None:
        self.error.setVisible(False)
        self.filter_edit.setVisible(True)
        self.model.set_stats(stats)
        self.stack.setCurrentIndex(PAGE_TABLE)
        self.summary.setText(
            f"{stats.source or 'profile'}: {len(stats.rows):,} functions, "
            f"{stats.total_calls:,} calls, {ms(stats.total_time)} ms own time in all")
        if self.model.rowCount():
            self.table.selectRow(0)
        self.sig_loaded.emit(stats.source)

    def _on_failed(self, exc: BaseException) -> None:
        message = f"Could not open the profile: {exc}"
        self.error.setText(message)
        self.error.setVisible(True)
        self.summary.setText("")
        self.sig_failed.emit(message)

    # -- browsing ------------------------------------------------------------------------------
    def _on_filter(self, text: str) -> None:
        self.model.set_filter(text)

    def _after_reset(self) -> None:
        if self._selected is not None:
            row = self.model.row_of(self._selected)
            if row >= 0:
                self.table.selectRow(row)
                return
        self._show_edges(None)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._selected = self.model.row_at(current.row()).key
            self._show_edges(self._selected)

    def select_function(self, key: FuncKey) -> bool:
        """Select ``key`` in the table (clearing the filter if it hides it)."""
        row = self.model.row_of(key)
        if row < 0 and self.filter_edit.text():
            self.filter_edit.clear()
            row = self.model.row_of(key)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _jump(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole)
        if key is not None:
            self.select_function(tuple(key))  # type: ignore[arg-type]

    def _show_edges(self, key: FuncKey | None) -> None:
        stats = self.model.stats
        self.callers.clear()
        self.callees.clear()
        if key is None or stats is None:
            self.selected_title.setText("Select a function to see its callers and callees.")
            return
        row = stats.row(key)
        title = describe(key)
        if row is not None:
            title += (f"\n{row.calls_text} calls · own {ms(row.tottime)} ms · "
                      f"cumulative {ms(row.cumtime)} ms")
        self.selected_title.setText(title)
        _fill(self.callers, stats.callers(key), use_caller=True)
        _fill(self.callees, stats.callees(key), use_caller=False)

    def callers_text(self) -> list[str]:
        return [self.callers.topLevelItem(i).text(0)  # type: ignore[union-attr]
                for i in range(self.callers.topLevelItemCount())]

    def callees_text(self) -> list[str]:
        return [self.callees.topLevelItem(i).text(0)  # type: ignore[union-attr]
                for i in range(self.callees.topLevelItemCount())]


def _edge_tree(title: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setRootIsDecorated(False)
    tree.setColumnCount(4)
    tree.setHeaderLabels([title, "Calls", "Own ms", "Cum. ms"])
    tree.setAlternatingRowColors(True)
    tree.setFont(tabular_font(tree.font()))
    header = tree.header()
    assert header is not None
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in (1, 2, 3):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    tree.setToolTip("Double-click (or Enter) to go to that function")
    return tree


def _fill(tree: QTreeWidget, edges: tuple[CallEdge, ...], *, use_caller: bool) -> None:
    for edge in edges:
        key = edge.caller if use_caller else edge.callee
        item = QTreeWidgetItem([describe(key), str(edge.calls), ms(edge.tottime),
                                ms(edge.cumtime)])
        item.setData(0, Qt.ItemDataRole.UserRole, list(key))
        for column in (1, 2, 3):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
        tree.addTopLevelItem(item)
    if not edges:
        placeholder = QTreeWidgetItem(["(none)", "", "", ""])
        placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
        tree.addTopLevelItem(placeholder)
