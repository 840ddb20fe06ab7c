"""The booking side panel: one booking's fields, its status and the moves it may make."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from PyQt6.QtCore import QDateTime, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
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

from console.floor import DiningTable
from console.shop import Booking, BookingDraft, BookingStatus
from console.shop_access import EntityAccess
from console.shop_map import version_words
from console.shop_rules import NAME_MAX, PHONE_MAX, allowed_booking_transitions
from ui.models.formatting import BOOKING_ACTIONS, BOOKING_STATES, when_text
from ui.pages.guest_box import GuestBox
from ui.pages.shop_access import grey_fixed_fields
from ui.pages.shop_widgets import (
    card_layout,
    field_error,
    message_label,
    panel_body,
    panel_head,
    save_discard_row,
    set_field_error,
    set_message,
    set_primary_enabled,
    show_chip,
    show_field_errors,
)
from ui.plain_text import (
    isolated,
    plain_label,
    plain_tooltip,
    set_plain_editor_text,
    set_plain_text,
)
from ui.widgets.table_spin import TableSpin

PICK_HINT = "Pick a booking in the list to see and edit it, or press New booking."
#: Moves that drop a guest's table: asked once more, and undoable for a while after.
ASKED = frozenset({BookingStatus.CANCELLED, BookingStatus.NO_SHOW})
UNDO_WINDOW_MS = 10_000
"""How long the Undo of a cancel or no-show is offered (the shop allows two minutes)."""


def confirm_question(booking: Booking, status: BookingStatus, today: date) -> str | None:
    """What to ask before moving ``booking`` to ``status``, or None when it needs no asking."""
    who = (f"{isolated(booking.customer_name)}, {booking.party_size} at "
           f"{when_text(booking.start_at)}")
    if status is BookingStatus.CANCELLED:
        return f"Cancel the booking of {who}?"
    if status is BookingStatus.NO_SHOW:
        return f"Mark {who} as a no-show?"
    if status is BookingStatus.SEATED and booking.start_at.astimezone().date() != today:
        return f"This booking is not for today. Seat {who} now anyway?"
    return None


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
    sig_undo = pyqtSignal()
    """Emitted when the user presses Undo after a cancel or no-show."""

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
        self.table_spin = TableSpin()
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
        message_row = QHBoxLayout()
        message_row.addWidget(self.message, 1)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Put the booking back as it was")
        self.undo_button.hide()
        self.undo_button.clicked.connect(self._undo)
        message_row.addWidget(self.undo_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(message_row)
        self.undo_timer = QTimer(self)
        self.undo_timer.setSingleShot(True)
        self.undo_timer.timeout.connect(self.undo_button.hide)
        self.undo_window_ms = UNDO_WINDOW_MS

        buttons, self.save_button, self.discard_button = save_discard_row()
        body.addLayout(buttons)
        actions = QHBoxLayout()
        self.action_buttons: dict[BookingStatus, QPushButton] = {}
        for status in (BookingStatus.SEATED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED,
                       BookingStatus.CONFIRMED):
            button = QPushButton(BOOKING_ACTIONS[status])
            button.clicked.connect(lambda _=False, s=status: self._asked(s))
            self.action_buttons[status] = button
            actions.addWidget(button)
        actions.addStretch(1)
        body.addLayout(actions)
        self.confirm_label = plain_label()
        self.confirm_label.setWordWrap(True)
        self.confirm_no = QPushButton("No, keep it")
        self.confirm_yes = QPushButton("Yes")
        for w in (self.confirm_label, self.confirm_no, self.confirm_yes):
            w.hide()
        body.addWidget(self.confirm_label)
        confirm = QHBoxLayout()
        confirm.addStretch(1)
        confirm.addWidget(self.confirm_no)
        confirm.addWidget(self.confirm_yes)
        body.addLayout(confirm)
        self.confirm_yes.clicked.connect(self._confirmed)
        self.confirm_no.clicked.connect(self._hide_confirm)
        self._confirming: BookingStatus | None = None
        self.guest = GuestBox()
        body.addWidget(self.guest)
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

    def set_tables(self, tables: Iterable[DiningTable]) -> None:
        """The shop's tables, so the Table field names them ("T1") as the floor does."""
        self.table_spin.set_tables(tables)

    def start_new(self, start: datetime) -> None:
        self.guest.clear()
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
        self.guest.clear()
        self.booking, self.base, self.is_new = None, None, False
        self.heading.setText("No booking selected")
        self.status_chip.hide()
        self.hint.setText(PICK_HINT)
        self.clear_feedback()
        self._set_enabled(False)
        self._update_buttons()

    def draft(self) -> BookingDraft:
        table = self.table_spin.value()
        start = from_qdatetime(self.when_edit.dateTime())
        if self.base is not None and start == self.base.start_at.replace(microsecond=0):
            # The field holds whole seconds; a walk-in seated at 08:34:27.41 is unchanged,
            # not an edit to save (nor a When moved by 0.41 s in the History).
            start = self.base.start_at
        return BookingDraft(
            customer_name=self.name_edit.text().strip(),
            party_size=self.party_spin.value(),
            start_at=start,
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

    def show_message(self, text: str, kind: str = "ok", *, undo: bool = False) -> None:
        """Say how the last action went; ``undo`` offers Undo for :attr:`undo_window_ms`."""
        set_message(self.message, text, kind)
        self.message.show()
        self.undo_button.setVisible(undo)
        if undo:
            self.undo_button.setEnabled(True)
            self.undo_timer.start(self.undo_window_ms)
        else:
            self.undo_timer.stop()

    def clear_feedback(self) -> None:
        for label in self.errors.values():
            set_field_error(label, None)
        self.message.hide()
        self.message.setText("")
        self.undo_button.hide()
        self.undo_timer.stop()
        self._hide_confirm()

    def set_access(self, access: EntityAccess) -> None:
        """What the shop lets us see and change: the rest is greyed with the reason."""
        self.access = access
        grey_fixed_fields(self.fields, access)
        self._update_buttons()

    def set_busy(self, busy: bool) -> None:
        """While a save runs nothing else can be pressed; after it, what fits the form."""
        if not busy:
            self._update_buttons()
            return
        set_primary_enabled(self.save_button, False)
        for button in (*self.action_buttons.values(), self.undo_button, self.confirm_yes):
            button.setEnabled(False)

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

    def _asked(self, status: BookingStatus) -> None:
        """Cancel, no-show and a seat on another day ask first, in the panel; the rest go."""
        question = (confirm_question(self.booking, status, date.today())
                    if self.booking is not None else None)
        if question is None:
            self.sig_status.emit(status)
            return
        self._confirming = status
        set_plain_text(self.confirm_label, question)
        self.confirm_yes.setText(f"Yes, {BOOKING_ACTIONS[status].lower()}")
        self.confirm_yes.setEnabled(True)
        for w in (self.confirm_label, self.confirm_no, self.confirm_yes):
            w.show()

    def _confirmed(self) -> None:
        status = self._confirming
        self._hide_confirm()
        if status is not None:
            self.sig_status.emit(status)

    def _hide_confirm(self) -> None:
        self._confirming = None
        for w in (self.confirm_label, self.confirm_no, self.confirm_yes):
            w.hide()

    def _undo(self) -> None:
        self.undo_button.hide()
        self.undo_timer.stop()
        self.sig_undo.emit()
