"""Reads from our schema that look across many rows: the past days' figures, a guest's
history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import Connection

from console.guests import (
    BY_EMAIL,
    BY_NAME,
    BY_PHONE,
    HISTORY_LIMIT,
    GuestHistory,
    guest_history,
    match_basis,
    phone_tail,
)
from console.past_days import PastDays, check_range, day_window, tally
from console.shop import REVENUE_STATUSES, Booking, naive_utc
from services.shop.schema import bookings, customers, order_items, orders, products

# What people put between a phone number's digits (console.guests.phone_digits drops them).
_PHONE_PUNCTUATION = " +-()./"


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


def guest_bookings(conn: Connection, booking: Booking, now: datetime,
                   load: Callable[[Any], Booking]) -> GuestHistory:
    """The guest's other bookings: the same phone (its last digits, however it is spaced) or
    a customer with the same e-mail; by name (as written) only when neither is known. Each
    is one scan of ``bookings`` (the phone is not indexed), the latest 200 at most."""
    email = ""
    if booking.customer_id is not None:
        email = conn.execute(select(customers.c.email)
                             .where(customers.c.id == booking.customer_id)).scalar() or ""
    basis = match_basis(booking, email)
    conds: list[ColumnElement[bool]] = []
    if basis == BY_PHONE:
        digits: Any = bookings.c.phone
        for ch in _PHONE_PUNCTUATION:
            digits = func.replace(digits, ch, "")
        tail = phone_tail(booking.phone)
        # A cheap LIKE on the stored text first (a number ends in its last two digits however
        # it is spaced), so the REPLACE chain runs on about one row in a hundred.
        conds.append(and_(bookings.c.phone.endswith(tail[-2:], autoescape=True),
                          digits.endswith(tail, autoescape=True)))
    if email.strip():
        same_email = select(customers.c.id).where(
            func.lower(customers.c.email) == email.strip().lower())
        conds.append(bookings.c.customer_id.in_(same_email))
    if basis == BY_NAME:
        conds.append(bookings.c.customer_name == booking.customer_name.strip())
    # Ordered by an expression, not the column: walking the start_at index backwards to meet
    # the LIMIT reads every row by its key (SQLite: 8x a plain scan); the matches are few.
    latest = func.coalesce(bookings.c.start_at, bookings.c.start_at).desc()
    rows = conn.execute(select(bookings).where(or_(*conds), bookings.c.id != booking.id)
                        .order_by(latest).limit(HISTORY_LIMIT)).all()
    return guest_history(booking, (load(r) for r in rows),
                         matched_by=BY_EMAIL if basis == BY_EMAIL else basis, now=now)
