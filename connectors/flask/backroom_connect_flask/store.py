"""The contract's store over SQLAlchemy models: expressions, keyset order, compare-and-set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from sqlalchemy import ColumnElement, and_, false, func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime


class SqlAlchemyStore:
    """Rows of the shop's models as dicts keyed by the contract's field names."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self._session = session

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

    def update(self, m: Mapping, ident: int, seen_version: Any,
               changes: dict[str, Any]) -> bool:
        stmt = (update(m.model)
                .where(self._col(m, "id") == ident, self._col(m, "version") == seen_version)
                .values({m.columns[k]: self._value(m, k, v) for k, v in changes.items()})
                .execution_options(synchronize_session=False))
        with self._session() as session:
            done = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
            session.commit()
            return done

    def create(self, m: Mapping, values: dict[str, Any]) -> int:
        obj = m.model(**{m.columns[k]: self._value(m, k, v) for k, v in values.items()})
        with self._session() as session:
            session.add(obj)
            session.commit()
            return int(getattr(obj, m.columns["id"]))

    def distinct(self, m: Mapping, name: str) -> list[Any]:
        with self._session() as session:
            return list(session.scalars(select(self._col(m, name)).distinct()))

    def ping(self) -> None:
        with self._session() as session:
            session.execute(text("SELECT 1"))
