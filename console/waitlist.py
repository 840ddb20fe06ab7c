"""The waitlist: parties waiting for a table, what they were quoted and how long they waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from console.shop import ValidationFailed, utc
from console.shop_rules import NAME_MAX, PARTY_SIZE_MAX, PARTY_SIZE_MIN, phone_error

#: The longest wait a host may quote (minutes).
QUOTED_MAX = 240


class WaitState(StrEnum):
    """Where a party on the list stands: still waiting, seated at a table, or taken off."""

    WAITING = "waiting"
    SEATED = "seated"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class WaitlistDraft:
    """A party put on the list: who, how many, and the wait the host quoted them."""

    name: str
    covers: int
    quoted_minutes: int
    phone: str = ""


@dataclass(frozen=True, slots=True)
class WaitingParty:
    """A party on the list; ``seated_at`` (with the booking it became) or ``removed_at`` once
    it left the list."""

    id: int
    name: str
    covers: int
    quoted_minutes: int
    added_at: datetime
    phone: str = ""
    state: WaitState = WaitState.WAITING
    seated_at: datetime | None = None
    removed_at: datetime | None = None
    booking_id: int | None = None

    def waited(self, now: datetime) -> timedelta:
        """How long the party has waited: until seated or taken off, else until ``now``."""
        end = self.seated_at or self.removed_at or now
        return max(timedelta(0), utc(end) - utc(self.added_at))


def validate_waiting(draft: WaitlistDraft) -> dict[str, str]:
    """What is wrong with ``draft``, field by field; empty when it may go on the list."""
    errors: dict[str, str] = {}
    name = draft.name.strip()
    if not name:
        errors["name"] = "Enter the guest's name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters (this has {len(name)})."
    if not isinstance(draft.covers, int) or not PARTY_SIZE_MIN <= draft.covers <= PARTY_SIZE_MAX:
        errors["covers"] = f"Covers must be {PARTY_SIZE_MIN} to {PARTY_SIZE_MAX}."
    if not isinstance(draft.quoted_minutes, int) or not 0 <= draft.quoted_minutes <= QUOTED_MAX:
        errors["quoted_minutes"] = f"Quote a wait of 0 to {QUOTED_MAX} minutes."
    phone = phone_error(draft.phone)
    if phone:
        errors["phone"] = phone
    return errors


def check_waiting(draft: WaitlistDraft) -> None:
    """Refuse a draft the list cannot take (every adapter calls this before it writes)."""
    errors = validate_waiting(draft)
    if errors:
        raise ValidationFailed(errors)


def seated_note(party: WaitingParty, now: datetime) -> str:
    """The note on the booking a waiting party becomes: how long it waited against the quote."""
    minutes = int(party.waited(now).total_seconds() // 60)
    return f"From the waitlist: waited {minutes} min (quoted {party.quoted_minutes})."


@dataclass(frozen=True, slots=True)
class Waitlist:
    """The list as the host sees it: who waits now, and today's average actual wait.

    ``parties`` are those still waiting and those that left the list since ``since`` (the
    start of the shop's today); the average is over the parties seated since then.
    """

    parties: tuple[WaitingParty, ...]
    since: datetime

    @property
    def waiting(self) -> tuple[WaitingParty, ...]:
        return tuple(sorted((p for p in self.parties if p.state is WaitState.WAITING),
                            key=lambda p: (utc(p.added_at), p.id)))

    @property
    def seated_today(self) -> tuple[WaitingParty, ...]:
        start = utc(self.since)
        return tuple(p for p in self.parties if p.state is WaitState.SEATED
                     and p.seated_at is not None and utc(p.seated_at) >= start)

    def average_wait(self) -> timedelta | None:
        """The mean time from added to seated of today's seated parties (None: none yet)."""
        seated = self.seated_today
        if not seated:
            return None
        total = sum((p.waited(p.seated_at or p.added_at) for p in seated), timedelta(0))
        return total / len(seated)
