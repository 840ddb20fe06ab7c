"""The shop repository on the shop's own tables, as the profile's ``[database.map.*]`` maps them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Row

from console.changes import Change, Entity
from console.floor import DiningTable, FloorPlan
from console.guests import GuestHistory
from console.past_days import PastDays
from console.shop import (
    REVENUE_STATUSES,
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    NotFound,
    Order,
    OrderQuery,
    Page,
    Product,
    ProductDraft,
    ProductQuery,
    ProductSort,
    RowCount,
    TodayFigures,
    Unsupported,
    ValidationFailed,
    hour_buckets,
    utc,
)
from console.shop_rules import (
    check_booking,
    check_booking_transition,
    check_product,
    check_restock,
    check_search,
)
from console.waitlist import WaitingParty, Waitlist, WaitlistDraft
from services.shop import upcoming
from services.shop.guests import history_by_search
from services.shop.mapped_base import NO_STATUS, cents_of
from services.shop.mapped_orders import MappedOrders
from services.shop.mapping import MappedTable
from services.shop.sql_paging import ListSpec, check_limit, failure_reason

NO_WAITLIST = ("This shop's own tables keep no waitlist (a map names bookings, tables, orders "
               "and products only): connect a database made by `backroom db init` or a shop "
               "API with /api/waitlist for one.")


class MappedShopRepository(MappedOrders):
    """:class:`~services.shop.repository.ShopRepository` on tables the shop's app made.

    Only mapped columns are read or written. Writes happen only where the map names a version
    column, compare-and-set on it (``UPDATE ... WHERE id = :id AND updated_at = :seen``); an
    entity without one is read-only and says why (:meth:`read_only_reason`). An entity left
    out of the map lists nothing.
    """

    # ------------------------------------------------------------------ bookings

    def _booking_spec(self, query: BookingQuery) -> ListSpec:
        m = self._need("bookings")
        sort = BookingSort(query.sort)
        sort_col = (m.need("start_at") if sort is BookingSort.START_AT
                    else m.need("guest_name"))
        return ListSpec(m.table, self._select(m, sort_col), self._booking_where(m, query),
                        sort.value, sort_col, m.need("id"), query.descending,
                        sort is BookingSort.START_AT, lambda r: self._booking(m, r))

    def _booking_where(self, m: MappedTable,
                       query: BookingQuery) -> tuple[ColumnElement[bool], ...]:
        start = m.need("start_at")
        where: list[ColumnElement[bool]] = []
        if query.start_from is not None:
            where.append(start >= m.time_value(start, query.start_from))
        if query.start_to is not None:
            where.append(start < m.time_value(start, query.start_to))
        status = m.col("status")
        if query.statuses and status is not None:
            where.append(status.in_(sorted({m.status_code(s.value) for s in query.statuses})))
        elif query.statuses and BookingStatus.CONFIRMED not in query.statuses:
            where.append(literal(False))
        text = check_search(query.search)
        if text:
            fields = [m.need("guest_name")] + ([m.need("phone")] if m.col("phone") is not None
                                               else [])
            where.append(or_(*(self._fold_match(c, text) for c in fields)))
        return tuple(where)

    @staticmethod
    def _booking(m: MappedTable, row: Row[Any]) -> Booking:
        r = row._mapping
        status = m.spec.status_for(r["status"]) if "status" in r else None
        created = r.get("created_at")
        return Booking(
            id=int(r["id"]), customer_name=r["guest_name"] or "",
            party_size=int(r["party_size"] or 0), start_at=utc(r["start_at"]),
            status=BookingStatus(status or BookingStatus.CONFIRMED.value),
            version=m.version_number(r.get("_version")), phone=r.get("phone") or "",
            table_no=r.get("table"), notes=r.get("notes") or "",
            created_at=utc(created) if isinstance(created, datetime) else None,
            updated_at=utc(r["_version"]) if isinstance(r.get("_version"), datetime) else None)

    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]:
        if self._empty("bookings"):
            return Page((), None)
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.page(query, after, check_limit(limit),
                                 lambda q, a, n: self._page(self._booking_spec(q), a, n))
        return self._page(self._booking_spec(query), after, limit)

    def count_bookings(self, query: BookingQuery, *, exact: bool = False) -> RowCount:
        if self._empty("bookings"):
            return RowCount(0)
        m = self._need("bookings")
        return self._count(m.table, self._booking_where(m, query), exact)

    def seek_bookings(self, query: BookingQuery, position: int) -> str | None:
        if self._empty("bookings"):
            return None
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.seek(query, position,
                                 lambda q: self.count_bookings(q, exact=True).value,
                                 lambda q, p: self._seek(self._booking_spec(q), p))
        return self._seek(self._booking_spec(query), position)

    def _load_booking(self, conn: Connection, booking_id: int) -> Booking:
        m = self._need("bookings")
        row = conn.execute(self._select(m, m.need("id"))
                           .where(m.need("id") == booking_id)).first()
        if row is None:
            raise NotFound(f"booking {booking_id} not found")
        return self._booking(m, row)

    def get_booking(self, booking_id: int) -> Booking:
        with self._uow() as uow:
            return self._load_booking(uow.conn, booking_id)

    def _booking_values(self, m: MappedTable, draft: BookingDraft) -> dict[str, Any]:
        fields = {"guest_name": draft.customer_name.strip(), "party_size": draft.party_size,
                  "start_at": m.time_value(m.need("start_at"), draft.start_at),
                  "phone": draft.phone.strip(), "table": draft.table_no,
                  "notes": draft.notes}
        return {m.table.c[col].name: fields[f] for f, col in m.spec.columns if f in fields}

    def create_booking(self, draft: BookingDraft) -> Booking:
        return self._insert_booking(draft, walk_in=False)

    def seat_walk_in(self, draft: BookingDraft) -> Booking:
        return self._insert_booking(draft, walk_in=True)

    def floor(self) -> FloorPlan:
        """The room from the shop's own table of tables (``[database.map.tables]``), with the
        plan's default hours and no covers limit; no map, no tables: the floor says so."""
        m = self._mapped("tables")
        if m is None:
            return FloorPlan()
        number = m.need("number")
        cols = [c.label(f) for f in ("number", "seats", "name", "area")
                if (c := m.col(f)) is not None]
        with self._uow() as uow:
            rows = [r._mapping for r in uow.conn.execute(select(*cols).order_by(number))]
        tables = [DiningTable(int(r["number"]), str(r.get("name") or r["number"]),
                              int(r["seats"]), str(r.get("area") or "")) for r in rows]
        return FloorPlan(tables=tuple(sorted(tables, key=lambda t: (t.area, t.number))))

    # The shop's own tables have no waitlist: the Floor's panel says so, greyed.
    def waitlist(self, since: datetime) -> Waitlist:
        raise Unsupported(NO_WAITLIST)

    def add_to_waitlist(self, draft: WaitlistDraft) -> WaitingParty:
        raise Unsupported(NO_WAITLIST)

    def seat_from_waitlist(self, party_id: int, table_no: int) -> tuple[WaitingParty, Booking]:
        raise Unsupported(NO_WAITLIST)

    def remove_from_waitlist(self, party_id: int) -> WaitingParty:
        raise Unsupported(NO_WAITLIST)

    def _insert_booking(self, draft: BookingDraft, *, walk_in: bool) -> Booking:
        m = self._need("bookings")
        self._writable(m)
        now = self._clock()
        check_booking(draft, now=now, walk_in=walk_in)
        if walk_in:
            draft = dataclasses.replace(draft, start_at=now)
        values = self._booking_values(m, draft)
        status = m.col("status")
        if status is not None:
            values[status.name] = m.status_code(
                (BookingStatus.SEATED if walk_in else BookingStatus.CONFIRMED).value)
        created = m.col("created_at")
        if created is not None:
            values[created.name] = m.time_value(created, now)
        assert m.version is not None
        values[m.version.name] = (m.next_version(0, now) if m.version_is_time() else 1)
        with self._uow(write=True) as uow:
            try:
                result = uow.conn.execute(m.table.insert().values(values))
            except sa_exc.IntegrityError as err:
                raise ValidationFailed({"table": "The shop's table refused the new row: "
                                        f"{failure_reason(err)}"}) from err
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            booking = self._load_booking(uow.conn, new_id)
            uow.commit()
        return booking

    def update_booking(self, booking_id: int, version: int, draft: BookingDraft) -> Booking:
        m = self._need("bookings")
        self._writable(m)
        now = self._clock()
        with self._uow(write=True) as uow:
            current = self._load_booking(uow.conn, booking_id)
            if current.version != version:
                raise Conflict(draft, current)
            check_booking(draft, now=now, stored_start=lambda: current.start_at)
            self._cas(uow.conn, m, booking_id, version, self._booking_values(m, draft), draft,
                      self._load_booking)
            booking = self._load_booking(uow.conn, booking_id)
            uow.commit()
        return booking

    def set_booking_status(self, booking_id: int, version: int,
                           status: BookingStatus) -> Booking:
        status = BookingStatus(status)
        m = self._need("bookings")
        self._writable(m)
        col = m.col("status")
        if col is None:
            raise ValidationFailed({"status": NO_STATUS})
        with self._uow(write=True) as uow:
            current = self._load_booking(uow.conn, booking_id)
            if current.version != version:
                raise Conflict(status, current)
            if current.status != status:
                check_booking_transition(current.status, status, changed_at=current.updated_at,
                                         now=self._clock())
            self._cas(uow.conn, m, booking_id, version, {col.name: m.status_code(status.value)},
                      status, self._load_booking)
            booking = self._load_booking(uow.conn, booking_id)
            uow.commit()
        return booking

    # ------------------------------------------------------------------ products

    def _product_spec(self, query: ProductQuery) -> ListSpec:
        m = self._need("products")
        sort = ProductSort(query.sort)
        field = {ProductSort.NAME: "name", ProductSort.SKU: "sku", ProductSort.STOCK: "stock",
                 ProductSort.PRICE: "price_cents" if m.col("price_cents") is not None
                 else "price"}[sort]
        col = m.col(field)
        sort_col: ColumnElement[Any] = (m.need("name") if col is None else
                                        func.coalesce(col, "" if field in ("name", "sku")
                                                      else 0))
        if field == "name":
            sort_col = m.need("name")
        return ListSpec(m.table, self._select(m, sort_col), self._product_where(m, query),
                        sort.value, sort_col, m.need("id"), query.descending, False,
                        lambda r: self._product(m, r))

    def _product_where(self, m: MappedTable,
                       query: ProductQuery) -> tuple[ColumnElement[bool], ...]:
        where: list[ColumnElement[bool]] = []
        text = check_search(query.search)
        if text:
            cols = [c for c in (m.col("name"), m.col("sku")) if c is not None]
            where.append(or_(*(self._fold_match(c, text) for c in cols)))
        category = m.col("category")
        if query.category and category is not None:
            where.append(category == query.category)
        stock, low, active = m.col("stock"), m.col("low_stock_threshold"), m.col("active")
        if query.low_stock_only and stock is not None:
            where.append(stock <= (low if low is not None else 5))
        if (query.low_stock_only or not query.include_inactive) and active is not None:
            where.append(active.is_(True) if m.dialect == "postgresql" else active == 1)
        return tuple(where)

    @staticmethod
    def _product(m: MappedTable, row: Row[Any]) -> Product:
        r = row._mapping
        return Product(
            id=int(r["id"]), sku=r.get("sku") or "", name=r["name"] or "",
            category=r.get("category") or "", price_cents=cents_of(row, "price_cents", "price"),
            stock=int(r.get("stock") or 0),
            low_stock_threshold=int(r["low_stock_threshold"]) if r.get(
                "low_stock_threshold") is not None else 5,
            active=bool(r["active"]) if "active" in r else True,
            version=m.version_number(r.get("_version")),
            updated_at=utc(r["_version"]) if isinstance(r.get("_version"), datetime) else None)

    def list_products(self, query: ProductQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Product]:
        if self._empty("products"):
            return Page((), None)
        return self._page(self._product_spec(query), after, limit)

    def count_products(self, query: ProductQuery, *, exact: bool = False) -> RowCount:
        if self._empty("products"):
            return RowCount(0)
        m = self._need("products")
        return self._count(m.table, self._product_where(m, query), exact)

    def seek_products(self, query: ProductQuery, position: int) -> str | None:
        if self._empty("products"):
            return None
        return self._seek(self._product_spec(query), position)

    def _load_product(self, conn: Connection, product_id: int) -> Product:
        m = self._need("products")
        row = conn.execute(self._select(m, m.need("id"))
                           .where(m.need("id") == product_id)).first()
        if row is None:
            raise NotFound(f"product {product_id} not found")
        return self._product(m, row)

    def get_product(self, product_id: int) -> Product:
        with self._uow() as uow:
            return self._load_product(uow.conn, product_id)

    def update_product(self, product_id: int, version: int, draft: ProductDraft) -> Product:
        m = self._need("products")
        self._writable(m)
        check_product(draft)
        fields: dict[str, Any] = {
            "name": draft.name.strip(), "category": draft.category.strip(),
            "price_cents": draft.price_cents, "price": Decimal(draft.price_cents) / 100,
            "stock": draft.stock, "low_stock_threshold": draft.low_stock_threshold,
            "active": draft.active}
        values = {m.table.c[col].name: fields[f] for f, col in m.spec.columns if f in fields}
        with self._uow(write=True) as uow:
            current = self._load_product(uow.conn, product_id)
            if current.version != version:
                raise Conflict(draft, current)
            self._cas(uow.conn, m, product_id, version, values, draft, self._load_product)
            product = self._load_product(uow.conn, product_id)
            uow.commit()
        return product

    def restock_product(self, product_id: int, quantity: int) -> Product:
        """Add ``quantity`` to the stock column (an increment: no version check needed, but
        the version moves on so an open edit of the old stock conflicts)."""
        m = self._need("products")
        self._writable(m)
        check_restock(quantity)
        stock = m.col("stock")
        if stock is None:
            raise ValidationFailed({"stock": "The shop's table has no stock column in the "
                                             "profile."})
        with self._uow(write=True) as uow:
            current = self._load_product(uow.conn, product_id)
            assert m.version is not None
            result = uow.conn.execute(m.table.update().where(m.need("id") == product_id).values(
                {stock.name: func.coalesce(stock, 0) + quantity,
                 m.version.name: m.next_version(current.version, self._clock())}))
            if result.rowcount != 1:
                raise NotFound(f"product {product_id} not found")
            product = self._load_product(uow.conn, product_id)
            uow.commit()
        return product

    def product_categories(self) -> tuple[str, ...]:
        m = self._mapped("products")
        col = None if m is None else m.col("category")
        if col is None:
            return ()
        with self._uow() as uow:
            rows = uow.conn.execute(select(col).where(col.is_not(None)).distinct()
                                    .order_by(col)).scalars().all()
        return tuple(str(r) for r in rows if r)

    # ------------------------------------------------------------------ today

    def guest_history(self, booking: Booking, *, now: datetime | None = None) -> GuestHistory:
        """Found through the list's search (name, phone as typed) on the shop's own tables."""
        return history_by_search(booking, lambda q, n: self.list_bookings(q, limit=n),
                                 now or self._clock())

    def history(self, entity: Entity, record_id: int) -> tuple[Change, ...]:
        raise Unsupported("no history: the shop's own tables (a mapped database) keep no "
                          "record of who changed what; the shop's API may (docs/api.md)")

    def past_days(self, first: date, last: date, *, tz: tzinfo | None = None) -> PastDays:
        raise Unsupported("The day report reads Backroom's own schema or the shop's API; on "
                          "the shop's own tables (a mapped database) it is not available.")

    def today(self, *, now: datetime | None = None, tz: tzinfo | None = None) -> TodayFigures:
        now = utc(now or self._clock())
        zone = tz or UTC
        local = now.astimezone(zone)
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        end = start + timedelta(days=1)
        week_ago = start - timedelta(days=7)
        q = BookingQuery
        statuses = frozenset(s for s in BookingStatus if s is not BookingStatus.CANCELLED)

        def bookings(lo: datetime, hi: datetime) -> list[Booking]:
            return self._all(lambda after: self.list_bookings(
                q(start_from=lo, start_to=hi, statuses=statuses), after=after, limit=200))

        def orders(lo: datetime, hi: datetime) -> list[Order]:
            return self._all(lambda after: self.list_orders(
                OrderQuery(placed_from=lo, placed_to=hi), after=after, limit=200))

        today_b, last_b = bookings(start, end), bookings(week_ago, week_ago + timedelta(days=1))
        today_o, last_o = orders(start, end), orders(week_ago, week_ago + timedelta(days=1))
        low = (self.count_products(ProductQuery(low_stock_only=True), exact=True).value
               if self._mapped("products") is not None
               and self.shop_map.products is not None
               and self.shop_map.products.has("stock") else 0)
        revenue = set(REVENUE_STATUSES)
        return TodayFigures(
            day=start.date(), bookings=len(today_b),
            covers=sum(b.party_size for b in today_b if b.status is not BookingStatus.NO_SHOW),
            orders=len(today_o),
            revenue_cents=sum(o.total_cents for o in today_o if o.status in revenue),
            low_stock=low,
            bookings_per_hour=hour_buckets(start, [b.start_at for b in today_b]),
            bookings_per_hour_last_week=hour_buckets(week_ago, [b.start_at for b in last_b]),
            orders_per_hour=hour_buckets(start, [o.placed_at for o in today_o]),
            orders_per_hour_last_week=hour_buckets(week_ago, [o.placed_at for o in last_o]))

    @staticmethod
    def _all(fetch: Callable[[str | None], Page[Any]]) -> list[Any]:
        rows: list[Any] = []
        after: str | None = None
        while True:
            page = fetch(after)
            rows += page.rows
            after = page.next_cursor
            if after is None:
                return rows
