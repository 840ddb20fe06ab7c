"""Values on the wire: ISO times, ASCII integers, ETags, cursors, the contract's error answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAX_INT = 2**63 - 1
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_Q = 200
MAX_CURSOR = 1000
EARLIEST, LATEST = date(1000, 1, 1), date(9998, 12, 31)
_DIGITS = re.compile(r"[0-9]{1,18}")
_ETAG = re.compile(r'(?:W/)?"?([0-9]{1,19})"?')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Refusal(Exception):
    """An answer other than success: HTTP status, the contract's JSON body, extra headers."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


def invalid(errors: dict[str, str]) -> Refusal:
    return Refusal(422, {"errors": errors})


def ascii_int(raw: str) -> int | None:
    """The integer ``raw`` spells in ASCII digits (``int('١٢')`` is 12 to Python), else None."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def utc(value: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC (how the contract reads naive inputs)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return utc(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    raise TypeError(f"not a time: {value!r:.40}")


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 time")
    text = value.strip()
    text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-25T19:30:00Z") from None
    if not EARLIEST <= parsed.date() <= LATEST:
        raise ValueError("must be between years 1000 and 9998")
    return parsed


def parse_day(value: str) -> tuple[datetime, datetime]:
    try:
        day = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        raise ValueError("must be a date YYYY-MM-DD")
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def version_number(raw: Any) -> int:
    """The contract's integer version of a version field: the integer, or a timestamp's
    microseconds since 1970 (it changes on every save)."""
    if isinstance(raw, bool):
        raise TypeError("a version field cannot be a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, datetime):
        return (utc(raw) - _EPOCH) // timedelta(microseconds=1)
    if raw is None:
        return 0
    raise TypeError(f"a version field must be an integer or a timestamp, not {type(raw).__name__}")


def next_version(raw: Any) -> Any:
    """The raw value a save writes into the version field."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw + 1
    now = datetime.now(UTC)
    if isinstance(raw, datetime):
        seen = utc(raw)
        now = max(now, seen + timedelta(microseconds=1))
        return now if raw.tzinfo is not None else now.replace(tzinfo=None)
    return now


def etag(version: int) -> str:
    return f'W/"{version}"'


def parse_if_match(raw: str | None, *, required: bool) -> int | str | None:
    """The version ``If-Match`` names, ``"*"``, or None when absent and not required."""
    if raw is None or not raw.strip():
        if required:
            raise Refusal(428, {"error": "If-Match header required (send the ETag you read)"})
        return None
    raw = raw.strip()
    if raw == "*":
        return "*"
    found = _ETAG.fullmatch(raw)
    number = int(found.group(1)) if found else None
    if number is None or number > MAX_INT:
        raise Refusal(412, {"error": f"If-Match names no version: {raw[:40]!r}"})
    return number


def encode_cursor(sort: str, key: Any, row_id: Any, total: int | None = None) -> str:
    """The next page's cursor; ``total`` rides along so later pages need no COUNT again."""
    if isinstance(key, datetime):
        key = {"t": utc(key).isoformat()}
    data: dict[str, Any] = {"s": sort, "k": [key, row_id]}
    if total is not None:
        data["n"] = total
    blob = json.dumps(data, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")


def cursor_total(cursor: str) -> int | None:
    """The first page's count carried in a cursor (a well-formed one: decode it first)."""
    try:
        total = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))).get("n")
    except (binascii.Error, ValueError, AttributeError, RecursionError):
        return None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 \
        else None


def decode_cursor(cursor: str, sort: str) -> tuple[Any, Any]:
    bad = invalid({"cursor": "malformed cursor (take next_cursor from the last page as is)"})
    if len(cursor) > MAX_CURSOR:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, row_id = data["k"]
        made_with = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise bad from None
    if made_with != sort:
        raise invalid({"cursor": "this cursor was made with another sort"})
    if isinstance(key, dict) and isinstance(key.get("t"), str):
        try:
            key = datetime.fromisoformat(key["t"])
        except ValueError:
            raise bad from None
    elif key is not None and not isinstance(key, str | int | float):
        raise bad
    return key, row_id


def json_object(body: bytes) -> dict[str, Any]:
    if len(body) > 1024 * 1024:
        raise Refusal(413, {"error": "request body over 1 MB"})
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except RecursionError:
        raise Refusal(400, {"error": "request body is nested too deeply"}) from None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Refusal(400, {"error": "request body must be a JSON object"})
    return data
