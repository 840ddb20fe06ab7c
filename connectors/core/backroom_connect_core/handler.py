"""One request of docs/api.md answered over a :class:`Store` of the shop's models."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from typing import Any

from backroom_connect_core.changes import history_answer, who
from backroom_connect_core.contract import NOT_LISTED, TIME, Mapping
from backroom_connect_core.reports import day_report
from backroom_connect_core.resources import one, resource
from backroom_connect_core.store import Answer, Cond, Store, only
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
    invalid,
    json_object,
    parse_day,
    parse_if_match,
    parse_time,
)
from backroom_connect_core.waitlist import waitlist
from backroom_connect_core.writes import changes, create, save

__all__ = ["Answer", "Store", "discovery", "handle"]

log = logging.getLogger("backroom_connect")

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
            only(method, "GET")
            return Answer(200, discovery(mappings, server))
        if len(parts) < 2 or parts[0] != "api":
            raise Refusal(404, {"error": f"no such path: /{'/'.join(parts)[:80]}"})
        if parts[1:3] == ["stats", "today"] and len(parts) == 3:
            only(method, "GET")
            return Answer(200, today_figures(store, mappings))
        if parts[1:] == ["floor"]:
            only(method, "GET")
            return Answer(200, floor_plan(store, mappings))
        if parts[1:] == ["reports", "days"]:
            only(method, "GET")
            return Answer(200, day_report(store, mappings, query))
        user = who(header)
        if parts[1] == "waitlist":
            return waitlist(store, mappings, method, parts[2:], query, body, user)
        m = mappings.get(parts[1]) if parts[1] not in NOT_LISTED else None
        if m is None:
            raise Refusal(404, {"error": f"{parts[1][:40]} are not shared by this shop "
                                         "(not in its BACKROOM_CONNECT settings)"})
        return _entity(store, m, method, parts[2:], query, header, body, user)
    except Refusal as refusal:
        return Answer(refusal.status, refusal.body, refusal.headers)
    except Exception:
        log.exception("backroom_connect: %s %s failed", method, path[:200])
        return Answer(500, {"error": "internal error"})


def discovery(mappings: dict[str, Mapping], server: str) -> dict[str, Any]:
    """Which entities and fields this shop maps, so the console can hide or grey the rest."""
    bookings, orders = mappings.get("bookings"), mappings.get("orders")
    return {"contract": 1, "server": server,
            "entities": {name: m.describe() for name, m in mappings.items()
                         if name not in NOT_LISTED},
            "today": bookings is not None or orders is not None,
            "floor": "tables" in mappings, "waitlist": "waitlist" in mappings,
            "availability": False, "menu": False,
            "order_items": False if orders is not None else None}


def _authorised(raw: str | None, token: str) -> bool:
    if not raw or not raw.startswith("Bearer "):
        return False
    return hmac.compare_digest(raw[7:].strip().encode(), token.encode())


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
            body: bytes, user: str) -> Answer:
    name = m.entity.name
    if not rest:
        if method == "POST" and name == "bookings":
            return create(store, m, json_object(body), user)
        only(method, "GET", *(("POST",) if name == "bookings" else ()))
        return Answer(200, _list(store, m, query))
    if rest == ["categories"] and name == "products":
        only(method, "GET")
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
        return one(m, row)
    if action == "history":
        only(method, "GET")
        return history_answer(store, m, ident)
    allowed = {None: ("GET", "PATCH"), "cancel": ("POST",), "restock": ("POST",)}
    if action not in allowed or (action == "cancel" and name != "bookings") or (
            action == "restock" and name != "products"):
        raise Refusal(404, {"error": f"no such path under {m.entity.noun} {ident}"})
    only(method, *allowed[action])
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
        return save(store, m, row, sent, user,
                    lambda cur: {"stock": (cur["stock"] or 0) + quantity})
    sent = parse_if_match(header("If-Match"), required=True)
    if action == "cancel":
        reason = data.get("reason")
        cancelled: dict[str, Any] = {"status": "cancelled"}
        if isinstance(reason, str) and reason.strip() and m.has("notes"):
            cancelled["notes"] = ((row.get("notes") or "") + f"\n{reason.strip()}").strip()[:1000]
        return save(store, m, row, sent, user, lambda _cur: cancelled, cancel=True)
    return save(store, m, row, sent, user, lambda _cur: changes(m, data, row))


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
    return {"items": [resource(m, r) for r in rows], "next_cursor": next_cursor,
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
