"""One request of docs/api.md answered over a :class:`Store` of the shop's models."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from backroom_connect_core.contract import BOOL, INT, STATUS, TEXT, TIME, Mapping
from backroom_connect_core.summaries import floor_plan, today_figures
from backroom_connect_core.values import (
    DEFAULT_LIMIT,
    MAX_INT,
    MAX_LIMIT,
    MAX_Q,
    Refusal,
    ascii_int,
    cursor_total,
    decode_cursor,
    encode_cursor,
    etag,
    invalid,
    iso,
    json_object,
    next_version,
    parse_day,
    parse_if_match,
    parse_time,
    version_number,
)

log = logging.getLogger("backroom_connect")

# What a body field may hold: (low, high) for integers, (min, max) length for text, nullable.
RULES: dict[str, tuple[int, int, bool]] = {
    "customer_name": (1, 120, False), "phone": (0, 40, True), "party_size": (1, 20, False),
    "table_no": (1, 1000, True), "notes": (0, 1000, True), "name": (1, 120, False),
    "category": (1, 60, False), "price_cents": (0, MAX_INT, False),
    "stock": (0, MAX_INT, False), "low_stock_threshold": (0, MAX_INT, False),
}

Cond = tuple[Any, ...]
"""A filter in contract field names and the shop's stored values:
``("eq", f, v)``, ``("in", f, [v..])``, ``("ge", f, v)``, ``("lt", f, v)``,
``("le_field", f, g)`` (f <= g), ``("search", (f..), text)`` (case-insensitive literal
substring of any), ``("after", f, descending, v, id)`` (keyset: past row (v, id))."""


class Store(Protocol):
    """What a framework's adapter does over the shop's models (rows as dicts keyed by the
    contract's field names, ``"id"`` and ``"version"`` included, values as stored)."""

    def rows(self, m: Mapping, where: list[Cond], order: tuple[str, bool],
             limit: int | None) -> list[dict[str, Any]]: ...
    def count(self, m: Mapping, where: list[Cond]) -> int: ...
    def get(self, m: Mapping, ident: int) -> dict[str, Any] | None: ...
    def update(self, m: Mapping, ident: int, seen_version: Any,
               changes: dict[str, Any]) -> bool:
        """Write ``changes`` only if the version field still holds ``seen_version``."""
        ...
    def create(self, m: Mapping, values: dict[str, Any]) -> int: ...
    def distinct(self, m: Mapping, name: str) -> list[Any]: ...
    def ping(self) -> None: ...


@dataclass(slots=True)
class Answer:
    """What the framework sends back: status, a JSON-able body, headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def handle(store: Store, mappings: dict[str, Mapping], token: str, method: str, path: str,
           query: AnyMapping[str, str], header: Callable[[str], str | None], body: bytes,
           server: str = "backroom-connect") -> Answer:
    """Answer one request; ``path`` is relative to where the connector is mounted."""
    parts = [p for p in path.strip("/").split("/") if p]
    try:
        if parts == ["health"]:
            return _health(store, server)
        if not _authorised(header("Authorization"), token):
            raise Refusal(401, {"error": "missing or invalid bearer token"},
                          {"WWW-Authenticate": "Bearer"})
        if parts in ([], ["api"], ["api", "discovery"]):
            _only(method, "GET")
            return Answer(200, discovery(mappings, server))
        if len(parts) < 2 or parts[0] != "api":
            raise Refusal(404, {"error": f"no such path: /{'/'.join(parts)[:80]}"})
        if parts[1:3] == ["stats", "today"] and len(parts) == 3:
            _only(method, "GET")
            return Answer(200, today_figures(store, mappings))
        if parts[1:] == ["floor"]:
            _only(method, "GET")
            return Answer(200, floor_plan(store, mappings))
        m = mappings.get(parts[1])
        if m is None:
            raise Refusal(404, {"error": f"{parts[1][:40]} are not shared by this shop "
                                         "(not in its BACKROOM_CONNECT settings)"})
        return _entity(store, m, method, parts[2:], query, header, body)
    except Refusal as refusal:
        return Answer(refusal.status, refusal.body, refusal.headers)
    except Exception:
        log.exception("backroom_connect: %s %s failed", method, path[:200])
        return Answer(500, {"error": "internal error"})


def discovery(mappings: dict[str, Mapping], server: str) -> dict[str, Any]:
    """Which entities and fields this shop maps, so the console can hide or grey the rest."""
    bookings, orders = mappings.get("bookings"), mappings.get("orders")
    return {"contract": 1, "server": server,
            "entities": {name: m.describe() for name, m in mappings.items()},
            "today": bookings is not None or orders is not None,
            "floor": "tables" in mappings,
            "availability": False, "menu": False,
            "order_items": False if orders is not None else None}


def _authorised(raw: str | None, token: str) -> bool:
    if not raw or not raw.startswith("Bearer "):
        return False
    return hmac.compare_digest(raw[7:].strip().encode(), token.encode())


def _only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise Refusal(405, {"error": "method not allowed"}, {"Allow": ", ".join(allowed)})


def _health(store: Store, server: str) -> Answer:
    started = time.perf_counter()
    try:
        store.ping()
    except Exception as exc:
        return Answer(503, {"status": "down", "server": server, "database": {
            "status": "down", "error": type(exc).__name__}})
    ms = round((time.perf_counter() - started) * 1000, 2)
    return Answer(200, {"status": "ok", "server": server,
                        "database": {"status": "ok", "latency_ms": ms}})


# --------------------------------------------------------------------------- one entity


def _entity(store: Store, m: Mapping, method: str, rest: list[str],
            query: AnyMapping[str, str], header: Callable[[str], str | None],
            body: bytes) -> Answer:
    name = m.entity.name
    if not rest:
        if method == "POST" and name == "bookings":
            return _create(store, m, json_object(body))
        _only(method, "GET", *(("POST",) if name == "bookings" else ()))
        return Answer(200, _list(store, m, query))
    if rest == ["categories"] and name == "products":
        _only(method, "GET")
        if not m.has("category"):
            return Answer(200, {"items": []})
        return Answer(200, {"items": sorted({c for c in store.distinct(m, "category") if c})})
    ident = ascii_int(rest[0])
    if ident is None or ident > MAX_INT or len(rest) > 2:
        raise Refusal(404, {"error": f"no such {m.entity.noun}: {rest[0][:40]}"})
    row = store.get(m, ident)
    if row is None:
        raise Refusal(404, {"error": f"{m.entity.noun} {ident} not found"})
    action = rest[1] if len(rest) == 2 else None
    if action is None and method == "GET":
        return _one(m, row)
    if action == "history":
        _only(method, "GET")
        return _history(store, m, ident)
    allowed = {None: ("GET", "PATCH"), "cancel": ("POST",), "restock": ("POST",)}
    if action not in allowed or (action == "cancel" and name != "bookings") or (
            action == "restock" and name != "products"):
        raise Refusal(404, {"error": f"no such path under {m.entity.noun} {ident}"})
    _only(method, *allowed[action])
    if not m.writable:
        raise Refusal(405, {"error": f"{m.describe()['read_only_reason']}"})
    data = json_object(body)
    if action == "restock":
        sent = parse_if_match(header("If-Match"), required=False)
        quantity = data.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not (
                1 <= quantity <= 100000):
            raise invalid({"quantity": "must be an integer from 1 to 100000"})
        if not m.has("stock"):
            raise Refusal(405, {"error": "this shop maps no stock field"})
        return _save(store, m, row, sent, lambda cur: {"stock": (cur["stock"] or 0) + quantity})
    sent = parse_if_match(header("If-Match"), required=True)
    if action == "cancel":
        reason = data.get("reason")
        changes: dict[str, Any] = {"status": "cancelled"}
        if isinstance(reason, str) and reason.strip() and m.has("notes"):
            changes["notes"] = ((row.get("notes") or "") + f"\n{reason.strip()}").strip()[:1000]
        return _save(store, m, row, sent, lambda _cur: changes, cancel=True)
    return _save(store, m, row, sent, lambda _cur: _changes(m, data, row))


def _one(m: Mapping, row: dict[str, Any], status: int = 200) -> Answer:
    out = _resource(m, row)
    return Answer(status, out, {"ETag": etag(out["version"])})


def _resource(m: Mapping, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"]}
    for name, kind in m.entity.fields.items():
        value = row.get(name) if m.has(name) else None
        if kind == TIME:
            value = iso(value)
        elif kind == STATUS:
            value = m.status_of(value)
        elif kind == BOOL:
            value = None if value is None else bool(value)
        out[name] = value
    if m.entity.name == "products":
        stock, threshold = out.get("stock"), out.get("low_stock_threshold")
        out["low_stock"] = stock is not None and threshold is not None and stock <= threshold
        if out["active"] is None:
            out["active"] = True
    if m.entity.name == "orders" and out["item_count"] is None:
        out["item_count"] = 0
    out["version"] = version_number(row.get("version")) if m.writable else 0
    if out.get("updated_at") is None and isinstance(row.get("version"), datetime):
        out["updated_at"] = iso(row["version"])  # a timestamp version says when, too
    return out


# --------------------------------------------------------------------------- lists


def _list(store: Store, m: Mapping, query: AnyMapping[str, str]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    where = _filters(m, query, errors)
    limit = DEFAULT_LIMIT
    raw_limit = query.get("limit")
    if raw_limit is not None:
        parsed = ascii_int(raw_limit)
        if parsed is None or not 1 <= parsed <= MAX_LIMIT:
            errors["limit"] = f"must be an integer from 1 to {MAX_LIMIT}"
        else:
            limit = parsed
    sort = query.get("sort") or m.entity.default_sort
    key = sort.lstrip("-")
    if key not in m.entity.sorts or sort.count("-") > 1:
        errors["sort"] = f"must be one of {', '.join(m.entity.sorts)} (- for descending)"
    elif not m.has(key):
        errors["sort"] = f"this shop maps no {key} field to sort by"
    if errors:
        raise invalid(errors)
    descending = sort.startswith("-")
    cursor = query.get("cursor")
    page_where = list(where)
    count: int | None = None
    if cursor:
        value, row_id = decode_cursor(cursor, sort)
        if m.entity.fields.get(key) == TIME and isinstance(value, str):
            raise invalid({"cursor": "malformed cursor"})
        page_where.append(("after", key, descending, value, row_id))
        # the first page's count: an estimate by now, as the contract allows, and one
        # COUNT over a big table per list instead of one per page
        count = cursor_total(cursor)
    if count is None:
        count = store.count(m, where)
    rows = store.rows(m, page_where, (key, descending), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (encode_cursor(sort, rows[-1][key], rows[-1]["id"], count) if more
                   else None)
    return {"items": [_resource(m, r) for r in rows], "next_cursor": next_cursor,
            "estimated_total": count}


def _filters(m: Mapping, query: AnyMapping[str, str], errors: dict[str, str]) -> list[Cond]:
    e = m.entity
    where: list[Cond] = []
    if e.time_field and m.has(e.time_field):
        try:
            if query.get("date"):
                start, end = parse_day(query["date"])
                where += [("ge", e.time_field, start), ("lt", e.time_field, end)]
            else:
                for name, op in (("from", "ge"), ("to", "lt")):
                    if query.get(name):
                        where.append((op, e.time_field, _bad(name, parse_time, query[name])))
        except ValueError as exc:
            errors[str(exc.args[1]) if len(exc.args) > 1 else "date"] = str(exc.args[0])
    if e.statuses and query.get("status"):
        wanted = [s.strip() for s in query["status"].split(",") if s.strip()]
        unknown = [s for s in wanted if s not in e.statuses]
        if unknown:
            errors["status"] = f"unknown status {unknown[0][:40]!r}"
        else:
            where.append(("in", "status", [m.status_values[s] for s in wanted
                                           if s in m.status_values]))
    q = query.get("q") or ""
    if len(q) > MAX_Q:
        errors["q"] = f"at most {MAX_Q} characters"
    elif any(ord(c) < 32 or ord(c) == 127 for c in q):
        errors["q"] = "control characters are not allowed"
    elif q.strip():
        fields = tuple(f for f in e.search if m.has(f))
        where.append(("search", fields, q.strip()))
    if e.name == "products":
        if query.get("category") and m.has("category"):
            where.append(("eq", "category", query["category"]))
        if query.get("low_stock") == "true" and m.has("stock") and m.has(
                "low_stock_threshold"):
            where.append(("le_field", "stock", "low_stock_threshold"))
        active = query.get("active")
        if active not in (None, "", "true", "false"):
            errors["active"] = "must be true or false"
        elif active and m.has("active"):
            where.append(("eq", "active", active == "true"))
    return where


def _bad(name: str, parse: Callable[[str], Any], raw: str) -> Any:
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(str(exc), name) from None


# --------------------------------------------------------------------------- writes


def _changes(m: Mapping, data: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in m.entity.editable:
        if name not in data:
            continue
        if not m.has(name):
            if data[name] not in (None, ""):
                errors[name] = f"this shop keeps no {name} (its connector does not map it)"
            continue
        value = _field(m, name, data[name], errors)
        if name == "start_at" and value is not None and name not in errors:
            moved = row.get("start_at") is None or iso(row["start_at"]) != iso(value)
            if moved and value <= datetime.now(UTC):
                errors[name] = "must be in the future"
        if name not in errors:
            out[name] = value
    if errors:
        raise invalid(errors)
    return out


def _field(m: Mapping, name: str, value: Any, errors: dict[str, str]) -> Any:
    kind = m.entity.fields[name]
    lo, hi, nullable = RULES.get(name, (0, MAX_INT, True))
    if value is None:
        if not nullable:
            errors[name] = "is required"
        return None
    if kind == TEXT:
        if not isinstance(value, str):
            errors[name] = "must be a string"
            return None
        value = value.strip()
        if not lo <= len(value) <= hi:
            errors[name] = "must not be empty" if not value else f"at most {hi} characters"
        return value
    if kind == INT:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[name] = f"must be an integer from {lo} to {hi}"
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            errors[name] = "must be true or false"
        return value
    if kind == TIME:
        try:
            return parse_time(value)
        except ValueError as exc:
            errors[name] = str(exc)
            return None
    if value not in m.entity.statuses:
        errors[name] = f"must be one of {', '.join(m.entity.statuses)}"
    elif value not in m.status_values:
        errors[name] = f"this shop has no {value} status (its connector does not map it)"
    return value


#: How long after a cancel a booking may be confirmed again (the console's Undo), as the
#: contract says (docs/api.md).
UNDO_CANCEL = timedelta(minutes=2)


def _undoes_a_cancel(m: Mapping, row: dict[str, Any], was: str | None, status: str) -> bool:
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


def _save(store: Store, m: Mapping, row: dict[str, Any], sent: int | str | None,
          change: Callable[[dict[str, Any]], dict[str, Any]], cancel: bool = False) -> Answer:
    for _attempt in range(3):
        current = version_number(row.get("version"))
        if sent not in (None, "*", current):
            raise Refusal(412, {"error": f"version mismatch: you sent {sent}, current is "
                                         f"{current}", "current": _resource(m, row)},
                          {"ETag": etag(current)})
        changes = change(row)
        status = changes.get("status")
        was = m.status_of(row.get("status"))
        if status is not None and status != was:
            allowed = m.entity.transitions.get(was or "", ())
            if status not in allowed and not _undoes_a_cancel(m, row, was, status):
                text = (f"this {m.entity.noun} is already cancelled" if cancel
                        else f"a {m.entity.noun} that is {was} cannot become {status}")
                raise Refusal(409, {"error": text, "allowed": list(allowed),
                                    "current": _resource(m, row)})
        stored = {k: (m.status_values[v] if k == "status" else v) for k, v in changes.items()}
        if status == was and cancel:
            raise Refusal(409, {"error": f"this {m.entity.noun} is already cancelled",
                                "allowed": [], "current": _resource(m, row)})
        stored["version"] = next_version(row.get("version"))
        if m.has("updated_at") and m.columns["updated_at"] != m.columns["version"]:
            stored["updated_at"] = datetime.now(UTC)
        if store.update(m, row["id"], row.get("version"), stored):
            fresh = store.get(m, row["id"])
            if fresh is None:
                break
            return _one(m, fresh)
        # someone saved between our read and our write: judge the request again on theirs
        again = store.get(m, row["id"])
        if again is None:
            break
        row = again
    raise Refusal(404, {"error": f"{m.entity.noun} {row['id']} not found"})


def _history(store: Store, m: Mapping, ident: int) -> Answer:
    """The shop's own record of who changed the row, where the framework's side keeps one
    (a store's optional ``history(m, ident)``: change dicts, or None for "keeps none")."""
    read = getattr(store, "history", None)
    changes = read(m, ident) if read is not None else None
    if changes is None:
        raise Refusal(501, {"error": f"no history: this shop keeps no record of who changed "
                                     f"its {m.entity.name}"})
    return Answer(200, {"items": [{"at": iso(c["at"]), "user": str(c.get("user") or ""),
                                   "field": c["field"], "from": c.get("from"),
                                   "to": c.get("to"), "version": c.get("version")}
                                  for c in changes]})


def _create(store: Store, m: Mapping, data: dict[str, Any]) -> Answer:
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
        value = _field(m, name, data[name], errors)
        if name == "start_at" and name not in errors and not walk_in \
                and value <= datetime.now(UTC):
            errors[name] = "must be in the future"
        values[name] = value
    if errors:
        raise invalid(errors)
    values["status"] = m.status_values["seated" if walk_in else "confirmed"]
    ident = store.create(m, values)
    row = store.get(m, ident)
    assert row is not None
    answer = _one(m, row, 201)
    answer.headers["Location"] = f"api/bookings/{ident}"
    return answer
