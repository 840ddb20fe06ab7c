"""What the Today, Bookings, Orders and Products pages share: notices, tables, list pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from PyQt6.QtCore import QModelIndex, Qt, QTimer
from PyQt6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShowEvent
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.shop import (
    SEARCH_MAX,
    BackendUnavailable,
    Conflict,
    NotFound,
    RowCount,
    ValidationFailed,
)
from console.shop_access import EntityAccess, ShopAccess, access_of
from ui.context import AppContext
from ui.file_dialogs import ask_save_path
from ui.models.freshness import ListFreshness
from ui.models.paged import PagedTableModel
from ui.models.status_chip import StatusChipDelegate
from ui.pages.shop_access import NOT_SHARED, hide_unmapped_columns
from ui.plain_text import plain_label, set_plain_text
from ui.theme import FAIL, STALE, WARN, state_colour
from ui.widgets.conflict_dialog import (
    KEEP_MINE,
    MERGE,
    TAKE_THEIRS,
    ConflictDialog,
    FieldSpec,
    Resolution,
)
from ui.worker import TaskState

NO_BACKEND = "This profile has no back end or database: add one in Settings."
SEARCH_DELAY_MS = 300

R = TypeVar("R")
Q = TypeVar("Q")


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, as an aware datetime."""
    return datetime(day.year, day.month, day.day).astimezone()


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


def read_only_reason(shop: Any, entity: str) -> str | None:
    """Why the shop cannot edit ``entity`` (a mapped table without a version column), or None.

    Only the mapped SQL adapter has read-only entities; it answers from the profile, no I/O."""
    reason = getattr(shop, "read_only_reason", None)
    return reason(entity) if callable(reason) else None


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
    p = ask_save_path(parent, "Export to CSV", suggested, "CSV files (*.csv)")
    if p is None:
        return None
    return p if p.suffix.lower() == ".csv" else p.with_suffix(".csv")


def search_box(placeholder: str) -> QLineEdit:
    """A list page's search field: a clear button, and no longer than the shop accepts."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.setMaxLength(SEARCH_MAX)
    return edit


class ShopListPage(ShopPage, Generic[R, Q]):
    """A manager page listing one kind of record: filters, a paged table, a side panel.

    A subclass builds its filter bar (with :attr:`search_edit`) and its side panel, then
    calls :meth:`add_list`; it provides :meth:`_query` (the filters as a query),
    :meth:`_describe_view` (why the list is empty, what to try) and :meth:`_row_changed`.
    """

    noun = ""
    """One record in the shop's words ('booking'); the page's texts add an s for more."""
    export_progress = False
    """Whether the count label shows how far an export has got, not only when it is done."""
    entity = ""
    """What the shop's discovery and a mapped schema call these records: 'bookings',
    'products' or 'orders'."""
    field_columns: dict[str, int] = {}
    """The table's columns that show one optional field, hidden when the shop lacks it."""

    model: PagedTableModel[R, Q]
    table: QTableView
    area: TableArea
    count_label: QLabel
    search_edit: QLineEdit
    export_button: QPushButton

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._export_handle: Any = None

    @property
    def plural(self) -> str:
        return self.noun + "s"

    def add_export_button(self) -> None:
        """Export CSV… in the page's header, for every row of the current view."""
        self.export_button = header_button(
            "Export CSV…", self._ask_export, tooltip=f"Save every {self.noun} of this view as CSV")
        self.head.addWidget(self.export_button)

    def add_list(self, model: PagedTableModel[R, Q], panel: QWidget, *, panel_stretch: int,
                 sizes: tuple[int, int]) -> None:
        """Put the table (or why it is empty) and ``panel`` side by side under the filters and
        the count under them; the search box, the model and the selection drive the page."""
        self.model = model
        self.table = make_table(model, self)
        self.area = TableArea(self.table)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.area)
        split.addWidget(panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, panel_stretch)
        split.setSizes(list(sizes))
        self.outer.addWidget(split, 1)
        self.count_label = plain_label()
        self.count_label.setObjectName("muted")
        self.outer.addWidget(self.count_label)

        # One query when the typing pauses, not one a key; Enter asks at once.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_filters)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._apply_filters)
        self.model.sig_count.connect(self._count_changed)
        self.model.sig_failed.connect(self._list_failed)
        self.model.sig_loading.connect(lambda _b: self._update_count_label())
        self.model.modelReset.connect(self._update_count_label)
        selection = self.table.selectionModel()
        assert selection is not None
        selection.currentRowChanged.connect(self._row_changed)
        self.freshness = ListFreshness(model, self.table, self.ctx.tasks)

    def showEvent(self, event: QShowEvent | None) -> None:
        """Shown (opened from the rail): is the list still what the shop holds?"""
        super().showEvent(event)
        if self.ctx.shop is not None:
            self.freshness.start()

    def hideEvent(self, event: QHideEvent | None) -> None:
        super().hideEvent(event)
        self.freshness.stop()

    # -- public ------------------------------------------------------------------------

    def refresh(self) -> None:
        """F5: list again with the same filters; the side panel keeps what it holds."""
        self._clear_notice()
        if self.ctx.shop is None:
            self.model.clear()
            self.notice.show_text(NO_BACKEND, "warn")
            self.area.show_empty(f"No {self.plural} to show: this profile has no shop back "
                                 "end or database. Add one in Settings.")
            self._update_count_label()
            return
        self.area.show_table()
        self.model.set_query(self._query(), force=True)
        shop = self.ctx.shop
        self.ctx.tasks.run(lambda _s: access_of(shop), owner=self, on_success=self._access_known,
                           on_failure=lambda _e: None, name="shop-access")

    def apply_access(self, shared: EntityAccess) -> None:
        """Grey what the shop will not let the console change (each page's form)."""

    def _access_known(self, access: ShopAccess) -> None:
        shared = getattr(access, self.entity, None) or EntityAccess()
        if getattr(access, self.entity, 1) is None:
            text = NOT_SHARED.format(what=self.plural)
            self.model.clear()
            self.area.show_empty(text)
            shared = EntityAccess(fields=frozenset(), writable=False, why_read_only=text)
        hide_unmapped_columns(self.table, self.field_columns, shared)
        self.apply_access(shared)

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def export_csv(self, path: Path) -> None:
        """Write every row of the current view to ``path`` in the background."""
        if self.ctx.shop is None:
            self.notice.show_text(NO_BACKEND, "warn")
            return

        def progress(fraction: float, _message: str) -> None:
            self.count_label.setText(f"Exporting to {path.name}… {fraction:.0%}")

        if self.export_progress:
            self.count_label.setText(f"Exporting to {path.name}…")
        self._export_handle = self.model.export_csv(
            path, on_done=lambda n: self.count_label.setText(
                f"Exported {n:,} {self.plural} to {path}"),
            on_failure=self.show_failure,
            on_progress=progress if self.export_progress else None)

    # -- what each page says for itself -------------------------------------------------

    def _query(self) -> Q:  # pragma: no cover - every page overrides it
        """The filters as the repository's query, keeping the table's sort."""
        raise NotImplementedError

    def _describe_view(self) -> str:  # pragma: no cover - every page overrides it
        """Why the list is empty and what to do next."""
        raise NotImplementedError

    def _row_changed(self, current: QModelIndex,
                     _previous: QModelIndex) -> None:  # pragma: no cover
        """The user picked another row: show it in the side panel."""
        raise NotImplementedError

    # -- the list ----------------------------------------------------------------------

    def _apply_filters(self) -> None:
        self._search_timer.stop()
        if self.ctx.shop is None:
            self.refresh()
            return
        self._clear_notice()
        self.area.show_table()
        self.model.set_query(self._query())

    def _clear_notice(self) -> None:
        """Clear the notice down to what stays said: why the shop's table is read-only."""
        reason = read_only_reason(self.ctx.shop, self.entity) if self.entity else None
        if reason is None:
            self.notice.clear()
        else:
            self.notice.show_text(reason, "warn")

    def _count_changed(self, count: RowCount) -> None:
        self._update_count_label()
        if count.value == 0 and count.exact:
            self.area.show_empty(self._describe_view())
        else:
            self.area.show_table()

    def _update_count_label(self) -> None:
        if self.ctx.shop is None:
            self.count_label.setText("")
            return
        if self.model.error is not None:
            self.count_label.setText("Not loaded")
            return
        text = count_text(self.model.count, self.noun)
        if self.model.loading and self.model.count is not None:
            text += " · loading…"
        self.count_label.setText(text)

    def _list_failed(self, exc: BaseException) -> None:
        self.show_failure(exc)
        if self.model.rowCount() == 0:
            self.area.show_empty(f"The {self.plural} could not be loaded (the message above "
                                 "says why). Press F5 to try again.")

    def _ask_export(self) -> None:
        path = ask_csv_path(self, f"{self.plural}-{date.today().isoformat()}.csv")
        if path is not None:
            self.export_csv(path)


class StoredRecord(Protocol):
    """A record the shop stores under a version, as the edit and conflict flow needs it."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...

    def draft(self) -> Any: ...


class EditForm(Protocol):
    """A side panel that edits one record, as the save and conflict flow drives it."""

    base: Any
    """The draft of the record as stored when it was loaded (None for a new one)."""

    def load(self, record: Any) -> None: ...

    def fill(self, draft: Any) -> None: ...

    def show_errors(self, errors: dict[str, str]) -> None: ...

    def show_message(self, text: str, kind: str = ...) -> None: ...

    def set_busy(self, busy: bool) -> None: ...

    def _update_buttons(self) -> None: ...


E = TypeVar("E", bound=StoredRecord)


class ShopFormPage(ShopListPage[E, Q]):
    """A list page whose side panel edits the chosen record: saves off the GUI thread, the
    reasons a save failed, and the conflict dialog when someone else saved first.

    A subclass sets :attr:`form` and provides :meth:`_save_over` and :meth:`_conflict_heading`.
    """

    conflict_fields: tuple[FieldSpec, ...] = ()
    """The fields the conflict dialog compares, in the form's words."""
    gone_text = ""
    """What the form says when the record was deleted while the user edited it."""

    form: EditForm
    sig_saved: Any  # each page declares and documents its own signal

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.conflict_dialog: ConflictDialog | None = None

    # -- what each page says for itself -------------------------------------------------

    def _save_over(self, record_id: int, version: int, draft: Any) -> None:  # pragma: no cover
        """Store ``draft`` over the record at ``version`` (a conflict if it moved on)."""
        raise NotImplementedError

    def _conflict_heading(self, theirs: E) -> tuple[str, str]:  # pragma: no cover
        """The conflict dialog's name for the record, and a note on their version."""
        raise NotImplementedError

    # -- saving --------------------------------------------------------------------------

    def _run_save(self, fn: Callable[[TaskState], E], on_success: Callable[[E], None],
                  name: str) -> None:
        """Run a change off the GUI thread; the form's buttons wait until it ends."""
        self.form.set_busy(True)
        self.ctx.tasks.run(fn, owner=self, on_success=on_success, on_failure=self._save_failed,
                           name=name)

    def _saved(self, record: E, message: str = "Saved.") -> None:
        self.form.load(record)
        self.form.show_message(message)
        self.model.replace_row(record)
        self.sig_saved.emit(record)

    def _save_failed(self, exc: BaseException) -> None:
        self.form.set_busy(False)
        self.form._update_buttons()
        if isinstance(exc, Conflict):
            self._conflict(exc)
        elif isinstance(exc, ValidationFailed):
            self.form.show_errors(exc.errors)
        elif isinstance(exc, BackendUnavailable):
            self.show_failure(exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()) +
                                   " Your changes are still here.", "fail")
        elif isinstance(exc, NotFound):
            self.form.show_message(self.gone_text, "fail")
        else:
            # Under the page's own logger, so the log says which page could not save.
            logging.getLogger(type(self).__module__).exception(
                "saving a %s failed", self.noun, exc_info=exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()), "fail")

    def _conflict(self, conflict: Conflict) -> None:
        """Mine and theirs side by side; the user keeps one, or merges, and saves again."""
        theirs: E = conflict.theirs
        what, note = self._conflict_heading(theirs)
        dialog = ConflictDialog(what, self.conflict_fields, self.form.base, conflict.mine,
                                theirs.draft(), theirs_note=note, parent=self)
        self.conflict_dialog = dialog
        dialog.sig_resolved.connect(lambda r: self._resolved(r, theirs))
        dialog.rejected.connect(lambda: self.form.show_message(
            f"Not saved: someone else changed this {self.noun}. Your changes are still here; "
            "press Save again to compare.", "warn") if dialog.resolution is None else None)
        dialog.open()

    def _resolved(self, resolution: Resolution, theirs: E) -> None:
        self.conflict_dialog = None
        if resolution.choice == TAKE_THEIRS:
            self.form.load(theirs)
            self.model.replace_row(theirs)
            self.form.show_message("Showing their version; your changes were dropped.")
        elif resolution.choice in (KEEP_MINE, MERGE):
            self.form.load(theirs)
            self.form.fill(resolution.draft)
            self._save_over(theirs.id, theirs.version, resolution.draft)
