"""The All shops page: one row per shop (profile, or site of a grouped source), worst first."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QModelIndex, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain import Status
from console.overview import ShopRow, age_words, row_cells, shop_name
from ui.context import AppContext
from ui.models.list_table import ListColumn, ListTableModel
from ui.models.status_chip import StatusChipDelegate
from ui.plain_text import plain_label, set_plain_text

if TYPE_CHECKING:
    from services.diagnostics.overview import ShopOverview

log = logging.getLogger(__name__)

#: Seconds between two reads of every shop while the page is on screen (one cheap read of
#: each profile's sources; a chain's Prometheus is asked a few queries per shop).
REFRESH_S = 15.0
#: How often the ages in "last reading" move on between reads.
AGE_TICK_MS = 1000
#: Space added to each column past its widest cell, and inside each cell on either side.
COLUMN_AIR_PX = 18
CELL_PADDING_PX = 8
#: The key of the demo shop's row (the profile switcher's key for it).
DEMO_KEY = ""
_WORDS = {Status.OK: "OK", Status.WARN: "Warn", Status.FAIL: "Fail"}


def _cell(index: int) -> Any:
    return lambda row: row_cells(row, time.time())[index]


def _sort_value(value: float | None) -> float:
    return -1.0 if value is None else value


COLUMNS: tuple[ListColumn[ShopRow], ...] = (
    ListColumn("Status", lambda r: _WORDS[r.status], sort_key=lambda r: r.status.rank,
               state=lambda r: r.status.value, tooltip=lambda r: r.problem or "All normal"),
    ListColumn("Shop", shop_name, tooltip=lambda r: r.problem or r.profile or None),
    ListColumn("p95", _cell(0), sort_key=lambda r: _sort_value(r.p95_s), numeric=True,
               tabular=True, header_tooltip="95th percentile of request latency"),
    ListColumn("Errors", _cell(1), sort_key=lambda r: _sort_value(r.error_ratio),
               numeric=True, tabular=True, header_tooltip="Share of requests answered 5xx"),
    ListColumn("Cache hit", _cell(2), sort_key=lambda r: _sort_value(r.cache_hit_rate),
               numeric=True, tabular=True),
    ListColumn("Queue", _cell(3), sort_key=lambda r: _sort_value(r.queue_depth),
               numeric=True, tabular=True, header_tooltip="Jobs waiting, every queue"),
    ListColumn("Alerts", _cell(4), sort_key=lambda r: len(r.alerts), numeric=True,
               tabular=True, tooltip=lambda r: "\n".join(r.alerts) or None,
               header_tooltip="The profile's alert rules over their line at the last read"),
    ListColumn("Last reading", _cell(5), sort_key=lambda r: _sort_value(r.last_reading),
               numeric=True, tabular=True),
    ListColumn("What is wrong", lambda r: r.problem, tooltip=lambda r: r.problem or None),
)


def open_shop_outside_folder(ctx: AppContext) -> list[tuple[str, Any]]:
    """The open shop when it is not a file of the config folder (the demo shop, or a
    profile given with --profile): it is a row too, as (key, profile)."""
    profile = ctx.profile
    if ctx.is_demo:
        return [(DEMO_KEY, profile)]
    origin = Path(profile.origin).resolve() if profile.origin else None
    if origin is None or origin.parent != ctx.local.config_dir().resolve():
        return [(str(origin) if origin else profile.name, profile)]
    return []


class OverviewPage(QWidget):
    """Every profile in the config folder (and the demo shop when it is open), each read
    lightly in the background while the page shows: a row per shop and per site of a
    grouped source, failing first. Double-click a row to open that shop."""

    sig_open_shop = pyqtSignal(str, str)
    """Emitted with (profile key, group words such as 'site=leeds' or '') when the user opens
    a row: the key is the profile file's path, '' for the demo shop."""
    sig_rows_shown = pyqtSignal(int)
    """Emitted with the number of rows each time a read has been shown."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.ctx = ctx
        self._reader: ShopOverview = ctx.diagnostics.shop_overview()
        self._reading: Any = None
        self._read_at: float | None = None
        self._read_wall: float | None = None

        title = QLabel("All shops")
        title.setObjectName("pageTitle")
        self.summary = plain_label()
        self.summary.setObjectName("muted")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read every shop again now (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(12)
        head.addWidget(self.summary, 1)
        head.addWidget(self.refresh_button)

        self.model: ListTableModel[ShopRow] = ListTableModel(COLUMNS, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(0, StatusChipDelegate(self.view))
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setShowGrid(False)
        # Air on both sides of every cell: right-aligned figures next to left-aligned words.
        self.view.setStyleSheet(f"QTableView::item {{ padding: 0 {CELL_PADDING_PX}px; }}")
        self.view.setWordWrap(False)
        rows = self.view.verticalHeader()
        if rows is not None:
            rows.setVisible(False)
        header = self.view.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # A double-click or Enter on a row (Qt's "activated"; connecting doubleClicked too
        # would open the shop twice).
        self.view.activated.connect(self._open_row)

        self.empty = plain_label()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.hint = plain_label("Double-click a shop to open it. Failing shops come first.")
        self.hint.setObjectName("muted")

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hint)
        set_plain_text(self.summary, "Reading every shop…")

        self._timer = QTimer(self)
        self._timer.setInterval(AGE_TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    # -- reading -------------------------------------------------------------------------------

    def _extra(self) -> list[tuple[str, Any]]:
        return open_shop_outside_folder(self.ctx)

    def refresh(self) -> None:
        """Read every shop again now (unless a read is under way)."""
        if self._reading is not None and not self._reading.done:
            return
        folder = self.ctx.local.config_dir()
        extra = self._extra()
        reader = self._reader
        self.refresh_button.setEnabled(False)
        self._reading = self.ctx.tasks.run(
            lambda _state: reader.read_folder(folder, extra), owner=self,
            on_success=self._show, on_failure=self._failed, name="overview")

    def tick(self) -> None:
        """Once a second: a new read when one is due and the page shows; else the ages."""
        if not self.isVisible():
            return
        due = self._read_at is None or time.monotonic() - self._read_at >= REFRESH_S
        if due:
            self.refresh()
        elif self.model.rowCount():
            self.model.update_rows(self.model.all_rows())
            self._say(self.model.all_rows())

    def _show(self, rows: list[ShopRow]) -> None:
        self._read_at, self._read_wall = time.monotonic(), time.time()
        self.refresh_button.setEnabled(True)
        keys = [(r.profile, r.group) for r in rows]
        if keys == [(r.profile, r.group) for r in self.model.all_rows()]:
            self.model.update_rows(rows)  # same shops, same order: the selection stays
        else:
            self.model.show_rows(rows)
            self._fit_columns()
        folder = self.ctx.local.config_dir()
        set_plain_text(self.empty, f"No shops to show. Each profile in {folder} is a row "
                       "here: add one in Settings → Profiles, or put one TOML file per shop "
                       "in that folder.")
        self.stack.setCurrentWidget(self.view if rows else self.empty)
        self._say(rows)
        self.sig_rows_shown.emit(len(rows))

    def _fit_columns(self) -> None:
        """Each column as wide as its widest cell and a little air (the user may still
        drag them; a refresh of the same shops keeps what they chose)."""
        self.view.resizeColumnsToContents()
        for column in range(self.model.columnCount() - 1):
            self.view.setColumnWidth(column, self.view.columnWidth(column) + COLUMN_AIR_PX)

    def _say(self, rows: tuple[ShopRow, ...] | list[ShopRow]) -> None:
        failing = sum(r.status is Status.FAIL for r in rows)
        warning = sum(r.status is Status.WARN for r in rows)
        parts = [f"{len(rows)} shop" + ("" if len(rows) == 1 else "s")]
        if failing:
            parts.append(f"{failing} failing")
        if warning:
            parts.append(f"{warning} need{'s' if warning == 1 else ''} attention")
        if not failing and not warning and rows:
            parts.append("all normal")
        read = "" if self._read_wall is None else \
            f" · read {age_words(self._read_wall, time.time())}"
        set_plain_text(self.summary, ", ".join(parts) + read)

    def _failed(self, error: BaseException) -> None:
        log.warning("the overview could not read the shops: %s", error)
        self._read_at = time.monotonic()  # try again at the next refresh, not every second
        self.refresh_button.setEnabled(True)
        set_plain_text(self.summary, f"Could not read the shops: {error}. Press Refresh to "
                       "try again.")

    # -- opening a shop ------------------------------------------------------------------------

    def _open_row(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        row = self.model.row_at(index.row())
        self.sig_open_shop.emit(row.profile, row.group_words)

    def row_shops(self) -> list[str]:
        """The shops as listed, top to bottom (what a user reads down the Shop column)."""
        return [shop_name(r) for r in self.model.all_rows()]

    # -- page protocol -------------------------------------------------------------------------

    def on_shown(self) -> None:
        self.tick()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._reading is not None:
            self._reading.cancel()
        # the reader is the root's (Compare reads through it too, and its hour of reads
        # outlives this window): the root closes it
