"""The Floor's Waitlist panel: parties waiting for a table, add, seat, remove, today's wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PyQt6.QtCore import QItemSelectionModel, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QWidget,
)

from console.shop_rules import NAME_MAX, PARTY_SIZE_MAX, PARTY_SIZE_MIN, PHONE_MAX
from console.waitlist import QUOTED_MAX, WaitingParty, Waitlist, WaitlistDraft, validate_waiting
from ui.models.list_table import ListColumn, ListTableModel
from ui.pages.shop_widgets import card_layout, message_label, set_message, set_primary_enabled
from ui.plain_text import isolated, plain_label, set_plain_text


def minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def average_text(waitlist: Waitlist) -> str:
    """'Average wait today: 18 min (5 seated)', or that nobody was seated from it yet."""
    average = waitlist.average_wait()
    seated = len(waitlist.seated_today)
    if average is None:
        return "Average wait today: nobody seated from the list yet"
    return f"Average wait today: {minutes(average)} min ({seated} seated)"


class WaitlistBox(QFrame):
    """The list of parties waiting now, oldest first, how long each has waited against the
    wait they were quoted, and today's average actual wait (added to seated).

    It asks nothing of the shop itself: the page loads the list, runs what the buttons ask
    for, and hands the answers back.
    """

    sig_add = pyqtSignal(object)
    """Emitted with a valid :class:`WaitlistDraft` when Add is pressed."""
    sig_seat = pyqtSignal(object)
    """Emitted with the :class:`WaitingParty` to seat (the page picks the table)."""
    sig_remove = pyqtSignal(object)
    """Emitted with the :class:`WaitingParty` to take off, once the user said yes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = card_layout(self, 280)
        title = plain_label("Waitlist")
        title.setObjectName("cardTitle")
        layout.addWidget(title)
        self.summary = plain_label("Loading…")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.average = plain_label()
        self.average.setObjectName("muted")
        self.average.setWordWrap(True)
        layout.addWidget(self.average)

        self.now = datetime.now(UTC)
        self.waitlist: Waitlist | None = None
        self.model: ListTableModel[WaitingParty] = ListTableModel(self._columns(), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()  # type: ignore[union-attr]
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.seat_button = QPushButton("Seat…")
        self.seat_button.setToolTip("Seat the chosen party now at a free table that fits")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the chosen party off the list")
        actions.addWidget(self.seat_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.confirm_label = plain_label()
        self.confirm_label.setWordWrap(True)
        self.confirm_no = QPushButton("No, keep them")
        self.confirm_yes = QPushButton("Yes, remove")
        confirm = QHBoxLayout()
        confirm.addStretch(1)
        confirm.addWidget(self.confirm_no)
        confirm.addWidget(self.confirm_yes)
        layout.addWidget(self.confirm_label)
        layout.addLayout(confirm)
        self._removing: WaitingParty | None = None

        add = QFormLayout()
        add.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(NAME_MAX + 20)
        self.name_edit.setPlaceholderText("Guest's name")
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(PHONE_MAX + 10)
        self.phone_edit.setPlaceholderText("to text them when ready")
        self.covers_spin = QSpinBox()
        self.covers_spin.setRange(PARTY_SIZE_MIN, PARTY_SIZE_MAX)
        self.covers_spin.setValue(2)

        self.quoted_spin = QSpinBox()
        self.quoted_spin.setRange(0, QUOTED_MAX)
        self.quoted_spin.setSingleStep(5)
        self.quoted_spin.setValue(20)
        self.quoted_spin.setSuffix(" min")
        self.add_button = QPushButton("Add to waitlist")
        self.add_button.setProperty("primary", True)
        add.addRow("Guest", self.name_edit)
        add.addRow("Phone", self.phone_edit)
        add.addRow("Covers", self.covers_spin)
        add.addRow("Quoted wait", self.quoted_spin)
        layout.addLayout(add)
        layout.addWidget(self.add_button)
        self.message = message_label()
        layout.addWidget(self.message)
        self.inputs: tuple[QWidget, ...] = (self.name_edit, self.phone_edit, self.covers_spin,
                                            self.quoted_spin, self.add_button, self.table)

        self.add_button.clicked.connect(self._add)
        self.name_edit.returnPressed.connect(self._add)
        self.seat_button.clicked.connect(self._seat)
        self.remove_button.clicked.connect(self._ask_remove)
        self.confirm_no.clicked.connect(self._hide_confirm)
        self.confirm_yes.clicked.connect(self._confirmed)
        selection = self.table.selectionModel()
        assert selection is not None
        selection.selectionChanged.connect(lambda *_: self._update_buttons())
        self.can_seat = False
        self.why_not_seat = ""
        self._hide_confirm()
        self._update_buttons()

    # -- what the page calls ----------------------------------------------------------------

    def show_waitlist(self, waitlist: Waitlist, now: datetime) -> None:
        """Show the list as read; the chosen party stays chosen while it still waits."""
        chosen = self.chosen()
        self.waitlist, self.now = waitlist, now
        for w in self.inputs:
            w.setEnabled(True)
        waiting = waitlist.waiting
        self.model.show_rows(waiting)
        if chosen is not None:
            for row, party in enumerate(waiting):
                if party.id == chosen.id:
                    self.table.selectRow(row)
        covers = sum(p.covers for p in waiting)
        set_plain_text(self.summary, f"{len(waiting)} waiting, {covers} covers" if waiting
                       else "Nobody waiting.")
        set_plain_text(self.average, average_text(waitlist))
        self._update_buttons()

    def set_now(self, now: datetime) -> None:
        """The clock moved on: the waiting times again (the same rows, no reset)."""
        self.now = now
        if self.waitlist is not None:
            self.model.update_rows(self.waitlist.waiting)

    def show_unavailable(self, reason: str) -> None:
        """This shop keeps no waitlist: the panel greyed, with the reason."""
        self.waitlist = None
        self.model.show_rows(())
        set_plain_text(self.summary, reason)
        set_plain_text(self.average, "")
        for w in (*self.inputs, self.seat_button, self.remove_button):
            w.setEnabled(False)
        self._hide_confirm()

    def set_seating(self, can_seat: bool, why_not: str = "") -> None:
        """Whether Seat can be pressed now (the floor shows today, with tables) and why not."""
        self.can_seat, self.why_not_seat = can_seat, why_not
        self._update_buttons()

    def show_message(self, text: str, kind: str = "ok") -> None:
        set_message(self.message, text, kind)
        self.message.show()

    def chosen(self) -> WaitingParty | None:
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return self.model.row_at(rows[0].row()) if rows else None

    def choose(self, party_id: int) -> None:
        """Select the party ``party_id`` in the list (as a click on its row does)."""
        for row, party in enumerate(self.model.all_rows()):
            if party.id == party_id:
                selection = self.table.selectionModel()
                assert selection is not None
                selection.select(self.model.index(row, 0),
                                 QItemSelectionModel.SelectionFlag.ClearAndSelect
                                 | QItemSelectionModel.SelectionFlag.Rows)

    def clear_form(self) -> None:
        self.name_edit.clear()
        self.phone_edit.clear()
        self.covers_spin.setValue(2)

    # -- internals ------------------------------------------------------------------------------

    def _columns(self) -> list[ListColumn[WaitingParty]]:
        return [
            ListColumn("Guest", lambda p: p.name,
                       tooltip=lambda p: f"{p.name} · {p.phone}" if p.phone else p.name),
            ListColumn("Covers", lambda p: str(p.covers), numeric=True, tabular=True),
            ListColumn("Waiting", self._waiting_text, numeric=True, tabular=True,
                       state=lambda p: "warn" if self._over(p) else "ok",
                       header_tooltip="Minutes on the list so far, of the wait quoted"),
        ]

    def _waiting_text(self, party: WaitingParty) -> str:
        waited = minutes(party.waited(self.now))
        return f"{waited} of {party.quoted_minutes} min" + (" ⚠" if self._over(party) else "")

    def _over(self, party: WaitingParty) -> bool:
        return party.waited(self.now) > timedelta(minutes=party.quoted_minutes)

    def _update_buttons(self) -> None:
        party = self.chosen()
        set_primary_enabled(self.seat_button, party is not None and self.can_seat)
        self.seat_button.setToolTip(self.why_not_seat if not self.can_seat else
                                    "Seat the chosen party now at a free table that fits")
        self.remove_button.setEnabled(party is not None)
        if party is None:
            self._hide_confirm()

    def _add(self) -> None:
        draft = WaitlistDraft(name=self.name_edit.text().strip(), covers=self.covers_spin.value(),
                              quoted_minutes=self.quoted_spin.value(),
                              phone=self.phone_edit.text().strip())
        errors = validate_waiting(draft)
        if errors:
            self.show_message(" ".join(errors.values()), "fail")
            return
        self.sig_add.emit(draft)

    def _seat(self) -> None:
        party = self.chosen()
        if party is not None and self.can_seat:
            self.sig_seat.emit(party)

    def _ask_remove(self) -> None:
        party = self.chosen()
        if party is None:
            return
        self._removing = party
        set_plain_text(self.confirm_label, f"Take {isolated(party.name)} ({party.covers}) off "
                                           "the waitlist?")
        for w in (self.confirm_label, self.confirm_no, self.confirm_yes):
            w.show()

    def _confirmed(self) -> None:
        party = self._removing
        self._hide_confirm()
        if party is not None:
            self.sig_remove.emit(party)

    def _hide_confirm(self) -> None:
        self._removing = None
        for w in (self.confirm_label, self.confirm_no, self.confirm_yes):
            w.hide()


def seated_text(party: WaitingParty, table_name: str) -> str:
    """'Seated Nia Wait, 3 covers, at D5 after 12 min (quoted 20).'"""
    waited = minutes(party.waited(party.seated_at or party.added_at))
    return (f"Seated {isolated(party.name)}, {party.covers} covers, at {table_name} after "
            f"{waited} min (quoted {party.quoted_minutes}).")


def removed_text(party: WaitingParty) -> str:
    waited = minutes(party.waited(party.removed_at or party.added_at))
    return (f"Took {isolated(party.name)} ({party.covers}) off the waitlist after {waited} "
            "min.")

