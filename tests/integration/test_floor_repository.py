"""The floor through each adapter: the room as stored, walk-ins seated now, the migration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command

from console.shop import BookingDraft, BookingStatus, ValidationFailed
from services.shop.db import alembic_config, head_revision, init_db, make_engine
from services.shop.sql import SqlShopRepository
from services.shop.sql_floor import SEED_ROOM
from tests.support.shops import Backend, backend_params, open_backend


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from open_backend(request, tmp_path_factory)


def test_the_room_has_tables_in_two_areas_hours_and_a_covers_limit(backend: Backend) -> None:
    plan = backend.repo.floor()
    assert len(plan.tables) == 30 and plan.seats == 120
    assert {t.area for t in plan.tables} == {"Dining room", "Terrace"}
    assert plan.covers_per_slot == 24 and plan.slot_minutes == 30
    assert plan.opens_at.hour == 11 and plan.closes_at.hour == 23


def test_a_walk_in_is_seated_now_and_a_normal_booking_now_is_refused(backend: Backend) -> None:
    now = datetime.now(UTC)
    draft = BookingDraft(customer_name="Walk-in Ng", party_size=3, start_at=now, table_no=7)
    with pytest.raises(ValidationFailed) as refused:
        backend.repo.create_booking(draft)
    assert "start_at" in refused.value.errors
    seated = backend.repo.seat_walk_in(draft)
    assert seated.status is BookingStatus.SEATED and seated.table_no == 7
    assert abs(seated.start_at - now) < timedelta(minutes=1)
    assert backend.repo.get_booking(seated.id).status is BookingStatus.SEATED


def test_the_migration_upgrades_a_shop_made_before_the_floor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    repo = SqlShopRepository(make_engine(url))
    try:
        assert not repo.floor().has_tables  # not upgraded yet: no floor, no error
        assert init_db(url) == head_revision()
        assert not repo.floor().has_tables  # upgraded, no tables entered yet
        from services.shop.seed import seed

        seed(url, bookings=50, random_seed=2)
        assert [t.number for t in repo.floor().tables] == sorted(t.number for t in SEED_ROOM)
    finally:
        repo.close()
