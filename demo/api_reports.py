"""The day report: bookings, covers, orders and sales by category per UTC day of a range."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import func, select

from demo.context import ShopContext
from demo.db import bookings, order_items, orders, products
from demo.web import day_bounds, invalid, parse_date

MAX_DAYS = 366
REVENUE_STATUSES = ("paid", "preparing", "ready", "completed")


def _days(errors: dict[str, str]) -> tuple[date, date] | None:
    got: dict[str, date] = {}
    for name in ("from", "to"):
        try:
            got[name] = parse_date(request.args.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        return None
    first, last = got["from"], got["to"]
    if last < first:
        errors["to"] = "must not be before from"
    elif (last - first).days + 1 > MAX_DAYS:
        errors["to"] = f"at most {MAX_DAYS} days from 'from'"
    return None if errors else (first, last)


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/reports/days")
    def report_days() -> Response:
        errors: dict[str, str] = {}
        days = _days(errors)
        if days is None:
            raise invalid(errors)
        first, last = days
        lo, hi = day_bounds(first)[0], day_bounds(last)[1]
        b_day, o_day = func.date(bookings.c.start_at), func.date(orders.c.placed_at)
        with ctx.db.read() as conn:
            b_rows = conn.execute(
                select(b_day, bookings.c.status, func.count(), func.sum(bookings.c.party_size))
                .where(bookings.c.start_at >= lo, bookings.c.start_at < hi)
                .group_by(b_day, bookings.c.status)).all()
            o_rows = conn.execute(
                select(o_day, orders.c.status, func.count(), func.sum(orders.c.total_cents))
                .where(orders.c.placed_at >= lo, orders.c.placed_at < hi)
                .group_by(o_day, orders.c.status)).all()
            c_rows = conn.execute(
                select(o_day, products.c.category,
                       func.sum(order_items.c.quantity * order_items.c.unit_price_cents))
                .select_from(order_items.join(orders, orders.c.id == order_items.c.order_id)
                             .outerjoin(products, products.c.id == order_items.c.product_id))
                .where(orders.c.placed_at >= lo, orders.c.placed_at < hi,
                       orders.c.status.in_(REVENUE_STATUSES))
                .group_by(o_day, products.c.category)).all()
        out: dict[str, dict[str, Any]] = {}
        for i in range((last - first).days + 1):
            day = (first + timedelta(days=i)).isoformat()
            out[day] = {"day": day, "bookings": {}, "covers": {}, "orders": {},
                        "order_cents": {}, "category_cents": {}}
        for day, status, n, covers in b_rows:
            out[day]["bookings"][status] = int(n)
            out[day]["covers"][status] = int(covers or 0)
        for day, status, n, cents in o_rows:
            out[day]["orders"][status] = int(n)
            out[day]["order_cents"][status] = int(cents or 0)
        for day, category, cents in c_rows:
            name = category or "Uncategorised"
            out[day]["category_cents"][name] = int(cents or 0)
        return jsonify({"from": first.isoformat(), "to": last.isoformat(), "timezone": "UTC",
                        "days": list(out.values())})
