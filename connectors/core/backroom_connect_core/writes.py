"""Changes of a booking, product or order: checked, saved against the version, logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from backroom_connect_core.changes import change_log, created_log, saved_by
from backroom_connect_core.contract import Mapping
from backroom_connect_core.resources import check_field, one, resource
from backroom_connect_core.store import Answer, Store
from backroom_connect_core.values import (
    Refusal,
    etag,
    invalid,
    iso,
    next_version,
    version_number,
)


def changes(m: Mapping, data: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in m.entity.editable:
        if name not in data:
            continue
        if not m.has(name):
            if data[name] not in (None, ""):
                errors[name] = f"this shop keeps no {name} (its connector does not map it)"
            continue
        value = check_field(m, name, data[name], errors)
        if name == "start_at" and value is not None and name not in errors:
            moved = row.get("start_at") is None or iso(row["start_at"]) != iso(value)
            if moved and value <= datetime.now(UTC):
                errors[name] = "must be in the future"
        if name not in errors:
            out[name] = value
    if errors:
        raise invalid(errors)
    return out


#: How long after a cancel a booking may be confirmed again (the console's Undo), as the
#: contract says (docs/api.md).
UNDO_CANCEL = timedelta(minutes=2)


def undoes_a_cancel(m: Mapping, row: dict[str, Any], was: str | None, status: str) -> bool:
    """Back to confirmed within UNDO_CANCEL of the cancel, judged by the row's last change
    (its updated_at, or a timestamp version); a shop that keeps neither keeps cancels final."""
    if m.entity.name != "bookings" or was != "cancelled" or status != "confirmed":
        return False
    changed = row.get("updated_at") if m.has("updated_at") else None
    if not isinstance(changed, datetime) and isinstance(row.get("version"), datetime):
        changed = row["version"]
    if not isinstance(changed, datetime):
        return False
    changed = changed if changed.tzinfo is not None else changed.replace(tzinfo=UTC)
    return timedelta(0) <= datetime.now(UTC) - changed <= UNDO_CANCEL + timedelta(seconds=1)


def save(store: Store, m: Mapping, row: dict[str, Any], sent: int | str | None, user: str,
         change: Callable[[dict[str, Any]], dict[str, Any]], cancel: bool = False) -> Answer:
    """Write the change judged on the row as it is, if its version is still ``sent``; logged
    as ``user``'s in the same transaction. A mismatch is 412 with who saved first."""
    for _attempt in range(3):
        current = version_number(row.get("version"))
        if sent not in (None, "*", current):
            body = {"error": f"version mismatch: you sent {sent}, current is {current}",
                    "current": resource(m, row)}
            first = saved_by(store, m, row)
            if first is not None:
                body["saved_by"] = first
            raise Refusal(412, body, {"ETag": etag(current)})
        wanted = change(row)
        status = wanted.get("status")
        was = m.status_of(row.get("status"))
        if status is not None and status != was:
            allowed = m.entity.transitions.get(was or "", ())
            if status not in allowed and not undoes_a_cancel(m, row, was, status):
                text = (f"this {m.entity.noun} is already cancelled" if cancel
                        else f"a {m.entity.noun} that is {was} cannot become {status}")
                raise Refusal(409, {"error": text, "allowed": list(allowed),
                                    "current": resource(m, row)})
        stored = {k: (m.status_values[v] if k == "status" else v) for k, v in wanted.items()}
        if status == was and cancel:
            raise Refusal(409, {"error": f"this {m.entity.noun} is already cancelled",
                                "allowed": [], "current": resource(m, row)})
        stored["version"] = next_version(row.get("version"))
        if m.has("updated_at") and m.columns["updated_at"] != m.columns["version"]:
            stored["updated_at"] = datetime.now(UTC)
        log = change_log(m, resource(m, row), wanted, version_number(stored["version"]), user)
        if store.update(m, row["id"], row.get("version"), stored, log):
            fresh = store.get(m, row["id"])
            if fresh is None:
                break
            return one(m, fresh)
        # someone saved between our read and our write: judge the request again on theirs
        again = store.get(m, row["id"])
        if again is None:
            break
        row = again
    raise Refusal(404, {"error": f"{m.entity.noun} {row['id']} not found"})


def create(store: Store, m: Mapping, data: dict[str, Any], user: str) -> Answer:
    """A booking made (a walk-in: seated now), its creation logged as ``user``'s."""
    if not m.writable:
        raise Refusal(405, {"error": f"{m.describe()['read_only_reason']}"})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    walk_in = data.get("walk_in") is True
    if walk_in:  # seated now: this server's clock is the start
        data = {**data, "start_at": iso(datetime.now(UTC))}
        if "seated" not in m.status_values:
            errors["status"] = "this shop stores no seated status for a walk-in"
    for name in ("customer_name", "party_size", "start_at", "phone", "table_no", "notes"):
        if name not in data:
            if name in m.entity.required:
                errors[name] = "is required"
            continue
        if not m.has(name):
            continue
        value = check_field(m, name, data[name], errors)
        if name == "start_at" and name not in errors and not walk_in \
                and value <= datetime.now(UTC):
            errors[name] = "must be in the future"
        values[name] = value
    if errors:
        raise invalid(errors)
    values["status"] = m.status_values["seated" if walk_in else "confirmed"]
    summary = f"{'walk-in' if walk_in else 'booked'}: {values['customer_name']}, " \
              f"{values['party_size']}"
    ident = store.create(m, values, created_log(m, summary, None, user))
    row = store.get(m, ident)
    assert row is not None
    answer = one(m, row, 201)
    answer.headers["Location"] = f"api/bookings/{ident}"
    return answer

