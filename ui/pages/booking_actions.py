"""A page with the booking side panel: status moves said and undoable, the guest, the History."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt6.QtWidgets import QWidget

from console.floor import DiningTable
from console.shop import Booking, BookingQuery, BookingStatus, Conflict
from ui.context import AppContext
from ui.models.formatting import BOOKING_ACTIONS, when_text
from ui.pages.booking_form import ASKED, BookingForm
from ui.pages.shop_form_page import ShopFormPage
from ui.pages.shop_texts import error_text
from ui.plain_text import isolated

# What a status change did, as the panel's message says it.
DONE = {
    BookingStatus.SEATED: "seated",
    BookingStatus.NO_SHOW: "marked a no-show",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.CONFIRMED: "confirmed again",
}


class BookingPanelPage(ShopFormPage[Booking, BookingQuery]):
    """The one way a page's booking panel changes a booking's status (Bookings and Floor).

    The panel asks first where it asks (:func:`~ui.pages.booking_form.confirm_question`);
    the page makes the change on the version shown, says what it did, and offers Undo of a
    cancel or no-show for the panel's undo window. A subclass sets :attr:`form` and calls
    :meth:`connect_actions` once it has.
    """

    noun = "booking"
    entity = "bookings"
    gone_text = ("Not saved: this booking is no longer there (someone may have deleted it). "
                 "Your text is still in the form.")

    form: BookingForm

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._undo_to: tuple[int, BookingStatus] | None = None
        """The booking and the status Undo puts back, while it is offered."""

    def connect_actions(self) -> None:
        """Wire the panel's status buttons and its Undo to this page."""
        self.form.sig_status.connect(self.change_status)
        self.form.sig_undo.connect(self.undo)

    def _tables_known(self, tables: Iterable[DiningTable]) -> None:
        """The shop's tables: the panel's Table field and its History name them ("D5")."""
        listed = list(tables)
        self.form.set_tables(listed)
        if self.history_box is not None:
            self.history_box.set_tables(listed)

    def _shown_record_id(self) -> int | None:
        return self.form.booking.id if self.form.booking is not None else None

    def _fetch_guest(self, booking: Booking) -> None:
        """The guest's other bookings, for the panel's Guest history."""
        shop = self.ctx.shop
        if shop is None:
            return
        box = self.form.guest
        box.show_loading(booking.id)
        self.ctx.tasks.run(lambda _s: shop.guest_history(booking), owner=self,
                           on_success=lambda h: box.show_history(booking.id, h),
                           on_failure=lambda e: box.show_failure(
                               booking.id, error_text(e, self.location())),
                           name="booking-guest")

    def change_status(self, status: BookingStatus) -> None:
        """Move the shown booking (the panel has asked already where it asks) and say so."""
        shop, booking = self.ctx.shop, self.form.booking
        if shop is None or booking is None:
            return
        self.form.clear_feedback()
        before = booking.status
        self._run_save(lambda _s: shop.set_booking_status(booking.id, booking.version, status),
                       lambda b: self._status_changed(b, before), f"{self.entity}-status")

    def undo(self) -> None:
        """Put back the status the last cancel or no-show replaced, on the version it made."""
        shop, booking, undo_to = self.ctx.shop, self.form.booking, self._undo_to
        self._undo_to = None
        if shop is None or booking is None or undo_to is None or undo_to[0] != booking.id:
            return
        previous = undo_to[1]
        self._run_save(lambda _s: shop.set_booking_status(booking.id, booking.version, previous),
                       self._undone, f"{self.entity}-undo")

    def _status_changed(self, booking: Booking, before: BookingStatus) -> None:
        who = f"{isolated(booking.customer_name)} ({booking.party_size}, " \
              f"{when_text(booking.start_at)})"
        undoable = booking.status in ASKED and before is not booking.status
        self._undo_to = (booking.id, before) if undoable else None
        said = (f"Booking #{booking.id} of {who} {DONE[booking.status]}"
                f" (was {before.label.lower()}).")
        self._saved(booking, said)
        self.form.show_message(said, undo=undoable)

    def _undone(self, booking: Booking) -> None:
        said = (f"Undone: booking #{booking.id} of {isolated(booking.customer_name)} is "
                f"{booking.status.label.lower()} again.")
        self._saved(booking, said)
        self.form.show_message(said)

    def _conflict(self, conflict: Conflict) -> None:
        # A status change has nothing to merge: show theirs and let the user choose again.
        if isinstance(conflict.mine, BookingStatus):
            theirs: Booking = conflict.theirs
            self._undo_to = None
            self.form.load(theirs)
            self._show_stored(theirs)
            self.form.show_message(
                f"Someone else changed this booking first; it is now {theirs.status.label}. "
                f"Your change ({BOOKING_ACTIONS[conflict.mine]}) was not made. Check the "
                "booking and try again.", "warn")
            return
        super()._conflict(conflict)

    def _conflict_heading(self, theirs: Booking) -> tuple[str, str]:
        return (f"Booking #{theirs.id}",
                f"It is {theirs.status.label} now.")  # the version is the shop's token
