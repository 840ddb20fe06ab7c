"""The side panel's History tab: who changed which field of the shown record, when, from, to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView, QVBoxLayout, QWidget

from console.changes import Change
from console.floor import DiningTable
from console.shop import BookingStatus, OrderStatus, parse_iso
from ui.models.formatting import money, short_when, when_text
from ui.models.list_table import ListColumn, ListTableModel
from ui.pages.shop_widgets import set_message
from ui.plain_text import isolated, plain_label, preview

#: The shop's field names in the manager's words (what the side panels call them).
FIELD_LABELS = {
    "created": "Created", "deleted": "Deleted", "changed": "Changed",
    "customer_name": "Guest", "phone": "Phone", "party_size": "Party size",
    "start_at": "When", "table_no": "Table", "status": "Status", "notes": "Notes",
    "name": "Name", "category": "Category", "price_cents": "Price", "stock": "Stock",
    "low_stock_threshold": "Low-stock threshold", "active": "On sale",
}
NOBODY = "(not named)"
NO_VALUES = "changed (the shop keeps no values)"


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def value_text(field: str, value: str | None,
               tables: Mapping[int, DiningTable] | None = None) -> str:
    """A logged value as the side panel shows that field: times local, prices in money, a
    table by its name where the shop's ``tables`` are known ("D5", as the floor calls it)."""
    if value is None or value == "":
        return "—"
    if field == "table_no" and tables and value.isdigit() and int(value) in tables:
        return tables[int(value)].name
    try:
        if field == "start_at":
            return when_text(parse_iso(value))
        if field == "price_cents":
            return money(int(value))
    except ValueError:
        pass
    if field == "status":
        for kind in (BookingStatus, OrderStatus):
            try:
                return kind(value).label
            except ValueError:
                continue
    if field == "active":
        return {"true": "yes", "false": "no"}.get(value, value)
    return preview(value, 120)


def who_text(user: str) -> str:
    """A user name as the shop stored it, kept to one readable length; bidi kept inside."""
    return isolated(preview(user, 120)) if user else NOBODY


def _values_kept(c: Change) -> bool:
    """False for a field change whose shop names the field only (Django's admin log)."""
    return c.field in ("created", "deleted") or c.old is not None or c.new is not None


def history_columns(tables: Mapping[int, DiningTable]) -> tuple[ListColumn[Change], ...]:
    """The History tab's columns; ``tables`` (filled in later) names a booking's tables."""
    return (
        ListColumn("When", lambda c: short_when(c.at), sort_key=lambda c: c.at,
                   tooltip=lambda c: when_text(c.at), tabular=True),
        ListColumn("Who", lambda c: who_text(c.user), tooltip=lambda c: c.user or None),
        ListColumn("Field", lambda c: field_label(c.field)),
        ListColumn("From", lambda c: "" if c.field in ("created", "deleted")
                   or not _values_kept(c) else value_text(c.field, c.old, tables),
                   tooltip=lambda c: c.old),
        ListColumn("To", lambda c: value_text(c.field, c.new, tables) if _values_kept(c)
                   else NO_VALUES, tooltip=lambda c: c.new),
    )


class ChangeHistoryBox(QFrame):
    """The changes of one record, newest first, or why there are none to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        self.summary = plain_label()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tables: dict[int, DiningTable] = {}
        self.model: ListTableModel[Change] = ListTableModel(history_columns(self.tables), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        rows = self.table.verticalHeader()
        assert rows is not None
        rows.hide()
        # Who, From and To share what When and Field leave and wrap there: a name, a new
        # time or a note is read whole in a side panel of any width, not cut to "20…".
        rows.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 3, 4):  # Who, From, To
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.record_id: int | None = None
        self.changes: tuple[Change, ...] | None = None
        self.show_nothing()

    def set_tables(self, tables: Iterable[DiningTable]) -> None:
        """The shop's tables, so a change of table reads "D5 → D17" as the floor names them."""
        self.tables.clear()
        self.tables.update((t.number, t) for t in tables)
        if self.changes:
            self.model.show_rows(self.changes)

    def show_nothing(self) -> None:
        self.record_id, self.changes = None, None
        set_message(self.summary, "Pick a row to see who changed it.", "")
        self.model.show_rows([])

    def show_loading(self, record_id: int) -> None:
        self.record_id, self.changes = record_id, None
        set_message(self.summary, "Reading who changed this…", "")
        self.model.show_rows([])

    def show_changes(self, record_id: int, changes: tuple[Change, ...]) -> None:
        """Show ``changes`` if they are still the shown record's (a late answer is dropped)."""
        if record_id != self.record_id:
            return
        self.changes = changes
        if not changes:
            set_message(self.summary, "No changes recorded since it was made.", "")
        else:
            latest = changes[0]
            set_message(self.summary, f"Last changed {when_text(latest.at)} by "
                                      f"{who_text(latest.user)}.", "")
        self.model.show_rows(changes)

    def show_unavailable(self, record_id: int, text: str) -> None:
        """The shop keeps no history (or it could not be read): the reason, no table."""
        if record_id != self.record_id:
            return
        self.changes = ()
        set_message(self.summary, text, "warn")
        self.model.show_rows([])
