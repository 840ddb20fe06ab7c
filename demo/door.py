"""The simulated host at the door: walk-ins and the waitlist, only while the restaurant is open."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.seed import FIRST, LAST, is_open, last_closing

TIMEOUT_S = 5.0
#: At most this many parties wait at once (the host quotes longer rather than queue more).
MOST_WAITING = 5
QUOTES = (10, 15, 15, 20, 30)
PARTIES = (1, 2, 2, 2, 3, 4, 4, 5, 6)
WHO = {"X-Backroom-User": "host"}  # who the change log names


class DoorHost:
    """Parties who come without a booking: seated at once at a free table that fits, or put
    on the waitlist and seated when their quoted wait is up. Closed (before opening, after
    closing), nobody comes, and the parties still waiting from the service that closed are
    sent home (one a manager adds by hand while closed is theirs to seat or remove)."""

    def __init__(self, session: Any, base: str, rng: random.Random,
                 may_come: Callable[[], bool],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.s = session
        self.base = base
        self.rng = rng
        self.may_come = may_come
        """True when a party may arrive now (the shared placement budget)."""
        self.clock = clock
        """Now, as an aware UTC datetime (the demo's opening hours are UTC)."""
        self._floor: dict[str, Any] | None = None

    def act(self) -> None:
        now = self.clock().astimezone(UTC).replace(tzinfo=None)
        r = self.s.get(self.base + "/api/waitlist", timeout=TIMEOUT_S)
        if not r.ok:
            return
        waiting = [p for p in r.json()["items"] if p["state"] == "waiting"]
        if not is_open(now):  # closed: whoever waited when the service closed went home
            for party in (p for p in waiting if _added(p) < last_closing(now)):
                self.s.post(f"{self.base}/api/waitlist/{party['id']}/remove", json={},
                            headers=WHO, timeout=TIMEOUT_S)
            return
        due = [p for p in waiting if _added(p) + timedelta(minutes=p["quoted_minutes"]) <= now]
        if due:
            party = due[0]
            table = self.free_table(party["covers"], now)
            if table is not None:
                self.s.post(f"{self.base}/api/waitlist/{party['id']}/seat",
                            json={"table_no": table}, headers=WHO, timeout=TIMEOUT_S)
            return
        if len(waiting) >= MOST_WAITING or not self.may_come():
            return
        covers = self.rng.choice(PARTIES)
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        phone = f"+44 7700 9{self.rng.randint(0, 99999):05d}"
        table = self.free_table(covers, now) if self.rng.random() < 0.5 else None
        if table is not None:
            self.s.post(self.base + "/api/bookings", json={
                "walk_in": True, "customer_name": name, "party_size": covers, "phone": phone,
                "table_no": table}, headers=WHO, timeout=TIMEOUT_S)
        else:
            self.s.post(self.base + "/api/waitlist", json={
                "name": name, "covers": covers, "phone": phone,
                "quoted_minutes": self.rng.choice(QUOTES)}, headers=WHO, timeout=TIMEOUT_S)

    def free_table(self, covers: int, now: datetime) -> int | None:
        """The smallest table that seats ``covers`` with no booking held on it around ``now``
        (the floor's longest turn either side), or None."""
        floor = self.floor()
        if floor is None:
            return None
        hold = timedelta(minutes=max(floor.get("turn_minutes") or 120,
                                     floor.get("large_party_turn_minutes") or 120))
        r = self.s.get(self.base + "/api/bookings", timeout=TIMEOUT_S, params={
            "from": _iso(now - hold), "to": _iso(now + hold), "status": "confirmed,seated",
            "limit": 200})
        if not r.ok:
            return None
        busy = {b["table_no"] for b in r.json()["items"]}
        fits = sorted((t["seats"], t["number"]) for t in floor["tables"]
                      if t["seats"] >= covers and t["number"] not in busy)
        return fits[0][1] if fits else None

    def floor(self) -> dict[str, Any] | None:
        """The shop's tables and hours, read once."""
        if self._floor is None:
            r = self.s.get(self.base + "/api/floor", timeout=TIMEOUT_S)
            if r.ok and r.json().get("tables"):
                self._floor = r.json()
        return self._floor


def _added(party: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(party["added_at"].replace("Z", "+00:00")).replace(tzinfo=None)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds") + "Z"
