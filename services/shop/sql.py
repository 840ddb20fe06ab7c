"""The shop repository on Backroom's own schema (SQLite, PostgreSQL, MySQL/MariaDB)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Row

from console.changes import Entity
from console.floor import FloorPlan
from console.guests import GuestHistory
from console.past_days import PastDays
from console.shop import (
    REVENUE_STATUSES,
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    NotFound,
    Order,
    OrderDetail,
    OrderItem,
    OrderQuery,
    OrderSort,
    OrderStatus,
    Page,
    Product,
    ProductDraft,
    ProductQuery,
    ProductSort,
    RowCount,
    TodayFigures,
    hour_buckets,
    naive_utc,
    utc,
)
from console.shop_rules import (
    check_booking,
    check_booking_transition,
    check_order_transition,
    check_product,
    check_restock,
    check_search,
)
from services.shop import sql_history, sql_reports, upcoming
from services.shop.schema import bookings, order_items, orders, products
from services.shop.sql_floor import read_floor
from services.shop.sql_history import LoggedChanges
from services.shop.sql_paging import ListSpec, aware, check_limit
from services.shop.sql_waitlist import SqlWaitlist

log = logging.getLogger(__name__)


class SqlShopRepository(LoggedChanges, SqlWaitlist):
    """:class:`~services.shop.repository.ShopRepository` on Backroom's own schema (``db init``).

    Versions are checked in the UPDATE itself (``WHERE id = ? AND version = ?``) and the row
    count tells whether someone else saved first. Every change is written to ``change_log``
    in the same transaction, as :attr:`user` (when the database has the table: 0004_change_log).
    """

    # ------------------------------------------------------------------ bookings

    def _booking_spec(self, query: BookingQuery) -> ListSpec:
        b = bookings.c
        sort = BookingSort(query.sort)
        sort_col = {BookingSort.START_AT: b.start_at,
                    BookingSort.CUSTOMER_NAME: b.customer_name}[sort]
        base = select(bookings, sort_col.label("_sort"), b.id.label("_id"))
        return ListSpec(bookings, base, self._booking_where(query), sort.value, sort_col, b.id,
                         query.descending, sort is BookingSort.START_AT, _booking)

    def _booking_where(self, query: BookingQuery) -> tuple[ColumnElement[bool], ...]:
        b = bookings.c
        where: list[ColumnElement[bool]] = []
        if query.start_from is not None:
            where.append(b.start_at >= naive_utc(query.start_from))
        if query.start_to is not None:
            where.append(b.start_at < naive_utc(query.start_to))
        if query.statuses:
            where.append(b.status.in_(sorted(s.value for s in query.statuses)))
        text = check_search(query.search)
        if text:
            where.append(or_(self._fold_match(b.customer_name, text),
                             self._fold_match(b.phone, text)))
        return tuple(where)

    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]:
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.page(query, after, check_limit(limit),
                                 lambda q, a, n: self._page(self._booking_spec(q), a, n))
        return self._page(self._booking_spec(query), after, limit)

    def count_bookings(self, query: BookingQuery, *, exact: bool = False) -> RowCount:
        return self._count(bookings, self._booking_where(query), exact)

    def seek_bookings(self, query: BookingQuery, position: int) -> str | None:
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.seek(query, position,
                                 lambda q: self.count_bookings(q, exact=True).value,
                                 lambda q, p: self._seek(self._booking_spec(q), p))
        return self._seek(self._booking_spec(query), position)

    def get_booking(self, booking_id: int) -> Booking:
        with self._uow() as uow:
            return self._load_booking(uow.conn, booking_id)

    @staticmethod
    def _load_booking(conn: Connection, booking_id: int) -> Booking:
        row = conn.execute(select(bookings).where(bookings.c.id == booking_id)).first()
        if row is None:
            raise NotFound(f"booking {booking_id} not found")
        return _booking(row)

    def create_booking(self, draft: BookingDraft) -> Booking:
        now = self._clock()
        check_booking(draft, now=now)
        values = _booking_values(draft)
        stamp = naive_utc(now)
        with self._uow(write=True) as uow:
            result = uow.conn.execute(bookings.insert().values(
                **values, status=BookingStatus.CONFIRMED.value, version=1,
                created_at=stamp, updated_at=stamp))
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            booking = self._load_booking(uow.conn, new_id)
            self._log_created(uow.conn, booking, "booked")
            uow.commit()
        return booking

    def seat_walk_in(self, draft: BookingDraft) -> Booking:
        now = self._clock()
        with self._uow(write=True) as uow:
            booking = self._insert_walk_in(uow.conn, draft, now)
            uow.commit()
        return booking

    def _insert_walk_in(self, conn: Connection, draft: BookingDraft, now: datetime) -> Booking:
        """A booking seated now (a walk-in, or a party from the waitlist)."""
        check_booking(draft, now=now, walk_in=True)
        stamp = naive_utc(now)
        result = conn.execute(bookings.insert().values(
            **{**_booking_values(draft), "start_at": stamp},
            status=BookingStatus.SEATED.value, version=1, created_at=stamp, updated_at=stamp))
        booking = self._load_booking(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
        self._log_created(conn, booking, "walk-in")
        return booking

    def floor(self) -> FloorPlan:
        with self._uow() as uow:
            return read_floor(uow.conn)

    def update_booking(self, booking_id: int, version: int, draft: BookingDraft) -> Booking:
        now = self._clock()
        with self._uow(write=True) as uow:
            current = self._load_booking(uow.conn, booking_id)
            if current.version != version:
                raise self._conflict(uow.conn, Entity.BOOKINGS, draft, current)
            check_booking(draft, now=now, stored_start=lambda: current.start_at)
            self._versioned_update(uow.conn, bookings, booking_id, version,
                                   {**_booking_values(draft), "updated_at": naive_utc(now)},
                                   draft)
            booking = self._load_booking(uow.conn, booking_id)
            uow.commit()
        return booking

    def set_booking_status(self, booking_id: int, version: int,
                           status: BookingStatus) -> Booking:
        status = BookingStatus(status)
        with self._uow(write=True) as uow:
            current = self._load_booking(uow.conn, booking_id)
            if current.version != version:
                raise self._conflict(uow.conn, Entity.BOOKINGS, status, current)
            now = self._clock()
            if current.status != status:
                check_booking_transition(current.status, status, changed_at=current.updated_at,
                                         now=now)
            self._versioned_update(uow.conn, bookings, booking_id, version,
                                   {"status": status.value, "updated_at": naive_utc(now)},
                                   status)
            booking = self._load_booking(uow.conn, booking_id)
            uow.commit()
        return booking

    def _versioned_update(self, conn: Connection, table: Any, row_id: int, version: int,
                          values: dict[str, Any], mine: Any) -> None:
        """UPDATE ... WHERE id = ? AND version = ?; a missed row means someone saved first.
        The fields that moved go to the change log."""
        logs = self._logs(conn)
        before = sql_history.row_values(conn, table, row_id) if logs else {}
        result = conn.execute(table.update()
                              .where(table.c.id == row_id, table.c.version == version)
                              .values(**values, version=table.c.version + 1))
        if result.rowcount != 1:
            loader = {"bookings": self._load_booking, "products": self._load_product,
                      "orders": self._load_order}[table.name]
            raise self._conflict(conn, Entity(table.name), mine, loader(conn, row_id))
        if logs:
            self._log_update(conn, Entity(table.name), row_id, before)

    # ------------------------------------------------------------------ products

    def _product_spec(self, query: ProductQuery) -> ListSpec:
        p = products.c
        sort = ProductSort(query.sort)
        sort_col: ColumnElement[Any] = {
            ProductSort.NAME: func.coalesce(p.name, ""),
            ProductSort.SKU: func.coalesce(p.sku, ""),
            ProductSort.STOCK: func.coalesce(p.stock, 0),
            ProductSort.PRICE: func.coalesce(p.price_cents, 0),
        }[sort]
        base = select(products, sort_col.label("_sort"), p.id.label("_id"))
        return ListSpec(products, base, self._product_where(query), sort.value, sort_col, p.id,
                         query.descending, False, _product)

    def _product_where(self, query: ProductQuery) -> tuple[ColumnElement[bool], ...]:
        p = products.c
        where: list[ColumnElement[bool]] = []
        text = check_search(query.search)
        if text:
            where.append(or_(self._fold_match(p.name, text), self._fold_match(p.sku, text)))
        if query.category:
            where.append(p.category == query.category)
        if query.low_stock_only:
            where.append(p.stock <= p.low_stock_threshold)
            where.append(p.active.is_(True))
        if not query.include_inactive:
            where.append(p.active.is_(True))
        return tuple(where)

    def list_products(self, query: ProductQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Product]:
        return self._page(self._product_spec(query), after, limit)

    def count_products(self, query: ProductQuery, *, exact: bool = False) -> RowCount:
        return self._count(products, self._product_where(query), exact)

    def seek_products(self, query: ProductQuery, position: int) -> str | None:
        return self._seek(self._product_spec(query), position)

    def get_product(self, product_id: int) -> Product:
        with self._uow() as uow:
            return self._load_product(uow.conn, product_id)

    @staticmethod
    def _load_product(conn: Connection, product_id: int) -> Product:
        row = conn.execute(select(products).where(products.c.id == product_id)).first()
        if row is None:
            raise NotFound(f"product {product_id} not found")
        return _product(row)

    def update_product(self, product_id: int, version: int, draft: ProductDraft) -> Product:
        check_product(draft)
        with self._uow(write=True) as uow:
            current = self._load_product(uow.conn, product_id)
            if current.version != version:
                raise self._conflict(uow.conn, Entity.PRODUCTS, draft, current)
            self._versioned_update(uow.conn, products, product_id, version, {
                "name": draft.name.strip(), "category": draft.category.strip(),
                "price_cents": draft.price_cents, "stock": draft.stock,
                "low_stock_threshold": draft.low_stock_threshold, "active": draft.active,
                "updated_at": naive_utc(self._clock())}, draft)
            product = self._load_product(uow.conn, product_id)
            uow.commit()
        return product

    def restock_product(self, product_id: int, quantity: int) -> Product:
        """Add ``quantity`` to whatever is in stock (an increment, so no version check)."""
        check_restock(quantity)
        p = products.c
        with self._uow(write=True) as uow:
            logs = self._logs(uow.conn)
            before = sql_history.row_values(uow.conn, products, product_id) if logs else {}
            result = uow.conn.execute(products.update().where(p.id == product_id).values(
                stock=func.coalesce(p.stock, 0) + quantity, version=p.version + 1,
                updated_at=naive_utc(self._clock())))
            if result.rowcount != 1:
                raise NotFound(f"product {product_id} not found")
            if logs:
                self._log_update(uow.conn, Entity.PRODUCTS, product_id, before)
            product = self._load_product(uow.conn, product_id)
            uow.commit()
        return product

    def product_categories(self) -> tuple[str, ...]:
        p = products.c
        with self._uow() as uow:
            rows = uow.conn.execute(select(p.category).where(p.category.is_not(None))
                                    .distinct().order_by(p.category)).scalars().all()
        return tuple(str(r) for r in rows if r)

    # ------------------------------------------------------------------ orders

    def _order_spec(self, query: OrderQuery) -> ListSpec:
        o = orders.c
        sort = OrderSort(query.sort)
        sort_col: ColumnElement[Any] = {OrderSort.PLACED_AT: o.placed_at,
                                        OrderSort.TOTAL: func.coalesce(o.total_cents, 0)}[sort]
        base = select(orders, _item_count(), sort_col.label("_sort"), o.id.label("_id"))
        return ListSpec(orders, base, self._order_where(query), sort.value, sort_col, o.id,
                         query.descending, sort is OrderSort.PLACED_AT, _order)

    def _order_where(self, query: OrderQuery) -> tuple[ColumnElement[bool], ...]:
        o = orders.c
        where: list[ColumnElement[bool]] = []
        if query.placed_from is not None:
            where.append(o.placed_at >= naive_utc(query.placed_from))
        if query.placed_to is not None:
            where.append(o.placed_at < naive_utc(query.placed_to))
        if query.statuses:
            where.append(o.status.in_(sorted(s.value for s in query.statuses)))
        text = check_search(query.search)
        if text:
            where.append(self._fold_match(o.customer_name, text))
        return tuple(where)

    def list_orders(self, query: OrderQuery, *, after: str | None = None,
                    limit: int = 100) -> Page[Order]:
        return self._page(self._order_spec(query), after, limit)

    def count_orders(self, query: OrderQuery, *, exact: bool = False) -> RowCount:
        return self._count(orders, self._order_where(query), exact)

    def seek_orders(self, query: OrderQuery, position: int) -> str | None:
        return self._seek(self._order_spec(query), position)

    @staticmethod
    def _load_order(conn: Connection, order_id: int) -> Order:
        o = orders.c
        row = conn.execute(select(orders, _item_count()).where(o.id == order_id)).first()
        if row is None:
            raise NotFound(f"order {order_id} not found")
        return _order(row)

    def _load_detail(self, conn: Connection, order_id: int) -> OrderDetail:
        order = self._load_order(conn, order_id)
        i, p = order_items.c, products.c
        rows = conn.execute(
            select(i.id, i.product_id, i.quantity, i.unit_price_cents, p.name, p.sku)
            .select_from(order_items.outerjoin(products, p.id == i.product_id))
            .where(i.order_id == order_id).order_by(i.id)).all()
        items = tuple(OrderItem(id=r.id, product_id=r.product_id or 0,
                                product_name=r.name or f"product {r.product_id}",
                                sku=r.sku or "", quantity=r.quantity or 0,
                                unit_price_cents=r.unit_price_cents or 0) for r in rows)
        return OrderDetail(order, items)

    def get_order(self, order_id: int) -> OrderDetail:
        with self._uow() as uow:
            return self._load_detail(uow.conn, order_id)

    def set_order_status(self, order_id: int, version: int,
                         status: OrderStatus) -> OrderDetail:
        status = OrderStatus(status)
        with self._uow(write=True) as uow:
            current = self._load_order(uow.conn, order_id)
            if current.version != version:
                raise self._conflict(uow.conn, Entity.ORDERS, status,
                                     self._load_detail(uow.conn, order_id))
            check_order_transition(current.status, status)
            self._versioned_update(uow.conn, orders, order_id, version,
                                   {"status": status.value,
                                    "updated_at": naive_utc(self._clock())}, status)
            if status is OrderStatus.CANCELLED:
                self._return_stock(uow.conn, order_id)
            detail = self._load_detail(uow.conn, order_id)
            uow.commit()
        return detail

    def _return_stock(self, conn: Connection, order_id: int) -> None:
        """A cancelled order's items go back on the shelf (as the shop API does)."""
        i, p = order_items.c, products.c
        for product_id, quantity in conn.execute(
                select(i.product_id, func.sum(i.quantity)).where(i.order_id == order_id)
                .group_by(i.product_id)).all():
            before = sql_history.row_values(conn, products, product_id) if self._logs(conn) \
                else {}
            conn.execute(products.update().where(p.id == product_id).values(
                stock=func.coalesce(p.stock, 0) + quantity, version=p.version + 1,
                updated_at=naive_utc(self._clock())))
            if before:
                self._log_update(conn, Entity.PRODUCTS, product_id, before)

    # ------------------------------------------------------------------ today

    def guest_history(self, booking: Booking, *, now: datetime | None = None) -> GuestHistory:
        """The booking's guest's other bookings, matched by phone or e-mail, else name."""
        with self._uow() as uow:
            return sql_reports.guest_bookings(uow.conn, booking, now or self._clock(), _booking)

    def past_days(self, first: date, last: date, *, tz: tzinfo | None = None) -> PastDays:
        """Each day of ``first..last`` in ``tz`` (the console's zone by default)."""
        with self._uow() as uow:
            return sql_reports.past_days(uow.conn, first, last, tz)

    def today(self, *, now: datetime | None = None, tz: tzinfo | None = None) -> TodayFigures:
        now = utc(now or self._clock())
        zone = tz or UTC
        local = now.astimezone(zone)
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        # Aware arithmetic in one zone is wall-clock: these are local midnights across DST.
        end = start + timedelta(days=1)
        week_ago = start - timedelta(days=7)
        week_ago_end = week_ago + timedelta(days=1)
        b, o, p = bookings.c, orders.c, products.c
        with self._uow() as uow:
            conn = uow.conn

            def booking_rows(lo: datetime, hi: datetime) -> list[Any]:
                return list(conn.execute(
                    select(b.start_at, b.party_size, b.status)
                    .where(b.start_at >= naive_utc(lo), b.start_at < naive_utc(hi),
                           b.status != BookingStatus.CANCELLED.value)).all())

            def order_rows(lo: datetime, hi: datetime) -> list[Any]:
                return list(conn.execute(
                    select(o.placed_at, o.status, o.total_cents)
                    .where(o.placed_at >= naive_utc(lo), o.placed_at < naive_utc(hi))).all())

            today_b = booking_rows(start, end)
            last_b = booking_rows(week_ago, week_ago_end)
            today_o = order_rows(start, end)
            last_o = order_rows(week_ago, week_ago_end)
            low = int(conn.execute(select(func.count()).select_from(products).where(
                p.active.is_(True), p.stock <= p.low_stock_threshold)).scalar_one())
        revenue = {s.value for s in REVENUE_STATUSES}
        return TodayFigures(
            day=start.date(),
            bookings=len(today_b),
            covers=sum(r.party_size for r in today_b if r.status != "no_show"),
            orders=len(today_o),
            revenue_cents=sum(r.total_cents or 0 for r in today_o if r.status in revenue),
            low_stock=low,
            bookings_per_hour=hour_buckets(start, [r.start_at for r in today_b]),
            bookings_per_hour_last_week=hour_buckets(week_ago, [r.start_at for r in last_b]),
            orders_per_hour=hour_buckets(start, [r.placed_at for r in today_o if r.placed_at]),
            orders_per_hour_last_week=hour_buckets(
                week_ago, [r.placed_at for r in last_o if r.placed_at]),
        )


# --------------------------------------------------------------------------- mapping


def _item_count() -> Any:
    """Units in an order (the sum of its lines' quantities), as the shop API counts them."""
    i = order_items.c
    return (select(func.coalesce(func.sum(i.quantity), 0)).where(i.order_id == orders.c.id)
            .correlate(orders).scalar_subquery().label("item_count"))


def _booking_values(draft: BookingDraft) -> dict[str, Any]:
    return {"customer_name": draft.customer_name.strip(), "phone": draft.phone.strip() or None,
            "party_size": draft.party_size, "start_at": naive_utc(draft.start_at),
            "table_no": draft.table_no, "notes": draft.notes}


def _booking(row: Row[Any]) -> Booking:
    m = row._mapping
    return Booking(id=m["id"], customer_name=m["customer_name"], party_size=m["party_size"],
                   start_at=utc(m["start_at"]), status=BookingStatus(m["status"]),
                   version=m["version"], phone=m["phone"] or "", table_no=m["table_no"],
                   notes=m["notes"] or "", customer_id=m["customer_id"],
                   created_at=aware(m["created_at"]), updated_at=aware(m["updated_at"]))


def _product(row: Row[Any]) -> Product:
    m = row._mapping
    return Product(id=m["id"], sku=m["sku"] or "", name=m["name"] or "",
                   category=m["category"] or "", price_cents=m["price_cents"] or 0,
                   stock=m["stock"] or 0, low_stock_threshold=m["low_stock_threshold"] or 0,
                   active=bool(m["active"]), version=m["version"] or 1,
                   updated_at=aware(m["updated_at"]))


def _order(row: Row[Any]) -> Order:
    m = row._mapping
    return Order(id=m["id"], customer_name=m["customer_name"] or "",
                 placed_at=utc(m["placed_at"]) if m["placed_at"] else datetime.min.replace(
                     tzinfo=UTC),
                 status=OrderStatus(m["status"]), total_cents=m["total_cents"] or 0,
                 version=m["version"] or 1, item_count=int(m.get("item_count") or 0),
                 customer_id=m["customer_id"], updated_at=aware(m["updated_at"]))
