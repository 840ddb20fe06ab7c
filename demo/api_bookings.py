"""Bookings endpoints: list with filters and keyset paging, create, read, update, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from demo import history
from demo.context import ShopContext
from demo.db import (
    BOOKING_STATUSES,
    bookings,
    customers,
    dining_tables,
    floor_settings,
    utcnow,
)
from demo.seed import CLOSE_AT, OPEN_AT, is_open
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
    parse_time,
    resource,
    text_field,
)

UNDO_CANCEL = timedelta(minutes=2)  # a cancel may be undone (back to confirmed) this long
TABLES = 30
TRANSITIONS: dict[str, frozenset[str]] = {
    "confirmed": frozenset({"seated", "no_show", "cancelled"}),
    "seated": frozenset({"confirmed"}),
    "no_show": frozenset({"confirmed", "seated"}),
    "cancelled": frozenset(),
}
SORTS = {
    "start_at": SortKey(bookings.c.start_at, False, "datetime"),
    "-start_at": SortKey(bookings.c.start_at, True, "datetime"),
    "customer_name": SortKey(bookings.c.customer_name, False, "str"),
    "-customer_name": SortKey(bookings.c.customer_name, True, "str"),
}


def booking_json(row: Row[Any]) -> dict[str, Any]:
    b = row._mapping
    return {
        "id": b["id"], "customer_id": b["customer_id"], "customer_name": b["customer_name"],
        "phone": b["phone"], "party_size": b["party_size"], "start_at": iso(b["start_at"]),
        "table_no": b["table_no"], "status": b["status"], "notes": b["notes"] or "",
        "version": b["version"], "created_at": iso(b["created_at"]),
        "updated_at": iso(b["updated_at"]),
    }


def _start_at(value: Any, errors: dict[str, str], must_be_future: bool,
              hours: bool = True) -> datetime | None:
    try:
        start = parse_time(value)
    except ValueError as exc:
        errors["start_at"] = str(exc)
        return None
    if must_be_future and start <= utcnow():
        errors["start_at"] = "must be in the future"
    elif hours and not is_open(start):
        errors["start_at"] = (f"must be within opening hours, {OPEN_AT:%H:%M} to "
                              f"{CLOSE_AT:%H:%M} (UTC)")
    return start


def _fields(body: dict[str, Any], errors: dict[str, str], creating: bool) -> dict[str, Any]:
    values = {
        "customer_name": text_field(body, "customer_name", errors, max_len=120,
                                    required=creating, min_len=1),
        "phone": text_field(body, "phone", errors, max_len=40, nullable=True),
        "party_size": int_field(body, "party_size", errors, lo=1, hi=20, required=creating),
        "table_no": int_field(body, "table_no", errors, lo=1, hi=TABLES, nullable=True),
        "notes": text_field(body, "notes", errors, max_len=1000, nullable=True),
    }
    if creating:
        values["customer_id"] = int_field(body, "customer_id", errors, lo=1, hi=2**62,
                                          nullable=True)
        if "start_at" not in body:
            errors["start_at"] = "is required"
    if values["notes"] is None:
        values["notes"] = ""
    if "status" in body and not creating:
        if body["status"] in BOOKING_STATUSES:
            values["status"] = body["status"]
        else:
            errors["status"] = f"must be one of {', '.join(BOOKING_STATUSES)}"
    return {k: v for k, v in values.items() if v is not ...}


def _load(conn: Connection, booking_id: int) -> dict[str, Any]:
    row = conn.execute(select(bookings).where(bookings.c.id == booking_id)).first()
    if row is None:
        raise not_found(f"booking {booking_id}")
    return booking_json(row)


def _undoes_a_cancel(current: dict[str, Any], new: str) -> bool:
    """Back to confirmed within UNDO_CANCEL of the cancel: the undo of a mistake."""
    if current["status"] != "cancelled" or new != "confirmed" or not current["updated_at"]:
        return False
    age = utcnow() - parse_time(current["updated_at"])
    return timedelta(0) <= age <= UNDO_CANCEL + timedelta(seconds=1)  # stored to the second


def _transition_error(current: dict[str, Any], new: str) -> ApiError:
    allowed = sorted(TRANSITIONS[current["status"]])
    return ApiError(409, {"error": f"cannot change a {current['status']} booking to {new}",
                          "allowed": allowed, "current": current})


def register(app: Flask, ctx: ShopContext) -> None:
    def invalidate_days(*starts: str | None) -> None:
        days = {s[:10] for s in starts if s}
        if days:
            ctx.cache.invalidate("availability", *days)

    @app.get("/api/bookings")
    def list_bookings() -> Response:
        errors: dict[str, str] = {}
        where = list_filters(bookings.c.start_at, bookings.c.status, BOOKING_STATUSES,
                             (bookings.c.customer_name, bookings.c.phone), errors)
        with ctx.db.read() as conn:
            page = keyset_page(conn, select(bookings).where(*where), count_of(bookings, *where),
                               bookings.c.id, SORTS, "start_at", errors, booking_json)
        return jsonify(page)

    @app.get("/api/floor")
    def floor() -> Response:
        with ctx.db.read() as conn:
            tables = [{"number": r.number, "name": r.name, "seats": r.seats, "area": r.area}
                      for r in conn.execute(select(dining_tables).order_by(
                          dining_tables.c.area, dining_tables.c.number))]
            settings = conn.execute(select(floor_settings)).first()
        plan = dict(settings._mapping) if settings is not None else {}
        plan.pop("id", None)
        return jsonify({**plan, "tables": tables})

    @app.post("/api/bookings")
    def create_booking() -> Response:
        body = json_body()
        errors: dict[str, str] = {}
        walk_in = body.get("walk_in") is True
        if walk_in:  # seated now: the server's clock says when
            body = {**body, "start_at": iso(utcnow())}
        values = _fields(body, errors, creating=True)
        start = (_start_at(body["start_at"], errors, not walk_in, hours=not walk_in)
                 if "start_at" in body else None)
        if errors:
            raise invalid(errors)
        now = utcnow()
        with ctx.db.write() as conn:
            if values.get("customer_id") is not None and conn.execute(
                    select(customers.c.id).where(customers.c.id == values["customer_id"])
            ).first() is None:
                raise invalid({"customer_id": "no such customer"})
            result = conn.execute(bookings.insert().values(
                **values, start_at=start, status="seated" if walk_in else "confirmed",
                version=1, created_at=now,
                updated_at=now))
            pk = result.inserted_primary_key
            assert pk is not None
            created = _load(conn, int(pk[0]))
            history.created(conn, "bookings", created["id"],
                            f"{'walk-in' if walk_in else 'booked'}: "
                            f"{created['customer_name']}, {created['party_size']}")
        ctx.metrics.bookings_created.inc()
        invalidate_days(created["start_at"])
        if not walk_in:  # a party at the door needs no confirmation message
            ctx.enqueue("booking_message", {"booking_id": created["id"], "event": "confirmed"})
        return resource(created, 201, f"/api/bookings/{created['id']}")

    @app.get("/api/bookings/<int:booking_id>")
    def get_booking(booking_id: int) -> Response:
        with ctx.db.read() as conn:
            return resource(_load(conn, booking_id))

    @app.patch("/api/bookings/<int:booking_id>")
    def update_booking(booking_id: int) -> Response:
        sent = if_match(required=True)
        body = json_body()
        errors: dict[str, str] = {}
        values = _fields(body, errors, creating=False)
        with ctx.db.write() as conn:
            current = _load(conn, booking_id)
            if "start_at" in body:
                start = _start_at(body["start_at"], errors, must_be_future=False)
                if start is not None and "start_at" not in errors \
                        and iso(start) != current["start_at"]:
                    if start <= utcnow():
                        errors["start_at"] = "must be in the future"
                    else:
                        values["start_at"] = start
            if errors:
                raise invalid(errors)
            check_version(sent, current, history.saved_by(conn, "bookings", booking_id))
            new_status = values.get("status", current["status"])
            if new_status != current["status"] \
                    and new_status not in TRANSITIONS[current["status"]] \
                    and not _undoes_a_cancel(current, new_status):
                raise _transition_error(current, new_status)
            changes = {k: v for k, v in values.items()
                       if (iso(v) if isinstance(v, datetime) else v) != current[k]}
            if changes:
                conn.execute(bookings.update().where(bookings.c.id == booking_id).values(
                    **changes, version=bookings.c.version + 1, updated_at=utcnow()))
            updated = _load(conn, booking_id)
            history.logged(conn, "bookings", booking_id, current, updated)
        invalidate_days(current["start_at"], updated["start_at"])
        if updated["status"] == "cancelled" and current["status"] != "cancelled":
            ctx.metrics.bookings_cancelled.inc()
            ctx.enqueue("booking_message", {"booking_id": booking_id, "event": "cancelled"})
        return resource(updated)

    @app.post("/api/bookings/<int:booking_id>/cancel")
    def cancel_booking(booking_id: int) -> Response:
        sent = if_match(required=True)
        body = json_body()
        errors: dict[str, str] = {}
        reason = text_field(body, "reason", errors, max_len=500, nullable=True)
        if errors:
            raise invalid(errors)
        with ctx.db.write() as conn:
            current = _load(conn, booking_id)
            check_version(sent, current, history.saved_by(conn, "bookings", booking_id))
            if current["status"] == "cancelled":
                raise ApiError(409, {"error": "booking is already cancelled", "allowed": [],
                                     "current": current})
            if "cancelled" not in TRANSITIONS[current["status"]]:
                raise _transition_error(current, "cancelled")
            notes = current["notes"]
            if reason not in (None, ..., ""):
                notes = (notes + "\n" if notes else "") + f"cancelled: {reason}"
            conn.execute(bookings.update().where(bookings.c.id == booking_id).values(
                status="cancelled", notes=notes[:2000], version=bookings.c.version + 1,
                updated_at=utcnow()))
            updated = _load(conn, booking_id)
            history.logged(conn, "bookings", booking_id, current, updated)
        ctx.metrics.bookings_cancelled.inc()
        invalidate_days(updated["start_at"])
        ctx.enqueue("booking_message", {"booking_id": booking_id, "event": "cancelled"})
        return resource(updated)
