"""The parts the shop pages are built from: notice, table, side panel, buttons, search box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.shop_rules import SEARCH_MAX
from ui.models.paged import PagedTableModel
from ui.models.status_chip import StatusChipDelegate
from ui.plain_text import plain_label, set_plain_text
from ui.theme import FAIL, STALE, WARN, state_colour


class Notice(QFrame):
    """A one-line banner above a page's content: an error, a warning or news (hidden when idle)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = plain_label()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.kind = ""
        self.hide()

    def show_text(self, text: str, kind: str = "fail") -> None:
        colour = {"fail": FAIL, "warn": WARN}.get(kind, STALE)
        self.kind = kind
        self.setStyleSheet(f"QFrame#banner {{ border-left: 4px solid {colour}; }}")
        set_plain_text(self.label, text)
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisible() or self.kind else ""


class IndexHint(QFrame):
    """A quiet line under a list's filters: the index the shop's table lacks, with Copy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("indexHint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = plain_label()
        self.label.setObjectName("muted")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the CREATE INDEX statement for the shop's developer")
        self.copy_button.clicked.connect(self._copy)
        layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        self.statement: str | None = None
        """The CREATE INDEX shown; '' once the shop's answer is none, None until it came."""
        self.hide()

    def show_statement(self, statement: str | None) -> None:
        """Say which index would help (the console never creates it); hide for None."""
        self.statement = statement or ""
        if not statement:
            self.hide()
            return
        set_plain_text(self.label, f"This list would load faster with an index: {statement} "
                                   "— ask the shop's developer to add it.")
        self.copy_button.setText("Copy")
        self.show()

    def _copy(self) -> None:
        board = QGuiApplication.clipboard()
        if board is not None:
            board.setText(self.statement or "")
            self.copy_button.setText("Copied")


def field_error() -> QLabel:
    """The label under a form field that says what is wrong with it (hidden when nothing)."""
    label = plain_label()
    label.setObjectName("errorText")
    label.setWordWrap(True)
    label.hide()
    return label


def set_field_error(label: QLabel, text: str | None) -> None:
    set_plain_text(label, text or "")
    label.setVisible(bool(text))


def show_field_errors(labels: dict[str, QLabel], errors: dict[str, str]) -> str:
    """Put each error under its field; return what the form's message should say ('' for
    nothing): the errors no field shows, else a pointer to the fields."""
    for name, label in labels.items():
        set_field_error(label, errors.get(name))
    rest = {k: v for k, v in errors.items() if k not in labels}
    if rest:
        return "; ".join(f"{k}: {v}" for k, v in rest.items())
    return "Not saved: fix what the messages under the fields say." if errors else ""


def card_layout(card: QFrame, min_width: int) -> QVBoxLayout:
    """Make ``card`` a side panel beside a list and return its layout."""
    card.setObjectName("card")
    card.setMinimumWidth(min_width)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(14, 12, 14, 12)
    return layout


def panel_head(layout: QVBoxLayout, heading: str, line: str) -> tuple[QLabel, QLabel, QLabel]:
    """A side panel's top: the record's heading, its chip (hidden), a muted line under them."""
    head = QHBoxLayout()
    title = plain_label(heading)
    title.setObjectName("pageTitle")
    chip = plain_label()
    chip.hide()
    head.addWidget(title, 1)
    head.addWidget(chip)
    layout.addLayout(head)
    hint = plain_label(line)
    hint.setObjectName("muted")
    hint.setWordWrap(True)
    layout.addWidget(hint)
    return title, chip, hint


def panel_body(layout: QVBoxLayout) -> tuple[QWidget, QVBoxLayout]:
    """The part of a side panel that only shows while it holds a record."""
    body = QWidget()
    body_layout = QVBoxLayout(body)
    body_layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(body)
    return body, body_layout


def show_chip(chip: QLabel, text: str, state: str) -> None:
    """A pill in the state's colour (dark text on the light warning colour)."""
    text_colour = "#1d232b" if state == "warn" else "#ffffff"
    set_plain_text(chip, text)
    chip.setStyleSheet(f"background: {state_colour(state)}; color: {text_colour}; "
                       "border-radius: 9px; padding: 2px 10px;")
    chip.show()


def save_discard_row() -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """Discard on the left, the primary Save on the right: (row, save, discard)."""
    save = QPushButton("Save changes")
    save.setProperty("primary", True)
    discard = QPushButton("Discard changes")
    row = QHBoxLayout()
    row.addWidget(discard)
    row.addStretch(1)
    row.addWidget(save)
    return row, save, discard


def message_label() -> QLabel:
    """The line at the foot of a side panel that says how the last action went."""
    label = plain_label()
    label.setWordWrap(True)
    label.hide()
    return label


def set_message(label: QLabel, text: str, kind: str) -> None:
    """Say ``text`` in ``label``, red for fail, amber for warn; the caller shows it."""
    set_plain_text(label, text)
    colour = state_colour(kind) if kind in ("fail", "warn") else ""
    label.setStyleSheet(f"color: {colour};" if colour else "")


class TableArea(QStackedWidget):
    """The table, or in its place a sentence saying why it is empty and what to do."""

    def __init__(self, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.empty = plain_label()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(table)
        self.addWidget(self.empty)

    def show_table(self) -> None:
        self.setCurrentWidget(self.table)

    def show_empty(self, text: str) -> None:
        set_plain_text(self.empty, text)
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


def search_box(placeholder: str) -> QLineEdit:
    """A list page's search field: a clear button, and no longer than the shop accepts."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.setMaxLength(SEARCH_MAX)
    return edit
