"""A guest's history with the shop: past visits, no-shows, cancels and notes, found by phone,
e-mail or else name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from console.shop import Booking, BookingStatus, utc

#: The last digits of a phone number that identify it (a country code or a trunk 0 aside).
PHONE_TAIL = 9
#: Fewer digits than this are not a phone number to match on.
PHONE_MIN = 7
#: The most earlier bookings a history reads.
HISTORY_LIMIT = 200
#: Notes of earlier bookings shown at most.
NOTES_SHOWN = 5

BY_PHONE, BY_EMAIL, BY_NAME = "phone", "e-mail", "name"


def phone_digits(phone: str) -> str:
    """The digits of a phone number ('+44 7700 900123' -> '447700900123')."""
    return re.sub(r"\D", "", phone or "")


def phone_tail(phone: str) -> str:
    """The digits two spellings of one number share ('' when too short to match on)."""
    digits = phone_digits(phone)
    return digits[-PHONE_TAIL:] if len(digits) >= PHONE_MIN else ""


def same_phone(a: str, b: str) -> bool:
    """'+44 7700 900123' and '07700 900123' are one phone."""
    ta, tb = phone_tail(a), phone_tail(b)
    return bool(ta and tb) and (ta.endswith(tb) or tb.endswith(ta))


def fold_name(name: str) -> str:
    return " ".join(name.casefold().split())


def match_basis(booking: Booking, email: str = "") -> str:
    """What a booking's guest is matched on: phone or e-mail when it has one, else name."""
    if phone_tail(booking.phone):
        return BY_PHONE
    if email.strip():
        return BY_EMAIL
    return BY_NAME


def is_same_guest(booking: Booking, other: Booking, basis: str, *,
                  emails: frozenset[int] = frozenset()) -> bool:
    """Whether ``other`` is a booking of ``booking``'s guest on ``basis``; for e-mail,
    ``emails`` holds the customer ids with the guest's address."""
    if basis == BY_PHONE:
        return same_phone(booking.phone, other.phone) or (
            other.customer_id is not None and other.customer_id in emails)
    if basis == BY_EMAIL:
        return other.customer_id is not None and other.customer_id in emails
    return fold_name(other.customer_name) == fold_name(booking.customer_name)


@dataclass(frozen=True, slots=True)
class GuestNote:
    when: datetime
    notes: str


@dataclass(frozen=True, slots=True)
class GuestHistory:
    """What the shop knows of a booking's guest from their other bookings."""

    matched_by: str
    """``phone``, ``e-mail`` or ``name``."""
    visits: int
    """Earlier bookings that were not cancelled or missed (seated, or confirmed and past)."""
    no_shows: int
    cancelled: int
    upcoming: int
    """Later bookings still expected (this one left out)."""
    last_visit: datetime | None
    notes: tuple[GuestNote, ...]
    """Notes of their other bookings, the latest first, each text once."""
    partial: str = ""
    """Why other bookings of this guest may be missing ('' when the search was whole)."""

    @property
    def first_time(self) -> bool:
        return not (self.visits or self.no_shows or self.cancelled or self.upcoming)


def guest_history(booking: Booking, others: Iterable[Booking], *, matched_by: str,
                  now: datetime, partial: str = "") -> GuestHistory:
    """Count ``others`` (the guest's other bookings, however they were found) as of ``now``."""
    now = utc(now)
    visits = no_shows = cancelled = upcoming = 0
    last: datetime | None = None
    noted: list[tuple[datetime, str]] = []
    for b in others:
        if b.id == booking.id:
            continue
        past = utc(b.start_at) < now
        if b.status is BookingStatus.NO_SHOW:
            no_shows += 1
        elif b.status is BookingStatus.CANCELLED:
            cancelled += 1
        elif past:
            visits += 1
            last = b.start_at if last is None or b.start_at > last else last
        else:
            upcoming += 1
        if b.notes.strip():
            noted.append((b.start_at, b.notes.strip()))
    notes: list[GuestNote] = []
    seen: set[str] = set()
    for when, text in sorted(noted, key=lambda n: n[0], reverse=True):
        if text.casefold() not in seen and len(notes) < NOTES_SHOWN:
            seen.add(text.casefold())
            notes.append(GuestNote(when, text))
    return GuestHistory(matched_by, visits, no_shows, cancelled, upcoming, last, tuple(notes),
                        partial)
