"""The shop repository on the shop's own database (PostgreSQL or SQLite) through SQLAlchemy Core."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    LargeBinary,
    Select,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Row

from console.redaction import mask_url
from console.shop import (
    REVENUE_STATUSES,
    SEARCH_MAX,
    BackendUnavailable,
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
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
    ValidationFailed,
    check_booking_transition,
    check_order_transition,
    hour_buckets,
    naive_utc,
    utc,
    validate_booking,
    validate_product,
    validate_restock,
)
from services.shop import upcoming
from services.shop.repository import PAGE_LIMIT_MAX
from services.shop.schema import bookings, order_items, orders, products

log = logging.getLogger(__name__)

# Below this many rows (by the planner's estimate) PostgreSQL counts exactly; above, the
# estimate is good enough for a scroll bar and costs nothing.
EXACT_COUNT_BELOW = 100_000


def _now() -> datetime:
    return datetime.now(UTC)


class SqlUnitOfWork:
    """One connection and one transaction per ``with`` block; rolled back unless committed.

    ``write=True`` takes SQLite's write lock at ``BEGIN`` (``BEGIN IMMEDIATE``) so a
    read-check-write sequence cannot fail half way on a busy snapshot.
    """

    def __init__(self, engine: Engine, *, write: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._committed = False
        self.conn: Connection

    def __enter__(self) -> SqlUnitOfWork:
        self.conn = self._engine.connect()
        if self._write:
            self.conn = self.conn.execution_options(write=True)
        self.conn.begin()
        self._committed = False
        return self

    def commit(self) -> None:
        self.conn.commit()
        self._committed = True

    def rollback(self) -> None:
        self.conn.rollback()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._committed:
                self.conn.rollback()
        finally:
            self.conn.close()


# --------------------------------------------------------------------------- helpers


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards and the escape character escaped (escape is ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _check_search(text: str) -> str:
    if len(text) > SEARCH_MAX:
        raise ValidationFailed({"search": f"Search at most {SEARCH_MAX} characters."})
    return text


def _encode_cursor(sort: str, desc: bool, value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps({"s": sort, "d": desc, "k": [value, row_id]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, desc: bool, is_time: bool) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        value, row_id = data["k"]
        if data["s"] != sort or bool(data["d"]) != desc:
            raise ValueError("made with another sort")
        if is_time:
            value = datetime.fromisoformat(value)
        return value, int(row_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed({"cursor": f"Not a cursor of this list ({exc}); "
                                          "start again from the first page."}) from exc


@dataclass(frozen=True, slots=True)
class _ListSpec:
    """How one entity is listed: its table, filters, sort column and how rows map back."""

    table: Any
    base: Select[Any]
    where: tuple[ColumnElement[bool], ...]
    sort_name: str
    sort_col: ColumnElement[Any]
    id_col: ColumnElement[Any]
    desc: bool
    is_time: bool
    to_domain: Callable[[Row[Any]], Any]


class SqlShopRepository:
    """:class:`~services.shop.repository.ShopRepository` on a SQLAlchemy engine.

    Versions are checked in the UPDATE itself (``WHERE id = ? AND version = ?``) and the row
    count tells whether someone else saved first.
    """

    kind = "sql"
    can_seek = True

    def __init__(self, engine: Engine, *, location: str | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.location = location or mask_url(engine.url.render_as_string(hide_password=True))
        self._clock = clock
        self._dialect = engine.dialect.name

    # ------------------------------------------------------------------ plumbing

    def unit_of_work(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)

    @contextmanager
    def _uow(self, *, write: bool = False) -> Iterator[SqlUnitOfWork]:
        """A unit of work whose database failures come out as BackendUnavailable."""
        try:
            with self.unit_of_work(write=write) as uow:
                yield uow
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.ProgrammingError,
                sa_exc.InternalError, sa_exc.TimeoutError) as exc:
            raise BackendUnavailable(_reason(exc)) from exc
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise BackendUnavailable(_reason(exc)) from exc
            raise

    def close(self) -> None:
        self.engine.dispose()

    def _fold_match(self, column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
        """Case-insensitive literal substring match; wildcards in ``text`` match themselves."""
        if "\x00" in text:
            return false()  # no stored text holds NUL, and PostgreSQL refuses it in a literal
        if self._dialect != "sqlite":
            return func.coalesce(column, "").ilike(like_pattern(text), escape="\\")
        # Exactly br_fold(column) LIKE pattern (Unicode case-folding, as the demo shop
        # searches), but only text with a non-ASCII character pays for the Python function:
        # for ASCII text casefold is lower(), which SQLite's own LIKE already ignores.
        folded = text.casefold()
        pattern = like_pattern(folded)
        # More bytes than characters: the text holds something outside ASCII.
        non_ascii = and_(func.length(column) < func.length(cast(column, LargeBinary)),
                         func.br_fold(column).like(pattern, escape="\\"))
        if not folded.isascii():
            return non_ascii
        return or_(column.like(pattern, escape="\\"), non_ascii)

    # ------------------------------------------------------------------ paging

    def _page(self, spec: _ListSpec, after: str | None, limit: int) -> Page[Any]:
        limit = _check_limit(limit)
        stmt = spec.base.where(*spec.where)
        if after:
            value, row_id = _decode_cursor(after, spec.sort_name, spec.desc, spec.is_time)
            key = tuple_(spec.sort_col, spec.id_col)
            stmt = stmt.where(key < tuple_(value, row_id) if spec.desc
                              else key > tuple_(value, row_id))
        order = ((spec.sort_col.desc(), spec.id_col.desc()) if spec.desc
                 else (spec.sort_col.asc(), spec.id_col.asc()))
        stmt = stmt.order_by(*order).limit(limit + 1)
        with self._uow() as uow:
            rows = uow.conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(spec.to_domain(r) for r in rows)
        cursor = None
        if more and rows:
            last = rows[-1]
            cursor = _encode_cursor(spec.sort_name, spec.desc, last._mapping["_sort"],
                                    last._mapping["_id"])
        return Page(items, cursor)

    def _seek(self, spec: _ListSpec, position: int) -> str | None:
        """The cursor after row ``position - 1``, for a jump deep into a list.

        SQLite's index on the sort column holds the rowid, so one key-only OFFSET over
        (sort key, id) walks the index alone. PostgreSQL's does not hold ``id``; there the
        value at the position comes from an index-only OFFSET over the sort column, then
        the rows before that value are counted and the id is picked among the ties.
        """
        if position <= 0:
            return None
        with self._uow() as uow:
            if self._dialect == "postgresql" and isinstance(spec.sort_col, Column):
                key = self._pg_seek_key(uow.conn, spec, position)
            else:
                order = ((spec.sort_col.desc(), spec.id_col.desc()) if spec.desc
                         else (spec.sort_col.asc(), spec.id_col.asc()))
                row = uow.conn.execute(
                    select(spec.sort_col, spec.id_col).select_from(spec.table)
                    .where(*spec.where).order_by(*order).offset(position - 1).limit(1)).first()
                key = None if row is None else (row[0], row[1])
            if key is None:
                key = self._last_key(uow.conn, spec)
        if key is None:
            return None
        return _encode_cursor(spec.sort_name, spec.desc, key[0], key[1])

    @staticmethod
    def _pg_seek_key(conn: Connection, spec: _ListSpec, position: int) -> tuple[Any, int] | None:
        col, idc = spec.sort_col, spec.id_col
        value = conn.execute(
            select(col).select_from(spec.table).where(*spec.where)
            .order_by(col.desc() if spec.desc else col.asc())
            .offset(position - 1).limit(1)).scalar()
        if value is None:
            return None
        before = int(conn.execute(
            select(func.count()).select_from(spec.table)
            .where(*spec.where, col > value if spec.desc else col < value)).scalar_one())
        row_id = conn.execute(
            select(idc).select_from(spec.table).where(*spec.where, col == value)
            .order_by(idc.desc() if spec.desc else idc.asc())
            .offset(position - 1 - before).limit(1)).scalar()
        return None if row_id is None else (value, int(row_id))

    @staticmethod
    def _last_key(conn: Connection, spec: _ListSpec) -> tuple[Any, int] | None:
        reverse = ((spec.sort_col.asc(), spec.id_col.asc()) if spec.desc
                   else (spec.sort_col.desc(), spec.id_col.desc()))
        row = conn.execute(select(spec.sort_col, spec.id_col).select_from(spec.table)
                           .where(*spec.where).order_by(*reverse).limit(1)).first()
        return None if row is None else (row[0], int(row[1]))

    def _count(self, table: Any, where: tuple[ColumnElement[bool], ...],
               exact: bool) -> RowCount:
        """Exact on SQLite and for small sets; PostgreSQL's estimate for big ones (no full
        COUNT(*) of a million rows each time a list opens) unless ``exact``."""
        stmt = select(func.count()).select_from(table).where(*where)
        with self._uow() as uow:
            if self._dialect == "postgresql" and not exact:
                estimate = self._pg_estimate(uow.conn, select(literal_column("1"))
                                             .select_from(table).where(*where))
                if estimate >= EXACT_COUNT_BELOW:
                    return RowCount(estimate, exact=False)
            return RowCount(int(uow.conn.execute(stmt).scalar_one()), exact=True)

    @staticmethod
    def _pg_estimate(conn: Connection, stmt: Select[Any]) -> int:
        """The planner's row estimate for ``stmt`` (EXPLAIN, nothing executed)."""
        # IN lists are "expanding" parameters: render them out, or EXPLAIN sees a placeholder.
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled.string}",
                                    compiled.params).scalar_one()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    # ------------------------------------------------------------------ bookings

    def _booking_spec(self, query: BookingQuery) -> _ListSpec:
        b = bookings.c
        sort = BookingSort(query.sort)
        sort_col = {BookingSort.START_AT: b.start_at,
                    BookingSort.CUSTOMER_NAME: b.customer_name}[sort]
        base = select(bookings, sort_col.label("_sort"), b.id.label("_id"))
        return _ListSpec(bookings, base, self._booking_where(query), sort.value, sort_col, b.id,
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
        text = _check_search(query.search).strip()
        if text:
            where.append(or_(self._fold_match(b.customer_name, text),
                             self._fold_match(b.phone, text)))
        return tuple(where)

    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]:
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.page(query, after, _check_limit(limit),
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
        errors = validate_booking(draft, now=now)
        if errors:
            raise ValidationFailed(errors)
        values = _booking_values(draft)
        stamp = naive_utc(now)
        with self._uow(write=True) as uow:
            result = uow.conn.execute(bookings.insert().values(
                **values, status=BookingStatus.CONFIRMED.value, version=1,
                created_at=stamp, updated_at=stamp))
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            booking = self._load_booking(uow.conn, new_id)
            uow.commit()
        return booking

    def update_booking(self, booking_id: int, version: int, draft: BookingDraft) -> Booking:
        now = self._clock()
        with self._uow(write=True) as uow:
            current = self._load_booking(uow.conn, booking_id)
            if current.version != version:
                raise Conflict(draft, current)
            errors = validate_booking(draft, now=now, original_start=current.start_at)
            if errors:
                raise ValidationFailed(errors)
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
                raise Conflict(status, current)
            if current.status != status:
                check_booking_transition(current.status, status)
            self._versioned_update(uow.conn, bookings, booking_id, version,
                                   {"status": status.value,
                                    "updated_at": naive_utc(self._clock())}, status)
            booking = self._load_booking(uow.conn, booking_id)
            uow.commit()
        return booking

    def _versioned_update(self, conn: Connection, table: Any, row_id: int, version: int,
                          values: dict[str, Any], mine: Any) -> None:
        """UPDATE ... WHERE id = ? AND version = ?; a missed row means someone saved first."""
        result = conn.execute(table.update()
                              .where(table.c.id == row_id, table.c.version == version)
                              .values(**values, version=table.c.version + 1))
        if result.rowcount != 1:
            loader = {"bookings": self._load_booking, "products": self._load_product,
                      "orders": self._load_order}[table.name]
            raise Conflict(mine, loader(conn, row_id))

    # ------------------------------------------------------------------ products

    def _product_spec(self, query: ProductQuery) -> _ListSpec:
        p = products.c
        sort = ProductSort(query.sort)
        sort_col: ColumnElement[Any] = {
            ProductSort.NAME: func.coalesce(p.name, ""),
            ProductSort.SKU: func.coalesce(p.sku, ""),
            ProductSort.STOCK: func.coalesce(p.stock, 0),
            ProductSort.PRICE: func.coalesce(p.price_cents, 0),
        }[sort]
        base = select(products, sort_col.label("_sort"), p.id.label("_id"))
        return _ListSpec(products, base, self._product_where(query), sort.value, sort_col, p.id,
                         query.descending, False, _product)

    def _product_where(self, query: ProductQuery) -> tuple[ColumnElement[bool], ...]:
        p = products.c
        where: list[ColumnElement[bool]] = []
        text = _check_search(query.search).strip()
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
        errors = validate_product(draft)
        if errors:
            raise ValidationFailed(errors)
        with self._uow(write=True) as uow:
            current = self._load_product(uow.conn, product_id)
            if current.version != version:
                raise Conflict(draft, current)
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
        errors = validate_restock(quantity)
        if errors:
            raise ValidationFailed(errors)
        p = products.c
        with self._uow(write=True) as uow:
            result = uow.conn.execute(products.update().where(p.id == product_id).values(
                stock=func.coalesce(p.stock, 0) + quantity, version=p.version + 1,
                updated_at=naive_utc(self._clock())))
            if result.rowcount != 1:
                raise NotFound(f"product {product_id} not found")
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

    def _order_spec(self, query: OrderQuery) -> _ListSpec:
        o = orders.c
        sort = OrderSort(query.sort)
        sort_col: ColumnElement[Any] = {OrderSort.PLACED_AT: o.placed_at,
                                        OrderSort.TOTAL: func.coalesce(o.total_cents, 0)}[sort]
        base = select(orders, _item_count(), sort_col.label("_sort"), o.id.label("_id"))
        return _ListSpec(orders, base, self._order_where(query), sort.value, sort_col, o.id,
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
        text = _check_search(query.search).strip()
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
                raise Conflict(status, self._load_detail(uow.conn, order_id))
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
            conn.execute(products.update().where(p.id == product_id).values(
                stock=func.coalesce(p.stock, 0) + quantity, version=p.version + 1,
                updated_at=naive_utc(self._clock())))

    # ------------------------------------------------------------------ today

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


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise ValidationFailed({"limit": f"limit must be 1 to {PAGE_LIMIT_MAX}"})
    return limit


def _reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The first line of the driver's message, with a hint for a database never initialised."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        text += " (the shop tables are missing: run `backroom db init --url URL`)"
    return text


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


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
                   created_at=_aware(m["created_at"]), updated_at=_aware(m["updated_at"]))


def _product(row: Row[Any]) -> Product:
    m = row._mapping
    return Product(id=m["id"], sku=m["sku"] or "", name=m["name"] or "",
                   category=m["category"] or "", price_cents=m["price_cents"] or 0,
                   stock=m["stock"] or 0, low_stock_threshold=m["low_stock_threshold"] or 0,
                   active=bool(m["active"]), version=m["version"] or 1,
                   updated_at=_aware(m["updated_at"]))


def _order(row: Row[Any]) -> Order:
    m = row._mapping
    return Order(id=m["id"], customer_name=m["customer_name"] or "",
                 placed_at=utc(m["placed_at"]) if m["placed_at"] else datetime.min.replace(
                     tzinfo=UTC),
                 status=OrderStatus(m["status"]), total_cents=m["total_cents"] or 0,
                 version=m["version"] or 1, item_count=int(m.get("item_count") or 0),
                 customer_id=m["customer_id"], updated_at=_aware(m["updated_at"]))
