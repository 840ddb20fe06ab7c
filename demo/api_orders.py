"""Orders endpoints: list, create (takes stock), read with items, status changes."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from demo import history
from demo.context import ShopContext
from demo.db import ORDER_STATUSES, order_items, orders, products, utcnow
from demo.web import (
    ApiError,
    SortKey,
    check_version,
    count_of,
    if_match,
    int_field,
    invalid,
    iso,
    json_body,
    keyset_page,
    list_filters,
    not_found,
    resource,
    text_field,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"preparing", "cancelled", "refunded"}),
    "preparing": frozenset({"ready"}),
    "ready": frozenset({"completed"}),
    "completed": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
MAX_LINES = 50
SORTS = {
    "-placed_at": SortKey(orders.c.placed_at, True, "datetime"),
    "placed_at": SortKey(orders.c.placed_at, False, "datetime"),
    "-total_cents": SortKey(orders.c.total_cents, True, "int"),
    "total_cents": SortKey(orders.c.total_cents, False, "int"),
}
_UNITS = (
    select(func.coalesce(func.sum(order_items.c.quantity), 0))
    .where(order_items.c.order_id == orders.c.id)
    .correlate(orders)
    .scalar_subquery()
    .label("item_count")
)


def order_json(row: Row[Any], items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    o = row._mapping
    body = {
        "id": o["id"], "customer_id": o["customer_id"], "customer_name": o["customer_name"],
        "placed_at": iso(o["placed_at"]), "status": o["status"],
        "total_cents": o["total_cents"], "item_count": int(o["item_count"]),
        "version": o["version"], "updated_at": iso(o["updated_at"]),
    }
    if items is not None:
        body["items"] = items
    return body


def _load(conn: Connection, order_id: int) -> dict[str, Any]:
    row = conn.execute(select(orders, _UNITS).where(orders.c.id == order_id)).first()
    if row is None:
        raise not_found(f"order {order_id}")
    lines = conn.execute(
        select(order_items, products.c.sku, products.c.name)
        .join(products, products.c.id == order_items.c.product_id)
        .where(order_items.c.order_id == order_id).order_by(order_items.c.id)).all()
    items = [{"id": r.id, "product_id": r.product_id, "sku": r.sku, "name": r.name,
              "quantity": r.quantity, "unit_price_cents": r.unit_price_cents,
              "line_total_cents": r.quantity * r.unit_price_cents} for r in lines]
    return order_json(row, items)


def _lines(body: dict[str, Any], errors: dict[str, str]) -> dict[int, int]:
    raw = body.get("items")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LINES:
        errors["items"] = f"must be a list of 1 to {MAX_LINES} lines"
        return {}
    wanted: dict[int, int] = {}
    for n, line in enumerate(raw):
        if not isinstance(line, dict):
            errors["items"] = f"line {n + 1} must be an object"
            return {}
        line_errors: dict[str, str] = {}
        pid = int_field(line, "product_id", line_errors, lo=1, hi=2**62, required=True)
        qty = int_field(line, "quantity", line_errors, lo=1, hi=100, required=True)
        if line_errors:
            field, message = next(iter(line_errors.items()))
            errors["items"] = f"line {n + 1}: {field} {message}"
            return {}
        wanted[pid] = wanted.get(pid, 0) + qty
    return wanted


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/orders")
    def list_orders() -> Response:
        errors: dict[str, str] = {}
        where = list_filters(orders.c.placed_at, orders.c.status, ORDER_STATUSES,
                             (orders.c.customer_name,), errors)
        with ctx.db.read() as conn:
            page = keyset_page(conn, select(orders, _UNITS).where(*where),
                               count_of(orders, *where), orders.c.id, SORTS, "-placed_at",
                               errors, order_json)
        return jsonify(page)

    @app.post("/api/orders")
    def create_order() -> Response:
        body = json_body()
        errors: dict[str, str] = {}
        name = text_field(body, "customer_name", errors, max_len=120, required=True, min_len=1)
        customer_id = int_field(body, "customer_id", errors, lo=1, hi=2**62, nullable=True)
        wanted = _lines(body, errors)
        if errors:
            raise invalid(errors)
        now = utcnow()
        with ctx.db.write() as conn:
            found = {r.id: r for r in conn.execute(
                select(products).where(products.c.id.in_(list(wanted))))}
            for pid, qty in wanted.items():
                p = found.get(pid)
                if p is None or not p.active:
                    raise invalid({"items": f"product {pid} does not exist or is not for sale"})
                if p.stock < qty:
                    raise invalid({"items": f"not enough stock of {p.sku} ({p.name}): "
                                            f"{p.stock} left, {qty} asked"})
            total = sum(found[pid].price_cents * qty for pid, qty in wanted.items())
            result = conn.execute(orders.insert().values(
                customer_id=None if customer_id is ... else customer_id, customer_name=name,
                placed_at=now, status="pending", total_cents=total, version=1, updated_at=now))
            pk = result.inserted_primary_key
            assert pk is not None
            order_id = int(pk[0])
            conn.execute(order_items.insert(), [
                {"order_id": order_id, "product_id": pid, "quantity": qty,
                 "unit_price_cents": found[pid].price_cents} for pid, qty in wanted.items()])
            for pid, qty in wanted.items():
                conn.execute(products.update().where(products.c.id == pid).values(
                    stock=products.c.stock - qty, version=products.c.version + 1,
                    updated_at=now))
            created = _load(conn, order_id)
        ctx.metrics.orders_created.inc()
        ctx.enqueue("order_message", {"order_id": order_id})
        ctx.enqueue("stock_recount", {"product_ids": sorted(wanted)})
        return resource(created, 201, f"/api/orders/{order_id}")

    @app.get("/api/orders/<int:order_id>")
    def get_order(order_id: int) -> Response:
        with ctx.db.read() as conn:
            return resource(_load(conn, order_id))

    @app.patch("/api/orders/<int:order_id>")
    def update_order(order_id: int) -> Response:
        sent = if_match(required=True)
        body = json_body()
        new = body.get("status")
        if "status" not in body:
            raise invalid({"status": "is required"})
        if new not in ORDER_STATUSES:
            raise invalid({"status": f"must be one of {', '.join(ORDER_STATUSES)}"})
        with ctx.db.write() as conn:
            current = _load(conn, order_id)
            check_version(sent, current, history.saved_by(conn, "orders", order_id))
            if new != current["status"]:
                if new not in TRANSITIONS[current["status"]]:
                    raise ApiError(409, {
                        "error": f"cannot change a {current['status']} order to {new}",
                        "allowed": sorted(TRANSITIONS[current["status"]]), "current": current})
                now = utcnow()
                conn.execute(orders.update().where(orders.c.id == order_id).values(
                    status=new, version=orders.c.version + 1, updated_at=now))
                if new == "cancelled":
                    for line in current["items"]:
                        stock = conn.execute(select(products.c.stock).where(
                            products.c.id == line["product_id"])).scalar()
                        history.logged(conn, "products", line["product_id"],
                                       {"stock": stock},
                                       {"stock": (stock or 0) + line["quantity"]})
                        conn.execute(products.update()
                                     .where(products.c.id == line["product_id"])
                                     .values(stock=products.c.stock + line["quantity"],
                                             version=products.c.version + 1, updated_at=now))
            updated = _load(conn, order_id)
            history.logged(conn, "orders", order_id, current, updated)
        if new == "cancelled" and current["status"] != "cancelled":
            ctx.enqueue("stock_recount",
                        {"product_ids": sorted({i["product_id"] for i in current["items"]})})
        return resource(updated)
