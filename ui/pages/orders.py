"""The Orders page: filter by status and date, an order's lines, moves along allowed statuses."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from PyQt6.QtCore import QDate, QModelIndex, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from console.shop import (
    BackendUnavailable,
    Conflict,
    NotFound,
    Order,
    OrderDetail,
    OrderQuery,
    OrderStatus,
    ValidationFailed,
)
from console.shop_access import EntityAccess
from console.shop_rules import allowed_order_transitions
from ui.context import AppContext
from ui.models.formatting import ORDER_ACTIONS, ORDER_STATES, money, when_text
from ui.models.shop_tables import OrdersTableModel
from ui.pages.shop_list_page import ShopListPage, local_midnight
from ui.pages.shop_texts import error_text
from ui.pages.shop_widgets import (
    card_layout,
    message_label,
    panel_head,
    search_box,
    set_message,
    show_chip,
)
from ui.plain_text import isolated, plain_label, plain_tooltip, set_plain_text
from ui.theme import tabular_font

log = logging.getLogger(__name__)

TODAY, LAST_7, LAST_30, ONE_DAY, ALL_TIME = "today", "7d", "30d", "day", "all"
RANGES = ((TODAY, "Today"), (LAST_7, "Last 7 days"), (LAST_30, "Last 30 days"),
          (ONE_DAY, "One day"), (ALL_TIME, "All time"))
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PREPARING,
                  OrderStatus.READY})
STATUS_FILTERS: tuple[tuple[str, frozenset[OrderStatus]], ...] = (
    ("All statuses", frozenset()),
    ("Open (pending to ready)", OPEN),
    *((s.label, frozenset({s})) for s in OrderStatus),
)
PICK_HINT = "Pick an order in the list to see its lines and move it on."
# Moves that give money back or drop the order ask once more before they happen.
CONFIRM = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})


class OrderPanel(QFrame):
    """The side panel: an order's customer, lines, total and the moves it may make next."""

    sig_move = pyqtSignal(object)
    """Emitted with the :class:`OrderStatus` to move the shown order to (already confirmed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        """Why no order can move here (the shop's table has no version column), or None."""
        self.returns_stock = True
        """Whether a cancel puts the items back (not on a shop's own, mapped tables)."""
        layout = card_layout(self, 360)
        self.detail: OrderDetail | None = None
        self.access = EntityAccess()
        self._confirming: OrderStatus | None = None
        self.heading, self.status_chip, self.summary = panel_head(layout, "No order selected",
                                                                  PICK_HINT)
        self.items = QTableWidget(0, 4)
        self.items.setHorizontalHeaderLabels(["Product", "Qty", "Unit", "Line"])
        self.items.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        vheader = self.items.verticalHeader()
        assert vheader is not None
        vheader.hide()
        header = self.items.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in (1, 2, 3):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.items.hide()
        layout.addWidget(self.items)
        self.total = QLabel()
        self.total.setFont(tabular_font())
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.total)
        self.actions_label = QLabel("Next:")
        self.actions_label.hide()
        layout.addWidget(self.actions_label)
        self.actions_row = QHBoxLayout()
        self.action_buttons: dict[OrderStatus, QPushButton] = {}
        for status in OrderStatus:
            if status is OrderStatus.PENDING:
                continue
            button = QPushButton(ORDER_ACTIONS[status])
            button.hide()
            button.clicked.connect(lambda _=False, s=status: self._asked(s))
            self.action_buttons[status] = button
            self.actions_row.addWidget(button)
        self.actions_row.addStretch(1)
        layout.addLayout(self.actions_row)
        confirm = QHBoxLayout()
        self.confirm_label = plain_label()
        self.confirm_label.setWordWrap(True)
        self.confirm_yes = QPushButton("Yes")
        self.confirm_no = QPushButton("No, keep it")
        for w in (self.confirm_label, self.confirm_yes, self.confirm_no):
            w.hide()
        confirm.addWidget(self.confirm_label, 1)
        confirm.addWidget(self.confirm_no)
        confirm.addWidget(self.confirm_yes)
        layout.addLayout(confirm)
        self.confirm_yes.clicked.connect(self._confirmed)
        self.confirm_no.clicked.connect(self._hide_confirm)
        self.message = message_label()
        layout.addWidget(self.message)
        layout.addStretch(1)

    def show_detail(self, detail: OrderDetail) -> None:
        self.detail = detail
        order = detail.order
        self.heading.setText(f"Order #{order.id}")
        show_chip(self.status_chip, order.status.label, ORDER_STATES[order.status])
        set_plain_text(self.summary, f"{isolated(order.customer_name or 'No name')} · placed "
                                     f"{when_text(order.placed_at)}")
        self.items.setRowCount(len(detail.items))
        for row, item in enumerate(detail.items):
            cells = (f"{item.product_name}  ({item.sku})" if item.sku else item.product_name,
                     str(item.quantity), money(item.unit_price_cents), money(item.line_cents))
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight |
                                          Qt.AlignmentFlag.AlignVCenter)
                    cell.setFont(tabular_font())
                self.items.setItem(row, col, cell)
        self.items.setVisible(bool(detail.items))
        # As tall as its lines (up to 12), so the total and the moves sit right under them.
        rows_height = sum(self.items.rowHeight(r) for r in range(min(12, len(detail.items))))
        header = self.items.horizontalHeader()
        self.items.setFixedHeight(rows_height + (header.height() if header else 24) + 4)
        self.total.setText(f"Total {money(order.total_cents)}")
        allowed = allowed_order_transitions(order.status)
        can_move = self.access.can_edit("status")
        for status, button in self.action_buttons.items():
            button.setVisible(status in allowed)
            button.setEnabled(can_move)
            button.setToolTip("" if can_move else plain_tooltip(self.access.why_not("status")))
        self.actions_label.setVisible(bool(allowed))
        self.actions_label.setText("Next:" if allowed else "")
        if not allowed:
            self.show_message(f"A {order.status.label.lower()} order cannot change any more.",
                              "")
        self._hide_confirm()

    def clear(self) -> None:
        self.detail = None
        self.heading.setText("No order selected")
        self.status_chip.hide()
        self.summary.setText(PICK_HINT)
        self.items.setRowCount(0)
        self.items.hide()
        self.total.setText("")
        for button in self.action_buttons.values():
            button.hide()
        self.actions_label.hide()
        self._hide_confirm()
        self.message.hide()

    def allowed_actions(self) -> list[str]:
        """The labels of the moves offered now (what a user can click)."""
        return [b.text() for b in self.action_buttons.values() if b.isVisibleTo(self)]

    def show_message(self, text: str, kind: str = "ok") -> None:
        set_message(self.message, text, kind)
        self.message.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        for button in self.action_buttons.values():
            button.setEnabled(not busy and self.access.can_edit("status"))
        self.confirm_yes.setEnabled(not busy)

    def _asked(self, status: OrderStatus) -> None:
        if status in CONFIRM and self.detail is not None:
            order = self.detail.order
            what = ("refund " + money(order.total_cents) + " to " +
                    isolated(order.customer_name or "the customer")
                    if status is OrderStatus.REFUNDED else
                    "cancel this order and put its items back in stock" if self.returns_stock
                    else "cancel this order (the shop's app keeps its own stock)")
            self._confirming = status
            set_plain_text(self.confirm_label, f"Really {what}?")
            self.confirm_yes.setText(ORDER_ACTIONS[status])
            for w in (self.confirm_label, self.confirm_yes, self.confirm_no):
                w.show()
            return
        self.sig_move.emit(status)

    def _confirmed(self) -> None:
        status = self._confirming
        self._hide_confirm()
        if status is not None:
            self.sig_move.emit(status)

    def _hide_confirm(self) -> None:
        self._confirming = None
        for w in (self.confirm_label, self.confirm_yes, self.confirm_no):
            w.hide()


class OrdersPage(ShopListPage[Order, OrderQuery]):
    """Orders by status and date; the chosen one's lines and its next moves on the right."""

    title = "Orders"
    noun = "order"
    entity = "orders"
    field_columns = {"customer_name": 2, "item_count": 3, "total_cents": 4}

    sig_saved = pyqtSignal(object)
    """Emitted with the :class:`OrderDetail` after a status change."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._detail_task: Any = None
        bar = QHBoxLayout()
        self.range_combo = QComboBox()
        for key, label in RANGES:
            self.range_combo.addItem(label, key)
        self.range_combo.setCurrentIndex(1)
        self.day_edit = QDateEdit(QDate.currentDate())
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("ddd d MMM yyyy")
        self.status_combo = QComboBox()
        for label, _ in STATUS_FILTERS:
            self.status_combo.addItem(label)
        self.search_edit = search_box("Search customer (Ctrl+F)")
        bar.addWidget(self.range_combo)
        bar.addWidget(self.day_edit)
        bar.addWidget(self.status_combo)
        bar.addSpacing(12)
        bar.addWidget(self.search_edit, 1)
        self.outer.addLayout(bar)
        self.add_export_button()

        self.panel = OrderPanel()
        self.add_list(OrdersTableModel(ctx.tasks, lambda: self.ctx.shop, self._query(),
                                       parent=self),
                      self.panel, panel_stretch=2, sizes=(820, 460))
        self.range_combo.currentIndexChanged.connect(self._range_changed)
        self.day_edit.dateChanged.connect(self._apply_filters)
        self.status_combo.currentIndexChanged.connect(self._apply_filters)
        self.panel.sig_move.connect(self.move_order)
        self.day_edit.setEnabled(False)
        self.refresh()

    def apply_access(self, shared: EntityAccess) -> None:
        self.panel.access = shared
        if self.panel.detail is not None:
            self.panel.show_detail(self.panel.detail)

    def refresh(self) -> None:
        """F5: list again with the same filters, and read the shown order again."""
        self.panel.returns_stock = getattr(self.ctx.shop, "cancel_returns_stock", True)
        super().refresh()
        if self.panel.detail is not None:  # _load_detail does nothing without a back end
            self._load_detail(self.panel.detail.order.id)

    def set_range(self, key: str) -> None:
        self.range_combo.setCurrentIndex([k for k, _ in RANGES].index(key))

    def set_status_filter(self, label: str) -> None:
        self.status_combo.setCurrentIndex([t for t, _ in STATUS_FILTERS].index(label))

    def move_order(self, status: OrderStatus) -> None:
        shop, detail = self.ctx.shop, self.panel.detail
        if shop is None or detail is None:
            return
        order = detail.order
        if self._detail_task is not None:
            self._detail_task.cancel()
            self._detail_task = None
        self.panel.set_busy(True)
        self.panel.show_message("")
        self.ctx.tasks.run(lambda _s: shop.set_order_status(order.id, order.version, status),
                           owner=self, on_success=self._moved,
                           on_failure=lambda exc: self._move_failed(exc, status),
                           name="order-status")

    # -- internals ------------------------------------------------------------------------

    def _query(self) -> OrderQuery:
        key = self.range_combo.currentData()
        today = date.today()
        start = end = None
        if key == TODAY:
            start, end = local_midnight(today), local_midnight(today + timedelta(days=1))
        elif key in (LAST_7, LAST_30):
            days = 7 if key == LAST_7 else 30
            start = local_midnight(today - timedelta(days=days - 1))
            end = local_midnight(today + timedelta(days=1))
        elif key == ONE_DAY:
            day = self.day_edit.date().toPyDate()
            start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        current = getattr(getattr(self, "model", None), "query", None) or OrderQuery()
        return OrderQuery(placed_from=start, placed_to=end,
                          statuses=STATUS_FILTERS[max(0, self.status_combo.currentIndex())][1],
                          search=self.search_edit.text().strip(), sort=current.sort,
                          descending=current.descending)

    def _range_changed(self) -> None:
        self.day_edit.setEnabled(self.range_combo.currentData() == ONE_DAY)
        self._apply_filters()

    def _describe_view(self) -> str:
        label = self.range_combo.currentText().lower()
        hints = []
        if self.search_edit.text().strip():
            hints.append("clear the search")
        if self.status_combo.currentIndex() > 0:
            hints.append("choose All statuses")
        hints.append("pick a longer time range")
        tried = (", ".join(hints[:-1]) + " or " if len(hints) > 1 else "") + hints[-1]
        search = " for this search" if self.search_edit.text().strip() else ""
        return f"No orders in {label}{search}. To see more, {tried}."

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        order = self.model.row_object(current.row()) if current.isValid() else None
        if order is not None:
            self._load_detail(order.id)

    def _load_detail(self, order_id: int) -> None:
        shop = self.ctx.shop
        if shop is None:
            return
        if self._detail_task is not None:
            self._detail_task.cancel()
        self._detail_task = self.ctx.tasks.run(
            lambda _s: shop.get_order(order_id), owner=self, on_success=self._detail_loaded,
            on_failure=lambda exc: self.panel.show_message(
                "Could not load this order. " + error_text(exc, self.location()), "fail"),
            name="order-detail")

    def _shown_record_id(self) -> int | None:
        return self.panel.detail.order.id if self.panel.detail is not None else None

    def _detail_loaded(self, detail: OrderDetail) -> None:
        self._detail_task = None
        shown = self.panel.detail
        if shown is not None and shown.order.id == detail.order.id \
                and shown.order.version > detail.order.version:
            return  # a status change landed after this read started
        self.panel.show_detail(detail)
        self.panel.show_message("")
        self.refresh_history()

    def _moved(self, detail: OrderDetail) -> None:
        self.panel.set_busy(False)
        self.panel.show_detail(detail)
        self.refresh_history()
        self.model.replace_row(detail.order)
        final = "" if allowed_order_transitions(detail.order.status) else \
            " It cannot change any more."
        self.panel.show_message(f"Order #{detail.order.id} is now "
                                f"{detail.order.status.label.lower()}.{final}")
        self.sig_saved.emit(detail)

    def _move_failed(self, exc: BaseException, wanted: OrderStatus) -> None:
        self.panel.set_busy(False)
        if isinstance(exc, Conflict):
            theirs: OrderDetail = exc.theirs
            self.panel.show_detail(theirs)
            self.model.replace_row(theirs.order)
            self.panel.show_message(
                f"Someone else changed order #{theirs.order.id} first: it is now "
                f"{theirs.order.status.label.lower()} (you wanted "
                f"{wanted.label.lower()}). Nothing was changed by you; the order is shown as "
                "it is now, choose again.", "warn")
        elif isinstance(exc, ValidationFailed):
            self.panel.show_message("Not changed: " + "; ".join(exc.errors.values()), "fail")
            if self.panel.detail is not None:
                self._load_detail(self.panel.detail.order.id)
        elif isinstance(exc, BackendUnavailable):
            self.show_failure(exc)
            self.panel.show_message("Not changed: " + error_text(exc, self.location()), "fail")
        elif isinstance(exc, NotFound):
            self.panel.show_message("This order is no longer there. Press F5 to reload.",
                                    "fail")
        else:
            log.exception("changing an order failed", exc_info=exc)
            self.panel.show_message("Not changed: " + error_text(exc, self.location()), "fail")
