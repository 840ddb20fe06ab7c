"""The expensive reads: table availability (cached, one start_at query per half hour), today."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import func, select

from demo.context import ShopContext
from demo.db import bookings, orders, products, utcnow
from demo.web import ascii_int, day_bounds, invalid, iso, parse_date

TABLES = 30
SEATS = 120
HOLD = timedelta(hours=2)
FIRST_SLOT = timedelta(hours=11)
SLOTS = 24  # 11:00 .. 22:30
HALF_HOURS_HELD = 4  # a 2-hour hold spans this many half hours
AVAILABILITY_TTL_S = 15.0
REVENUE_STATUSES = ("paid", "preparing", "ready", "completed")


def occupancy(ctx: ShopContext, day: date) -> list[list[int]]:
    """[tables held, covers held] at each half hour from 11:00 to 00:00 of ``day``.

    One range query on ``bookings.start_at`` per half hour: with ix_bookings_start_at each is a
    short index range scan, without it each is a scan of the whole table.
    """
    first = datetime(day.year, day.month, day.day) + FIRST_SLOT
    result: list[list[int]] = []
    start = time.perf_counter()
    with ctx.db.read() as conn:
        for k in range(SLOTS + HALF_HOURS_HELD - 1):
            at = first + timedelta(minutes=30 * k)
            tables, covers = conn.execute(
                select(func.count(), func.coalesce(func.sum(bookings.c.party_size), 0))
                .where(bookings.c.start_at > at - HOLD, bookings.c.start_at <= at,
                       bookings.c.status.in_(("confirmed", "seated")))
            ).one()
            result.append([int(tables), int(covers)])
    ctx.metrics.db_query_duration.labels(query="availability").observe(
        time.perf_counter() - start)
    return result


#: The demo shares every field of the contract and lets the console change what it allows.
DISCOVERY: dict[str, Any] = {
    "contract": 1, "server": "backroom demo shop", "today": True, "floor": True,
    "waitlist": True,
    "availability": True, "menu": True, "order_items": True,
    "entities": {
        "bookings": {
            "fields": ["id", "customer_id", "customer_name", "phone", "party_size", "start_at",
                       "table_no", "status", "notes", "created_at", "updated_at"],
            "writable": True, "sorts": ["start_at", "customer_name"],
            "editable": ["customer_name", "phone", "party_size", "start_at", "table_no",
                         "notes", "status"],
            "statuses": ["confirmed", "seated", "cancelled", "no_show"]},
        "products": {
            "fields": ["id", "sku", "name", "category", "price_cents", "stock",
                       "low_stock_threshold", "low_stock", "active", "updated_at"],
            "writable": True, "sorts": ["name", "sku", "stock", "price_cents"],
            "editable": ["name", "category", "price_cents", "stock", "low_stock_threshold",
                         "active"]},
        "orders": {
            "fields": ["id", "customer_id", "customer_name", "placed_at", "status",
                       "total_cents", "item_count", "updated_at"],
            "writable": True, "sorts": ["placed_at", "total_cents"], "editable": ["status"],
            "statuses": ["pending", "paid", "preparing", "ready", "completed", "cancelled",
                         "refunded"]},
    },
}


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/discovery")
    def discovery() -> Response:
        return jsonify(DISCOVERY)

    @app.get("/api/availability")
    def availability() -> Response:
        errors: dict[str, str] = {}
        day: date | None = None
        try:
            day = parse_date(request.args.get("date"))
        except ValueError as exc:
            errors["date"] = str(exc)
        party = ascii_int(request.args.get("party_size", "")) or 0
        if not 1 <= party <= 20:
            errors["party_size"] = "must be an integer from 1 to 20"
        if errors:
            raise invalid(errors)
        assert day is not None
        # every search is logged for the demand report, by a worker (with none, the queue
        # backs up at the rate guests search)
        ctx.enqueue("search_log", {"date": day.isoformat(), "party_size": party})
        held, hit = ctx.cache.get_or_compute(
            "availability", day.isoformat(), AVAILABILITY_TTL_S, lambda: occupancy(ctx, day))
        now = utcnow()
        first = datetime(day.year, day.month, day.day) + FIRST_SLOT
        slots = []
        for k in range(SLOTS):
            at = first + timedelta(minutes=30 * k)
            window = held[k:k + HALF_HOURS_HELD]
            tables_free = TABLES - max(t for t, _ in window)
            seats_free = SEATS - max(c for _, c in window)
            slots.append({
                "start_at": iso(at), "available": at > now and tables_free > 0
                and seats_free >= party, "tables_free": max(0, tables_free),
                "seats_free": max(0, seats_free)})
        return jsonify({"date": day.isoformat(), "party_size": party, "cached": hit,
                        "slots": slots})

    @app.get("/api/stats/today")
    def stats_today() -> Response:
        now = utcnow()
        today = now.date()
        start, end = day_bounds(today)
        week_ago = start - timedelta(days=7)
        with ctx.db.read() as conn:
            b_rows = conn.execute(
                select(bookings.c.start_at, bookings.c.party_size, bookings.c.status)
                .where(bookings.c.start_at >= week_ago, bookings.c.start_at < end,
                       bookings.c.status != "cancelled")).all()
            o_rows = conn.execute(
                select(orders.c.placed_at, orders.c.total_cents, orders.c.status)
                .where(orders.c.placed_at >= week_ago, orders.c.placed_at < end)).all()
            low = conn.execute(
                select(func.count()).select_from(products)
                .where(products.c.active.is_(True),
                       products.c.stock <= products.c.low_stock_threshold)).scalar() or 0
        last_week = (week_ago, week_ago + timedelta(days=1))
        body: dict[str, Any] = {
            "date": today.isoformat(), "generated_at": iso(now),
            "bookings": 0, "covers": 0, "orders": 0, "revenue_cents": 0,
            "low_stock_count": int(low),
            "bookings_per_hour": [0] * 24, "bookings_per_hour_last_week": [0] * 24,
            "orders_per_hour": [0] * 24, "orders_per_hour_last_week": [0] * 24,
        }
        for at, party, status in b_rows:
            if at >= start:
                body["bookings"] += 1
                body["bookings_per_hour"][at.hour] += 1
                if status != "no_show":
                    body["covers"] += party
            elif last_week[0] <= at < last_week[1]:
                body["bookings_per_hour_last_week"][at.hour] += 1
        for at, total, status in o_rows:
            if at >= start:
                body["orders"] += 1
                body["orders_per_hour"][at.hour] += 1
                if status in REVENUE_STATUSES:
                    body["revenue_cents"] += total
            elif last_week[0] <= at < last_week[1]:
                body["orders_per_hour_last_week"][at.hour] += 1
        return jsonify(body)
