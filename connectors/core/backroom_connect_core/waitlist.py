"""The waitlist over the shop's own model: today's parties, add one, seat it, take it off."""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.changes import created_log
from backroom_connect_core.contract import STATUS, TIME, Mapping
from backroom_connect_core.resources import check_field, resource
from backroom_connect_core.store import Answer, Cond, Store, only
from backroom_connect_core.values import (
    MAX_INT,
    Refusal,
    ascii_int,
    invalid,
    iso,
    json_object,
    parse_time,
    utc,
)

QUOTED_MAX = 240
#: What a party's fields may hold: (low, high) for integers, length for text, nullable.
RULES: dict[str, tuple[int, int, bool]] = {
    "name": (1, 120, False), "phone": (0, 40, True), "covers": (1, 20, False),
    "quoted_minutes": (0, QUOTED_MAX, False)}


def waitlist(store: Store, mappings: dict[str, Mapping], method: str, rest: list[str],
             query: AnyMapping[str, str], body: bytes, user: str) -> Answer:
    """``/api/waitlist`` and its parties' seat and remove (docs/api.md, The waitlist)."""
    m = mappings.get("waitlist")
    if m is None:
        raise Refusal(404, {"error": "this shop keeps no waitlist (BACKROOM_CONNECT has no "
                                     "'waitlist')"})
    if not rest:
        only(method, "GET", "POST")
        if method == "POST":
            return _add(store, m, json_object(body))
        return Answer(200, {"items": _today(store, m, query)})
    ident = ascii_int(rest[0])
    if ident is None or ident > MAX_INT or len(rest) != 2 or rest[1] not in ("seat", "remove"):
        raise Refusal(404, {"error": f"no such path under the waitlist: {'/'.join(rest)[:80]}"})
    only(method, "POST")
    row = store.get(m, ident)
    if row is None:
        raise Refusal(404, {"error": f"waiting party {ident} not found"})
    data = json_object(body)
    if rest[1] == "remove":
        return _remove(store, m, row)
    return _seat(store, mappings, m, row, data, user)


def party(m: Mapping, row: dict[str, Any]) -> dict[str, Any]:
    """A row as the contract's party (fields the shop does not map are null)."""
    out: dict[str, Any] = {"id": row["id"]}
    for name, kind in m.entity.fields.items():
        value = row.get(name) if m.has(name) else None
        out[name] = (iso(value) if kind == TIME else m.status_of(value) if kind == STATUS
                     else value)
    return out


def _today(store: Store, m: Mapping, query: AnyMapping[str, str]) -> list[dict[str, Any]]:
    raw = query.get("since")
    try:
        since = parse_time(raw) if raw else datetime.now(UTC).replace(
            hour=0, minute=0, second=0, microsecond=0)
    except ValueError as exc:
        raise invalid({"since": str(exc)}) from None
    anyof: list[Cond] = [("eq", "state", m.status_values["waiting"])] \
        if "waiting" in m.status_values else []
    anyof += [("ge", name, since) for name in ("added_at", "seated_at", "removed_at")
              if m.has(name)]
    rows = store.rows(m, [("any", anyof)], ("added_at", False), None)
    return [party(m, r) for r in rows]


def _add(store: Store, m: Mapping, data: dict[str, Any]) -> Answer:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, (lo, hi, nullable) in RULES.items():
        value = data.get(name)
        text = name in ("name", "phone")
        if value is None:
            if not nullable:
                errors[name] = "is required"
        elif text and not isinstance(value, str):
            errors[name] = "must be a string"
        elif text:
            value = value.strip() or None
            if not lo <= len(value or "") <= hi:
                errors[name] = "must not be empty" if not value else f"at most {hi} characters"
        elif not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[name] = f"must be an integer from {lo} to {hi}"
        if name not in errors and m.has(name):
            values[name] = value
    if "waiting" not in m.status_values:
        errors["state"] = "this shop stores no waiting state (its connector does not map it)"
    if errors:
        raise invalid(errors)
    values.update(added_at=datetime.now(UTC), state=m.status_values["waiting"])
    ident = store.create(m, values)
    row = store.get(m, ident)
    assert row is not None
    return Answer(201, party(m, row), {"Location": f"api/waitlist/{ident}"})


def _gone(m: Mapping, row: dict[str, Any]) -> Refusal:
    """Someone seated or removed the party first: 412 with the party as it is now."""
    now = party(m, row)
    return Refusal(412, {"error": f"{now['name']} is no longer waiting ({now['state']})",
                         "current": now})


def _still_waiting(m: Mapping, row: dict[str, Any]) -> Any:
    waiting = m.status_values.get("waiting")
    if row.get("state") != waiting:
        raise _gone(m, row)
    return waiting


def _remove(store: Store, m: Mapping, row: dict[str, Any]) -> Answer:
    waiting = _still_waiting(m, row)
    if "removed" not in m.status_values:
        raise Refusal(405, {"error": "this shop stores no removed state for the waitlist"})
    changes: dict[str, Any] = {"state": m.status_values["removed"]}
    if m.has("removed_at"):
        changes["removed_at"] = datetime.now(UTC)
    done = store.update(m, row["id"], waiting, changes)
    fresh = store.get(m, row["id"])
    if fresh is None:
        raise Refusal(404, {"error": f"waiting party {row['id']} not found"})
    if not done:
        raise _gone(m, fresh)
    return Answer(200, party(m, fresh))


def _seat(store: Store, mappings: dict[str, Mapping], m: Mapping, row: dict[str, Any],
          data: dict[str, Any], user: str) -> Answer:
    """The party seated now at ``table_no``, as a walk-in booking made in one transaction."""
    waiting = _still_waiting(m, row)
    bookings = mappings.get("bookings")
    if bookings is None or not bookings.writable or "seated" not in bookings.status_values \
            or "seated" not in m.status_values:
        raise Refusal(405, {"error": "this shop's connector cannot seat from the waitlist: "
                                     "it needs writable bookings with a seated status and a "
                                     "seated state for the waitlist"})
    errors: dict[str, str] = {}
    table_no = data.get("table_no")
    if table_no is None:
        errors["table_no"] = "is required"
    else:
        check_field(bookings, "table_no", table_no, errors)
    tables = mappings.get("tables")
    if not errors and tables is not None and store.count(
            tables, [("eq", "number", table_no)]) == 0:
        errors["table_no"] = f"this shop has no table {table_no}"
    if errors:
        raise invalid(errors)
    now = datetime.now(UTC)
    waited = max(0, int((now - utc(row["added_at"])).total_seconds() // 60))
    quoted = row.get("quoted_minutes")
    booking: dict[str, Any] = {
        "customer_name": row["name"], "party_size": row["covers"], "start_at": now,
        "phone": row.get("phone") or None, "table_no": table_no,
        "notes": f"From the waitlist: waited {waited} min (quoted {quoted}).",
        "status": bookings.status_values["seated"]}
    booking = {k: v for k, v in booking.items() if bookings.has(k)}
    seated: dict[str, Any] = {"state": m.status_values["seated"]}
    if m.has("seated_at"):
        seated["seated_at"] = now
    log = created_log(bookings, f"walk-in: {row['name']}, {row['covers']}", None, user)
    booking_id = store.seat(m, bookings, row["id"], waiting, seated, booking, log)
    fresh = store.get(m, row["id"])
    if fresh is None:
        raise Refusal(404, {"error": f"waiting party {row['id']} not found"})
    if booking_id is None:
        raise _gone(m, fresh)
    made = store.get(bookings, booking_id)
    assert made is not None
    out = party(m, fresh)
    out["booking_id"] = out["booking_id"] or booking_id  # a shop that keeps no link
    return Answer(200, {"party": out, "booking": resource(bookings, made)})

