"""The profile's [database.map.*]: a shop's own tables, validated with every problem named."""

from __future__ import annotations

import tomllib

import pytest

from console.profile import ProfileError, parse_profile, profile_to_dict
from console.shop_map import read_only_reason

RESTAURANT = """
name = "Bistro"
[database]
url = "postgresql+psycopg://support@db.internal/bistro"

[database.map.bookings]
table = "reservations_reservation"
version = "updated_at"
[database.map.bookings.columns]
id = "id"
start_at = "time"
guest_name = "name"
party_size = "covers"
phone = "phone"
table = "table_no"
notes = "notes"
status = "state"
[database.map.bookings.status_values]
confirmed = "C"
seated = "S"
cancelled = "X"
no_show = "N"

[database.map.products]
table = "shop.menu_item"
[database.map.products.columns]
id = "id"
name = "title"
price = "price"
stock = "in_stock"
"""


def test_the_issue_s_restaurant_map_reads_and_writes_back() -> None:
    profile = parse_profile(tomllib.loads(RESTAURANT))
    assert profile.database is not None and profile.database.map is not None
    bookings = profile.database.map.bookings
    assert bookings is not None and bookings.column("guest_name") == "name"
    assert bookings.code_for("no_show") == "N" and bookings.status_for("S") == "seated"
    assert bookings.status_for("Z") is None and read_only_reason(bookings) is None
    products = profile.database.map.products
    assert products is not None and products.schema == "shop"
    reason = read_only_reason(products)
    assert reason is not None and "shop.menu_item has no version column" in reason
    again = parse_profile(profile_to_dict(profile))
    assert again.database == profile.database


@pytest.mark.parametrize(("patch", "expected"), [
    ({"table": "reservations; DROP TABLE x"}, "database.map.bookings.table: required"),
    ({"columns": {"id": "id", "start_at": "time", "guest_name": "name"}},
     "database.map.bookings.columns.party_size: required"),
    ({"columns": {"id": "id", "start_at": "time", "guest_name": "name", "party_size": "c",
                  "guests": "x"}}, "database.map.bookings.columns.guests: unknown field"),
    ({"columns": {"id": "id", "start_at": "ti me", "guest_name": "name", "party_size": "c"}},
     "database.map.bookings.columns.start_at: expected a column name"),
    ({"status_values": {"seated": "S", "eaten": "E"}},
     "database.map.bookings.status_values.eaten: unknown status"),
    ({"status_values": {"seated": "S", "confirmed": "S"}},
     "database.map.bookings.status_values: two statuses have the same code"),
    ({"version": 3}, "database.map.bookings.version: expected a column name"),
])
def test_a_bad_map_names_the_field(patch: dict, expected: str) -> None:  # type: ignore[type-arg]
    data = tomllib.loads(RESTAURANT)
    data["database"]["map"]["bookings"].update(patch)
    with pytest.raises(ProfileError) as info:
        parse_profile(data)
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_a_timestamp_version_is_not_shown_as_a_number() -> None:
    from datetime import UTC, datetime, timedelta

    from console.shop_map import version_words

    changed = datetime(2026, 12, 6, 23, 41, 5, 123456, tzinfo=UTC)
    micros = (changed.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    assert version_words(micros, changed) == ""
    assert version_words(7, changed) == "version 7"
    assert version_words(0, None) == ""
