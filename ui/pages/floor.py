"""The Floor page: a day by table and time, covers per slot, moves by drag, walk-ins."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from PyQt6.QtCore import QDate, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QHideEvent, QShowEvent
from PyQt6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from console.floor import FloorDay, lay_out, read_day
from console.shop import Booking, BookingDraft, Conflict, Unsupported, ValidationFailed
from console.shop_rules import validate_booking
from console.waitlist import WaitingParty, Waitlist, WaitlistDraft, WaitState
from ui.context import AppContext
from ui.models.formatting import when_text
from ui.pages.booking_actions import BookingPanelPage
from ui.pages.booking_form import BookingForm
from ui.pages.bookings import FIELDS
from ui.pages.shop_texts import NO_BACKEND, error_text
from ui.pages.shop_widgets import header_button, set_primary_enabled
from ui.pages.waitlist_box import WaitlistBox, removed_text, seated_text
from ui.plain_text import isolated, plain_label, set_plain_text
from ui.widgets.floor_grid import FloorGrid
from ui.widgets.walk_in_dialog import WalkInDialog
from ui.worker import TaskHandle

NOW_LINE_MS = 60_000
NO_TABLES = ("This shop keeps no tables (its schema or connector has none), so the floor "
             "cannot be drawn. The Bookings page lists this day's bookings as usual.")


class FloorPage(BookingPanelPage):
    """A day of the floor: tables down the side, time across; a click opens the booking in
    the side panel, a drag moves it (an edit with the version check), Walk-in seats now."""

    title = "Floor"
    conflict_fields = FIELDS

    sig_saved = pyqtSignal(object)
    """Emitted with the stored :class:`Booking` after a move, an edit, a status change or a
    walk-in."""
    sig_loaded = pyqtSignal(object)
    """Emitted with the :class:`FloorDay` each time a day has been read and drawn."""
    sig_waitlist = pyqtSignal(object)
    """Emitted with the :class:`Waitlist` each time it has been read and shown."""

    form: BookingForm

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.day: FloorDay | None = None
        #: The page's clock (UTC): the now-line, the walk-in's start, "today".
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.bookings: list[Booking] = []
        self._task: TaskHandle[FloorDay] | None = None
        self.walk_in_dialog: WalkInDialog | None = None
        self.walk_in_button = header_button("Walk-in", self.walk_in, primary=True,
                                            tooltip="Seat a party without a booking now")
        self.head.addWidget(self.walk_in_button)
        bar = QHBoxLayout()
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
        for w in (self.prev_button, self.day_edit, self.next_button, self.today_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        self.summary = plain_label()
        bar.addWidget(self.summary, 1)
        self.outer.addLayout(bar)

        self.grid = FloorGrid()
        self.floor_area = QScrollArea()
        self.floor_area.setWidget(self.grid)
        self.floor_area.setWidgetResizable(False)
        for scroll in (self.floor_area.horizontalScrollBar(),
                       self.floor_area.verticalScrollBar()):
            if scroll is not None:  # the table column and time header stay in view
                scroll.valueChanged.connect(lambda _v: self.grid.update())
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.floor_area)
        self.stack.addWidget(self.empty)
        self.form = BookingForm()
        panel = self.add_side_panel(self.form)  # Details and History, as on Bookings
        panel.hide()  # until a booking is clicked
        self.waitlist_box = WaitlistBox()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.waitlist_box)
        split.addWidget(self.stack)
        split.addWidget(panel)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 1)
        split.setSizes([280, 700, 420])
        self.outer.addWidget(split, 1)
        self.said = plain_label()
        self.said.setObjectName("muted")
        self.said.setWordWrap(True)
        self.outer.addWidget(self.said)

        self.waitlist_box.sig_add.connect(self.add_to_waitlist)
        self.waitlist_box.sig_seat.connect(self.seat_waiting)
        self.waitlist_box.sig_remove.connect(self.remove_waiting)
        self.grid.sig_booking_clicked.connect(self.open_booking)
        self.grid.sig_booking_moved.connect(self.move_booking)
        self.form.sig_save.connect(self.save)
        self.connect_actions()
        self.form.sig_discard.connect(lambda: self.form.load(self.form.booking)
                                      if self.form.booking else None)
        self.day_edit.dateChanged.connect(lambda _d: self.refresh())
        self.prev_button.clicked.connect(lambda: self._step_day(-1))
        self.next_button.clicked.connect(lambda: self._step_day(1))
        self.today_button.clicked.connect(lambda: self.set_day(self._today()))
        self._now_timer = QTimer(self)
        self._now_timer.setInterval(NOW_LINE_MS)
        self._now_timer.timeout.connect(self._tick)
        self.refresh()

    # -- public ------------------------------------------------------------------------

    def set_day(self, day: date) -> None:
        """Show ``day`` (read again when it is the day shown already)."""
        if day == self.shown_day():
            self.refresh()
        else:
            self.day_edit.setDate(QDate(day.year, day.month, day.day))

    def shown_day(self) -> date:
        return self.day_edit.date().toPyDate()

    def refresh(self) -> None:
        """Read the day's plan and bookings again (F5, a day picked, a change saved)."""
        shop = self.ctx.shop
        if shop is None:
            self.notice.show_text(NO_BACKEND, "warn")
            self._show_empty("Nothing to show: this profile has no shop back end or database. "
                             "Add one in Settings.")
            return
        day = self.shown_day()
        tz = datetime.now().astimezone().tzinfo
        assert tz is not None
        set_plain_text(self.summary, "Loading…")
        self._task = self.ctx.tasks.run(
            lambda _s: read_day(shop, day, tz), owner=self,
            # A day picked while another was loading: only the day shown now is drawn.
            on_success=lambda floor: self._loaded(floor) if day == self.shown_day() else None,
            on_failure=self._failed, name="floor-day")
        self._load_waitlist()

    def focus_search(self) -> None:
        """The floor has no search box: Ctrl+F does nothing here."""

    def open_booking(self, booking: Booking) -> None:
        """Show ``booking`` in the side panel (a click on its block)."""
        if self.form.dirty() and (self.form.booking is None
                                  or self.form.booking.id != booking.id):
            self.form.show_message("Save or discard your changes first, then pick another "
                                   "booking.", "warn")
            return
        shown = self.form.booking
        self.panel_tabs.show()
        self.form.load(booking)
        if shown is None or shown.id != booking.id:
            self._fetch_guest(booking)
        self.refresh_history()
        self.grid.selected_id = booking.id
        self.grid.update()
        # Once the panel has taken its width: the block stays in view, not behind it.
        QTimer.singleShot(0, self._keep_shown_in_view)

    def _keep_shown_in_view(self) -> None:
        if self.grid.selected_id:
            self.grid.keep_in_view(self.floor_area, self.grid.selected_id)

    def move_booking(self, booking: Booking, table_no: int | None, start: datetime) -> None:
        """A block dropped on another table or time: saved as an edit of the version shown."""
        shop = self.ctx.shop
        if shop is None:
            return
        draft = dataclasses.replace(booking.draft(), table_no=table_no, start_at=start)
        errors = validate_booking(draft, now=datetime.now(UTC),
                                  stored_start=lambda: booking.start_at)
        if errors:
            self._say(f"{booking.customer_name} was not moved: " + " ".join(errors.values()))
            return
        if self.form.dirty():
            self._say("Save or discard the changes in the side panel first, then move.")
            return
        self.open_booking(booking)
        table = self.day.plan.table(table_no) if self.day else None
        where = table.name if table is not None else "no table"
        self._run_save(lambda _s: shop.update_booking(booking.id, booking.version, draft),
                       lambda b: self._saved(b, f"Moved {b.customer_name} to {where}, "
                                                f"{when_text(b.start_at)}."), "floor-move")

    def save(self, draft: BookingDraft) -> None:
        """The side panel's Save: an edit of the booking it holds."""
        booking = self.form.booking
        if self.ctx.shop is None or booking is None:
            return
        errors = validate_booking(draft, now=datetime.now(UTC),
                                  stored_start=lambda: booking.start_at)
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_feedback()
        self._save_over(booking.id, booking.version, draft)

    def walk_in(self) -> None:
        """Walk-in: choose covers and a free table, seated now in one step."""
        if self.day is None or not self.day.plan.has_tables:
            return
        dialog = WalkInDialog(self.day, self.clock(), parent=self)
        self.walk_in_dialog = dialog
        dialog.sig_seat.connect(self._seat_walk_in)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def add_to_waitlist(self, draft: WaitlistDraft) -> None:
        """The panel's Add: the party goes on the list, quoted ``draft.quoted_minutes``."""
        shop = self.ctx.shop
        if shop is None:
            return
        box = self.waitlist_box

        def added(party: WaitingParty) -> None:
            box.clear_form()
            said = (f"Added {isolated(party.name)} ({party.covers}) to the waitlist, quoted "
                    f"{party.quoted_minutes} min.")
            box.show_message(said)
            self._say(said)
            self._load_waitlist(choose=party.id)

        self.ctx.tasks.run(lambda _s: shop.add_to_waitlist(draft), owner=self, on_success=added,
                           on_failure=lambda e: self._waitlist_failed(e, "Not added"),
                           name="waitlist-add")

    def seat_waiting(self, party: WaitingParty) -> None:
        """The panel's Seat: a free table that fits, chosen as for a walk-in, then seated."""
        if self.day is None or not self.day.plan.has_tables:
            return
        dialog = WalkInDialog(self.day, self.clock(), parent=self, party=party)
        self.walk_in_dialog = dialog
        dialog.sig_seat.connect(lambda d: self._seat_waiting(party, d.table_no))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def remove_waiting(self, party: WaitingParty) -> None:
        """The panel's Remove (asked there first): the party leaves the list."""
        shop = self.ctx.shop
        if shop is None:
            return

        def removed(gone: WaitingParty) -> None:
            said = removed_text(gone)
            self.waitlist_box.show_message(said)
            self._say(said)
            self._load_waitlist()

        self.ctx.tasks.run(lambda _s: shop.remove_from_waitlist(party.id), owner=self,
                           on_success=removed,
                           on_failure=lambda e: self._waitlist_failed(e, "Not removed"),
                           name="waitlist-remove")

    # -- loading -------------------------------------------------------------------------

    def _tick(self) -> None:
        """A minute on: the now-line and the waitlist's waiting times move."""
        self.grid.set_now(self._now())
        self.waitlist_box.set_now(self.clock())

    def _load_waitlist(self, choose: int | None = None) -> None:
        shop = self.ctx.shop
        if shop is None:
            self.waitlist_box.show_unavailable("No shop back end: no waitlist.")
            return
        tz = datetime.now().astimezone().tzinfo
        since = datetime.combine(self._today(), time(0), tzinfo=tz)

        def shown(waitlist: Waitlist) -> None:
            self.waitlist_box.show_waitlist(waitlist, self.clock())
            if choose is not None:
                self.waitlist_box.choose(choose)
            self.sig_waitlist.emit(waitlist)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Unsupported):
                self.waitlist_box.show_unavailable(str(exc))
            else:
                self.waitlist_box.show_message(
                    "The waitlist could not be read: " + error_text(exc, self.location()),
                    "fail")

        self.ctx.tasks.run(lambda _s: shop.waitlist(since), owner=self, on_success=shown,
                           on_failure=failed, name="waitlist")

    def _seat_waiting(self, party: WaitingParty, table_no: int | None) -> None:
        shop = self.ctx.shop
        if shop is None or table_no is None:
            return
        table = self.day.plan.table(table_no) if self.day else None
        where = table.name if table is not None else f"table {table_no}"

        def seated(result: tuple[WaitingParty, Booking]) -> None:
            left, booking = result
            self._show_stored(booking)
            self.open_booking(booking)
            said = seated_text(left, where)
            self.waitlist_box.show_message(said)
            self.form.show_message(said)
            self._say(said)
            self.sig_saved.emit(booking)
            self._load_waitlist()

        self.ctx.tasks.run(lambda _s: shop.seat_from_waitlist(party.id, table_no), owner=self,
                           on_success=seated,
                           on_failure=lambda e: self._waitlist_failed(e, "Not seated"),
                           name="waitlist-seat")

    def _waitlist_failed(self, exc: BaseException, what: str) -> None:
        if isinstance(exc, Conflict):  # another host seated or removed the party first
            theirs: WaitingParty = exc.theirs
            done = ("seated {}" if theirs.state is WaitState.SEATED else "took {} off the list")
            text = f"{what}: someone else already {done.format(isolated(theirs.name))}."
            self.waitlist_box.show_message(text, "warn")
            self._load_waitlist()
            return
        if isinstance(exc, ValidationFailed):
            self.waitlist_box.show_message(f"{what}: " + " ".join(exc.errors.values()), "fail")
            return
        self.waitlist_box.show_message(f"{what}: " + error_text(exc, self.location()), "fail")

    def _today(self) -> date:
        return self.clock().astimezone().date()

    def _now(self) -> datetime | None:
        return self.clock() if self.shown_day() == self._today() else None

    def _loaded(self, day: FloorDay) -> None:
        self.notice.clear()
        other_day = self.day is None or self.day.start != day.start
        self.day = day
        self._tables_known(day.plan.tables)
        self.bookings = [s.booking for seats in day.seatings.values() for s in seats]
        self.bookings += [s.booking for s in day.unassigned]
        self._draw(other_day)
        self.sig_loaded.emit(day)

    def _draw(self, other_day: bool = False) -> None:
        """Draw :attr:`day`; ``other_day`` when it was not the day shown before (another day
        than today then opens at its start, not at the hour today was scrolled to)."""
        day = self.day
        assert day is not None
        today = self.shown_day() == self._today()
        set_primary_enabled(self.walk_in_button, today and day.plan.has_tables)
        self.waitlist_box.set_seating(
            today and day.plan.has_tables,
            "" if today and day.plan.has_tables else
            "Parties are seated today: go to Today" if day.plan.has_tables else
            "This shop keeps no tables to seat them at")
        self.walk_in_button.setToolTip("Seat a party without a booking now" if today
                                       else "Walk-ins are seated today: go to Today")
        if not day.plan.has_tables:
            self._show_empty(NO_TABLES)
            set_plain_text(self.summary, "No tables")
            return
        self.stack.setCurrentWidget(self.floor_area)
        now = self._now()
        self.grid.set_day(day, now)
        covers = sum(s.covers for s in day.slots)
        over = sum(1 for s in day.slots if s.over)
        parts = [f"{len(day.plan.tables)} tables, {day.plan.seats} seats",
                 f"{covers} covers booked"]
        if now is not None and day.start <= now < day.end:
            parts.append(f"{len(day.free_at(now))} tables free now")
        else:  # what the green labels say outside the service: no booking all day
            idle = sum(1 for t in day.plan.tables if not day.seatings.get(t.number))
            parts.append(f"{idle} tables without a booking")
        if over:
            parts.append(f"{over} slot{'s' if over != 1 else ''} over the covers limit")
        if day.problems:
            parts.append(f"{day.problems} to fix (double-booked or too small)")
        if day.unassigned:
            parts.append(f"{len(day.unassigned)} without a table")
        set_plain_text(self.summary, " · ".join(parts))
        bar = self.floor_area.horizontalScrollBar()
        viewport = self.floor_area.viewport()
        if bar is None or viewport is None:
            return
        if now is not None and not self.grid.selected_id:
            # The now-line in view, with the two hours before it (the labels scroll away
            # only when the evening is wider than the window).
            bar.setValue(max(0, int(self.grid.x_of(now + timedelta(hours=2)))
                             - viewport.width()))
        elif now is None and other_day:
            bar.setValue(0)

    def _failed(self, exc: BaseException) -> None:
        self.show_failure(exc)
        set_plain_text(self.summary, "Not loaded")
        if self.day is None:
            self._show_empty(f"The floor could not be loaded ({error_text(exc, self.location())})."
                             " Press F5 to try again.")

    def _show_empty(self, text: str) -> None:
        set_plain_text(self.empty, text)
        self.stack.setCurrentWidget(self.empty)
        set_primary_enabled(self.walk_in_button, False)

    # -- saving ----------------------------------------------------------------------------

    def _show_stored(self, record: Booking) -> None:
        """A stored booking redrawn where it now stands (or off the floor: another day)."""
        self.bookings = [b for b in self.bookings if b.id != record.id]
        tz = datetime.now().astimezone().tzinfo
        assert tz is not None
        if record.start_at.astimezone(tz).date() == self.shown_day():
            self.bookings.append(record)
        if self.day is not None:
            self.day = lay_out(self.day.plan, self.bookings, self.shown_day(), tz)
            self.grid.selected_id = record.id
            self._draw()
            QTimer.singleShot(0, self._keep_shown_in_view)  # where it moved to, in view

    def _saved(self, record: Booking, message: str = "Saved.") -> None:
        super()._saved(record, message)
        self._say(message)

    def _save_over(self, record_id: int, version: int, draft: BookingDraft) -> None:
        shop = self.ctx.shop
        self._run_save(lambda _s: shop.update_booking(record_id, version, draft), self._saved,
                       "floor-save")

    def _seat_walk_in(self, draft: BookingDraft) -> None:
        shop = self.ctx.shop
        if shop is None:
            return
        table = self.day.plan.table(draft.table_no) if self.day else None
        where = table.name if table is not None else "a table"

        def seated(b: Booking) -> None:
            self._show_stored(b)
            self.open_booking(b)
            self.form.show_message(f"Seated {b.customer_name} ({b.party_size}) at {where}.")
            self._say(f"Seated {b.customer_name}, {b.party_size} covers, at {where} now.")
            self.sig_saved.emit(b)

        self.ctx.tasks.run(lambda _s: shop.seat_walk_in(draft), owner=self, on_success=seated,
                           on_failure=lambda e: self._say(
                               "The walk-in was not seated: " + error_text(e, self.location())),
                           name="floor-walk-in")

    def _say(self, text: str) -> None:
        set_plain_text(self.said, text)

    def _step_day(self, days: int) -> None:
        self.day_edit.setDate(self.day_edit.date().addDays(days))

    # -- shown and hidden ------------------------------------------------------------------

    def showEvent(self, event: QShowEvent | None) -> None:
        """Opened: the day as it is now; the now-line moves every minute while shown."""
        QWidget.showEvent(self, event)
        self._now_timer.start()
        if self.day is not None:
            self.refresh()

    def hideEvent(self, event: QHideEvent | None) -> None:
        QWidget.hideEvent(self, event)
        self._now_timer.stop()

