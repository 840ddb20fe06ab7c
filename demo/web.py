"""HTTP helpers of the demo API: errors, JSON bodies, validation, ETags, keyset paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import Select

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_Q = 200
MAX_CURSOR = 1000
#: The largest integer a row id, a version or an amount can be (SQLite's and PostgreSQL's
#: BIGINT): a bigger one in a cursor or a header is bad input, not a query to try.
MAX_INT = 2**63 - 1
#: Dates the API takes: any real day well inside what Python's datetime can add a week to.
EARLIEST_DAY = date(1000, 1, 1)
LATEST_DAY = date(9998, 12, 31)
_DIGITS = re.compile(r"[0-9]{1,18}")


class ApiError(Exception):
    """An answer other than success: status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("error") or body.get("errors"))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        resp = jsonify(self.body)
        resp.status_code = self.status
        for key, value in self.headers.items():
            resp.headers[key] = value
        return resp


def invalid(errors: dict[str, str]) -> ApiError:
    return ApiError(422, {"errors": errors})


def not_found(what: str) -> ApiError:
    return ApiError(404, {"error": f"{what} not found"})


def ascii_int(raw: str) -> int | None:
    """The integer ``raw`` spells in ASCII digits (at most 18 of them), else None.

    ``int()`` alone takes far more than an API should: '١٢' (Arabic-Indic digits) is 12 to
    it, '²' passes ``isdigit()`` and then fails, and 5,000 digits raise ValueError."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True, force=True) if request.data else {}
    except RecursionError:  # JSON nested thousands deep: the parser gives up by recursing
        raise ApiError(400, {"error": "request body is nested too deeply"}) from None
    if not isinstance(data, dict):
        raise ApiError(400, {"error": "request body must be a JSON object"})
    return data


def iso(value: datetime | None) -> str | None:
    """A naive UTC datetime as ISO 8601 with Z, second precision."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + "Z"


def parse_time(value: Any) -> datetime:
    """ISO 8601 text to a naive UTC datetime; raises ValueError."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 time such as 2026-11-25T19:30:00Z")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 time such as 2026-11-25T19:30:00Z") from None
    try:
        if parsed.tzinfo is not None:
            parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    except OverflowError:
        parsed = datetime.max  # out of range either way: refused just below
    if not EARLIEST_DAY <= parsed.date() <= LATEST_DAY:
        raise ValueError(f"must be a time from {EARLIEST_DAY} to {LATEST_DAY}")
    return parsed


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real date YYYY-MM-DD") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be a date from {EARLIEST_DAY} to {LATEST_DAY}")
    return day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day)
    return start, start + timedelta(days=1)


def time_window(errors: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """The [from, to) window of a list from ``date`` or ``from``/``to`` query parameters."""
    args = request.args
    if args.get("date"):
        try:
            return day_bounds(parse_date(args["date"]))
        except ValueError as exc:
            errors["date"] = str(exc)
            return None, None
    bounds: list[datetime | None] = []
    for key in ("from", "to"):
        raw = args.get(key)
        if not raw:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_time(raw))
        except ValueError as exc:
            errors[key] = str(exc)
            bounds.append(None)
    return bounds[0], bounds[1]


def statuses(allowed: tuple[str, ...], errors: dict[str, str]) -> list[str]:
    raw = request.args.get("status", "")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        errors["status"] = f"unknown status {bad[0][:40]!r}; one of {', '.join(allowed)}"
    return values


def search_text(errors: dict[str, str]) -> str | None:
    q = request.args.get("q", "")
    if len(q) > MAX_Q:
        errors["q"] = f"at most {MAX_Q} characters"
        return None
    if any(ord(c) < 32 for c in q):
        errors["q"] = "must not contain control characters"
        return None
    return q.strip() or None


def contains(column: Any, q: str) -> ColumnElement[bool]:
    """Case-insensitive literal substring match: LIKE with its wildcards escaped."""
    escaped = q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.br_fold(column).like(f"%{escaped}%", escape="\\")


def list_filters(when: Any, status: Any, allowed: tuple[str, ...], searched: tuple[Any, ...],
                 errors: dict[str, str]) -> list[ColumnElement[bool]]:
    """The WHERE terms of a list from its query parameters: the ``date`` or ``from``/``to``
    window on ``when``, ``status`` (one of ``allowed``), and ``q`` found in any of
    ``searched``; a bad parameter is named in ``errors``."""
    lo, hi = time_window(errors)
    wanted = statuses(allowed, errors)
    q = search_text(errors)
    where: list[ColumnElement[bool]] = []
    if lo is not None:
        where.append(when >= lo)
    if hi is not None:
        where.append(when < hi)
    if wanted:
        where.append(status.in_(wanted))
    if q:
        where.append(or_(*(contains(column, q) for column in searched)))
    return where


def parse_limit(errors: dict[str, str]) -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    limit = ascii_int(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be an integer from 1 to {MAX_LIMIT}"
        return DEFAULT_LIMIT
    return limit


def parse_bool_arg(name: str, errors: dict[str, str]) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    errors[name] = "must be true or false"
    return None


@dataclass(frozen=True, slots=True)
class SortKey:
    """One allowed ``sort`` value: the column and direction, and how its key is encoded."""

    column: Any
    descending: bool
    kind: str  # "datetime" | "int" | "str"


def encode_cursor(sort: str, key: Any, row_id: int) -> str:
    if isinstance(key, datetime):
        key = key.isoformat()
    raw = json.dumps({"s": sort, "k": key, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _is_db_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


def decode_cursor(cursor: str, sort: str, spec: SortKey) -> tuple[Any, int]:
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data["s"] != sort:
            raise ValueError("cursor was made for another sort")
        key = data["k"]
        row_id = data["i"]
        if not _is_db_int(row_id):
            raise ValueError("bad id")
        if spec.kind == "datetime":
            key = datetime.fromisoformat(key)
        elif not (_is_db_int(key) if spec.kind == "int" else isinstance(key, str)):
            raise ValueError("bad key")
        return key, row_id
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError,
            RecursionError) as exc:
        raise invalid({"cursor": f"invalid cursor ({exc})"}) from None


def keyset_page(conn: Connection, query: Select[Any], count_query: Select[Any],
                id_column: Any, sorts: dict[str, SortKey], default_sort: str,
                errors: dict[str, str], to_json: Callable[[Row[Any]], dict[str, Any]],
                ) -> dict[str, Any]:
    """One page of a list: items, next_cursor, estimated_total. Raises 422 on bad params."""
    sort = request.args.get("sort") or default_sort
    spec = sorts.get(sort)
    if spec is None:
        errors["sort"] = f"one of {', '.join(sorts)}"
    limit = parse_limit(errors)
    if errors:
        raise invalid(errors)
    assert spec is not None
    cursor = request.args.get("cursor")
    col = spec.column
    if cursor:
        key, last_id = decode_cursor(cursor, sort, spec)
        if spec.descending:
            query = query.where(or_(col < key, and_(col == key, id_column < last_id)))
        else:
            query = query.where(or_(col > key, and_(col == key, id_column > last_id)))
    order = (col.desc(), id_column.desc()) if spec.descending else (col.asc(), id_column.asc())
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    total = conn.execute(count_query).scalar() or 0
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]._mapping
        next_cursor = encode_cursor(sort, last[col.name], last[id_column.name])
    return {"items": [to_json(r) for r in rows], "next_cursor": next_cursor,
            "estimated_total": int(total), "total_is_exact": True}


def count_of(table: Any, *where: Any) -> Select[Any]:
    return select(func.count()).select_from(table).where(*where)


def etag(version: int) -> str:
    return f'W/"{version}"'


def if_match(required: bool = True) -> int | None:
    """The version named by If-Match (None for ``*`` or when absent and not required)."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        if required:
            raise ApiError(428, {"error": "If-Match header required (send the ETag you read)"})
        return None
    raw = raw.strip()
    if raw == "*":
        return None
    version = ascii_int(raw.removeprefix("W/").strip().strip('"'))
    # Anything else matches no version: answered with 412 and the current resource.
    return -1 if version is None else version


def check_version(sent: int | None, current: dict[str, Any],
                  saved_by: Callable[[], dict[str, Any] | None] | None = None) -> None:
    """412 with the current record (and who saved it last, when ``saved_by`` can say)."""
    if sent is not None and sent != current["version"]:
        body = {"error": f"version mismatch: you sent {sent}, current is {current['version']}",
                "current": current}
        who = saved_by() if saved_by is not None else None
        if who is not None:
            body["saved_by"] = who
        raise ApiError(412, body, {"ETag": etag(current["version"])})


def resource(body: dict[str, Any], status: int = 200, location: str | None = None) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ETag"] = etag(body["version"])
    if location:
        resp.headers["Location"] = location
    return resp


def text_field(body: dict[str, Any], name: str, errors: dict[str, str], *, max_len: int,
               required: bool = False, nullable: bool = False, min_len: int = 0) -> Any:
    """A validated string field (trimmed), ``...`` when absent."""
    if name not in body:
        if required:
            errors[name] = "is required"
        return ...
    value = body[name]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return ...
    value = value.strip()
    if len(value) < min_len:
        errors[name] = "must not be empty" if min_len == 1 else f"at least {min_len} characters"
        return ...
    if len(value) > max_len:
        errors[name] = f"at most {max_len} characters"
        return ...
    return value


def int_field(body: dict[str, Any], name: str, errors: dict[str, str], *, lo: int, hi: int,
              required: bool = False, nullable: bool = False) -> Any:
    """A validated integer field, ``...`` when absent."""
    if name not in body:
        if required:
            errors[name] = "is required"
        return ...
    value = body[name]
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        errors[name] = f"must be an integer from {lo} to {hi}"
        return ...
    return value
