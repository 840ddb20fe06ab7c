"""The demo shop's /api/waitlist as docs/api.md describes it: add, list, seat, remove, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from demo import DemoShop
from demo.seed import OPEN_AT, is_open
from tests.integration.test_demo_api import Api, api, shop, sql

#: the demo API tests' fixtures: a shop of this module's own (module scope) and its client
__all__ = ["api", "shop"]


def test_a_fresh_demo_has_parties_waiting_and_two_seated_today_while_open(
        api: Api, shop: DemoShop) -> None:
    assert api.get("/api/discovery").json()["waitlist"] is True
    items = api.get("/api/waitlist").json()["items"]
    seeded_at = datetime.fromisoformat(
        sql(shop, "SELECT value FROM demo_meta WHERE key = 'seeded_at'")[0][0])
    if not is_open(seeded_at):  # closed: tests/unit/test_demo_units
        assert [p for p in items if p["state"] == "waiting"] == []
        return
    assert [p["state"] for p in items].count("waiting") >= 3
    seated = [p for p in items if p["state"] == "seated"]
    assert all(p["seated_at"] > p["added_at"] for p in seated)
    # The two seated earlier waited 12 and 22 minutes; in the first 22 minutes after opening
    # a party whose wait has not ended yet is still waiting, never seated in the future.
    since_opening = seeded_at - datetime.combine(seeded_at.date(), OPEN_AT)
    due = sum(since_opening >= timedelta(minutes=m) for m in (12, 22))
    assert len(seated) == due, (seeded_at, items)


def test_add_seat_and_the_booking_it_became(api: Api, shop: DemoShop) -> None:
    added = api.post("/api/waitlist", {"name": " Ada Door ", "covers": 3, "quoted_minutes": 20,
                                       "phone": "+44 7700 900111"})
    assert added.status_code == 201, added.text
    party = added.json()
    assert added.headers["Location"] == f"/api/waitlist/{party['id']}"
    assert (party["name"], party["state"], party["booking_id"]) == ("Ada Door", "waiting", None)
    seat = api.post(f"/api/waitlist/{party['id']}/seat", {"table_no": 12})
    assert seat.status_code == 200, seat.text
    body = seat.json()
    assert body["party"]["state"] == "seated" and body["party"]["seated_at"]
    booking = body["booking"]
    assert body["party"]["booking_id"] == booking["id"]
    assert (booking["status"], booking["table_no"], booking["party_size"]) == ("seated", 12, 3)
    assert booking["notes"] == "From the waitlist: waited 0 min (quoted 20)."
    assert sql(shop, "SELECT status FROM bookings WHERE id = ?", booking["id"]) == [("seated",)]
    again = api.post(f"/api/waitlist/{party['id']}/seat", {"table_no": 13})
    assert again.status_code == 412 and again.json()["current"]["state"] == "seated"
    assert api.post(f"/api/waitlist/{party['id']}/remove").status_code == 412


def test_remove_and_what_is_refused(api: Api) -> None:
    party = api.post("/api/waitlist", {"name": "Bo Left", "covers": 2,
                                       "quoted_minutes": 5}).json()
    gone = api.post(f"/api/waitlist/{party['id']}/remove")
    assert gone.status_code == 200 and gone.json()["state"] == "removed"
    assert party["id"] not in {p["id"] for p in api.get("/api/waitlist").json()["items"]
                               if p["state"] == "waiting"}
    bad = api.post("/api/waitlist", {"name": "", "covers": 0, "quoted_minutes": 241})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"name", "covers", "quoted_minutes"}
    assert api.post("/api/waitlist", ["not", "an", "object"]).status_code in (400, 422)
    other = api.post("/api/waitlist", {"name": "Cy", "covers": 2, "quoted_minutes": 5}).json()
    assert api.post(f"/api/waitlist/{other['id']}/seat", {"table_no": 99}).status_code == 422
    assert api.post("/api/waitlist/999999/seat", {"table_no": 1}).status_code == 404
    assert api.get("/api/waitlist", since="yesterday").status_code == 422


def test_the_waitlist_needs_the_token(api: Api) -> None:
    assert requests.get(api.base + "/api/waitlist", timeout=10).status_code == 401
