"""The floor on our schema: reading the tables and floor settings, and seeding a room."""

from __future__ import annotations

from datetime import time

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from console.floor import DiningTable, FloorPlan
from services.shop.schema import dining_tables, floor_settings

#: The room ``db seed`` sets up: 30 tables and 120 seats in two areas, as the demo shop's.
SEED_ROOM: tuple[DiningTable, ...] = (
    *(DiningTable(n, f"D{n}", seats, "Dining room") for n, seats in enumerate(
        (2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 8, 8), start=1)),
    *(DiningTable(n, f"T{n - 18}", seats, "Terrace") for n, seats in enumerate(
        (2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4), start=19)),
)
SEED_PLAN = FloorPlan(tables=SEED_ROOM, opens_at=time(11, 0), closes_at=time(23, 0),
                      slot_minutes=30, covers_per_slot=24, turn_minutes=90,
                      large_party_turn_minutes=120)


def _hhmm(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours) % 24, int(minutes or 0))


def read_floor(conn: Connection) -> FloorPlan:
    """The plan as stored; a database without the floor's tables (not yet upgraded) or with
    no tables in them gives a plan without tables."""
    have = set(inspect(conn).get_table_names())
    if not {"dining_tables", "floor_settings"} <= have:
        return FloorPlan()
    t = dining_tables.c
    tables = tuple(DiningTable(r.number, r.name or str(r.number), r.seats, r.area or "")
                   for r in conn.execute(select(dining_tables).order_by(t.area, t.number)))
    row = conn.execute(select(floor_settings).where(floor_settings.c.id == 1)).first()
    if row is None:
        return FloorPlan(tables=tables)
    return FloorPlan(tables=tables, opens_at=_hhmm(row.opens_at), closes_at=_hhmm(row.closes_at),
                     slot_minutes=row.slot_minutes, covers_per_slot=row.covers_per_slot,
                     turn_minutes=row.turn_minutes,
                     large_party_turn_minutes=row.large_party_turn_minutes)


def write_floor(conn: Connection, plan: FloorPlan) -> None:
    """Replace the stored tables and settings with ``plan``'s."""
    conn.execute(dining_tables.delete())
    if plan.tables:
        conn.execute(dining_tables.insert(), [
            {"number": t.number, "name": t.name, "seats": t.seats, "area": t.area}
            for t in plan.tables])
    conn.execute(floor_settings.delete())
    conn.execute(floor_settings.insert().values(
        id=1, opens_at=plan.opens_at.strftime("%H:%M"), closes_at=plan.closes_at.strftime("%H:%M"),
        slot_minutes=plan.slot_minutes, covers_per_slot=plan.covers_per_slot,
        turn_minutes=plan.turn_minutes, large_party_turn_minutes=plan.large_party_turn_minutes))


def has_room(conn: Connection) -> bool:
    return conn.execute(select(dining_tables.c.number).limit(1)).first() is not None
