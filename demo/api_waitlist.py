"""Waitlist endpoints: today's list, add a party, seat it (a walk-in booking), take it off."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection, Row

from demo.api_bookings import TABLES, booking_json
from demo.context import ShopContext
from demo.db import bookings, utcnow, waitlist
from demo.web import ApiError, int_field, invalid, iso, json_body, not_found, parse_time, text_field

QUOTED_MAX = 240


def party_json(row: Row[Any]) -> dict[str, Any]:
    p = row._mapping
    return {"id": p["id"], "name": p["name"], "phone": p["phone"], "covers": p["covers"],
            "quoted_minutes": p["quoted_minutes"], "added_at": iso(p["added_at"]),
            "state": p["state"], "seated_at": iso(p["seated_at"]),
            "removed_at": iso(p["removed_at"]), "booking_id": p["booking_id"]}


def _load(conn: Connection, party_id: int) -> dict[str, Any]:
    row = conn.execute(select(waitlist).where(waitlist.c.id == party_id)).first()
    if row is None:
        raise not_found(f"waiting party {party_id}")
    return party_json(row)


def _still_waiting(party: dict[str, Any]) -> None:
    """Someone seated or removed the party first: 412 with the party as it is now."""
    if party["state"] != "waiting":
        raise ApiError(412, {"error": f"{party['name']} is no longer waiting ({party['state']})",
                             "current": party})


def register(app: Flask, ctx: ShopContext) -> None:
    @app.get("/api/waitlist")
    def list_waitlist() -> Response:
        raw = request.args.get("since")
        try:
            since = parse_time(raw) if raw else datetime.combine(utcnow().date(), time(0))
        except ValueError as exc:
            raise invalid({"since": str(exc)}) from exc
        w = waitlist.c
        with ctx.db.read() as conn:
            rows = conn.execute(select(waitlist).where(or_(
                w.state == "waiting", w.added_at >= since, w.seated_at >= since,
                w.removed_at >= since)).order_by(w.added_at, w.id))
            return jsonify({"items": [party_json(r) for r in rows]})

    @app.post("/api/waitlist")
    def add_to_waitlist() -> Response:
        body = json_body()
        errors: dict[str, str] = {}
        values = {
            "name": text_field(body, "name", errors, max_len=120, required=True, min_len=1),
            "phone": text_field(body, "phone", errors, max_len=40, nullable=True),
            "covers": int_field(body, "covers", errors, lo=1, hi=20, required=True),
            "quoted_minutes": int_field(body, "quoted_minutes", errors, lo=0, hi=QUOTED_MAX,
                                        required=True),
        }
        if errors:
            raise invalid(errors)
        with ctx.db.write() as conn:
            result = conn.execute(waitlist.insert().values(
                **{k: v for k, v in values.items() if v is not ...}, added_at=utcnow(),
                state="waiting"))
            pk = result.inserted_primary_key
            assert pk is not None
            party = _load(conn, int(pk[0]))
        resp = jsonify(party)
        resp.status_code = 201
        resp.headers["Location"] = f"/api/waitlist/{party['id']}"
        return resp

    @app.post("/api/waitlist/<int:party_id>/seat")
    def seat_from_waitlist(party_id: int) -> Response:
        body = json_body()
        errors: dict[str, str] = {}
        table_no = int_field(body, "table_no", errors, lo=1, hi=TABLES, required=True)
        if errors:
            raise invalid(errors)
        now = utcnow()
        with ctx.db.write() as conn:
            party = _load(conn, party_id)
            _still_waiting(party)
            waited = int((now - parse_time(party["added_at"]).replace(tzinfo=None))
                         .total_seconds() // 60)
            result = conn.execute(bookings.insert().values(
                customer_name=party["name"], phone=party["phone"], party_size=party["covers"],
                start_at=now, table_no=table_no, status="seated", version=1, created_at=now,
                updated_at=now, notes=f"From the waitlist: waited {max(0, waited)} min "
                                      f"(quoted {party['quoted_minutes']})."))
            pk = result.inserted_primary_key
            assert pk is not None
            booking_id = int(pk[0])
            conn.execute(waitlist.update().where(waitlist.c.id == party_id).values(
                state="seated", seated_at=now, booking_id=booking_id))
            booking = booking_json(conn.execute(
                select(bookings).where(bookings.c.id == booking_id)).one())
            party = _load(conn, party_id)
        ctx.metrics.bookings_created.inc()
        ctx.cache.invalidate("availability", booking["start_at"][:10])
        return jsonify({"party": party, "booking": booking})

    @app.post("/api/waitlist/<int:party_id>/remove")
    def remove_from_waitlist(party_id: int) -> Response:
        with ctx.db.write() as conn:
            party = _load(conn, party_id)
            _still_waiting(party)
            conn.execute(waitlist.update().where(waitlist.c.id == party_id).values(
                state="removed", removed_at=utcnow()))
            return jsonify(_load(conn, party_id))
