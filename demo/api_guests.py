"""A booking's guest: their other bookings, found by phone or e-mail, else name."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import ColumnElement, and_, func, or_, select

from demo.api_bookings import booking_json
from demo.context import ShopContext
from demo.db import bookings, customers
from demo.web import not_found

LIMIT = 200
TAIL = 9  # the last digits of a phone that identify it (country code or trunk 0 aside)


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/bookings/<int:booking_id>/guest")
    def booking_guest(booking_id: int) -> Response:
        with ctx.db.read() as conn:
            row = conn.execute(select(bookings).where(bookings.c.id == booking_id)).first()
            if row is None:
                raise not_found(f"booking {booking_id}")
            b = row._mapping
            email = ""
            if b["customer_id"] is not None:
                email = conn.execute(select(customers.c.email).where(
                    customers.c.id == b["customer_id"])).scalar() or ""
            digits = re.sub(r"\D", "", b["phone"] or "")
            conds: list[ColumnElement[bool]] = []
            if len(digits) >= 7:
                matched_by = "phone"
                stored: Any = bookings.c.phone
                for ch in " +-()./":
                    stored = func.replace(stored, ch, "")
                conds.append(and_(bookings.c.phone.endswith(digits[-2:], autoescape=True),
                                  stored.endswith(digits[-TAIL:], autoescape=True)))
            else:
                matched_by = "e-mail" if email else "name"
            if email:
                conds.append(bookings.c.customer_id.in_(select(customers.c.id).where(
                    func.lower(customers.c.email) == email.lower())))
            if matched_by == "name":
                conds.append(bookings.c.customer_name == b["customer_name"])
            rows = conn.execute(select(bookings).where(or_(*conds), bookings.c.id != booking_id)
                                # an expression: the start_at index would be walked whole
                                .order_by(func.coalesce(bookings.c.start_at,
                                                        bookings.c.start_at).desc())
                                .limit(LIMIT)).all()
        return jsonify({"matched_by": matched_by, "bookings": [booking_json(r) for r in rows]})
