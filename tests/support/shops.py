"""Shop back ends for tests: seeded SQLite, throwaway PostgreSQL and MariaDB databases, the demo.

Test modules build their ``backend`` fixtures with these helpers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from console.shop import BookingDraft, ProductQuery, ProductSort
from services.shop.api import ApiShopRepository
from services.shop.db import make_engine
from services.shop.schema import order_items, orders
from services.shop.seed import seed
from services.shop.sql import SqlShopRepository
from tests import servers
from tests.support.databases import throwaway_mariadb, throwaway_postgres
from tests.support.demo_shop import quiet_demo

_days = itertools.count(300)


def backend_params() -> list[Any]:
    """pytest params for the back ends (all but SQLite are integration)."""
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.integration),
            pytest.param("mariadb", marks=pytest.mark.integration),
            pytest.param("api", marks=pytest.mark.integration)]


@dataclass
class Backend:
    """One shop the tests talk to, and how to get a second, independent client of it."""

    name: str
    repo: Any
    other_client: Callable[[], Any]
    dead_client: Callable[[], Any]
    sql_url: str | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def fresh_day(self) -> date:
        """A future day no other test writes bookings on (so counts are exact)."""
        return (datetime.now(UTC) + timedelta(days=next(_days))).date()

    @staticmethod
    def at(day: date, hour: int, minute: int = 0) -> datetime:
        """A time on ``day`` in UTC within the demo shop's opening hours (11:00-23:00)."""
        assert 11 <= hour < 23
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    @staticmethod
    def window(day: date) -> tuple[datetime, datetime]:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)

    def add_booking(self, day: date, name: str, *, hour: int = 19, party: int = 2,
                    phone: str = "", notes: str = "", repo: Any = None) -> Any:
        return (repo or self.repo).create_booking(BookingDraft(
            customer_name=name, party_size=party, start_at=self.at(day, hour), phone=phone,
            notes=notes))

    def add_order(self, customer_name: str) -> int:
        """A new pending order for one in-stock product; returns its id."""
        product = next(p for p in self.repo.list_products(
            ProductQuery(include_inactive=False, sort=ProductSort.STOCK, descending=True),
            limit=5).rows if p.stock > 2)
        if self.sql_url is None:
            shop = self.demo  # type: ignore[attr-defined]
            resp = requests.post(f"{shop.base_url}/api/orders", timeout=10,
                                 headers={"Authorization": f"Bearer {shop.token}"},
                                 json={"customer_name": customer_name,
                                       "items": [{"product_id": product.id, "quantity": 2}]})
            assert resp.status_code == 201, resp.text
            return int(resp.json()["id"])
        engine = make_engine(self.sql_url)
        try:
            now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            with engine.begin() as conn:
                order_id = conn.execute(orders.insert().values(
                    customer_name=customer_name, placed_at=now, status="pending",
                    total_cents=2 * product.price_cents, version=1, updated_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]
                conn.execute(order_items.insert().values(
                    order_id=order_id, product_id=product.id, quantity=2,
                    unit_price_cents=product.price_cents))
            return int(order_id)
        finally:
            engine.dispose()

    def as_user(self, user: str) -> Any:
        """Another client of the same shop, whose changes are recorded as ``user``."""
        if self.sql_url is not None:
            repo: Any = SqlShopRepository(make_engine(self.sql_url), user=user)
        else:
            shop = self.demo  # type: ignore[attr-defined]
            repo = ApiShopRepository(shop.base_url, shop.token, user=user)
        self.closers.append(repo.close)
        return repo

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def seed_small(url: str) -> None:
    seed(url, bookings=400, products=60, orders=150, random_seed=3)


def sqlite_backend(directory: Path) -> Backend:
    url = f"sqlite:///{directory / 'shop.sqlite3'}"
    seed_small(url)
    repo = SqlShopRepository(make_engine(url))
    made: list[Any] = [repo]

    def other() -> Any:
        r = SqlShopRepository(make_engine(url))
        made.append(r)
        return r

    def dead() -> Any:
        return SqlShopRepository(make_engine(f"sqlite:///{directory / 'missing' / 'x.db'}"))

    backend = Backend("sqlite", repo, other, dead, sql_url=url)
    backend.closers.append(lambda: [r.close() for r in made])
    return backend


def postgres_backend() -> Backend:
    url, drop_db = throwaway_postgres("br_shop_test")
    seed_small(url)
    repo = SqlShopRepository(make_engine(url))
    made: list[Any] = [repo]

    def other() -> Any:
        r = SqlShopRepository(make_engine(url))
        made.append(r)
        return r

    def dead() -> Any:
        port = servers.free_port()
        return SqlShopRepository(make_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing", timeout=2))

    def drop() -> None:
        for r in made:
            r.close()
        drop_db()

    backend = Backend("postgres", repo, other, dead, sql_url=url)
    backend.closers.append(drop)
    return backend


def mariadb_backend() -> Backend:
    url, drop_db = throwaway_mariadb()
    seed_small(url)
    repo = SqlShopRepository(make_engine(url))
    made: list[Any] = [repo]

    def other() -> Any:
        r = SqlShopRepository(make_engine(url))
        made.append(r)
        return r

    def dead() -> Any:
        port = servers.free_port()
        return SqlShopRepository(make_engine(
            f"mysql+pymysql://root@127.0.0.1:{port}/nothing", timeout=2))

    def drop() -> None:
        for r in made:
            r.close()
        drop_db()

    backend = Backend("mariadb", repo, other, dead, sql_url=url)
    backend.closers.append(drop)
    return backend


def api_backend(directory: Path) -> Backend:
    shop = quiet_demo(directory, seed_scale=0.1, workers=1).start()
    repo = ApiShopRepository(shop.base_url, shop.token)
    made: list[Any] = [repo]

    def other() -> Any:
        r = ApiShopRepository(shop.base_url, shop.token)
        made.append(r)
        return r

    def dead() -> Any:
        return ApiShopRepository(f"http://127.0.0.1:{servers.free_port()}", "x", timeout=2)

    backend = Backend("api", repo, other, dead)
    backend.closers.append(shop.stop)
    backend.closers.append(lambda: [r.close() for r in made])
    backend.demo = shop  # type: ignore[attr-defined]
    return backend


def make_backend(kind: str, directory: Path) -> Backend:
    if kind == "sqlite":
        return sqlite_backend(directory)
    if kind == "postgres":
        return postgres_backend()
    if kind == "mariadb":
        return mariadb_backend()
    if kind == "api":
        return api_backend(directory)
    raise ValueError(kind)


def open_backend(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Body of a module's ``backend`` fixture: ``yield from open_backend(...)``."""
    made = make_backend(request.param, tmp_path_factory.mktemp(f"shop-{request.param}"))
    try:
        yield made
    finally:
        made.close()
