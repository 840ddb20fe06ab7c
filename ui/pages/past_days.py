"""The Past days page: bookings, covers, orders and sales per day and category, CSV export."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QDate, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QWidget,
)

from console.past_days import DayFigures, PastDays, check_range, csv_rows
from console.shop import BookingStatus, OrderStatus, ValidationFailed
from ui.context import AppContext
from ui.models.csv_export import write_rows
from ui.models.formatting import money
from ui.models.list_table import ListColumn, ListTableModel
from ui.pages.shop_list_page import ask_csv_path
from ui.pages.shop_page import ShopPage
from ui.pages.shop_texts import NO_BACKEND
from ui.pages.shop_widgets import header_button
from ui.plain_text import plain_label, set_plain_text

DAY_COLUMNS: tuple[ListColumn[DayFigures], ...] = (
    ListColumn("Day", lambda d: d.day.strftime("%a %d %b %Y"), sort_key=lambda d: d.day),
    ListColumn("Bookings", lambda d: f"{d.booking_count:,}", sort_key=lambda d: d.booking_count,
               numeric=True, tabular=True),
    ListColumn("Covers booked", lambda d: f"{d.booked_covers:,}",
               sort_key=lambda d: d.booked_covers, numeric=True, tabular=True,
               header_tooltip="Covers of bookings confirmed or seated (still to come, or "
                              "come); no-shows and cancels are counted apart"),
    ListColumn("Seated", lambda d: f"{d.bookings.get(BookingStatus.SEATED, 0):,}",
               numeric=True, tabular=True),
    ListColumn("No-shows", lambda d: _with_covers(d, BookingStatus.NO_SHOW), numeric=True,
               tabular=True, header_tooltip="Bookings (covers) that did not come"),
    ListColumn("Cancelled", lambda d: _with_covers(d, BookingStatus.CANCELLED), numeric=True,
               tabular=True),
    ListColumn("Orders", lambda d: f"{d.order_count:,}", sort_key=lambda d: d.order_count,
               numeric=True, tabular=True),
    ListColumn("Revenue", lambda d: money(d.revenue_cents), sort_key=lambda d: d.revenue_cents,
               numeric=True, tabular=True,
               header_tooltip="Orders paid, preparing, ready or completed"),
    ListColumn("Refunded", lambda d: money(d.order_cents.get(OrderStatus.REFUNDED, 0)),
               numeric=True, tabular=True),
    ListColumn("Cancelled orders", lambda d: f"{d.orders.get(OrderStatus.CANCELLED, 0):,}",
               numeric=True, tabular=True),
)


def _with_covers(d: DayFigures, status: BookingStatus) -> str:
    n = d.bookings.get(status, 0)
    return f"{n:,} ({d.covers.get(status, 0):,})" if n else "0"


def category_columns(total: int) -> tuple[ListColumn[tuple[str, int]], ...]:
    return (
        ListColumn("Category", lambda c: c[0]),
        ListColumn("Sales", lambda c: money(c[1]), sort_key=lambda c: c[1], numeric=True,
                   tabular=True),
        ListColumn("Share", lambda c: f"{100 * c[1] / total:.1f} %" if total else "–",
                   sort_key=lambda c: c[1], numeric=True, tabular=True),
    )


def _table(model: ListTableModel[Any]) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    vheader = view.verticalHeader()
    assert vheader is not None
    vheader.hide()
    header = view.horizontalHeader()
    assert header is not None
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    return view


class PastDaysPage(ShopPage):
    """A date range's days: bookings and covers by status, orders and revenue, sales by
    product category; Export CSV… writes the same figures."""

    title = "Past days"

    sig_loaded = pyqtSignal(object)
    """Emitted with the :class:`PastDays` each time a report is shown."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.report: PastDays | None = None
        self._task: Any = None
        bar = QHBoxLayout()
        today = date.today()
        self.from_edit = self._date_edit(today - timedelta(days=6))
        self.to_edit = self._date_edit(today)
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.from_edit)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.to_edit)
        for days, label in ((7, "Last 7 days"), (30, "Last 30 days")):
            bar.addWidget(header_button(label, partial(self.set_last_days, days)))
        bar.addWidget(header_button("Last month", self.set_last_month))
        bar.addStretch(1)
        self.outer.addLayout(bar)
        self.export_button = header_button("Export CSV…", self._ask_export,
                                           tooltip="Save these days' figures as CSV")
        self.head.addWidget(self.export_button)
        self.summary = plain_label()
        self.summary.setWordWrap(True)
        self.outer.addWidget(self.summary)

        self.days_model: ListTableModel[DayFigures] = ListTableModel(DAY_COLUMNS, self)
        self.category_model: ListTableModel[tuple[str, int]] = ListTableModel(
            category_columns(0), self)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.days_table = _table(self.days_model)
        self.category_table = _table(self.category_model)
        split.addWidget(self.days_table)
        split.addWidget(self.category_table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([1050, 330])
        self.outer.addWidget(split, 1)
        self.from_edit.dateChanged.connect(self.refresh)
        self.to_edit.dateChanged.connect(self.refresh)
        self.export_button.setEnabled(False)
        self.refresh()

    # -- public ------------------------------------------------------------------------

    def set_range(self, first: date, last: date) -> None:
        for edit, day in ((self.from_edit, first), (self.to_edit, last)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.refresh()

    def set_last_days(self, days: int) -> None:
        today = date.today()
        self.set_range(today - timedelta(days=days - 1), today)

    def set_last_month(self) -> None:
        last = date.today().replace(day=1) - timedelta(days=1)
        self.set_range(last.replace(day=1), last)

    def refresh(self) -> None:
        """Read the range's figures off the GUI thread."""
        shop = self.ctx.shop
        if shop is None:
            self.notice.show_text(NO_BACKEND, "warn")
            return
        first, last = self.from_edit.date().toPyDate(), self.to_edit.date().toPyDate()
        try:
            check_range(first, last)
        except ValidationFailed as exc:
            self.notice.show_text(" ".join(exc.errors.values()), "warn")
            return
        if self._task is not None:
            self._task.cancel()
        set_plain_text(self.summary, "Loading…")
        self._task = self.ctx.tasks.run(lambda _s: shop.past_days(first, last), owner=self,
                                        on_success=self._show, on_failure=self._failed,
                                        name="past-days")

    def export_csv(self, path: Path) -> None:
        """Write the shown report as CSV (a row a day, then the total) and say where."""
        if self.report is None:
            return
        try:
            written = write_rows(path, csv_rows(self.report))
        except OSError as exc:
            self.notice.show_text(f"Could not save the CSV: {exc}", "fail")
            return
        self.notice.show_text(f"Saved {written - 1} days and their total to {path}.", "info")

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _date_edit(day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("ddd d MMM yyyy")
        return edit

    def _show(self, report: PastDays) -> None:
        self._task = None
        self.report = report
        self.notice.clear()
        self.days_model.show_rows(report.days)
        totals = report.category_totals
        total = sum(totals.values())
        self.category_model.show_rows([(c, totals[c]) for c in report.categories],
                                      category_columns(total))
        set_plain_text(self.summary, self._summary(report))
        self.export_button.setEnabled(True)
        self.sig_loaded.emit(report)

    def _summary(self, report: PastDays) -> str:
        t = report.total()
        span = f"{report.first.strftime('%a %d %b')} to {report.last.strftime('%a %d %b %Y')}"
        no_shows = t.bookings.get(BookingStatus.NO_SHOW, 0)
        zone = f" Days are the shop's ({report.zone})." if report.zone else ""
        return (f"{span}: {t.booking_count:,} bookings, {t.booked_covers:,} covers booked, "
                f"{no_shows:,} no-shows ({t.covers.get(BookingStatus.NO_SHOW, 0):,} covers), "
                f"{t.bookings.get(BookingStatus.CANCELLED, 0):,} cancelled; "
                f"{t.order_count:,} orders, {money(t.revenue_cents)} revenue.{zone}")

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        set_plain_text(self.summary, "")
        self.export_button.setEnabled(self.report is not None)
        self.show_failure(exc)

    def _ask_export(self) -> None:
        if self.report is None:
            return
        name = f"past-days-{self.report.first.isoformat()}-to-{self.report.last.isoformat()}.csv"
        path = ask_csv_path(self, name)
        if path is not None:
            self.export_csv(path)
