"""What the mapped adapter's entities share: the reflected map, read-only words, compare-and-set."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Engine, inspect, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from console.shop import (
    BackendUnavailable,
    Conflict,
    NotFound,
    ValidationFailed,
    utc_now,
)
from console.shop_access import EntityAccess, ShopAccess
from console.shop_map import ShopMap, read_only_reason
from services.shop.mapping import MappedTable, MappingError, missing_index, reflect
from services.shop.sql_paging import SqlListing, failure_reason

NO_STATUS = "The shop's table has no status column in the profile, so the console cannot set it."
MISSING = datetime.min.replace(tzinfo=UTC)


def cents_of(row: Any, cents: str, amount: str) -> int:
    """An amount in cents from either an integer cents field or a decimal amount field."""
    m = row._mapping
    if cents in m and m[cents] is not None:
        return int(m[cents])
    if amount in m and m[amount] is not None:
        return int((Decimal(str(m[amount])) * 100).to_integral_value())
    return 0


class MappedListing(SqlListing):
    """The shop's own tables, reflected once from the profile's map; a base for the entities."""

    def __init__(self, engine: Engine, shop_map: ShopMap, *, location: str | None = None,
                 clock: Callable[[], datetime] = utc_now, user: str = "") -> None:
        super().__init__(engine, location=location, clock=clock, user=user)
        self.shop_map = shop_map
        self._tables: dict[str, MappedTable] | None = None
        self._lock = threading.Lock()
        self._index_ddl: dict[str, str | None] | None = None

    # ------------------------------------------------------------------ the map

    def _mapped(self, entity: str) -> MappedTable | None:
        """The entity's reflected table (reflected once, on first use), None when unmapped."""
        with self._lock:
            if self._tables is None:
                try:
                    with self._uow():
                        pass  # a database that cannot be reached says so as BackendUnavailable
                    self._tables = reflect(self.engine, self.shop_map)
                except MappingError as err:
                    raise BackendUnavailable("the profile's [database.map] does not fit the "
                                             f"database: {err} (run `backroom db check`)") from err
                except sa_exc.SQLAlchemyError as err:
                    raise BackendUnavailable(failure_reason(err)) from err
            return self._tables.get(entity)

    def _need(self, entity: str) -> MappedTable:
        mapped = self._mapped(entity)
        if mapped is None:
            raise NotFound(f"{entity} are not mapped in this profile")
        return mapped

    def read_only_reason(self, entity: str) -> str | None:
        """Why the console cannot edit ``entity`` here (None: it can)."""
        return read_only_reason(getattr(self.shop_map, entity, None))

    def access(self) -> ShopAccess:
        """What the pages may show and change, from the profile alone (no I/O): an entity the
        map leaves out is not shared; one without a version column is read-only, saying why."""
        def entity(name: str) -> EntityAccess | None:
            spec = getattr(self.shop_map, name, None)
            if spec is None:
                return None
            reason = read_only_reason(spec)
            return EntityAccess(writable=reason is None, why_read_only=reason or "")

        return ShopAccess(bookings=entity("bookings"), products=entity("products"),
                          orders=entity("orders"))

    def index_suggestion(self, entity: str) -> str | None:
        """The CREATE INDEX ``entity``'s list would load faster with (its sort column starts
        no index), for the shop's developer to run; None when one does. Looked up once per
        adapter (the first call reads the database's catalogue); the console never runs it."""
        self._mapped(entity)  # reflected (and the database reached) first
        with self._lock:
            if self._index_ddl is None:
                assert self._tables is not None
                try:
                    with self.engine.connect() as conn:
                        insp = inspect(conn)
                        self._index_ddl = {name: missing_index(self.engine, insp, mapped)
                                           for name, mapped in self._tables.items()}
                except sa_exc.SQLAlchemyError as err:
                    raise BackendUnavailable(failure_reason(err)) from err
            return self._index_ddl.get(entity)

    def _writable(self, mapped: MappedTable) -> None:
        reason = read_only_reason(mapped.spec)
        if reason is not None:
            raise ValidationFailed({"version": reason})

    def _select(self, mapped: MappedTable, sort_col: ColumnElement[Any]) -> Any:
        cols = [mapped.table.c[column].label(field) for field, column in mapped.spec.columns]
        if mapped.version is not None:
            cols.append(mapped.version.label("_version"))
        return select(*cols, sort_col.label("_sort"), mapped.need("id").label("_id"))

    def _empty(self, entity: str) -> bool:
        return self._mapped(entity) is None

    def _cas(self, conn: Connection, mapped: MappedTable, row_id: int, version: int,
             values: dict[str, Any], mine: Any, load: Callable[[Connection, int], Any]) -> None:
        """UPDATE ... WHERE id = :id AND version = :seen; no row means someone saved first."""
        ver = mapped.version
        assert ver is not None
        values = {**values, ver.name: mapped.next_version(version, self._clock())}
        result = conn.execute(mapped.table.update()
                              .where(mapped.need("id") == row_id,
                                     ver == mapped.version_value(version))
                              .values(values))
        if result.rowcount != 1:
            raise Conflict(mine, load(conn, row_id))

