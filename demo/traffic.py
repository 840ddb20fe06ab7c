"""Simulated customers and staff: bounded threads that use the shop over real HTTP."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.door import DoorHost
from demo.seed import FIRST, LAST

log = logging.getLogger(__name__)

DAY_S = 600.0  # one simulated day (lunch and dinner rushes) passes in ten real minutes
START_HOUR = 10.0
TIMEOUT_S = 5.0
SEARCH_TERMS = ("la", "berg", "smith", "ana", "+44", "o'b", "zoë", "100%", "_", "7700")
PRODUCT_TERMS = ("wine", "roast", "tea", "pizza", "lemon", "oil", "smoked", "DRK", "chocolate")
#: What the customers place per real hour at the default rate: a busy restaurant's day, so
#: that Today stays believable. Browsing, searching and the kitchen's updates are not capped.
ORDERS_PER_HOUR = 40.0
BOOKINGS_PER_HOUR = 25.0
#: Parties at the door without a booking (walk-ins and the waitlist), while open.
WALK_INS_PER_HOUR = 10.0
DEFAULT_RATE = 5.0
#: Placements that may happen at once after a quiet spell (the first order comes at once).
BURST = 2.0


def rush_factor(hour: float) -> float:
    """How busy the shop is at a (simulated) hour: quiet mornings, lunch and dinner rushes."""
    lunch = 1.6 * math.exp(-((hour - 12.75) ** 2) / (2 * 0.8**2))
    dinner = 2.2 * math.exp(-((hour - 19.75) ** 2) / (2 * 1.1**2))
    base = 0.35 if 9 <= hour < 23 else 0.08
    return base + lunch + dinner


_MEAN = sum(rush_factor(h / 10) for h in range(240)) / 240


def simulated_hour(elapsed_s: float) -> float:
    return (START_HOUR + elapsed_s / DAY_S * 24.0) % 24.0


class PlacementBudget:
    """A token bucket shared by the customer threads: ``per_hour()`` placements an hour (read
    on every take, so a traffic change applies at once), at most ``burst`` at once."""

    def __init__(self, per_hour: Callable[[], float], burst: float = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._per_hour = per_hour
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """True (and one placement spent) when one may be placed now."""
        with self._lock:
            now = self._clock()
            rate = max(0.0, self._per_hour()) / 3600.0
            self._tokens = min(self._burst, self._tokens + (now - self._last) * rate)
            self._last = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class TrafficGenerator:
    """``threads`` customer threads whose total mean rate is ``rate()`` actions per second,
    shaped by :func:`rush_factor` over a compressed day (``rush=False``: a steady day at
    the mean rate, for tests that must tell a switch from the lunch rush)."""

    def __init__(self, base_url: str, token: str, rate: Callable[[], float],
                 threads: int = 3, name: str = "demo-traffic", seed: int | None = None,
                 rush: bool = True) -> None:
        self._base = base_url
        self._token = token
        self._rate = rate
        self._count = threads
        self._name = name
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = time.monotonic()
        self._seed = seed
        self._rush = rush
        self.actions = 0
        self.errors = 0
        self._lock = threading.Lock()
        self.orders = PlacementBudget(lambda: ORDERS_PER_HOUR * self._scale())
        self.bookings = PlacementBudget(lambda: BOOKINGS_PER_HOUR * self._scale())
        self.walk_ins = PlacementBudget(lambda: WALK_INS_PER_HOUR * self._scale())

    def start(self) -> None:
        if self._threads:
            return
        for i in range(1, self._count + 1):
            thread = threading.Thread(target=self._run, args=(i,), name=f"{self._name}-{i}")
            self._threads.append(thread)
            thread.start()

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def _scale(self) -> float:
        """The traffic rate against the default one (placements scale with it)."""
        return max(0.0, self._rate()) / DEFAULT_RATE

    def current_rate(self) -> float:
        if not self._rush:
            return max(0.0, self._rate())
        hour = simulated_hour(time.monotonic() - self._t0)
        return max(0.0, self._rate()) * rush_factor(hour) / _MEAN

    def _run(self, n: int) -> None:
        import requests

        rng = random.Random(None if self._seed is None else self._seed + n)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self._token}"
        session.headers["X-Backroom-User"] = "website"  # who the change log names
        customer = _Customer(session, self._base, rng, self.orders, self.bookings,
                             DoorHost(session, self._base, rng, self.walk_ins.take))
        # Actions are due on a schedule (a Poisson process), not a pause after each one: a
        # slow answer delays the next action, not the rate (traffic x5 is 5x on a loaded
        # machine too); at most 1 s behind is caught up.
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                rate = self.current_rate() / self._count
                if rate <= 0:
                    self._stop.wait(0.5)
                    due = time.monotonic()
                    continue
                due = max(due, time.monotonic() - 1.0) + min(5.0, rng.expovariate(rate))
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
                try:
                    customer.act()
                    with self._lock:
                        self.actions += 1
                except requests.RequestException as exc:
                    with self._lock:
                        self.errors += 1
                    log.debug("traffic: %s", exc)
                except Exception:
                    with self._lock:
                        self.errors += 1
                    log.exception("traffic action failed")
        finally:
            session.close()


class _Customer:
    """One simulated person's repertoire of actions against the API."""

    def __init__(self, session: Any, base: str, rng: random.Random,
                 orders: PlacementBudget | None = None,
                 bookings: PlacementBudget | None = None,
                 door: DoorHost | None = None) -> None:
        self.s = session
        self.door = door
        self.orders = orders
        self.bookings = bookings
        self.base = base
        self.rng = rng
        self.menu: list[dict[str, Any]] = []
        self.mine: list[int] = []  # bookings this customer made (to cancel some later)

    def get(self, path: str, **params: Any) -> Any:
        r = self.s.get(self.base + path, params=params, timeout=TIMEOUT_S)
        return r.json() if r.ok else None

    def act(self) -> None:
        r = self.rng.random()
        if r < 0.35:
            self.search_and_book()
        elif r < 0.52:
            self.browse()
        elif r < 0.55:
            if self.door is not None:
                self.door.act()
        elif r < 0.75:
            self.order()
        elif r < 0.90:
            self.kitchen()
        elif r < 0.96:
            self.front_desk()
        else:
            self.cancel_one()

    def search_and_book(self) -> None:
        day = datetime.now(UTC).date() + timedelta(days=self.rng.choice((0, 0, 1, 1, 2, 3, 5, 7,
                                                                           10, 14)))
        party = self.rng.choice((2, 2, 2, 3, 4, 4, 5, 6, 8))
        found = self.get("/api/availability", date=day.isoformat(), party_size=party)
        if not found or self.rng.random() > 0.45:
            return
        open_slots = [s for s in found["slots"] if s["available"]]
        if not open_slots:
            return
        if self.bookings is not None and not self.bookings.take():
            return  # looked, did not book
        slot = self.rng.choice(open_slots)
        body = {"customer_name": f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                "phone": f"+44 7700 9{self.rng.randint(0, 99999):05d}", "party_size": party,
                "start_at": slot["start_at"]}
        if self.rng.random() < 0.1:
            body["notes"] = self.rng.choice(("birthday", "high chair", "allergy: shellfish"))
        r = self.s.post(self.base + "/api/bookings", json=body, timeout=TIMEOUT_S)
        if r.status_code == 201:
            self.mine.append(r.json()["id"])
            del self.mine[:-20]

    def browse(self) -> None:
        menu = self.get("/api/menu")
        if menu:
            self.menu = [i for c in menu["categories"] for i in c["items"]]
        if self.rng.random() < 0.5:
            self.get("/api/products", q=self.rng.choice(PRODUCT_TERMS), limit=20)
        else:
            cats = self.get("/api/products/categories")
            if cats and cats["items"]:
                self.get("/api/products", category=self.rng.choice(cats["items"]), limit=20)

    def order(self) -> None:
        if not self.menu or self.rng.random() < 0.3:
            menu = self.get("/api/menu")
            if not menu:
                return
            self.menu = [i for c in menu["categories"] for i in c["items"]]
        choices = [i for i in self.menu if i["in_stock"]]
        if not choices:
            return
        if self.orders is not None and not self.orders.take():
            return  # read the menu, did not order
        lines = [{"product_id": p["id"], "quantity": self.rng.choice((1, 1, 2))}
                 for p in self.rng.sample(choices, k=min(len(choices), self.rng.randint(1, 4)))]
        self.s.post(self.base + "/api/orders", json={
            "customer_name": f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
            "items": lines}, timeout=TIMEOUT_S)

    def kitchen(self) -> None:
        """Staff move today's open orders along (pending -> paid -> ... -> completed)."""
        page = self.get("/api/orders", status="pending,paid,preparing,ready", limit=10,
                        sort="placed_at")
        if not page or not page["items"]:
            return
        nxt = {"pending": "paid", "paid": "preparing", "preparing": "ready",
               "ready": "completed"}
        for o in page["items"][: self.rng.randint(1, 4)]:
            status = "cancelled" if o["status"] == "pending" and self.rng.random() < 0.04 \
                else nxt[o["status"]]
            self.s.patch(f"{self.base}/api/orders/{o['id']}", json={"status": status},
                         headers={"If-Match": f'"{o["version"]}"', "X-Backroom-User": "kitchen"},
                         timeout=TIMEOUT_S)

    def front_desk(self) -> None:
        """Staff check today's figures, seat arrived guests, restock what runs low."""
        self.get("/api/stats/today")
        now = datetime.now(UTC).replace(tzinfo=None)
        page = self.get("/api/bookings", date=now.date().isoformat(), status="confirmed",
                        limit=20)
        for b in (page or {}).get("items", []):
            if b["start_at"] <= now.isoformat(timespec="seconds") + "Z":
                status = "no_show" if self.rng.random() < 0.05 else "seated"
                self.s.patch(f"{self.base}/api/bookings/{b['id']}", json={"status": status},
                             headers={"If-Match": f'W/"{b["version"]}"',
                                      "X-Backroom-User": "front%20desk"}, timeout=TIMEOUT_S)
                break
        if self.rng.random() < 0.3:
            self.get("/api/bookings", q=self.rng.choice(SEARCH_TERMS), limit=20)
        low = self.get("/api/products", low_stock="true", active="true", limit=5)
        for p in (low or {}).get("items", [])[:2]:
            self.s.post(f"{self.base}/api/products/{p['id']}/restock",
                        json={"quantity": self.rng.choice((24, 48, 100))},
                        headers={"X-Backroom-User": "front%20desk"}, timeout=TIMEOUT_S)

    def cancel_one(self) -> None:
        if not self.mine:
            return
        booking_id = self.mine.pop(self.rng.randrange(len(self.mine)))
        r = self.s.get(f"{self.base}/api/bookings/{booking_id}", timeout=TIMEOUT_S)
        if r.ok:
            self.s.post(f"{self.base}/api/bookings/{booking_id}/cancel",
                        json={"reason": "plans changed"},
                        headers={"If-Match": r.headers["ETag"]}, timeout=TIMEOUT_S)
