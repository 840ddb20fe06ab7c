"""Products endpoints (list, categories, read, update, restock) and the cached menu."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection, Row

from demo import history
from demo.context import ShopContext
from demo.db import order_items, orders, products, utcnow
from demo.web import (
    SortKey,
    check_version,
    contains,
    count_of,
    if_match,
    int_field,
    invalid,
    iso,
    json_body,
    keyset_page,
    not_found,
    parse_bool_arg,
    resource,
    search_text,
    text_field,
)

MENU_TTL_S = 30.0
SORTS = {
    "name": SortKey(products.c.name, False, "str"),
    "-name": SortKey(products.c.name, True, "str"),
    "sku": SortKey(products.c.sku, False, "str"),
    "stock": SortKey(products.c.stock, False, "int"),
    "-stock": SortKey(products.c.stock, True, "int"),
    "price_cents": SortKey(products.c.price_cents, False, "int"),
    "-price_cents": SortKey(products.c.price_cents, True, "int"),
}


def product_json(row: Row[Any]) -> dict[str, Any]:
    p = row._mapping
    return {
        "id": p["id"], "sku": p["sku"], "name": p["name"], "category": p["category"],
        "price_cents": p["price_cents"], "stock": p["stock"],
        "low_stock_threshold": p["low_stock_threshold"],
        "low_stock": p["stock"] <= p["low_stock_threshold"], "active": bool(p["active"]),
        "version": p["version"], "updated_at": iso(p["updated_at"]),
    }


def _load(conn: Connection, product_id: int) -> dict[str, Any]:
    row = conn.execute(select(products).where(products.c.id == product_id)).first()
    if row is None:
        raise not_found(f"product {product_id}")
    return product_json(row)


def compute_menu(ctx: ShopContext) -> dict[str, Any]:
    """Active products by category with units sold in the last 7 days (an aggregate join)."""
    since = utcnow() - timedelta(days=7)
    sold = (
        select(order_items.c.product_id, func.sum(order_items.c.quantity).label("sold"))
        .join(orders, orders.c.id == order_items.c.order_id)
        .where(orders.c.placed_at >= since, orders.c.status != "cancelled")
        .group_by(order_items.c.product_id)
        .subquery()
    )
    start = time.perf_counter()
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(products.c.id, products.c.sku, products.c.name, products.c.category,
                   products.c.price_cents, products.c.stock,
                   func.coalesce(sold.c.sold, 0).label("sold_7d"))
            .outerjoin(sold, sold.c.product_id == products.c.id)
            .where(products.c.active.is_(True))
            .order_by(products.c.category, products.c.name)
        ).all()
    ctx.metrics.db_query_duration.labels(query="menu").observe(time.perf_counter() - start)
    categories: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        categories.setdefault(r.category, []).append({
            "id": r.id, "sku": r.sku, "name": r.name, "price_cents": r.price_cents,
            "in_stock": r.stock > 0, "sold_7d": int(r.sold_7d)})
    return {"categories": [{"name": k, "items": v} for k, v in categories.items()]}


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/menu")
    def menu() -> Response:
        value, hit = ctx.cache.get_or_compute("menu", "all", MENU_TTL_S, lambda: compute_menu(ctx))
        return jsonify({"cached": hit, **value})

    @app.get("/api/products")
    def list_products() -> Response:
        errors: dict[str, str] = {}
        q = search_text(errors)
        low = parse_bool_arg("low_stock", errors)
        active = parse_bool_arg("active", errors)
        where: list[Any] = []
        if q:
            where.append(or_(contains(products.c.name, q), contains(products.c.sku, q)))
        if request.args.get("category"):
            where.append(products.c.category == request.args["category"])
        if low is True:
            where.append(products.c.stock <= products.c.low_stock_threshold)
        elif low is False:
            where.append(products.c.stock > products.c.low_stock_threshold)
        if active is not None:
            where.append(products.c.active.is_(active))
        with ctx.db.read() as conn:
            page = keyset_page(conn, select(products).where(*where), count_of(products, *where),
                               products.c.id, SORTS, "name", errors, product_json)
        return jsonify(page)

    @app.get("/api/products/categories")
    def categories() -> Response:
        with ctx.db.read() as conn:
            names = conn.execute(select(products.c.category).distinct()
                                 .where(products.c.category.is_not(None))
                                 .order_by(products.c.category)).scalars().all()
        return jsonify({"items": list(names)})

    @app.get("/api/products/<int:product_id>")
    def get_product(product_id: int) -> Response:
        with ctx.db.read() as conn:
            return resource(_load(conn, product_id))

    @app.patch("/api/products/<int:product_id>")
    def update_product(product_id: int) -> Response:
        sent = if_match(required=True)
        body = json_body()
        errors: dict[str, str] = {}
        values = {
            "name": text_field(body, "name", errors, max_len=120, min_len=1),
            "category": text_field(body, "category", errors, max_len=60, min_len=1),
            "price_cents": int_field(body, "price_cents", errors, lo=0, hi=10**9),
            "stock": int_field(body, "stock", errors, lo=0, hi=10**9),
            "low_stock_threshold": int_field(body, "low_stock_threshold", errors, lo=0,
                                             hi=10**6),
        }
        if "active" in body:
            if isinstance(body["active"], bool):
                values["active"] = body["active"]
            else:
                errors["active"] = "must be true or false"
        if errors:
            raise invalid(errors)
        values = {k: v for k, v in values.items() if v is not ...}
        with ctx.db.write() as conn:
            current = _load(conn, product_id)
            check_version(sent, current, history.saved_by(conn, "products", product_id))
            changes = {k: v for k, v in values.items() if v != current[k]}
            if changes:
                conn.execute(products.update().where(products.c.id == product_id).values(
                    **changes, version=products.c.version + 1, updated_at=utcnow()))
            updated = _load(conn, product_id)
            history.logged(conn, "products", product_id, current, updated)
        ctx.cache.invalidate("menu", "all")
        if "stock" in values:
            ctx.enqueue("stock_recount", {"product_ids": [product_id]})
        return resource(updated)

    @app.post("/api/products/<int:product_id>/restock")
    def restock(product_id: int) -> Response:
        sent = if_match(required=False)
        body = json_body()
        errors: dict[str, str] = {}
        qty = int_field(body, "quantity", errors, lo=1, hi=100_000, required=True)
        if errors:
            raise invalid(errors)
        with ctx.db.write() as conn:
            current = _load(conn, product_id)
            check_version(sent, current, history.saved_by(conn, "products", product_id))
            conn.execute(products.update().where(and_(products.c.id == product_id)).values(
                stock=products.c.stock + qty, version=products.c.version + 1,
                updated_at=utcnow()))
            updated = _load(conn, product_id)
            history.logged(conn, "products", product_id, current, updated)
        ctx.cache.invalidate("menu", "all")
        ctx.enqueue("stock_recount", {"product_ids": [product_id]})
        return resource(updated)

