"""What every SQL shop adapter shares: units of work, keyset pages, seeks, counts and search."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    LargeBinary,
    Select,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Row

from console.redaction import mask_url
from console.shop import BackendUnavailable, Page, RowCount, ValidationFailed, utc, utc_now
from services.shop.repository import PAGE_LIMIT_MAX

# Below this many rows (by the planner's estimate) the list counts exactly; above, the
# estimate is good enough for a scroll bar and costs nothing.
EXACT_COUNT_BELOW = 100_000
# How many sort values before a seek's position PostgreSQL reads to find where the run of
# the position's value starts (more ties than this: one COUNT of the rows before it).
SEEK_WINDOW = 1000


class SqlUnitOfWork:
    """One connection and one transaction per ``with`` block; rolled back unless committed.

    ``write=True`` takes SQLite's write lock at ``BEGIN`` (``BEGIN IMMEDIATE``) so a
    read-check-write sequence cannot fail half way on a busy snapshot.
    """

    def __init__(self, engine: Engine, *, write: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._committed = False
        self.conn: Connection

    def __enter__(self) -> SqlUnitOfWork:
        self.conn = self._engine.connect()
        if self._write:
            self.conn = self.conn.execution_options(write=True)
        self.conn.begin()
        self._committed = False
        return self

    def commit(self) -> None:
        self.conn.commit()
        self._committed = True

    def rollback(self) -> None:
        self.conn.rollback()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._committed:
                self.conn.rollback()
        finally:
            self.conn.close()


# --------------------------------------------------------------------------- helpers


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards and the escape character escaped (escape is ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _encode_cursor(sort: str, desc: bool, value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = {"dec": str(value)}  # a shop's NUMERIC price: exact, not a float
    raw = json.dumps({"s": sort, "d": desc, "k": [value, row_id]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, desc: bool, is_time: bool) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        value, row_id = data["k"]
        if data["s"] != sort or bool(data["d"]) != desc:
            raise ValueError("made with another sort")
        if is_time:
            value = datetime.fromisoformat(value)
        elif isinstance(value, dict):
            value = Decimal(value["dec"])
        return value, int(row_id)
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise ValidationFailed({"cursor": f"Not a cursor of this list ({exc}); "
                                          "start again from the first page."}) from exc


@dataclass(frozen=True, slots=True)
class ListSpec:
    """How one entity is listed: its table, filters, sort column and how rows map back."""

    table: Any
    base: Select[Any]
    where: tuple[ColumnElement[bool], ...]
    sort_name: str
    sort_col: ColumnElement[Any]
    id_col: ColumnElement[Any]
    desc: bool
    is_time: bool
    to_domain: Callable[[Row[Any]], Any]


class SqlListing:
    """The engine, units of work and list machinery of a SQL adapter (entities come from the
    subclass: our schema or a shop's own, mapped in the profile)."""

    kind = "sql"
    can_seek = True

    def __init__(self, engine: Engine, *, location: str | None = None,
                 clock: Callable[[], datetime] = utc_now, user: str = "") -> None:
        self.engine = engine
        #: Who the console's changes are recorded as (the profile's user or the OS user).
        self.user = user
        self.location = location or mask_url(engine.url.render_as_string(hide_password=True))
        self._clock = clock
        self._dialect = engine.dialect.name

    # ------------------------------------------------------------------ plumbing

    def unit_of_work(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)

    @contextmanager
    def _uow(self, *, write: bool = False) -> Iterator[SqlUnitOfWork]:
        """A unit of work whose database failures come out as BackendUnavailable."""
        try:
            with self.unit_of_work(write=write) as uow:
                yield uow
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.ProgrammingError,
                sa_exc.InternalError, sa_exc.TimeoutError) as exc:
            raise BackendUnavailable(failure_reason(exc)) from exc
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise BackendUnavailable(failure_reason(exc)) from exc
            raise

    def close(self) -> None:
        self.engine.dispose()

    def _fold_match(self, column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
        """Case-insensitive literal substring match; wildcards in ``text`` match themselves."""
        if "\x00" in text:
            return false()  # no stored text holds NUL, and PostgreSQL refuses it in a literal
        if self._dialect != "sqlite":
            return func.coalesce(column, "").ilike(like_pattern(text), escape="\\")
        # Exactly br_fold(column) LIKE pattern (Unicode case-folding, as the demo shop
        # searches), but only text with a non-ASCII character pays for the Python function:
        # for ASCII text casefold is lower(), which SQLite's own LIKE already ignores.
        folded = text.casefold()
        pattern = like_pattern(folded)
        # More bytes than characters: the text holds something outside ASCII.
        non_ascii = and_(func.length(column) < func.length(cast(column, LargeBinary)),
                         func.br_fold(column).like(pattern, escape="\\"))
        if not folded.isascii():
            return non_ascii
        return or_(column.like(pattern, escape="\\"), non_ascii)

    # ------------------------------------------------------------------ paging

    def _page(self, spec: ListSpec, after: str | None, limit: int) -> Page[Any]:
        limit = check_limit(limit)
        stmt = spec.base.where(*spec.where)
        if after:
            value, row_id = _decode_cursor(after, spec.sort_name, spec.desc, spec.is_time)
            stmt = stmt.where(self._after_key(spec, value, row_id))
        order = ((spec.sort_col.desc(), spec.id_col.desc()) if spec.desc
                 else (spec.sort_col.asc(), spec.id_col.asc()))
        stmt = stmt.order_by(*order).limit(limit + 1)
        with self._uow() as uow:
            rows = uow.conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(spec.to_domain(r) for r in rows)
        cursor = None
        if more and rows:
            last = rows[-1]
            cursor = _encode_cursor(spec.sort_name, spec.desc, last._mapping["_sort"],
                                    last._mapping["_id"])
        return Page(items, cursor)

    def _after_key(self, spec: ListSpec, value: Any, row_id: int) -> ColumnElement[bool]:
        """Rows after (value, row_id) in the list's order.

        MySQL/MariaDB do not range-scan an index for a row comparison ``(a, b) > (x, y)``
        (a page deep in a million rows read them all: 240 ms at row 90,000 of 100,000, the
        same as OFFSET); ``a >= x AND (a > x OR b > y)`` gives them the range on ``a``.
        """
        col, idc = spec.sort_col, spec.id_col
        if self._dialect in ("mysql", "mariadb"):
            if spec.desc:
                return and_(col <= value, or_(col < value, idc < row_id))
            return and_(col >= value, or_(col > value, idc > row_id))
        key = tuple_(col, idc)
        return key < tuple_(value, row_id) if spec.desc else key > tuple_(value, row_id)

    def _seek(self, spec: ListSpec, position: int) -> str | None:
        """The cursor after row ``position - 1``, for a jump deep into a list.

        SQLite's index on the sort column holds the rowid, so one key-only OFFSET over
        (sort key, id) walks the index alone (InnoDB's secondary index holds the primary key
        too). PostgreSQL's does not hold ``id``; there the value at the position comes from
        an index-only OFFSET over the sort column, the values just before it say where its
        ties start, and the id is picked among the ties.
        """
        if position <= 0:
            return None
        with self._uow() as uow:
            if self._dialect == "postgresql" and isinstance(spec.sort_col, Column):
                key = self._pg_seek_key(uow.conn, spec, position)
            else:
                order = ((spec.sort_col.desc(), spec.id_col.desc()) if spec.desc
                         else (spec.sort_col.asc(), spec.id_col.asc()))
                row = uow.conn.execute(
                    select(spec.sort_col, spec.id_col).select_from(spec.table)
                    .where(*spec.where).order_by(*order).offset(position - 1).limit(1)).first()
                key = None if row is None else (row[0], row[1])
            if key is None:
                key = self._last_key(uow.conn, spec)
        if key is None:
            return None
        return _encode_cursor(spec.sort_name, spec.desc, key[0], key[1])

    @staticmethod
    def _pg_seek_key(conn: Connection, spec: ListSpec, position: int) -> tuple[Any, int] | None:
        col, idc = spec.sort_col, spec.id_col
        # The values up to the position in one index-only scan: the last is the value at the
        # position, the run of equal values before it says which of its ties the row is.
        # A COUNT of the rows before the value (a second scan as long as the first) is
        # needed only when the ties fill the whole window.
        first = max(0, position - 1 - SEEK_WINDOW)
        values = conn.execute(
            select(col).select_from(spec.table).where(*spec.where)
            .order_by(col.desc() if spec.desc else col.asc())
            .offset(first).limit(position - first)).scalars().all()
        if len(values) < position - first:
            return None
        value = values[-1]
        if value is None:
            return None  # among the rows without a value: the caller takes the last key
        ties = len(values) - 1
        while ties > 0 and values[ties - 1] == value:
            ties -= 1
        if ties == 0 and first > 0:
            before = int(conn.execute(
                select(func.count()).select_from(spec.table)
                .where(*spec.where, col > value if spec.desc else col < value)).scalar_one())
        else:
            before = first + ties
        row_id = conn.execute(
            select(idc).select_from(spec.table).where(*spec.where, col == value)
            .order_by(idc.desc() if spec.desc else idc.asc())
            .offset(position - 1 - before).limit(1)).scalar()
        return None if row_id is None else (value, int(row_id))

    @staticmethod
    def _last_key(conn: Connection, spec: ListSpec) -> tuple[Any, int] | None:
        reverse = ((spec.sort_col.asc(), spec.id_col.asc()) if spec.desc
                   else (spec.sort_col.desc(), spec.id_col.desc()))
        row = conn.execute(select(spec.sort_col, spec.id_col).select_from(spec.table)
                           .where(*spec.where).order_by(*reverse).limit(1)).first()
        return None if row is None else (row[0], int(row[1]))

    def _count(self, table: Any, where: tuple[ColumnElement[bool], ...],
               exact: bool) -> RowCount:
        """Exact on SQLite and for small sets; the planner's estimate on PostgreSQL, MySQL and
        MariaDB for big ones (no full COUNT(*) of a million rows each time a list opens) unless
        ``exact``: the list asks for the exact count when its pages show the estimate off."""
        stmt = select(func.count()).select_from(table).where(*where)
        with self._uow() as uow:
            if self._dialect in ESTIMATES and not exact:
                estimate = ESTIMATES[self._dialect](uow.conn, select(literal_column("1"))
                                                    .select_from(table).where(*where))
                if estimate >= EXACT_COUNT_BELOW:
                    return RowCount(estimate, exact=False)
            return RowCount(int(uow.conn.execute(stmt).scalar_one()), exact=True)


def _explain(conn: Connection, stmt: Select[Any], explain: str) -> Any:
    """The result of ``explain`` (EXPLAIN ...) over ``stmt``: its plan, nothing executed."""
    # IN lists are "expanding" parameters: render them out, or EXPLAIN sees a placeholder.
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    return conn.exec_driver_sql(f"{explain} {compiled.string}", compiled.params)


def _pg_estimate(conn: Connection, stmt: Select[Any]) -> int:
    """PostgreSQL's planner estimate of the rows ``stmt`` returns."""
    plan = _explain(conn, stmt, "EXPLAIN (FORMAT JSON)").scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _mysql_estimate(conn: Connection, stmt: Select[Any]) -> int:
    """MySQL's or MariaDB's estimate of the rows ``stmt`` (one table) returns: the rows the
    plan reads, times the share its conditions keep where the server says it (MySQL 8's
    ``filtered``). An exact COUNT(*) reads every row (about 0.25-0.4 s a million on InnoDB);
    the estimate costs an index dive at most. The plain EXPLAIN, not FORMAT=JSON: MariaDB
    writes a search text's backslash unescaped into the JSON's condition."""
    row = _explain(conn, stmt, "EXPLAIN").mappings().first()
    if row is None or row.get("rows") is None:
        return 0
    return int(float(row["rows"]) * float(row.get("filtered") or 100) / 100)


ESTIMATES: dict[str, Callable[[Connection, Select[Any]], int]] = {
    "postgresql": _pg_estimate, "mysql": _mysql_estimate, "mariadb": _mysql_estimate}
"""Where a row count has a cheap estimate: the database's planner, nothing executed."""


def check_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise ValidationFailed({"limit": f"limit must be 1 to {PAGE_LIMIT_MAX}"})
    return limit


def failure_reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The first line of the driver's message, with a hint for a database never initialised."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        text += " (the shop tables are missing: run `backroom db init --url URL`)"
    return text


def aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)

