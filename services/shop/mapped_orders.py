"""Orders and their lines on the shop's own tables, as the profile maps them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.engine import Connection, Row

from console.shop import (
    Conflict,
    NotFound,
    Order,
    OrderDetail,
    OrderItem,
    OrderQuery,
    OrderSort,
    OrderStatus,
    Page,
    RowCount,
    ValidationFailed,
    utc,
)
from console.shop_rules import check_order_transition, check_search
from services.shop.mapped_base import MISSING, NO_STATUS, MappedListing, cents_of
from services.shop.mapping import MappedTable
from services.shop.sql_paging import ListSpec


class MappedOrders(MappedListing):
    """Orders: listed, opened with their lines, and given a new status by compare-and-set."""

    cancel_returns_stock = False
    """A cancel changes the status column only: the shop's app keeps its own stock rules."""

    # ------------------------------------------------------------------ orders

    def _order_spec(self, query: OrderQuery) -> ListSpec:
        m = self._need("orders")
        sort = OrderSort(query.sort)
        total = m.col("total_cents") if m.col("total_cents") is not None else m.col("total")
        sort_col: ColumnElement[Any] = (m.need("placed_at") if sort is OrderSort.PLACED_AT
                                        or total is None else func.coalesce(total, 0))
        base = self._select(m, sort_col).add_columns(self._item_count(m))
        return ListSpec(m.table, base, self._order_where(m, query), sort.value, sort_col,
                        m.need("id"), query.descending, sort is OrderSort.PLACED_AT,
                        lambda r: self._order(m, r))

    def _item_count(self, m: MappedTable) -> Any:
        lines = self._mapped("order_lines")
        if lines is None:
            return literal(0).label("item_count")
        return (select(func.coalesce(func.sum(lines.need("quantity")), 0))
                .where(lines.need("order_id") == m.need("id"))
                .correlate(m.table).scalar_subquery().label("item_count"))

    def _order_where(self, m: MappedTable, query: OrderQuery) -> tuple[ColumnElement[bool], ...]:
        placed = m.need("placed_at")
        where: list[ColumnElement[bool]] = []
        if query.placed_from is not None:
            where.append(placed >= m.time_value(placed, query.placed_from))
        if query.placed_to is not None:
            where.append(placed < m.time_value(placed, query.placed_to))
        status = m.col("status")
        if query.statuses and status is not None:
            where.append(status.in_(sorted({m.status_code(s.value) for s in query.statuses})))
        text = check_search(query.search)
        name = m.col("customer_name")
        if text and name is not None:
            where.append(self._fold_match(name, text))
        return tuple(where)

    @staticmethod
    def _order(m: MappedTable, row: Row[Any]) -> Order:
        r = row._mapping
        status = m.spec.status_for(r["status"]) if "status" in r else None
        return Order(
            id=int(r["id"]), customer_name=r.get("customer_name") or "",
            placed_at=utc(r["placed_at"]) if r["placed_at"] else MISSING,
            status=OrderStatus(status or OrderStatus.PENDING.value),
            total_cents=cents_of(row, "total_cents", "total"),
            version=m.version_number(r.get("_version")), item_count=int(r.get("item_count") or 0),
            updated_at=utc(r["_version"]) if isinstance(r.get("_version"), datetime) else None)

    def list_orders(self, query: OrderQuery, *, after: str | None = None,
                    limit: int = 100) -> Page[Order]:
        if self._empty("orders"):
            return Page((), None)
        return self._page(self._order_spec(query), after, limit)

    def count_orders(self, query: OrderQuery, *, exact: bool = False) -> RowCount:
        if self._empty("orders"):
            return RowCount(0)
        m = self._need("orders")
        return self._count(m.table, self._order_where(m, query), exact)

    def seek_orders(self, query: OrderQuery, position: int) -> str | None:
        if self._empty("orders"):
            return None
        return self._seek(self._order_spec(query), position)

    def _load_order(self, conn: Connection, order_id: int) -> Order:
        m = self._need("orders")
        row = conn.execute(self._select(m, m.need("id")).add_columns(self._item_count(m))
                           .where(m.need("id") == order_id)).first()
        if row is None:
            raise NotFound(f"order {order_id} not found")
        return self._order(m, row)

    def _load_detail(self, conn: Connection, order_id: int) -> OrderDetail:
        order = self._load_order(conn, order_id)
        lines, products = self._mapped("order_lines"), self._mapped("products")
        if lines is None:
            return OrderDetail(order, ())
        cols = [lines.need("id").label("id"), lines.need("product_id").label("product_id"),
                lines.need("quantity").label("quantity")]
        for field in ("unit_price_cents", "unit_price"):
            if lines.col(field) is not None:
                cols.append(lines.need(field).label(field))
        source: Any = lines.table
        if products is not None:
            cols.append(products.need("name").label("name"))
            if products.col("sku") is not None:
                cols.append(products.need("sku").label("sku"))
            source = lines.table.outerjoin(products.table, products.need("id")
                                           == lines.need("product_id"))
        rows = conn.execute(select(*cols).select_from(source)
                            .where(lines.need("order_id") == order_id)
                            .order_by(lines.need("id"))).all()
        items = tuple(OrderItem(
            id=int(r.id), product_id=int(r.product_id or 0),
            product_name=r._mapping.get("name") or f"product {r.product_id}",
            sku=r._mapping.get("sku") or "", quantity=int(r.quantity or 0),
            unit_price_cents=cents_of(r, "unit_price_cents", "unit_price")) for r in rows)
        return OrderDetail(order, items)

    def get_order(self, order_id: int) -> OrderDetail:
        with self._uow() as uow:
            return self._load_detail(uow.conn, order_id)

    def set_order_status(self, order_id: int, version: int,
                         status: OrderStatus) -> OrderDetail:
        """Only the status column changes: the shop's app keeps its own stock rules."""
        status = OrderStatus(status)
        m = self._need("orders")
        self._writable(m)
        col = m.col("status")
        if col is None:
            raise ValidationFailed({"status": NO_STATUS})
        with self._uow(write=True) as uow:
            current = self._load_order(uow.conn, order_id)
            if current.version != version:
                raise Conflict(status, self._load_detail(uow.conn, order_id))
            check_order_transition(current.status, status)
            self._cas(uow.conn, m, order_id, version, {col.name: m.status_code(status.value)},
                      status, self._load_detail)
            detail = self._load_detail(uow.conn, order_id)
            uow.commit()
        return detail
