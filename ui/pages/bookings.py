"""The Bookings page: a day or the next 7 days, search, status filter, edit in a side panel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PyQt6.QtCore import QDate, QDateTime, QModelIndex, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from console.shop import (
    NAME_MAX,
    PHONE_MAX,
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    allowed_booking_transitions,
    validate_booking,
)
from console.shop_access import EntityAccess
from console.shop_map import version_words
from ui.context import AppContext
from ui.models.formatting import BOOKING_ACTIONS, BOOKING_STATES, when_text
from ui.models.shop_tables import BookingsTableModel
from ui.pages.shop_access import grey_fixed_fields
from ui.pages.shop_common import (
    NO_BACKEND,
    ShopFormPage,
    card_layout,
    field_error,
    header_button,
    local_midnight,
    message_label,
    panel_body,
    panel_head,
    save_discard_row,
    search_box,
    set_field_error,
    set_message,
    set_primary_enabled,
    show_chip,
    show_field_errors,
)
from ui.plain_text import plain_label, plain_tooltip, set_plain_editor_text, set_plain_text
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
PICK_HINT = "Pick a booking in the list to see and edit it, or press New booking."


def to_qdatetime(dt: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(dt.timestamp()))


def from_qdatetime(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


def default_start(now: datetime | None = None) -> datetime:
    """19:00 today local time if that is still ahead, else 19:00 tomorrow."""
    now = (now or datetime.now(UTC)).astimezone()
    evening = now.replace(hour=19, minute=0, second=0, microsecond=0)
    return evening if evening > now else evening + timedelta(days=1)


class BookingForm(QFrame):
    """The side panel: one booking's fields, its status, and what can be done with it.

    It holds what the user typed until it is saved or discarded; nothing reloads it while
    it has unsaved changes.
    """

    sig_save = pyqtSignal(object)
    """Emitted with the :class:`BookingDraft` when Save is pressed and the form is valid."""
    sig_status = pyqtSignal(object)
    """Emitted with the :class:`BookingStatus` an action button asks for."""
    sig_discard = pyqtSignal()
    """Emitted when the user drops their changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = card_layout(self, 330)
        self.booking: Booking | None = None
        self.base: BookingDraft | None = None
        self.is_new = False
        """Why nothing can be saved here (the shop's table has no version column), or None."""
        self._loading = False
        self.access = EntityAccess()
        self.heading, self.status_chip, self.hint = panel_head(layout, "No booking selected",
                                                               PICK_HINT)

        self.body, body = panel_body(layout)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(NAME_MAX + 20)
        self.name_edit.setPlaceholderText("Guest's name")
        self.name_error = field_error()
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(PHONE_MAX + 10)
        self.phone_edit.setPlaceholderText("+44 7700 900123")
        self.phone_error = field_error()
        self.party_spin = QSpinBox()
        # Wider than allowed on purpose, so a wrong size gets a sentence, not a silent clamp.
        self.party_spin.setRange(0, 99)
        self.party_spin.setValue(2)
        self.party_error = field_error()
        self.when_edit = QDateTimeEdit()
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.when_error = field_error()
        self.table_spin = QSpinBox()
        self.table_spin.setRange(0, 999)
        self.table_spin.setSpecialValueText("none")
        self.table_error = field_error()
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("Allergies, high chair, occasion…")
        self.notes_edit.setMaximumHeight(90)
        self.notes_error = field_error()
        for label, widget, error in (
                ("Guest", self.name_edit, self.name_error),
                ("Phone", self.phone_edit, self.phone_error),
                ("Party size", self.party_spin, self.party_error),
                ("When", self.when_edit, self.when_error),
                ("Table", self.table_spin, self.table_error),
                ("Notes", self.notes_edit, self.notes_error)):
            form.addRow(label, widget)
            form.addRow("", error)
        body.addLayout(form)
        self.fields = {"customer_name": self.name_edit, "phone": self.phone_edit,
                       "party_size": self.party_spin, "start_at": self.when_edit,
                       "table_no": self.table_spin, "notes": self.notes_edit}
        self.errors = {"customer_name": self.name_error, "phone": self.phone_error,
                       "party_size": self.party_error, "start_at": self.when_error,
                       "table_no": self.table_error, "notes": self.notes_error}

        self.message = message_label()
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        buttons, self.save_button, self.discard_button = save_discard_row()
        body.addLayout(buttons)
        actions = QHBoxLayout()
        self.action_buttons: dict[BookingStatus, QPushButton] = {}
        for status in (BookingStatus.SEATED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED,
                       BookingStatus.CONFIRMED):
            button = QPushButton(BOOKING_ACTIONS[status])
            button.clicked.connect(lambda _=False, s=status: self.sig_status.emit(s))
            self.action_buttons[status] = button
            actions.addWidget(button)
        actions.addStretch(1)
        body.addLayout(actions)
        layout.addStretch(1)

        self.save_button.clicked.connect(self._save)
        self.discard_button.clicked.connect(self.sig_discard.emit)
        for signal in (self.name_edit.textChanged, self.phone_edit.textChanged,
                       self.party_spin.valueChanged, self.when_edit.dateTimeChanged,
                       self.table_spin.valueChanged, self.notes_edit.textChanged):
            signal.connect(self._changed)
        self._set_enabled(False)
        self._update_buttons()

    # -- what the page calls ------------------------------------------------------------

    def load(self, booking: Booking) -> None:
        """Show a stored booking (drops unsaved changes: the caller checks :meth:`dirty`)."""
        self.booking, self.is_new = booking, False
        self.base = booking.draft()
        self._fill(self.base)
        self.heading.setText(f"Booking #{booking.id}")
        self._show_status(booking.status)
        # a version that is the last-changed time itself says nothing to a person
        version = ("read-only here" if not self.access.writable else
                   version_words(booking.version, booking.updated_at))
        changed = f"last changed {when_text(booking.updated_at)}" if booking.updated_at else ""
        text = " · ".join(p for p in (version, changed) if p)
        self.hint.setText(text[:1].upper() + text[1:])
        self.clear_feedback()
        self._set_enabled(True)
        self._update_buttons()

    def start_new(self, start: datetime) -> None:
        self.booking, self.is_new = None, True
        self.base = None
        self._fill(BookingDraft(customer_name="", party_size=2, start_at=start))
        self.heading.setText("New booking")
        self.status_chip.hide()
        self.hint.setText("Fill in the guest and the time, then press Create booking.")
        self.clear_feedback()
        self._set_enabled(True)
        self._update_buttons()
        self.name_edit.setFocus()

    def fill(self, draft: BookingDraft) -> None:
        """Put a draft in the fields (a merge) keeping what is loaded as the base."""
        self._fill(draft)
        self._update_buttons()

    def clear(self) -> None:
        self.booking, self.base, self.is_new = None, None, False
        self.heading.setText("No booking selected")
        self.status_chip.hide()
        self.hint.setText(PICK_HINT)
        self.clear_feedback()
        self._set_enabled(False)
        self._update_buttons()

    def draft(self) -> BookingDraft:
        table = self.table_spin.value()
        return BookingDraft(
            customer_name=self.name_edit.text().strip(),
            party_size=self.party_spin.value(),
            start_at=from_qdatetime(self.when_edit.dateTime()),
            phone=self.phone_edit.text().strip(),
            table_no=table or None,
            notes=self.notes_edit.toPlainText())

    def dirty(self) -> bool:
        if self.is_new:
            return bool(self.name_edit.text().strip() or self.phone_edit.text().strip()
                        or self.notes_edit.toPlainText().strip())
        return self.base is not None and self.draft() != self.base

    def show_errors(self, errors: dict[str, str]) -> None:
        text = show_field_errors(self.errors, errors)
        if text:
            self.show_message(text, "fail")

    def show_message(self, text: str, kind: str = "ok") -> None:
        set_message(self.message, text, kind)
        self.message.show()

    def clear_feedback(self) -> None:
        for label in self.errors.values():
            set_field_error(label, None)
        self.message.hide()
        self.message.setText("")

    def set_access(self, access: EntityAccess) -> None:
        """What the shop lets us see and change: the rest is greyed with the reason."""
        self.access = access
        grey_fixed_fields(self.fields, access)
        self._update_buttons()

    def set_busy(self, busy: bool) -> None:
        set_primary_enabled(self.save_button, not busy and self._editable())
        for button in self.action_buttons.values():
            button.setEnabled(not busy and button.isEnabled())

    # -- internals ------------------------------------------------------------------------

    def _fill(self, draft: BookingDraft) -> None:
        self._loading = True
        try:
            self.name_edit.setText(draft.customer_name)
            self.phone_edit.setText(draft.phone)
            self.party_spin.setValue(draft.party_size)
            self.when_edit.setDateTime(to_qdatetime(draft.start_at))
            self.table_spin.setValue(draft.table_no or 0)
            set_plain_editor_text(self.notes_edit, draft.notes)
        finally:
            self._loading = False

    def _show_status(self, status: BookingStatus) -> None:
        show_chip(self.status_chip, status.label, BOOKING_STATES[status])

    def _editable(self) -> bool:
        return (self.is_new or self.booking is not None) and self.access.writable

    def _set_enabled(self, on: bool) -> None:
        self.body.setVisible(on)

    def _changed(self) -> None:
        if not self._loading:
            self._update_buttons()

    def _update_buttons(self) -> None:
        dirty = self.dirty()
        self.save_button.setText("Create booking" if self.is_new else "Save changes")
        set_primary_enabled(self.save_button, self._editable() and (dirty or self.is_new))
        self.save_button.setToolTip(plain_tooltip(self.access.why_read_only)
                                    if not self.access.writable else "")
        self.discard_button.setEnabled(dirty or self.is_new)
        allowed = allowed_booking_transitions(self.booking.status) if self.booking else ()
        can_change = self.access.can_edit("status")
        for status, button in self.action_buttons.items():
            button.setVisible(status in allowed and not self.is_new)
            button.setEnabled(not dirty and can_change)
            button.setToolTip(plain_tooltip(self.access.why_not("status")) if not can_change
                              else "Save or discard your changes first" if dirty else "")

    def _save(self) -> None:
        self.sig_save.emit(self.draft())


class BookingsPage(ShopFormPage[Booking, BookingQuery]):
    """Bookings of one day (or the next 7 days, or all), searchable, edited on the right.

    ``ctx.shop`` is the repository; every call runs on ``ctx.tasks``.
    """

    title = "Bookings"
    noun = "booking"
    entity = "bookings"
    field_columns = {"phone": 2, "table_no": 4, "notes": 6}
    export_progress = True
    conflict_fields = FIELDS
    gone_text = ("Not saved: this booking is no longer there (someone may have deleted it). "
                 "Your text is still in the form.")

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
        self.form.sig_status.connect(self.change_status)
        self.form.sig_discard.connect(self._discard)
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

    def save(self, draft: BookingDraft) -> None:
        """Create or update from the form; the form stays filled whatever happens."""
        shop = self.ctx.shop
        if shop is None:
            self.form.show_message("Not saved: " + NO_BACKEND, "fail")
            return
        booking = self.form.booking
        errors = validate_booking(draft, now=datetime.now(UTC),
                                  original_start=booking.start_at if booking else None)
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_feedback()
        if booking is None:
            self._run_save(lambda _s: shop.create_booking(draft), self._created, "booking-save")
        else:
            self._save_over(booking.id, booking.version, draft)

    def change_status(self, status: BookingStatus) -> None:
        shop, booking = self.ctx.shop, self.form.booking
        if shop is None or booking is None:
            return
        self.form.clear_feedback()
        self._run_save(lambda _s: shop.set_booking_status(booking.id, booking.version, status),
                       self._saved, "booking-save")

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
        shop = self.ctx.shop
        self._run_save(lambda _s: shop.update_booking(booking_id, version, draft), self._saved,
                       "booking-save")

    def _created(self, booking: Booking) -> None:
        self.form.load(booking)
        self.form.show_message(f"Booking #{booking.id} created for {booking.customer_name}, "
                               f"{when_text(booking.start_at)}.")
        self.sig_saved.emit(booking)
        self.model.reload()

    def _conflict(self, conflict: Conflict) -> None:
        # A status change has nothing to merge: show theirs and let the user choose again.
        if isinstance(conflict.mine, BookingStatus):
            theirs: Booking = conflict.theirs
            self.form.load(theirs)
            self.model.replace_row(theirs)
            self.form.show_message(
                f"Someone else changed this booking first; it is now {theirs.status.label}. "
                f"Your change ({BOOKING_ACTIONS[conflict.mine]}) was not made. Check the "
                "booking and try again.", "warn")
            return
        super()._conflict(conflict)

    def _conflict_heading(self, theirs: Booking) -> tuple[str, str]:
        return (f"Booking #{theirs.id}",
                f"Their version is {theirs.version}, status {theirs.status.label}.")
