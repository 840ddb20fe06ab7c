"""The demo's host at the door: parties walk in and queue only while the restaurant is open."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from demo.door import DoorHost
from tests.integration.test_demo_api import Api, api, shop

#: the demo API tests' fixtures: a shop of this module's own (module scope) and its client
__all__ = ["api", "shop"]

pytestmark = pytest.mark.integration


def host_at(api: Api, at: time, days: int = 0) -> DoorHost:
    """The host with the clock set to ``at`` on today + ``days`` (UTC), a party free to come
    each time."""
    now = datetime.combine(datetime.now(UTC).date() + timedelta(days=days), at, tzinfo=UTC)
    return DoorHost(api.s, api.base, random.Random(21), lambda: True, clock=lambda: now)


def waiting(api: Api) -> list[dict[str, Any]]:
    return [p for p in api.get("/api/waitlist").json()["items"] if p["state"] == "waiting"]


def walk_ins_and_parties(api: Api) -> tuple[int, int]:
    """Bookings seated in the last minutes (walk-ins) and parties on today's list."""
    now = datetime.now(UTC).replace(tzinfo=None)
    seated = api.get("/api/bookings", status="seated", limit=200,
                     **{"from": (now - timedelta(minutes=10)).isoformat() + "Z",
                        "to": (now + timedelta(minutes=1)).isoformat() + "Z"}).json()
    return seated["estimated_total"], len(api.get("/api/waitlist").json()["items"])


@pytest.mark.parametrize("at", [time(6, 51), time(10, 59)])
def test_before_opening_nobody_comes_to_queue_or_walk_in(api: Api, at: time) -> None:
    before = walk_ins_and_parties(api), waiting(api)
    host = host_at(api, at)
    for _ in range(25):  # the host at the door all morning: nobody comes
        host.act()
    assert (walk_ins_and_parties(api), waiting(api)) == before


@pytest.mark.parametrize(("days", "at"), [(1, time(23, 0)), (1, time(23, 40)),
                                          (2, time(6, 51))])
def test_after_closing_the_parties_still_waiting_are_sent_home(api: Api, days: int,
                                                               at: time) -> None:
    # A party on the list during the service (added now; the service closes after).
    added = api.post("/api/waitlist", {"name": "Late Party", "covers": 2, "quoted_minutes": 15})
    assert added.status_code == 201, added.text
    before = walk_ins_and_parties(api)[0]
    host = host_at(api, at, days)
    for _ in range(25):
        host.act()
    assert waiting(api) == []  # sent home at closing
    assert walk_ins_and_parties(api)[0] == before  # and nobody walked in


def test_while_open_parties_walk_in_or_wait_and_are_seated_at_a_table_that_fits(
        api: Api) -> None:
    host = host_at(api, time(19, 0))
    for party in waiting(api):  # start from an empty list
        api.post(f"/api/waitlist/{party['id']}/remove")
    walk_ins, listed = walk_ins_and_parties(api)
    for _ in range(25):
        host.act()
    now_walk_ins, now_listed = walk_ins_and_parties(api)
    assert now_listed > listed  # parties were put on the waitlist
    assert now_walk_ins > walk_ins  # and some seated at once, or from the list
    tables = {t["number"]: t["seats"] for t in api.get("/api/floor").json()["tables"]}
    for party in api.get("/api/waitlist").json()["items"]:
        if party["state"] == "seated" and party["booking_id"] is not None:
            booking = api.get(f"/api/bookings/{party['booking_id']}").json()
            assert tables[booking["table_no"]] >= party["covers"]
    assert len(waiting(api)) <= 5  # the host quotes, the queue stays short
