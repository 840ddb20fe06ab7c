"""Reports read from our schema in one unit of work: the past days' figures."""

from __future__ import annotations

from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from console.past_days import PastDays, check_range, day_window, tally
from console.shop import REVENUE_STATUSES, naive_utc
from services.shop.schema import bookings, order_items, orders, products


def past_days(conn: Connection, first: date, last: date, tz: tzinfo | None) -> PastDays:
    """Bookings, orders and sales by category of the days ``first..last`` in ``tz``.

    Rows come back whole (three range scans on the time indexes) and are counted into local
    days here, the same way on SQLite, PostgreSQL and MariaDB."""
    check_range(first, last)
    lo, hi = (naive_utc(t) for t in day_window(first, last, tz))
    b = conn.execute(select(bookings.c.start_at, bookings.c.status, bookings.c.party_size)
                     .where(bookings.c.start_at >= lo, bookings.c.start_at < hi)).all()
    o = conn.execute(select(orders.c.placed_at, orders.c.status, orders.c.total_cents)
                     .where(orders.c.placed_at >= lo, orders.c.placed_at < hi)).all()
    lines = conn.execute(
        select(orders.c.placed_at, products.c.category,
               order_items.c.quantity * order_items.c.unit_price_cents)
        .select_from(order_items.join(orders, orders.c.id == order_items.c.order_id)
                     .outerjoin(products, products.c.id == order_items.c.product_id))
        .where(orders.c.placed_at >= lo, orders.c.placed_at < hi,
               orders.c.status.in_([s.value for s in REVENUE_STATUSES]))).all()
    return tally(first, last, tz,
                 bookings=((r[0], r[1], r[2] or 0) for r in b),
                 orders=((r[0], r[1], r[2] or 0) for r in o),
                 lines=((r[0], r[1] or "", r[2] or 0) for r in lines))
