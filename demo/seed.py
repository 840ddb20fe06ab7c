"""Believable seed data for the demo shop, written with Core bulk inserts in about a second."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from demo.db import (
    Database,
    bookings,
    customers,
    demo_meta,
    dining_tables,
    floor_settings,
    order_items,
    orders,
    products,
    utcnow,
    waitlist,
)

SEED_FORMAT = "1"
PAST_DAYS = 90
FUTURE_DAYS = 30
HOLD = timedelta(hours=2)
OPEN_AT = time(11, 0)
CLOSE_AT = time(23, 0)
# The room: 18 tables in the dining room and 12 on the terrace, 120 seats (number -> seats).
ROOM: tuple[tuple[int, str, int, str], ...] = (
    *((n, f"D{n}", seats, "Dining room") for n, seats in enumerate(
        (2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 8, 8), start=1)),
    *((n, f"T{n - 18}", seats, "Terrace") for n, seats in enumerate(
        (2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4), start=19)),
)
TABLES = len(ROOM)
SEATS = sum(r[2] for r in ROOM)
# Covers that may arrive in one half hour (what the kitchen can take), and how long a party
# holds its table (two hours, as availability counts it).
FLOOR = {"id": 1, "opens_at": f"{OPEN_AT:%H:%M}", "closes_at": f"{CLOSE_AT:%H:%M}",
         "slot_minutes": 30,
         "covers_per_slot": 24, "turn_minutes": 120, "large_party_turn_minutes": 120}

FIRST = (
    'Ana', 'Ben', 'Chloé', 'Dara', 'Eli', 'Farah', 'Gus', 'Hana', 'Ivo', 'Jon', 'Kemi', 'Lars',
    'Mia', 'Nico', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq', 'Uma', 'Vic', 'Wen', 'Xavi',
    'Yara', 'Zoë', 'Amir', 'Bea', 'Cai', 'Dmitri', 'Esme', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jun',
    'Kai', 'Lena', 'Marek', 'Nadia', 'Omar', 'Pia', 'Raúl', 'Sofia', 'Theo', 'Ulla', 'Vera',
    'Will', 'Yusuf', 'Zara', 'Agnieszka', 'Björn', 'Chidi', 'Dolores', 'Émile', 'Freya', 'Giulia',
    'Hiro', 'Ingrid', 'José',
)
LAST = (
    'Lima', 'Berg', 'Okafor', 'Novak', 'Smith', 'Jones', 'Müller', 'Rossi', 'Haddad', 'Kowalski',
    'Chen', 'Nguyen', 'Patel', 'Garcia', 'Silva', 'Evans', "O'Brien", 'Dubois', 'Jensen',
    'Moreau', 'Ivanova', 'Tanaka', 'Kim', 'Costa', 'Fischer', 'Walsh', 'Ahmed', 'Hughes',
    'Brennan', 'Schmidt', 'Lindqvist', 'Mendes', 'Achebe', 'Park', 'Russo', 'Kaur', 'Doyle',
    'Weber', 'Santos', 'Byrne', 'Nakamura', 'Popescu', 'Horvat', 'Andersen', 'Bianchi', 'Clarke',
    'Fernández', 'Grant', 'Hale', 'Iqbal',
)
NOTES = (
    "birthday", "high chair please", "allergy: tree nuts", "window seat if possible",
    "anniversary", "wheelchair access", "coeliac", "vegan x2", "late arrival possible",
    "quiet table", "business dinner",
)

# category -> (sku prefix, price range in cents, name parts)
CATALOGUE: dict[str, tuple[str, tuple[int, int], tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "Starters": ("STA", (450, 1100), (
        ("Crispy", "Charred", "Smoked", "Whipped", "Spiced", "Roast", "Pickled", "Grilled"),
        ("squid", "burrata", "beetroot", "mackerel", "cauliflower", "halloumi", "croquetas",
         "prawns", "leeks", "mushrooms", "artichoke", "octopus"))),
    "Mains": ("MAI", (1250, 2900), (
        ("Braised", "Roast", "Pan-fried", "Slow-cooked", "Char-grilled", "Baked", "Herb-crusted"),
        ("lamb shoulder", "hake", "chicken thigh", "pork belly", "sea bream", "short rib",
         "duck leg", "aubergine", "gnocchi", "risotto", "cod loin", "venison"))),
    "Pizza": ("PIZ", (950, 1650), (
        ("Margherita", "Diavola", "Bianca", "Quattro", "Capricciosa", "Ortolana", "Nduja"),
        ("classic", "with burrata", "with rocket", "with truffle", "double", "with olives"))),
    "Desserts": ("DES", (550, 950), (
        ("Dark chocolate", "Lemon", "Salted caramel", "Rhubarb", "Pistachio", "Vanilla",
         "Blood orange", "Hazelnut"),
        ("tart", "posset", "ice cream", "cheesecake", "panna cotta", "crumble", "soufflé"))),
    "Drinks": ("DRK", (250, 650), (
        ("Elderflower", "Blood orange", "Ginger", "Rhubarb", "Cloudy apple", "Sparkling",
         "Still", "Yuzu"),
        ("pressé", "soda", "lemonade", "water", "kombucha", "iced tea"))),
    "Wine": ("WIN", (650, 4800), (
        ("Rioja", "Albariño", "Malbec", "Sancerre", "Chianti", "Grüner Veltliner", "Rosé",
         "Prosecco", "Pinot Noir"),
        ("glass", "carafe", "bottle", "reserva bottle"))),
    "Coffee & Tea": ("COF", (220, 480), (
        ("Espresso", "Flat white", "Cortado", "Oat latte", "Earl Grey", "Sencha", "Chai",
         "Mint tea"),
        ("single", "double", "large", "pot"))),
    "Deli": ("DEL", (300, 2400), (
        ("Aged", "House", "Cured", "Smoked", "Wild", "Organic", "Stone-ground"),
        ("parmesan", "olive oil 500ml", "salami", "anchovies", "pesto jar", "sourdough loaf",
         "coffee beans 250g", "chilli jam", "honey", "pasta 1kg"))),
}

LUNCH_SLOTS = [time(12, 0), time(12, 30), time(13, 0), time(13, 30), time(14, 0)]
DINNER_SLOTS = [time(18, 0), time(18, 30), time(19, 0), time(19, 30), time(20, 0),
                time(20, 30), time(21, 0), time(21, 30)]
OTHER_SLOTS = [time(11, 0), time(11, 30), time(14, 30), time(15, 0), time(17, 0), time(17, 30),
               time(22, 0)]
PARTY_WEIGHTS = [(1, 4), (2, 40), (3, 12), (4, 24), (5, 6), (6, 7), (7, 2), (8, 3), (10, 1),
                 (12, 1)]
WEEKDAY_FACTOR = (0.7, 0.8, 0.9, 1.0, 1.35, 1.45, 1.1)  # Monday .. Sunday


@dataclass(frozen=True, slots=True)
class SeedSizes:
    """How much to seed at a given scale (1.0 is the full demo)."""

    customers: int
    products: int
    bookings_per_day: float
    orders_per_day: float

    @staticmethod
    def at(scale: float) -> SeedSizes:
        return SeedSizes(
            customers=max(20, round(2000 * scale)),
            products=max(16, round(300 * scale)),
            bookings_per_day=max(3.0, 70 * scale),
            orders_per_day=max(3.0, 60 * scale),
        )


def seed_or_top_up(db: Database, scale: float = 1.0, now: datetime | None = None) -> dict[str, int]:
    """Seed an empty database, or add the days that passed since it was seeded.

    Returns how many rows of each kind were written (all zero when nothing was needed).
    """
    now = now or utcnow()
    db.create_schema()
    rng = random.Random(1234)
    written: dict[str, int] = defaultdict(int)
    with db.write() as conn:
        _seed_room(conn)
        _seed_waitlist(conn, rng, now)
        meta = {r.key: r.value for r in conn.execute(select(demo_meta))}
        if meta.get("seed_format") != SEED_FORMAT:
            _seed_fresh(conn, rng, SeedSizes.at(scale), now, written)
            _set_meta(conn, {"seed_format": SEED_FORMAT, "seed_scale": str(scale),
                             "seeded_at": now.isoformat()})
        else:
            scale = float(meta.get("seed_scale", scale))
            sizes = SeedSizes.at(scale)
            until = date.fromisoformat(meta["bookings_until"])
            horizon = now.date() + timedelta(days=FUTURE_DAYS)
            if until < horizon:
                days = [until + timedelta(days=i) for i in range(1, (horizon - until).days + 1)]
                _seed_bookings(conn, rng, sizes, days, now, written)
            orders_until = datetime.fromisoformat(meta["orders_until"])
            if orders_until < now:
                _seed_orders(conn, rng, sizes, orders_until, now, written)
        _set_meta(conn, {
            "bookings_until": (now.date() + timedelta(days=FUTURE_DAYS)).isoformat(),
            "orders_until": now.isoformat(),
        })
    return dict(written)


def _seed_room(conn: Connection) -> None:
    """The tables and the floor's settings, once (a demo file from before the floor gets
    them on its next start)."""
    if conn.execute(select(dining_tables.c.number).limit(1)).first() is None:
        conn.execute(dining_tables.insert(), [
            {"number": n, "name": name, "seats": seats, "area": area}
            for n, name, seats, area in ROOM])
    if conn.execute(select(floor_settings.c.id)).first() is None:
        conn.execute(floor_settings.insert().values(**FLOOR))


def is_open(at: datetime) -> bool:
    """Whether the restaurant is open at ``at`` (UTC, naive or aware: the demo's hours are
    UTC): parties queue and walk in only then."""
    return OPEN_AT <= at.time() < CLOSE_AT


def closing_after(at: datetime) -> datetime:
    """The first closing time at or after ``at`` (naive UTC, as the demo stores times)."""
    closing = datetime.combine(at.date(), CLOSE_AT)
    return closing if at <= closing else closing + timedelta(days=1)


def last_closing(now: datetime) -> datetime:
    """The latest closing time before ``now``: a party added before it and still waiting is
    left over from a service that has closed (one added by hand since is left alone)."""
    closing = datetime.combine(now.date(), CLOSE_AT)
    return closing if now >= closing else closing - timedelta(days=1)


def _seed_waitlist(conn: Connection, rng: random.Random, now: datetime) -> None:
    """A few parties waiting now and two seated from the list earlier today, once a day while
    the restaurant is open, so the Floor's waitlist and its average wait show something on a
    fresh start; parties left waiting from a closed service were sent home at closing."""
    _send_home(conn, now)
    if not is_open(now):
        return
    opened = datetime.combine(now.date(), OPEN_AT)
    if conn.execute(select(waitlist.c.id).where(waitlist.c.added_at >= opened)
                    .limit(1)).first() is not None:
        return
    rows = []
    for ago, waited, covers, quoted in ((180, 12, 2, 15), (150, 22, 4, 20),
                                        (27, None, 2, 20), (14, None, 5, 30), (6, None, 3, 15)):
        added = max(opened, now - timedelta(minutes=ago))
        seated = added + timedelta(minutes=waited) if waited is not None else None
        if seated is not None and seated > now:  # just after opening: still waiting
            seated = None
        rows.append({"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "covers": covers,
                     "phone": f"+44 7700 9{rng.randrange(10**5):05d}", "quoted_minutes": quoted,
                     "added_at": added, "state": "seated" if seated else "waiting",
                     "seated_at": seated})
    conn.execute(waitlist.insert(), rows)


def _send_home(conn: Connection, now: datetime) -> None:
    """Parties still waiting when their service closed (the demo was not running then) leave
    the list at that closing time."""
    w = waitlist.c
    for party_id, added in conn.execute(select(w.id, w.added_at).where(
            w.state == "waiting", w.added_at < last_closing(now))).all():
        conn.execute(waitlist.update().where(w.id == party_id).values(
            state="removed", removed_at=min(now, closing_after(added))))


def _free_table(tables: dict[int, list[datetime]], party: int, start: datetime,
                preferred: int) -> int | None:
    """The smallest table that seats ``party`` and is free for the hold from ``start``;
    among equals the first from ``preferred`` on (so the room fills evenly)."""
    fits = [(seats, (n - preferred) % TABLES, n) for n, _name, seats, _area in ROOM
            if seats >= party and all(abs(other - start) >= HOLD for other in tables[n])]
    if not fits:
        return None
    return min(fits)[2]


def _set_meta(conn: Connection, values: dict[str, str]) -> None:
    for key, value in values.items():
        conn.execute(demo_meta.delete().where(demo_meta.c.key == key))
        conn.execute(demo_meta.insert().values(key=key, value=value))


def _seed_fresh(conn: Connection, rng: random.Random, sizes: SeedSizes, now: datetime,
                written: dict[str, int]) -> None:
    rows = []
    for i in range(1, sizes.customers + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({
            "id": i, "name": f"{first} {last}", "phone": _phone(rng),
            "email": f"{_ascii(first)}.{_ascii(last)}{i}@example.com".lower(),
            "created_at": now - timedelta(days=rng.randint(91, 900), minutes=rng.randint(0, 1440)),
        })
    conn.execute(customers.insert(), rows)
    written["customers"] = len(rows)

    rows = []
    cats = list(CATALOGUE)
    seen: set[str] = set()
    for i in range(1, sizes.products + 1):
        cat = cats[(i - 1) % len(cats)]
        prefix, (lo, hi), (adjs, nouns) = CATALOGUE[cat]
        name = f"{rng.choice(adjs)} {rng.choice(nouns)}"
        while name in seen:
            name = f"{rng.choice(adjs)} {rng.choice(nouns)} No. {rng.randint(2, 99)}"
        seen.add(name)
        threshold = rng.choice((3, 5, 5, 8, 10))
        running_low = i % 25 == 7 or rng.random() < 0.02
        stock = rng.randint(0, threshold) if running_low else rng.randint(20, 400)
        rows.append({
            "id": i, "sku": f"{prefix}-{i:04d}", "name": name, "category": cat,
            "price_cents": rng.randint(lo // 10, hi // 10) * 10, "stock": stock,
            "low_stock_threshold": threshold, "active": rng.random() > 0.05, "version": 1,
            "updated_at": now - timedelta(days=rng.randint(0, 60)),
        })
    conn.execute(products.insert(), rows)
    written["products"] = len(rows)

    days = [now.date() + timedelta(days=d) for d in range(-PAST_DAYS, FUTURE_DAYS + 1)]
    _seed_bookings(conn, rng, sizes, days, now, written)
    _seed_orders(conn, rng, sizes, now - timedelta(days=PAST_DAYS), now, written)


def _seed_bookings(conn: Connection, rng: random.Random, sizes: SeedSizes, days: list[date],
                   now: datetime, written: dict[str, int]) -> None:
    next_id = (conn.execute(select(func.max(bookings.c.id))).scalar() or 0) + 1
    n_customers = conn.execute(select(func.count()).select_from(customers)).scalar() or 0
    names = {r.id: (r.name, r.phone) for r in conn.execute(
        select(customers.c.id, customers.c.name, customers.c.phone))}
    parties, weights = zip(*PARTY_WEIGHTS, strict=True)
    rows: list[dict[str, Any]] = []
    for day in days:
        count = max(1, round(rng.gauss(sizes.bookings_per_day, sizes.bookings_per_day * 0.12)
                             * WEEKDAY_FACTOR[day.weekday()]))
        held: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])  # half hour -> tables, covers
        taken: dict[int, list[datetime]] = defaultdict(list)  # table -> starts held
        for _ in range(count):
            r = rng.random()
            slot = rng.choice(DINNER_SLOTS if r < 0.62 else LUNCH_SLOTS if r < 0.9 else OTHER_SLOTS)
            start = datetime.combine(day, slot)
            party = rng.choices(parties, weights)[0]
            halves = [start + timedelta(minutes=30 * k) for k in range(4)]
            if any(held[h][0] >= TABLES or held[h][1] + party > SEATS for h in halves):
                continue  # fully booked then: a real guest would have been turned away
            for h in halves:
                held[h][0] += 1
                held[h][1] += party
            if start < now:
                status = rng.choices(("seated", "no_show", "cancelled"), (85, 5, 10))[0]
            else:
                status = "cancelled" if rng.random() < 0.07 else "confirmed"
            known = n_customers and rng.random() < 0.6
            customer_id = rng.randint(1, n_customers) if known else None
            if customer_id is not None:
                name, phone = names[customer_id]
            else:
                name, phone = f"{rng.choice(FIRST)} {rng.choice(LAST)}", _phone(rng)
            created = min(now, start - timedelta(days=rng.randint(0, 21),
                                                 minutes=rng.randint(30, 900)))
            edited = rng.random() < 0.15
            # The same draws in the same order as before the room had its own tables.
            keep_phone = rng.random() < 0.9
            table = (None if status == "cancelled"
                     else _free_table(taken, party, start, rng.randint(1, TABLES)))
            if table is not None and status != "no_show":
                taken[table].append(start)
            rows.append({
                "id": next_id, "customer_id": customer_id, "customer_name": name,
                "phone": phone if keep_phone else None, "party_size": party,
                "start_at": start,
                "table_no": table,
                "status": status, "notes": rng.choice(NOTES) if rng.random() < 0.12 else "",
                "version": 2 if edited else 1, "created_at": created,
                "updated_at": min(now, created + timedelta(hours=rng.randint(1, 48))) if edited
                else created,
            })
            next_id += 1
    if rows:
        conn.execute(bookings.insert(), rows)
    written["bookings"] += len(rows)


def _seed_orders(conn: Connection, rng: random.Random, sizes: SeedSizes, after: datetime,
                 until: datetime, written: dict[str, int]) -> None:
    next_order = (conn.execute(select(func.max(orders.c.id))).scalar() or 0) + 1
    next_item = (conn.execute(select(func.max(order_items.c.id))).scalar() or 0) + 1
    catalogue = [(r.id, r.price_cents) for r in conn.execute(
        select(products.c.id, products.c.price_cents).where(products.c.active.is_(True)))]
    if not catalogue:
        return
    order_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    day = after.date()
    while day <= until.date():
        count = max(1, round(rng.gauss(sizes.orders_per_day, sizes.orders_per_day * 0.15)
                             * WEEKDAY_FACTOR[day.weekday()]))
        for _ in range(count):
            r = rng.random()
            if r < 0.4:
                minute = rng.randint(11 * 60 + 30, 14 * 60 + 30)
            elif r < 0.85:
                minute = rng.randint(18 * 60, 21 * 60 + 45)
            else:
                minute = rng.randint(9 * 60, 22 * 60 + 30)
            placed = datetime.combine(day, time()) + timedelta(minutes=minute,
                                                               seconds=rng.randint(0, 59))
            if not after < placed <= until:
                continue
            age = until - placed
            if age > timedelta(hours=3):
                status = rng.choices(("completed", "cancelled", "refunded"), (93, 5, 2))[0]
            elif age > timedelta(minutes=40):
                status = rng.choices(("completed", "ready", "cancelled"), (85, 10, 5))[0]
            elif age > timedelta(minutes=10):
                status = rng.choice(("paid", "preparing", "ready"))
            else:
                status = rng.choice(("pending", "paid"))
            total = 0
            for product_id, price in rng.sample(catalogue, k=min(len(catalogue), rng.choice(
                    (1, 1, 2, 2, 2, 3, 3, 4, 5)))):
                qty = rng.choice((1, 1, 1, 2, 2, 3))
                item_rows.append({"id": next_item, "order_id": next_order,
                                  "product_id": product_id, "quantity": qty,
                                  "unit_price_cents": price})
                next_item += 1
                total += qty * price
            order_rows.append({
                "id": next_order, "customer_id": None, "customer_name":
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "placed_at": placed, "status": status, "total_cents": total,
                "version": {"pending": 1, "paid": 2, "preparing": 3, "ready": 4}.get(status, 5),
                "updated_at": min(until, placed + timedelta(minutes=rng.randint(1, 50))),
            })
            next_order += 1
        day += timedelta(days=1)
    if order_rows:
        conn.execute(orders.insert(), order_rows)
        conn.execute(order_items.insert(), item_rows)
    written["orders"] += len(order_rows)
    written["order_items"] += len(item_rows)


def _phone(rng: random.Random) -> str:
    return f"+44 7700 9{rng.randint(0, 99999):05d}"


def _ascii(text: str) -> str:
    return "".join(c for c in text if c.isascii() and c.isalpha()) or "guest"
