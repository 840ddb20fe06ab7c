"""What the Today, Bookings, Orders and Products pages share: notices, tables, error words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeyEvent, QKeySequence
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.shop import BackendUnavailable, Conflict, NotFound, RowCount, ValidationFailed
from ui.context import AppContext
from ui.models.paged import PagedTableModel
from ui.models.status_chip import StatusChipDelegate
from ui.theme import FAIL, STALE, WARN

NO_BACKEND = "This profile has no back end or database: add one in Settings."


def unreachable_text(location: str, reason: str) -> str:
    return (f"Could not reach the shop at {location}: {reason.rstrip('.')}. "
            "Check the connection and press F5.")


def error_text(exc: BaseException, location: str) -> str:
    """What happened and what to try, in a sentence or two."""
    if isinstance(exc, BackendUnavailable):
        return unreachable_text(location, exc.message)
    if isinstance(exc, ValidationFailed):
        return f"The shop refused this: {'; '.join(exc.errors.values())}"
    if isinstance(exc, NotFound):
        return ("That record is no longer there (someone may have deleted it). "
                "Press F5 to reload the list.")
    if isinstance(exc, Conflict):
        return "Someone else changed this record after you opened it."
    return (f"Something went wrong: {exc or type(exc).__name__}. Press F5 to try again; if it "
            "keeps happening, send the log file to support.")


def count_text(count: RowCount | None, noun: str, plural: str | None = None) -> str:
    """'1 booking', '1,204 bookings', 'about 1,000,000 bookings'."""
    if count is None:
        return "Loading…"
    plural = plural or noun + "s"
    word = noun if count.value == 1 else plural
    about = "" if count.exact else "about "
    return f"{about}{count.value:,} {word}"


class Notice(QFrame):
    """A one-line banner above a page's content: an error, a warning or news (hidden when idle)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.kind = ""
        self.hide()

    def show_text(self, text: str, kind: str = "fail") -> None:
        colour = {"fail": FAIL, "warn": WARN}.get(kind, STALE)
        self.kind = kind
        self.setStyleSheet(f"QFrame#banner {{ border-left: 4px solid {colour}; }}")
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisible() or self.kind else ""


def field_error() -> QLabel:
    """The label under a form field that says what is wrong with it (hidden when nothing)."""
    label = QLabel()
    label.setObjectName("errorText")
    label.setWordWrap(True)
    label.hide()
    return label


def set_field_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


class TableArea(QStackedWidget):
    """The table, or in its place a sentence saying why it is empty and what to do."""

    def __init__(self, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(table)
        self.addWidget(self.empty)

    def show_table(self) -> None:
        self.setCurrentWidget(self.table)

    def show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)

    def empty_text(self) -> str:
        return self.empty.text() if self.currentWidget() is self.empty else ""


def make_table(model: PagedTableModel[Any, Any], parent: QWidget | None = None) -> QTableView:
    """A table view for a paged model: rows selected whole, fixed row height, server sort."""
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setShowGrid(False)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    vheader = view.verticalHeader()
    assert vheader is not None
    vheader.hide()
    vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vheader.setDefaultSectionSize(28)
    header = view.horizontalHeader()
    assert header is not None
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    header.setSectionsClickable(True)
    chip = StatusChipDelegate(view)
    for i, col in enumerate(model.columns):
        if col.width:
            view.setColumnWidth(i, col.width)
        if col.state is not None:
            view.setItemDelegateForColumn(i, chip)
    current = model.sort_column()
    if current is not None:
        header.setSortIndicator(current[0], current[1])
    header.setSortIndicatorShown(True)
    view.setSortingEnabled(True)
    return view


class ShopPage(QWidget):
    """A manager page on the shop repository: a title, a notice, F5 and Ctrl+F.

    The main window sends F5 to :meth:`refresh` and Ctrl+F to :meth:`focus_search`; a page
    shown on its own handles the same keys itself.
    """

    title = ""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("page")
        self.outer = QVBoxLayout(self)
        # The layout does not force the page's own minimum size on it: a page shown as a
        # window of its own (tests, screenshots) keeps a steady size as panels come and go.
        self.outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.outer.setContentsMargins(16, 12, 16, 12)
        self.outer.setSpacing(8)
        head = QHBoxLayout()
        self.heading = QLabel(self.title)
        self.heading.setObjectName("pageTitle")
        head.addWidget(self.heading)
        head.addStretch(1)
        self.head = head
        self.outer.addLayout(head)
        self.notice = Notice(self)
        self.outer.addWidget(self.notice)

    @property
    def shop(self) -> Any:
        return self.ctx.shop

    def location(self) -> str:
        shop = self.ctx.shop
        return str(getattr(shop, "location", "the shop")) if shop is not None else ""

    def refresh(self) -> None:  # pragma: no cover - every page overrides it
        raise NotImplementedError

    def focus_search(self) -> None:
        """Ctrl+F: pages with a search box focus it."""

    def show_failure(self, exc: BaseException) -> None:
        self.notice.show_text(error_text(exc, self.location()))

    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if event is not None and event.key() == Qt.Key.Key_F5:
            self.refresh()
            return
        if event is not None and event.matches(QKeySequence.StandardKey.Find):
            self.focus_search()
            return
        super().keyPressEvent(event)


def header_button(text: str, slot: Callable[[], None], *, primary: bool = False,
                  tooltip: str = "") -> QPushButton:
    button = QPushButton(text)
    if primary:
        button.setProperty("primary", True)
    if tooltip:
        button.setToolTip(tooltip)
    button.clicked.connect(slot)
    return button


def set_primary_enabled(button: QPushButton, enabled: bool) -> None:
    """Enable or disable a primary button so that it also looks disabled (the accent
    fill would otherwise make a disabled button look pressable)."""
    button.setEnabled(enabled)
    if bool(button.property("primary")) != enabled:
        button.setProperty("primary", enabled)
        style = button.style()
        if style is not None:
            style.unpolish(button)
            style.polish(button)


def ask_csv_path(parent: QWidget, suggested: str) -> Path | None:
    """Where to save an export (a native save dialog); None when the user cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export to CSV", suggested,
                                          "CSV files (*.csv)")
    if not path:
        return None
    p = Path(path)
    return p if p.suffix.lower() == ".csv" else p.with_suffix(".csv")
