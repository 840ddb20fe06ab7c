"""The waitlist over the shop's REST API (docs/api.md, /api/waitlist); 404: the shop keeps none."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.shop import Booking, Conflict, NotFound, Unsupported, iso_z
from console.waitlist import WaitingParty, Waitlist, WaitlistDraft, WaitState, check_waiting
from services.shop.api_calls import ApiCalls
from services.shop.api_json import (
    _opt_int,
    _opt_str,
    _opt_time,
    _req_int,
    _req_str,
    _time,
    booking_from_json,
    documented,
    json_object,
)

NO_WAITLIST = ("This shop's API keeps no waitlist (GET /api/waitlist of docs/api.md answers "
               "404): ask its developer for it, or connect the shop's database (our schema) "
               "in Settings.")


@documented
def party_from_json(data: Any) -> WaitingParty:
    d = json_object(data)
    return WaitingParty(id=_req_int(d, "id"), name=_req_str(d, "name"),
                        covers=_req_int(d, "covers"),
                        quoted_minutes=_req_int(d, "quoted_minutes"),
                        added_at=_time(d["added_at"], "added_at"), phone=_opt_str(d, "phone"),
                        state=WaitState(_req_str(d, "state")),
                        seated_at=_opt_time(d.get("seated_at")),
                        removed_at=_opt_time(d.get("removed_at")),
                        booking_id=_opt_int(d, "booking_id", None))


@documented
def _parties(data: Any) -> tuple[WaitingParty, ...]:
    items = json_object(data)["items"]
    if not isinstance(items, list):
        raise TypeError("items is not a list")
    return tuple(party_from_json(p) for p in items)


@documented
def _seated(data: Any) -> tuple[WaitingParty, Booking]:
    d = json_object(data)
    return party_from_json(d["party"]), booking_from_json(d["booking"])


class ApiWaitlist(ApiCalls):
    """The waitlist part of the API repository: a seat is one call that makes the walk-in
    booking; 412 with ``current`` means someone seated or removed the party first."""

    def waitlist(self, since: datetime) -> Waitlist:
        """``GET /api/waitlist?since=``; a shop without it keeps no waitlist (Unsupported)."""
        try:
            data = self._call("GET", "/api/waitlist", params={"since": iso_z(since)})
        except NotFound as exc:
            raise Unsupported(NO_WAITLIST) from exc
        return Waitlist(_parties(data), since)

    def add_to_waitlist(self, draft: WaitlistDraft) -> WaitingParty:
        check_waiting(draft)
        return party_from_json(self._call("POST", "/api/waitlist", body={
            "name": draft.name.strip(), "phone": draft.phone.strip() or None,
            "covers": draft.covers, "quoted_minutes": draft.quoted_minutes}))

    def seat_from_waitlist(self, party_id: int, table_no: int) -> tuple[WaitingParty, Booking]:
        return _seated(self._call(
            "POST", f"/api/waitlist/{int(party_id)}/seat", body={"table_no": table_no},
            on_conflict=lambda cur: Conflict(WaitState.SEATED, party_from_json(cur))))

    def remove_from_waitlist(self, party_id: int) -> WaitingParty:
        return party_from_json(self._call(
            "POST", f"/api/waitlist/{int(party_id)}/remove",
            on_conflict=lambda cur: Conflict(WaitState.REMOVED, party_from_json(cur))))
