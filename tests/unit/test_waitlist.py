"""The waitlist's rules and today's average actual wait (console/waitlist.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.waitlist import (
    WaitingParty,
    Waitlist,
    WaitlistDraft,
    WaitState,
    seated_note,
    validate_waiting,
)

MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)


def party(pid: int, added_h: float, waited_min: float | None = None,
          state: WaitState = WaitState.SEATED, quoted: int = 20) -> WaitingParty:
    added = MIDNIGHT + timedelta(hours=added_h)
    left = added + timedelta(minutes=waited_min) if waited_min is not None else None
    return WaitingParty(pid, f"P{pid}", 2, quoted, added, state=state,
                        seated_at=left if state is WaitState.SEATED else None,
                        removed_at=left if state is WaitState.REMOVED else None)


def test_the_average_is_over_todays_seated_parties_only() -> None:
    waitlist = Waitlist((
        party(1, 19, 10), party(2, 19.5, 30),                # seated today: 10 and 30 min
        party(3, -2, 60),                                    # seated yesterday: not today's
        party(4, 20, 45, state=WaitState.REMOVED),           # left: no actual wait to count
        party(5, 20.5, None, state=WaitState.WAITING),       # still waiting
    ), MIDNIGHT)
    assert waitlist.average_wait() == timedelta(minutes=20)
    assert [p.id for p in waitlist.seated_today] == [1, 2]
    assert [p.id for p in waitlist.waiting] == [5]


def test_no_one_seated_yet_has_no_average() -> None:
    waitlist = Waitlist((party(1, 19, None, state=WaitState.WAITING),), MIDNIGHT)
    assert waitlist.average_wait() is None


def test_a_waiting_party_has_waited_until_now_and_the_note_says_against_the_quote() -> None:
    p = party(1, 19, None, state=WaitState.WAITING, quoted=15)
    now = p.added_at + timedelta(minutes=22, seconds=40)
    assert p.waited(now) == timedelta(minutes=22, seconds=40)
    assert seated_note(p, now) == "From the waitlist: waited 22 min (quoted 15)."


def test_a_party_the_list_cannot_take_is_refused_field_by_field() -> None:
    assert validate_waiting(WaitlistDraft("Nia", 3, 20, phone="+44 7700 900555")) == {}
    errors = validate_waiting(WaitlistDraft("", 21, -5, phone="x" * 41))
    assert set(errors) == {"name", "covers", "quoted_minutes", "phone"}
    assert validate_waiting(WaitlistDraft("Nia", 2, 241))["quoted_minutes"] == (
        "Quote a wait of 0 to 240 minutes.")
