"""The Bookings page: a day or the next 7 days, search, status filter, edit in a side panel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PyQt6.QtCore import QDate, QModelIndex, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QPushButton, QWidget

from console.floor import DiningTable
from console.shop import (
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
)
from console.shop_access import EntityAccess
from console.shop_rules import validate_booking
from ui.context import AppContext
from ui.models.formatting import when_text
from ui.models.shop_tables import BookingsTableModel
from ui.pages.booking_actions import BookingPanelPage
from ui.pages.booking_form import BookingForm, default_start
from ui.pages.run_sheet import RunSheetDialog
from ui.pages.shop_list_page import local_midnight
from ui.pages.shop_texts import NO_BACKEND
from ui.pages.shop_widgets import header_button, search_box, set_primary_enabled
from ui.plain_text import isolated, plain_label, plain_tooltip, set_plain_text
from ui.widgets.conflict_dialog import FieldSpec

DAY, NEXT_7, ALL_DATES = "day", "next7", "all"
RANGES = ((DAY, "One day"), (NEXT_7, "Next 7 days"), (ALL_DATES, "All dates"))
STATUS_FILTERS: tuple[tuple[str, frozenset[BookingStatus]], ...] = (
    ("All statuses", frozenset()),
    ("Expected (confirmed or seated)", frozenset({BookingStatus.CONFIRMED,
                                                  BookingStatus.SEATED})),
    ("Confirmed", frozenset({BookingStatus.CONFIRMED})),
    ("Seated", frozenset({BookingStatus.SEATED})),
    ("No-show", frozenset({BookingStatus.NO_SHOW})),
    ("Cancelled", frozenset({BookingStatus.CANCELLED})),
)
FIELDS = (
    FieldSpec("customer_name", "Guest"),
    FieldSpec("phone", "Phone"),
    FieldSpec("party_size", "Party size"),
    FieldSpec("start_at", "When", when_text),
    FieldSpec("table_no", "Table", lambda v: str(v) if v else "none"),
    FieldSpec("notes", "Notes"),
)


def saved_text(booking: Booking, before: BookingDraft | None,
               tables: Mapping[int, DiningTable] | None = None) -> str:
    """'Saved booking #12: party size 2 → 4, table T1 → T2, notes changed.' (what the save
    changed; a table by its name where the shop's ``tables`` are known)."""
    after = booking.draft()
    changes = []
    for spec in FIELDS:
        old, new = getattr(before, spec.name, None), getattr(after, spec.name)
        if before is None or old == new:
            continue
        show = _table_name(tables, spec.show) if spec.name == "table_no" else spec.show
        changes.append(f"{spec.label.lower()} changed" if spec.name == "notes" else
                       f"{spec.label.lower()} {show(old) or 'none'} → "
                       f"{show(new) or 'none'}")
    return (f"Saved booking #{booking.id}: {isolated(', '.join(changes))}." if changes
            else f"Saved booking #{booking.id}.")


def _table_name(tables: Mapping[int, DiningTable] | None,
                plain: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: tables[v].name if tables and v in tables else plain(v)


class BookingsPage(BookingPanelPage):
    """Bookings of one day (or the next 7 days, or all), searchable, edited on the right.

    ``ctx.shop`` is the repository; every call runs on ``ctx.tasks``.
    """

    title = "Bookings"
    field_columns = {"phone": 2, "table_no": 4, "notes": 6}
    export_progress = True
    conflict_fields = FIELDS

    sig_saved = pyqtSignal(object)
    """Emitted with the stored :class:`Booking` after a create, edit or status change."""

    form: BookingForm

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        bar = QHBoxLayout()
        self.range_combo = QComboBox()
        for key, label in RANGES:
            self.range_combo.addItem(label, key)
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous day")
        self.prev_button.setFixedWidth(34)
        self.day_edit = QDateEdit(QDate.currentDate())
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("ddd d MMM yyyy")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next day")
        self.next_button.setFixedWidth(34)
        self.today_button = QPushButton("Today")
        self.search_edit = search_box("Search name or phone (Ctrl+F)")
        self.search_edit.setMinimumWidth(220)
        self.status_combo = QComboBox()
        for label, _ in STATUS_FILTERS:
            self.status_combo.addItem(label)
        for w in (self.range_combo, self.prev_button, self.day_edit, self.next_button,
                  self.today_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.status_combo)
        self.order_note = plain_label()
        self.order_note.setObjectName("muted")
        self.order_note.setVisible(False)
        self.new_button = header_button("New booking", self.new_booking, primary=True)
        self.run_sheet_button = header_button(
            "Run sheet…", self.open_run_sheet,
            tooltip="Print tonight: a service's bookings by time, with covers, tables, notes "
                    "and allergies")
        self.head.addWidget(self.run_sheet_button)
        self.run_sheet: RunSheetDialog | None = None
        self.add_export_button()
        self.head.addWidget(self.new_button)
        self.outer.addLayout(bar)
        self.outer.addWidget(self.order_note)

        self.form = BookingForm()
        self.add_list(BookingsTableModel(ctx.tasks, lambda: self.ctx.shop, self._query(),
                                         parent=self),
                      self.form, panel_stretch=1, sizes=(900, 380))
        self.status_combo.currentIndexChanged.connect(self._apply_filters)
        self.day_edit.dateChanged.connect(self._apply_filters)
        self.prev_button.clicked.connect(lambda: self._step_day(-1))
        self.next_button.clicked.connect(lambda: self._step_day(1))
        self.today_button.clicked.connect(self._go_today)
        self.form.sig_save.connect(self.save)
        self.form.sig_discard.connect(self._discard)
        self.connect_actions()
        self.range_combo.currentIndexChanged.connect(self._range_changed)
        self.model.sig_count.connect(self._say_order)
        self.refresh()

    # -- public ------------------------------------------------------------------------

    def set_day(self, day: date) -> None:
        self.range_combo.setCurrentIndex(0)
        self.day_edit.setDate(QDate(day.year, day.month, day.day))

    def set_range(self, key: str) -> None:
        self.range_combo.setCurrentIndex([k for k, _ in RANGES].index(key))

    def new_booking(self) -> None:
        if self.form.dirty():
            self.form.show_message("Save or discard your changes first, then start a new "
                                   "booking.", "warn")
            return
        self.table.clearSelection()
        self.form.start_new(default_start())

    def open_run_sheet(self) -> None:
        """The run sheet of the day shown (today when the list is not one day)."""
        day = (self.day_edit.date().toPyDate() if self.range_combo.currentData() == DAY
               else date.today())
        if self.run_sheet is not None:
            self.run_sheet.close()
            self.run_sheet.deleteLater()
        self.run_sheet = RunSheetDialog(self.ctx, day, parent=self)
        self.run_sheet.open()

    def save(self, draft: BookingDraft) -> None:
        """Create or update from the form; the form stays filled whatever happens."""
        shop = self.ctx.shop
        if shop is None:
            self.form.show_message("Not saved: " + NO_BACKEND, "fail")
            return
        booking = self.form.booking
        errors = validate_booking(draft, now=datetime.now(UTC),
                                  stored_start=(lambda: booking.start_at) if booking else None)
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_feedback()
        if booking is None:
            self._run_save(lambda _s: shop.create_booking(draft), self._created, "booking-save")
        else:
            self._save_over(booking.id, booking.version, draft)

    def refresh(self) -> None:
        """F5: the list again, and the shop's tables so the panel names them ("T1")."""
        super().refresh()
        shop = self.ctx.shop
        if shop is not None:
            self.ctx.tasks.run(lambda _s: shop.floor(), owner=self,
                               on_success=lambda plan: self._tables_known(plan.tables),
                               on_failure=lambda _e: None, name="booking-tables")

    def apply_access(self, shared: EntityAccess) -> None:
        self.form.set_access(shared)
        if not shared.shows("phone"):
            self.search_edit.setPlaceholderText("Search name (Ctrl+F)")
        set_primary_enabled(self.new_button, shared.writable)
        self.new_button.setToolTip(plain_tooltip(shared.why_read_only)
                                   if not shared.writable else "")

    # -- filters -----------------------------------------------------------------------

    def _query(self) -> BookingQuery:
        key = self.range_combo.currentData()
        start: datetime | None = None
        end: datetime | None = None
        if key == DAY:
            day = self.day_edit.date().toPyDate()
            start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        elif key == NEXT_7:
            today = date.today()
            start, end = local_midnight(today), local_midnight(today + timedelta(days=7))
        statuses = STATUS_FILTERS[max(0, self.status_combo.currentIndex())][1]
        current = getattr(getattr(self, "model", None), "query", None) or BookingQuery()
        search = self.search_edit.text().strip()
        sort, descending = current.sort, current.descending
        whole_list = bool(search) or key == ALL_DATES
        if whole_list:  # a search looks for a person, not a day: across all dates
            start = end = None
            if sort is BookingSort.START_AT and not descending:
                sort = BookingSort.UPCOMING_FIRST
        elif sort is BookingSort.UPCOMING_FIRST:
            sort = BookingSort.START_AT
        return BookingQuery(start_from=start, start_to=end, search=search, statuses=statuses,
                            sort=sort, descending=descending,
                            upcoming_from=datetime.now(UTC) if whole_list else None)

    def _say_order(self) -> None:
        """Above the list: what it holds and in which order, when that is not one day's."""
        query = self.model.query
        if query.sort is not BookingSort.UPCOMING_FIRST:
            self.order_note.setVisible(False)
            return
        what = ("All dates" if not query.search
                else f'Searching all dates for "{query.search}"')
        set_plain_text(self.order_note, f"{what}: upcoming first (soonest at the top), then "
                                        "past (most recent first).")
        self.order_note.setVisible(True)

    def _range_changed(self) -> None:
        day_mode = self.range_combo.currentData() == DAY
        for w in (self.prev_button, self.day_edit, self.next_button):
            w.setEnabled(day_mode)
        self._apply_filters()

    def _step_day(self, days: int) -> None:
        self.day_edit.setDate(self.day_edit.date().addDays(days))

    def _go_today(self) -> None:
        self.set_day(date.today())

    def _describe_view(self) -> str:
        """Why the list is empty and what to do next."""
        key = self.range_combo.currentData()
        where = {DAY: f"on {self.day_edit.date().toString('ddd d MMM yyyy')}",
                 NEXT_7: "in the next 7 days"}.get(key, "")
        search = self.search_edit.text().strip()
        if search:
            where = "on any date"
        what = " ".join(p for p in (
            "No bookings", where, f'matching "{search}"' if search else "",
            f"with status {self.status_combo.currentText()}"
            if self.status_combo.currentIndex() > 0 else "") if p)
        hints = (["clear the search"] if search else []) + (
            ["choose All statuses"] if self.status_combo.currentIndex() > 0 else []) + (
            ["pick another day or Next 7 days"] if key == DAY and not search else []) + [
            "press New booking to add one"]
        tried = ", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0]
        return f"{what}. To see more, {tried}."

    # -- selection and saving -------------------------------------------------------------

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        booking = self.model.row_object(current.row()) if current.isValid() else None
        if booking is None:
            return
        if self.form.booking is not None and self.form.booking.id == booking.id:
            return
        if self.form.dirty():
            who = (f"booking #{self.form.booking.id}" if self.form.booking
                   else "the new booking")
            self.form.show_message(f"You have unsaved changes to {who}: save or discard them "
                                   "first, then pick another booking.", "warn")
            return
        self.form.load(booking)
        self._fetch_fresh(booking.id)
        self._fetch_guest(booking)

    def _fetch_fresh(self, booking_id: int) -> None:
        """The list may be a little old: show the stored booking as it is now."""
        shop = self.ctx.shop
        if shop is None:
            return

        def fresh(b: Booking) -> None:
            shown = self.form.booking
            # Only a newer version replaces what is shown (a save may have landed first).
            if shown is not None and shown.id == b.id and not self.form.dirty() \
                    and b.version > shown.version:
                self.form.load(b)
                self.model.replace_row(b)

        self.ctx.tasks.run(lambda _s: shop.get_booking(booking_id), owner=self, on_success=fresh,
                           on_failure=lambda _e: None, name="booking-detail")

    def _discard(self) -> None:
        if self.form.booking is not None:
            self.form.load(self.form.booking)
        else:
            self.form.clear()

    def _save_over(self, booking_id: int, version: int, draft: BookingDraft) -> None:
        shop, before, tables = self.ctx.shop, self.form.base, self.form.table_spin.tables
        self._run_save(lambda _s: shop.update_booking(booking_id, version, draft),
                       lambda b: self._saved(b, saved_text(b, before, tables)),
                       "booking-save")

    def _created(self, booking: Booking) -> None:
        self.form.load(booking)
        self._fetch_guest(booking)
        self.form.show_message(f"Booking #{booking.id} created for {booking.customer_name}, "
                               f"{when_text(booking.start_at)}.")
        self.sig_saved.emit(booking)
        self.model.reload()
