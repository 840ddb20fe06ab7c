"""Walk-in: a party at the door seated now at a free table, in one step."""

from __future__ import annotations

from datetime import datetime, timedelta

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.floor import FloorDay, outside_hours
from console.shop import BookingDraft
from console.shop_rules import NAME_MAX, PARTY_SIZE_MAX, PARTY_SIZE_MIN, PHONE_MAX
from console.waitlist import WaitingParty
from ui.plain_text import plain_label, set_plain_text


class WalkInDialog(QDialog):
    """Covers, a name (or just 'Walk-in') and a free table that fits, smallest first; for a
    party from the waitlist (``party``) only the table is chosen."""

    sig_seat = pyqtSignal(object)
    """Emitted with the :class:`BookingDraft` to seat (start now, the table chosen)."""

    def __init__(self, day: FloorDay, now: datetime, parent: QWidget | None = None, *,
                 party: WaitingParty | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Walk-in" if party is None else "Seat from the waitlist")
        self.day, self.now = day, now
        layout = QVBoxLayout(self)
        #: Before opening or after closing, said before anyone is seated (the host may still
        #: seat them: an early party, a late one the kitchen will still feed).
        self.hours = plain_label()
        self.hours.setObjectName("outsideHours")
        self.hours.setWordWrap(True)
        outside = outside_hours(day.plan, now.astimezone())
        set_plain_text(self.hours, f"{outside}: they are seated at "
                                   f"{now.astimezone():%H:%M} all the same."
                       if outside else "")
        self.hours.setVisible(outside is not None)
        layout.addWidget(self.hours)
        form = QFormLayout()
        self.covers = QSpinBox()
        self.covers.setRange(PARTY_SIZE_MIN, PARTY_SIZE_MAX)
        self.covers.setValue(2)
        self.name_edit = QLineEdit("Walk-in")
        self.name_edit.setMaxLength(NAME_MAX)
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(PHONE_MAX)
        self.phone_edit.setPlaceholderText("optional")
        self.table_combo = QComboBox()
        form.addRow("Covers", self.covers)
        form.addRow("Table", self.table_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("Phone", self.phone_edit)
        layout.addLayout(form)
        self.note = plain_label()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.seat_button = QPushButton("Seat now")
        self.seat_button.setProperty("primary", True)
        self.seat_button.setDefault(True)
        buttons.addButton(self.seat_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._seat)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if party is not None:  # who they are is on the list already: only the table is chosen
            self.covers.setValue(party.covers)
            self.name_edit.setText(party.name)
            self.phone_edit.setText(party.phone)
            for w in (self.covers, self.name_edit, self.phone_edit):
                w.setEnabled(False)
        self.covers.valueChanged.connect(self._fill_tables)
        self._fill_tables()

    def _fill_tables(self) -> None:
        covers = self.covers.value()
        end = self.now + timedelta(minutes=self.day.plan.expected_minutes(covers))
        fits = sorted((t for t in self.day.free_between(self.now, end) if t.seats >= covers),
                      key=lambda t: (t.seats, t.number))
        self.table_combo.clear()
        for t in fits:
            where = f", {t.area}" if t.area else ""
            self.table_combo.addItem(f"{t.name} ({t.seats} seats{where})", t.number)
        self.seat_button.setEnabled(bool(fits))
        set_plain_text(self.note, (
            f"Free until {end.astimezone():%H:%M} at least; the smallest that fits is first."
            if fits else f"No table for {covers} is free for the next "
            f"{self.day.plan.expected_minutes(covers)} minutes."))

    def draft(self) -> BookingDraft:
        return BookingDraft(customer_name=self.name_edit.text().strip() or "Walk-in",
                            party_size=self.covers.value(), start_at=self.now,
                            phone=self.phone_edit.text().strip(),
                            table_no=self.table_combo.currentData())

    def _seat(self) -> None:
        if self.table_combo.currentData() is None:
            return
        self.sig_seat.emit(self.draft())
        self.accept()
