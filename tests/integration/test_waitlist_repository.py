"""The waitlist through each adapter: added, seated as a walk-in, removed, two hosts, no list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command

from console.shop import BookingStatus, Conflict, Unsupported, ValidationFailed
from console.waitlist import WaitlistDraft, WaitState
from services.shop.db import alembic_config, head_revision, init_db, make_engine
from services.shop.sql import SqlShopRepository
from tests.support.shops import Backend, backend_params, open_backend


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from open_backend(request, tmp_path_factory)


def start_of_today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_party_is_added_seated_as_a_walk_in_and_leaves_the_waiting_list(
        backend: Backend) -> None:
    repo = backend.repo
    party = repo.add_to_waitlist(WaitlistDraft("Nia Wait", 3, 20, phone="+44 7700 900555"))
    assert party.state is WaitState.WAITING and party.quoted_minutes == 20
    assert abs(party.added_at - datetime.now(UTC)) < timedelta(minutes=1)
    listed = repo.waitlist(start_of_today())
    assert party.id in {p.id for p in listed.waiting}

    seated, booking = repo.seat_from_waitlist(party.id, 7)
    assert seated.state is WaitState.SEATED and seated.booking_id == booking.id
    assert seated.seated_at is not None and seated.seated_at >= seated.added_at
    assert booking.status is BookingStatus.SEATED and booking.table_no == 7
    assert (booking.customer_name, booking.party_size, booking.phone) == (
        "Nia Wait", 3, "+44 7700 900555")
    assert booking.notes.startswith("From the waitlist: waited 0 min (quoted 20)")
    assert repo.get_booking(booking.id).status is BookingStatus.SEATED
    after = repo.waitlist(start_of_today())
    assert party.id not in {p.id for p in after.waiting}
    assert party.id in {p.id for p in after.seated_today}
    assert after.average_wait() is not None


def test_a_removed_party_is_off_the_list_and_a_second_host_is_told(backend: Backend) -> None:
    party = backend.repo.add_to_waitlist(WaitlistDraft("Oli Gone", 2, 10))
    other = backend.other_client()
    try:
        gone = other.remove_from_waitlist(party.id)
        assert gone.state is WaitState.REMOVED and gone.removed_at is not None
        with pytest.raises(Conflict) as late:
            backend.repo.seat_from_waitlist(party.id, 3)
        assert late.value.theirs.state is WaitState.REMOVED
        with pytest.raises(Conflict):
            backend.repo.remove_from_waitlist(party.id)
    finally:
        close = getattr(other, "close", None)
        if close:
            close()
    assert party.id not in {p.id for p in backend.repo.waitlist(start_of_today()).waiting}


def test_a_party_the_list_cannot_take_is_refused_by_field(backend: Backend) -> None:
    with pytest.raises(ValidationFailed) as refused:
        backend.repo.add_to_waitlist(WaitlistDraft(" ", 0, 999, phone="call me"))
    assert set(refused.value.errors) == {"name", "covers", "quoted_minutes", "phone"}


def test_a_database_from_before_the_waitlist_says_so_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
    engine.dispose()
    repo = SqlShopRepository(make_engine(url))
    try:
        with pytest.raises(Unsupported, match="db init"):
            repo.waitlist(start_of_today())
        assert init_db(url) == head_revision()
        party = repo.add_to_waitlist(WaitlistDraft("Pia New", 2, 15))
        assert [p.id for p in repo.waitlist(start_of_today()).waiting] == [party.id]
    finally:
        repo.close()
