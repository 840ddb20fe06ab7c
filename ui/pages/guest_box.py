"""The Guest part of the booking side panel: visits, no-shows, cancels and earlier notes."""

from __future__ import annotations

from PyQt6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from console.guests import GuestHistory
from ui.models.formatting import when_text
from ui.pages.shop_widgets import set_message
from ui.plain_text import plain_label, set_plain_text


def history_line(h: GuestHistory) -> str:
    """'3 visits, the last Tue 01 Dec 19:30 · 1 no-show · 1 cancelled · 2 more booked'."""
    if h.first_time:
        return "First booking with us: no other bookings found."
    parts = []
    if h.visits:
        last = f", the last {when_text(h.last_visit)}" if h.last_visit else ""
        parts.append(f"{h.visits} visit{'s' if h.visits != 1 else ''}{last}")
    else:
        parts.append("No visits yet")
    if h.no_shows:
        parts.append(f"{h.no_shows} no-show{'s' if h.no_shows != 1 else ''}")
    if h.cancelled:
        parts.append(f"{h.cancelled} cancelled")
    if h.upcoming:
        parts.append(f"{h.upcoming} more booked")
    return " · ".join(parts)


class GuestBox(QFrame):
    """What the shop knows of the shown booking's guest from their other bookings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(3)
        title = QLabel("Guest history")
        title.setObjectName("cardTitle")
        layout.addWidget(title)
        self.summary = plain_label()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.notes = plain_label()
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.basis = plain_label()
        self.basis.setObjectName("muted")
        self.basis.setWordWrap(True)
        layout.addWidget(self.basis)
        self.history: GuestHistory | None = None
        self.booking_id: int | None = None
        self.hide()

    def show_loading(self, booking_id: int) -> None:
        self.booking_id, self.history = booking_id, None
        set_message(self.summary, "Looking up this guest…", "")
        for label in (self.notes, self.basis):
            label.hide()
        self.show()

    def show_history(self, booking_id: int, h: GuestHistory) -> None:
        """Show ``h`` if it is still the shown booking's (a late answer is dropped)."""
        if booking_id != self.booking_id:
            return
        self.history = h
        # No-shows are what a host must know first: the line turns amber.
        set_message(self.summary, history_line(h), "warn" if h.no_shows else "")
        set_plain_text(self.notes, "\n".join(f"{when_text(n.when)}: {n.notes}"
                                             for n in h.notes))
        self.notes.setVisible(bool(h.notes))
        set_plain_text(self.basis, " ".join(p for p in (
            f"Matched by {h.matched_by}.", h.partial) if p))
        self.basis.show()
        self.show()

    def show_failure(self, booking_id: int, text: str) -> None:
        if booking_id != self.booking_id:
            return
        set_message(self.summary, f"Could not look up this guest: {text}", "fail")
        self.show()

    def clear(self) -> None:
        self.booking_id, self.history = None, None
        self.hide()
