"""The base of a shop page that lists one kind of record: filters, a paged table, a side panel."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from PyQt6.QtCore import QModelIndex, Qt, QTimer
from PyQt6.QtGui import QHideEvent, QShowEvent
from PyQt6.QtWidgets import (
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QWidget,
)

from console.changes import Entity
from console.shop import RowCount, Unsupported
from console.shop_access import EntityAccess, ShopAccess, access_of
from ui.context import AppContext
from ui.file_dialogs import ask_save_path
from ui.models.freshness import ListFreshness
from ui.models.paged import PagedTableModel
from ui.pages.change_history import ChangeHistoryBox
from ui.pages.shop_access import NOT_SHARED, hide_unmapped_columns
from ui.pages.shop_page import ShopPage
from ui.pages.shop_texts import NO_BACKEND, count_text, error_text
from ui.pages.shop_widgets import IndexHint, TableArea, header_button, make_table
from ui.plain_text import plain_label

SEARCH_DELAY_MS = 300

R = TypeVar("R")
Q = TypeVar("Q")


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, as an aware datetime."""
    return datetime(day.year, day.month, day.day).astimezone()


def read_only_reason(shop: Any, entity: str) -> str | None:
    """Why the shop cannot edit ``entity`` (a mapped table without a version column), or None.

    Only the mapped SQL adapter has read-only entities; it answers from the profile, no I/O."""
    reason = getattr(shop, "read_only_reason", None)
    return reason(entity) if callable(reason) else None


def ask_csv_path(parent: QWidget, suggested: str) -> Path | None:
    """Where to save an export (a native save dialog); None when the user cancels."""
    p = ask_save_path(parent, "Export to CSV", suggested, "CSV files (*.csv)")
    if p is None:
        return None
    return p if p.suffix.lower() == ".csv" else p.with_suffix(".csv")


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
    history_box: ChangeHistoryBox | None = None
    """The side panel's History tab (None on a page without :meth:`add_side_panel`)."""
    panel_tabs: QTabWidget

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
        self.index_hint = IndexHint(self)
        self.outer.addWidget(self.index_hint)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.area)
        split.addWidget(self.add_side_panel(panel))
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
        # After the page's own slot: the panel shows the new record by then.
        selection.currentRowChanged.connect(lambda _c, _p: self.refresh_history())
        self.freshness = ListFreshness(model, self.table, self.ctx.tasks)

    def add_side_panel(self, details: QWidget) -> QTabWidget:
        """The side panel: the record (``details``) and who changed it (History), read
        when the History tab is opened or the shown record changes; the caller places it."""
        self.panel_tabs = QTabWidget()
        self.panel_tabs.setDocumentMode(True)
        self.panel_tabs.addTab(details, "Details")
        self.history_box = ChangeHistoryBox()
        self.panel_tabs.addTab(self.history_box, "History")
        self.panel_tabs.currentChanged.connect(lambda _i: self.refresh_history())
        return self.panel_tabs

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
        suggest = getattr(shop, "index_suggestion", None)
        if callable(suggest) and self.entity:
            # Only a mapped schema (the shop's own tables) can lack the index its list
            # needs; the adapter reads the catalogue once per profile, then answers at once.
            entity = self.entity
            self.ctx.tasks.run(lambda _s: (shop, suggest(entity)), owner=self,
                               on_success=self._index_known, on_failure=lambda _e: None,
                               name="index-suggestion")
        else:
            self.index_hint.show_statement(None)

    def _index_known(self, result: tuple[Any, str | None]) -> None:
        shop, statement = result
        if shop is self.ctx.shop:  # not an answer about the profile before a switch
            self.index_hint.show_statement(statement)

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

    def _shown_record_id(self) -> int | None:  # pragma: no cover - every page overrides it
        """The id of the record the side panel shows (None: none, or a new one)."""
        return None

    def refresh_history(self) -> None:
        """Read the shown record's history, when the History tab is the one showing."""
        box = self.history_box
        if box is None or self.panel_tabs.currentWidget() is not box:
            return  # a page without a side panel, or Details showing
        record_id = self._shown_record_id()
        shop = self.ctx.shop
        if record_id is None or shop is None:
            box.show_nothing()
            return
        box.show_loading(record_id)
        entity = Entity(self.entity)

        def failed(exc: BaseException) -> None:
            text = str(exc) if isinstance(exc, Unsupported) else error_text(exc, self.location())
            box.show_unavailable(record_id, text[:1].upper() + text[1:])

        self.ctx.tasks.run(lambda _s: shop.history(entity, record_id), owner=self,
                           on_success=lambda changes: box.show_changes(record_id, changes),
                           on_failure=failed, name=f"{self.noun}-history")

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
