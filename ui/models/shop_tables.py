"""The bookings, orders and products tables: their columns over the paged model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject

from console.shop import (
    Booking,
    BookingQuery,
    BookingSort,
    Order,
    OrderQuery,
    OrderSort,
    Product,
    ProductQuery,
    ProductSort,
    iso_z,
)
from ui.models.formatting import (
    BOOKING_STATES,
    ORDER_STATES,
    money,
    short_when,
    stock_state,
    when_text,
)
from ui.models.list_source import Column, ListSource
from ui.models.paged import PagedTableModel
from ui.theme import WARN
from ui.worker import TaskRunner

ShopGetter = Callable[[], Any]
"""Returns the current shop repository (or None); read each time, so a profile switch shows."""

BOOKING_COLUMNS: tuple[Column[Booking], ...] = (
    Column("When", lambda b: when_text(b.start_at), sort=BookingSort.START_AT.value,
           export=lambda b: iso_z(b.start_at), width=170),
    Column("Guest", lambda b: b.customer_name, sort=BookingSort.CUSTOMER_NAME.value, width=180),
    Column("Phone", lambda b: b.phone, width=140),
    Column("Party", lambda b: str(b.party_size), numeric=True, export=lambda b: b.party_size,
           width=60),
    Column("Table", lambda b: str(b.table_no) if b.table_no else "—", numeric=True,
           export=lambda b: b.table_no or "", width=60),
    Column("Status", lambda b: b.status.label, state=lambda b: BOOKING_STATES[b.status],
           export=lambda b: b.status.value, width=110),
    Column("Notes", lambda b: b.notes.replace("\n", " "), tooltip=lambda b: b.notes,
           export=lambda b: b.notes),
)

ORDER_COLUMNS: tuple[Column[Order], ...] = (
    Column("Order", lambda o: f"#{o.id}", numeric=True, export=lambda o: o.id, width=80),
    Column("Placed", lambda o: short_when(o.placed_at), sort=OrderSort.PLACED_AT.value,
           export=lambda o: iso_z(o.placed_at), width=130),
    Column("Customer", lambda o: o.customer_name, width=200),
    Column("Items", lambda o: str(o.item_count), numeric=True, export=lambda o: o.item_count,
           width=60),
    Column("Total", lambda o: money(o.total_cents), numeric=True, sort=OrderSort.TOTAL.value,
           export=lambda o: f"{o.total_cents / 100:.2f}", width=100),
    Column("Status", lambda o: o.status.label, state=lambda o: ORDER_STATES[o.status],
           export=lambda o: o.status.value, width=110),
)

PRODUCT_COLUMNS: tuple[Column[Product], ...] = (
    Column("SKU", lambda p: p.sku, sort=ProductSort.SKU.value, descending_only_ok=False,
           width=100),
    Column("Name", lambda p: p.name, sort=ProductSort.NAME.value, width=240),
    Column("Category", lambda p: p.category, width=130),
    Column("Price", lambda p: money(p.price_cents), numeric=True, sort=ProductSort.PRICE.value,
           export=lambda p: f"{p.price_cents / 100:.2f}", width=90),
    Column("Stock", lambda p: str(p.stock), numeric=True, sort=ProductSort.STOCK.value,
           state=stock_state, export=lambda p: p.stock,
           tooltip=lambda p: (f"Low: reorder (at or under {p.low_stock_threshold})"
                              if p.is_low_stock else ""), width=80),
    Column("Low at", lambda p: str(p.low_stock_threshold), numeric=True,
           export=lambda p: p.low_stock_threshold, width=70),
    Column("On sale", lambda p: "Yes" if p.active else "No", state=lambda p: (
        None if p.active else "stale"), export=lambda p: p.active, width=80),
)


def booking_source(shop: ShopGetter) -> Callable[[], ListSource[Booking, BookingQuery] | None]:
    def make() -> ListSource[Booking, BookingQuery] | None:
        repo = shop()
        if repo is None:
            return None
        return ListSource(lambda q, after, limit: repo.list_bookings(q, after=after, limit=limit),
                          lambda q, exact: repo.count_bookings(q, exact=exact),
                          repo.seek_bookings, bool(repo.can_seek), lambda b: b.id)
    return make


def order_source(shop: ShopGetter) -> Callable[[], ListSource[Order, OrderQuery] | None]:
    def make() -> ListSource[Order, OrderQuery] | None:
        repo = shop()
        if repo is None:
            return None
        return ListSource(lambda q, after, limit: repo.list_orders(q, after=after, limit=limit),
                          lambda q, exact: repo.count_orders(q, exact=exact),
                          repo.seek_orders, bool(repo.can_seek), lambda o: o.id)
    return make


def product_source(shop: ShopGetter) -> Callable[[], ListSource[Product, ProductQuery] | None]:
    def make() -> ListSource[Product, ProductQuery] | None:
        repo = shop()
        if repo is None:
            return None
        return ListSource(lambda q, after, limit: repo.list_products(q, after=after, limit=limit),
                          lambda q, exact: repo.count_products(q, exact=exact),
                          repo.seek_products, bool(repo.can_seek), lambda p: p.id)
    return make


class BookingsTableModel(PagedTableModel[Booking, BookingQuery]):
    """Bookings, sorted and filtered by the server, a page at a time."""

    def __init__(self, tasks: TaskRunner, shop: ShopGetter, query: BookingQuery | None = None,
                 *, page_size: int = 200, max_pages: int = 40,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, BOOKING_COLUMNS, booking_source(shop), query or BookingQuery(),
                         page_size=page_size, max_pages=max_pages, parent=parent)


class OrdersTableModel(PagedTableModel[Order, OrderQuery]):
    """Orders, newest first by default, a page at a time."""

    def __init__(self, tasks: TaskRunner, shop: ShopGetter, query: OrderQuery | None = None,
                 *, page_size: int = 200, max_pages: int = 40,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, ORDER_COLUMNS, order_source(shop), query or OrderQuery(),
                         page_size=page_size, max_pages=max_pages, parent=parent)


class ProductsTableModel(PagedTableModel[Product, ProductQuery]):
    """Products; rows at or under their low-stock threshold are tinted amber."""

    def __init__(self, tasks: TaskRunner, shop: ShopGetter, query: ProductQuery | None = None,
                 *, page_size: int = 200, max_pages: int = 40,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, PRODUCT_COLUMNS, product_source(shop), query or ProductQuery(),
                         page_size=page_size, max_pages=max_pages, parent=parent)
        self.set_row_background(lambda p: WARN if p.is_low_stock else None)
