"""The waitlist on our schema: read today's list, add a party, seat it at a table, take it off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.engine import Connection, Row

from console.shop import Booking, BookingDraft, Conflict, NotFound, Unsupported, naive_utc, utc
from console.waitlist import (
    WaitingParty,
    Waitlist,
    WaitlistDraft,
    WaitState,
    check_waiting,
    seated_note,
)
from services.shop.schema import waitlist
from services.shop.sql_paging import SqlListing, aware

NOT_UPGRADED = ("This shop's database has no waitlist yet (it was made before it): upgrade it "
                "with `backroom db init --url …`.")


class SqlWaitlist(SqlListing):
    """The waitlist part of the repository on our schema; a seat becomes a walk-in booking,
    made in the same transaction as the party's move off the list."""

    def _insert_walk_in(self, conn: Connection, draft: BookingDraft,
                        now: datetime) -> Booking:  # pragma: no cover - the subclass's
        raise NotImplementedError

    def waitlist(self, since: datetime) -> Waitlist:
        """The parties still waiting and those that left the list since ``since``."""
        w = waitlist.c
        with self._uow() as uow:
            _check_upgraded(uow.conn)
            rows = uow.conn.execute(select(waitlist).where(or_(
                w.state == WaitState.WAITING.value, w.added_at >= naive_utc(since),
                w.seated_at >= naive_utc(since), w.removed_at >= naive_utc(since)))
                .order_by(w.added_at, w.id))
            return Waitlist(tuple(_party(r) for r in rows), utc(since))

    def add_to_waitlist(self, draft: WaitlistDraft) -> WaitingParty:
        check_waiting(draft)
        with self._uow(write=True) as uow:
            _check_upgraded(uow.conn)
            result = uow.conn.execute(waitlist.insert().values(
                name=draft.name.strip(), phone=draft.phone.strip() or None, covers=draft.covers,
                quoted_minutes=draft.quoted_minutes, added_at=naive_utc(self._clock()),
                state=WaitState.WAITING.value))
            party = _load(uow.conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
            uow.commit()
        return party

    def seat_from_waitlist(self, party_id: int, table_no: int) -> tuple[WaitingParty, Booking]:
        """Seat a waiting party now at ``table_no``: a seated walk-in booking whose note says
        how long it waited; Conflict when someone seated or removed it first."""
        now = self._clock()
        with self._uow(write=True) as uow:
            _check_upgraded(uow.conn)
            party = _load(uow.conn, party_id)
            if party.state is not WaitState.WAITING:
                raise Conflict(WaitState.SEATED, party)
            booking = self._insert_walk_in(uow.conn, BookingDraft(
                party.name, party.covers, now, phone=party.phone, table_no=table_no,
                notes=seated_note(party, now)), now)
            _leave(uow.conn, party_id, WaitState.SEATED, now, booking.id)
            party = _load(uow.conn, party_id)
            uow.commit()
        return party, booking

    def remove_from_waitlist(self, party_id: int) -> WaitingParty:
        """Take a waiting party off the list (left, or went elsewhere)."""
        now = self._clock()
        with self._uow(write=True) as uow:
            _check_upgraded(uow.conn)
            party = _load(uow.conn, party_id)
            if party.state is not WaitState.WAITING:
                raise Conflict(WaitState.REMOVED, party)
            _leave(uow.conn, party_id, WaitState.REMOVED, now, None)
            party = _load(uow.conn, party_id)
            uow.commit()
        return party


def _check_upgraded(conn: Connection) -> None:
    if not inspect(conn).has_table("waitlist"):
        raise Unsupported(NOT_UPGRADED)


def _leave(conn: Connection, party_id: int, state: WaitState, now: datetime,
           booking_id: int | None) -> None:
    """Off the list, only if it is still waiting (two hosts: the second one misses)."""
    stamp = naive_utc(now)
    values: dict[str, Any] = {"state": state.value, "booking_id": booking_id,
                              "seated_at" if state is WaitState.SEATED else "removed_at": stamp}
    result = conn.execute(waitlist.update().where(
        waitlist.c.id == party_id, waitlist.c.state == WaitState.WAITING.value).values(**values))
    if result.rowcount != 1:
        raise Conflict(state, _load(conn, party_id))


def _load(conn: Connection, party_id: int) -> WaitingParty:
    row = conn.execute(select(waitlist).where(waitlist.c.id == party_id)).first()
    if row is None:
        raise NotFound(f"waiting party {party_id} not found")
    return _party(row)


def _party(row: Row[Any]) -> WaitingParty:
    m = row._mapping
    return WaitingParty(id=m["id"], name=m["name"], covers=m["covers"],
                        quoted_minutes=m["quoted_minutes"], added_at=utc(m["added_at"]),
                        phone=m["phone"] or "", state=WaitState(m["state"]),
                        seated_at=aware(m["seated_at"]), removed_at=aware(m["removed_at"]),
                        booking_id=m["booking_id"])
