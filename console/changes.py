"""Who changed what: one field's change of a booking, order or product, and how it reads."""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

#: The longest user name kept (a header or a shop's user table may say more).
MAX_USER = 120
#: The longest value kept per side of a change.
MAX_VALUE = 2000


class Entity(StrEnum):
    """What a change is of, in the API's path words."""

    BOOKINGS = "bookings"
    ORDERS = "orders"
    PRODUCTS = "products"


@dataclass(frozen=True, slots=True)
class Change:
    """One field of one record changed: by whom, when, from what, to what.

    ``field`` is "created" for a new record (``new`` then says what it was); values are text
    as stored (None for empty), ``user`` as the back end recorded it ("" when it did not).
    """

    at: datetime
    user: str
    field: str
    old: str | None
    new: str | None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class SavedBy:
    """Who saved a record last and when: what a conflict names."""

    user: str
    at: datetime | None


def clean_user(name: str | None) -> str:
    """A user name as sent and stored: trimmed, one line, at most :data:`MAX_USER`."""
    text = " ".join((name or "").split())
    return text[:MAX_USER]


def default_user(profile_user: str | None = None) -> str:
    """The console's user: the profile's ``user``, else the OS user, else ""."""
    if profile_user and clean_user(profile_user):
        return clean_user(profile_user)
    try:
        return clean_user(getpass.getuser())
    except (OSError, KeyError, ImportError):  # no login name in this environment
        return ""


def as_text(value: Any) -> str | None:
    """A stored value as the change log keeps it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # naive is UTC, as every adapter stores it
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value)[:MAX_VALUE]


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any],
                  fields: Iterable[str]) -> list[tuple[str, str | None, str | None]]:
    """(field, from, to) for each of ``fields`` whose text differs between the two rows."""
    out = []
    for name in fields:
        old, new = as_text(before.get(name)), as_text(after.get(name))
        if old != new:
            out.append((name, old, new))
    return out


def last_saved(changes: Iterable[Change]) -> SavedBy | None:
    """The latest change's user and time (the list may come in any order)."""
    latest = max(changes, key=lambda c: (c.at, c.version or 0), default=None)
    return None if latest is None else SavedBy(latest.user, latest.at)
