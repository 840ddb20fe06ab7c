"""The contract's store over SQLAlchemy models: expressions, keyset order, compare-and-set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from backroom_connect_core.store import Logged
from sqlalchemy import ColumnElement, and_, false, func, null, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from backroom_connect_flask.history import ChangeLog


class SqlAlchemyStore:
    """Rows of the shop's models as dicts keyed by the contract's field names."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self._session = session
        self._log = ChangeLog()

    @staticmethod
    def _col(m: Mapping, name: str) -> Any:
        return getattr(m.model, m.columns[name])

    def _value(self, m: Mapping, name: str, value: Any) -> Any:
        """Times as the column keeps them: naive UTC in a column without a time zone."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            col_type = getattr(self._col(m, name), "type", None)
            if not (isinstance(col_type, DateTime) and col_type.timezone):
                return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def _cond(self, m: Mapping, cond: tuple[Any, ...]) -> ColumnElement[bool]:
        op = cond[0]
        if op == "eq":
            return self._col(m, cond[1]) == self._value(m, cond[1], cond[2])
        if op == "in":
            return self._col(m, cond[1]).in_(cond[2])
        if op == "ge":
            return self._col(m, cond[1]) >= self._value(m, cond[1], cond[2])
        if op == "lt":
            return self._col(m, cond[1]) < self._value(m, cond[1], cond[2])
        if op == "le_field":
            return self._col(m, cond[1]) <= self._col(m, cond[2])
        if op == "search":
            if not cond[1]:
                return false()
            return or_(*(func.lower(self._col(m, n)).contains(cond[2].lower(), autoescape=True)
                         for n in cond[1]))
        if op == "any":
            return or_(false(), *(self._cond(m, each) for each in cond[1]))
        if op == "after":
            _, name, descending, value, row_id = cond
            col, ident = self._col(m, name), self._col(m, "id")
            value = self._value(m, name, value)
            if descending:
                return or_(col < value, and_(col == value, ident < row_id))
            return or_(col > value, and_(col == value, ident > row_id))
        raise ValueError(f"unknown condition {op}")

    def _row(self, m: Mapping, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, attr) for name, attr in m.columns.items()}

    def rows(self, m: Mapping, where: list[tuple[Any, ...]], order: tuple[str, bool],
             limit: int | None) -> list[dict[str, Any]]:
        name, descending = order
        keys = (self._col(m, name), self._col(m, "id"))
        stmt = select(m.model).where(*(self._cond(m, c) for c in where)).order_by(
            *(k.desc() if descending else k.asc() for k in keys))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._session() as session:
            return [self._row(m, obj) for obj in session.scalars(stmt)]

    def count(self, m: Mapping, where: list[tuple[Any, ...]]) -> int:
        stmt = select(func.count()).select_from(m.model).where(
            *(self._cond(m, c) for c in where))
        with self._session() as session:
            return int(session.execute(stmt).scalar_one())

    def get(self, m: Mapping, ident: int) -> dict[str, Any] | None:
        with self._session() as session:
            obj = session.scalars(select(m.model).where(self._col(m, "id") == ident)).first()
            return self._row(m, obj) if obj is not None else None

    def _set(self, m: Mapping, values: dict[str, Any]) -> dict[str, Any]:
        return {m.columns[k]: self._value(m, k, v) for k, v in values.items()}

    def update(self, m: Mapping, ident: int, seen_version: Any, changes: dict[str, Any],
               log: Sequence[Logged] = ()) -> bool:
        stmt = (update(m.model)
                .where(self._col(m, "id") == ident, self._col(m, "version") == seen_version)
                .values(self._set(m, changes))
                .execution_options(synchronize_session=False))
        with self._session() as session:
            self._log.ensure(session)  # before the transaction: it may CREATE TABLE
            done = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
            if done:
                self._log.write(session, log, ident)
            session.commit()
            return done

    def create(self, m: Mapping, values: dict[str, Any], log: Sequence[Logged] = ()) -> int:
        obj = m.model(**self._set(m, values))
        with self._session() as session:
            self._log.ensure(session)
            session.add(obj)
            session.flush()
            ident = int(getattr(obj, m.columns["id"]))
            self._log.write(session, log, ident)
            session.commit()
            return ident

    def seat(self, party: Mapping, bookings: Mapping, party_id: int, waiting: Any,
             seated: dict[str, Any], booking: dict[str, Any], log: Sequence[Logged]
             ) -> int | None:
        pid = self._col(party, "id")
        with self._session() as session:
            self._log.ensure(session)
            taken = session.execute(
                update(party.model).where(pid == party_id, self._col(party, "state") == waiting)
                .values(self._set(party, seated)).execution_options(synchronize_session=False))
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
            made = bookings.model(**self._set(bookings, booking))
            session.add(made)
            session.flush()
            ident = int(getattr(made, bookings.columns["id"]))
            if party.has("booking_id"):
                session.execute(update(party.model).where(pid == party_id).values(
                    self._set(party, {"booking_id": ident}))
                    .execution_options(synchronize_session=False))
            self._log.write(session, log, ident)
            session.commit()
            return ident

    def history(self, m: Mapping, ident: int) -> list[dict[str, Any]] | None:
        with self._session() as session:
            if not self._log.ensure(session):
                return None  # "keeps no history"
            return self._log.read(session, m, ident)

    # ------------------------------------------------------------------ the day report

    def timezone(self) -> str:
        return "UTC"  # naive times are UTC to the connector

    def _day(self, session: Session, m: Mapping, name: str) -> Any:
        """The UTC day of a time column: PostgreSQL's date() of a timestamptz would take the
        session's zone (whatever the server or the shop's engine set)."""
        col = self._col(m, name)
        col_type = getattr(col, "type", None)
        if isinstance(col_type, DateTime) and col_type.timezone \
                and session.get_bind().dialect.name == "postgresql":
            return func.date(func.timezone("UTC", col))
        return func.date(col)

    def day_totals(self, m: Mapping, time_field: str, sum_field: str | None, lo: datetime,
                   hi: datetime) -> list[tuple[date | str, Any, int, int | None]]:
        when, status = self._col(m, time_field), self._col(m, "status")
        total = func.sum(self._col(m, sum_field)) if sum_field else null()
        with self._session() as session:
            day = self._day(session, m, time_field)
            stmt = (select(day, status, func.count(), total)
                    .where(when >= self._value(m, time_field, lo),
                           when < self._value(m, time_field, hi))
                    .group_by(day, status))
            return [(d, s, int(n), t) for d, s, n, t in session.execute(stmt)]

    def line_totals(self, lines: Mapping, orders: Mapping, products: Mapping | None,
                    lo: datetime, hi: datetime, statuses: list[Any]
                    ) -> list[tuple[date | str, Any, int | None]]:
        placed = self._col(orders, "placed_at")
        cents = func.sum(self._col(lines, "quantity") * self._col(lines, "unit_price_cents"))
        by_product = products is not None and lines.has("product")
        category = self._col(products, "category") if products is not None and by_product \
            else null()
        with self._session() as session:
            day = self._day(session, orders, "placed_at")
        stmt = select(day, category, cents).select_from(lines.model).join(
            orders.model, self._col(lines, "order") == self._col(orders, "id"))
        if products is not None and by_product:
            stmt = stmt.outerjoin(products.model,
                                  self._col(lines, "product") == self._col(products, "id"))
        stmt = stmt.where(placed >= self._value(orders, "placed_at", lo),
                          placed < self._value(orders, "placed_at", hi),
                          self._col(orders, "status").in_(statuses)
                          ).group_by(day, *([category] if by_product else []))
        with self._session() as session:
            return [(d, c, t) for d, c, t in session.execute(stmt)]

    def distinct(self, m: Mapping, name: str) -> list[Any]:
        with self._session() as session:
            return list(session.scalars(select(self._col(m, name)).distinct()))

    def ping(self) -> None:
        with self._session() as session:
            session.execute(text("SELECT 1"))
