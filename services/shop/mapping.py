"""A profile's map of the shop's own tables, reflected from the live database and checked there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, func, inspect, select
from sqlalchemy import exc as sa_exc

from console.shop_map import STATUS_VALUES, EntityMap, ShopMap

EPOCH = datetime(1970, 1, 1)
#: What kind of value each field holds, to check the mapped column's type.
FIELD_KINDS: dict[str, str] = {
    "id": "int", "order_id": "int", "product_id": "int",
    "start_at": "time", "placed_at": "time", "created_at": "time",
    "guest_name": "text", "customer_name": "text", "phone": "text", "notes": "text",
    "name": "text", "sku": "text", "category": "text",
    "party_size": "int", "table": "int", "stock": "int", "low_stock_threshold": "int",
    "quantity": "int", "price_cents": "int", "total_cents": "int", "unit_price_cents": "int",
    "price": "number", "total": "number", "unit_price": "number",
    "active": "bool", "number": "int", "seats": "int", "area": "text",
}
#: The column each list is sorted by first (what needs an index on a big table).
LIST_SORT = {"bookings": "start_at", "products": "name", "orders": "placed_at",
             "order_lines": "order_id", "tables": "number"}


class MappingError(Exception):
    """The map does not fit the database: ``problems`` says each thing that is missing."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class MappedTable:
    """One mapped entity with its reflected table: the columns to build statements from."""

    spec: EntityMap
    table: Table
    dialect: str

    def col(self, field: str) -> Column[Any] | None:
        name = self.spec.column(field)
        return None if name is None else self.table.c[name]

    def need(self, field: str) -> Column[Any]:
        col = self.col(field)
        assert col is not None, field
        return col

    @property
    def version(self) -> Column[Any] | None:
        return None if self.spec.version is None else self.table.c[self.spec.version]

    def version_is_time(self) -> bool:
        return self.version is not None and _kind(self.version) == "time"

    def is_aware(self, col: Column[Any]) -> bool:
        return bool(getattr(col.type, "timezone", False))

    def status_code(self, status: str) -> Any:
        """The shop's code for a status, typed as its column stores it."""
        code = self.spec.code_for(status)
        col = self.col("status")
        if col is not None and _kind(col) == "int":
            return int(code)
        return code

    # ---- versions: an integer as is, a timestamp as microseconds since 1970 (exact both ways)

    def version_number(self, value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, datetime):
            naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
            return (naive - EPOCH) // timedelta(microseconds=1)
        return int(value)

    def version_value(self, number: int) -> Any:
        if not self.version_is_time():
            return number
        naive = EPOCH + timedelta(microseconds=number)
        assert self.version is not None
        return naive.replace(tzinfo=UTC) if self.is_aware(self.version) else naive

    def next_version(self, seen: int, now: datetime) -> Any:
        """The new version for a row saved over ``seen``: always later, at the column's
        precision (a DATETIME without fractions would otherwise repeat within a second)."""
        version = self.version
        assert version is not None
        if not self.version_is_time():
            return version + 1
        step = timedelta(microseconds=1)
        naive = now.astimezone(UTC).replace(tzinfo=None)
        if self.dialect in ("mysql", "mariadb") and not getattr(version.type, "fsp", None):
            naive = naive.replace(microsecond=0)
            step = timedelta(seconds=1)
        previous = EPOCH + timedelta(microseconds=seen)
        if naive <= previous:
            naive = previous + step
        return naive.replace(tzinfo=UTC) if self.is_aware(version) else naive

    def time_value(self, col: Column[Any], value: datetime) -> datetime:
        """``value`` as the column stores it: aware for a time-zone column, else naive UTC."""
        aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return aware if self.is_aware(col) else aware.replace(tzinfo=None)


def _kind(col: Column[Any]) -> str:
    try:
        py = col.type.python_type
    except NotImplementedError:
        return "other"
    if py is bool:
        return "bool"
    if py is int:
        return "int"
    if py in (float, Decimal):
        return "number"
    if py in (datetime, date):
        return "time"
    if py is str:
        return "text"
    return "other"


def _fits(field: str, col: Column[Any]) -> bool:
    want, have = FIELD_KINDS.get(field), _kind(col)
    if want is None or have == "other":
        return True
    if want == "number":
        return have in ("number", "int")
    if want == "bool":
        return have in ("bool", "int")
    if field == "status":
        return have in ("text", "int")
    return want == have


def reflect(engine: Engine, shop_map: ShopMap) -> dict[str, MappedTable]:
    """Every mapped table as the database has it; MappingError lists what does not fit."""
    problems: list[str] = []
    tables: dict[str, MappedTable] = {}
    metadata = MetaData()
    with engine.connect() as conn:
        insp = inspect(conn)
        for spec in shop_map.entities():
            if not insp.has_table(spec.table_name, schema=spec.schema):
                problems.append(f"{spec.entity}: table {spec.table} not found")
                continue
            table = Table(spec.table_name, metadata, schema=spec.schema, autoload_with=conn)
            have = set(table.c.keys())
            for field, column in spec.columns:
                if column not in have:
                    problems.append(f"{spec.entity}.{field}: column {spec.table}.{column} "
                                    "not found")
                elif not _fits(field, table.c[column]):
                    problems.append(f"{spec.entity}.{field}: column {spec.table}.{column} is "
                                    f"{table.c[column].type}, expected {FIELD_KINDS[field]}")
            if spec.version is not None:
                if spec.version not in have:
                    problems.append(f"{spec.entity}.version: column {spec.table}.{spec.version}"
                                    " not found")
                elif _kind(table.c[spec.version]) not in ("int", "time"):
                    problems.append(f"{spec.entity}.version: column {spec.table}."
                                    f"{spec.version} is {table.c[spec.version].type}, expected "
                                    "an integer or a timestamp")
            tables[spec.entity] = MappedTable(spec, table, engine.dialect.name)
    if problems:
        raise MappingError(problems)
    return tables


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``db check`` found: problems (the map cannot work) and advice (it works, slower or
    with rows it cannot show exactly)."""

    problems: tuple[str, ...]
    advice: tuple[str, ...]
    found: tuple[str, ...]


def check_map(engine: Engine, shop_map: ShopMap) -> CheckResult:
    """Validate ``shop_map`` against the live database: tables, columns, types, status values
    and the indexes the lists need (suggested as CREATE INDEX, never created)."""
    try:
        tables = reflect(engine, shop_map)
    except MappingError as err:
        return CheckResult(tuple(err.problems), (), ())
    advice: list[str] = []
    found: list[str] = []
    with engine.connect() as conn:
        insp = inspect(conn)
        for entity, mapped in tables.items():
            spec = mapped.spec
            rows = int(conn.execute(select(func.count()).select_from(mapped.table)).scalar_one())
            mode = ("read (lines are never edited)" if entity == "order_lines" else
                    "read (the Floor's tables)" if entity == "tables" else
                    "read and write" if spec.writable else "read-only (no version column)")
            found.append(f"{entity}: {spec.table}, {rows:,} rows, {mode}")
            status = mapped.col("status")
            if status is not None and entity in STATUS_VALUES:
                codes = conn.execute(select(status, func.count()).group_by(status)
                                     .limit(100)).all()
                unknown = [(c, n) for c, n in codes if spec.status_for(c) is None]
                for code, n in unknown:
                    advice.append(f"{entity}.status: the code {code!r} ({n:,} rows) is not in "
                                  "status_values; those rows show as "
                                  f"{STATUS_VALUES[entity][0]}")
            ddl = None if entity == "tables" else missing_index(engine, insp, mapped)
            if ddl is not None:
                column = mapped.need(LIST_SORT[entity]).name
                use = ("an order's lines are found by it" if entity == "order_lines"
                       else "the list sorts by it")
                advice.append(f"{entity}: no index starts with {spec.table}.{column}; "
                              f"{use}. Suggested: {ddl}")
    return CheckResult((), tuple(advice), tuple(found))


def missing_index(engine: Engine, insp: Any, mapped: MappedTable) -> str | None:
    """The CREATE INDEX the entity's list needs when no index (nor the primary key) starts
    with the column it is sorted or looked up by; None when one does or it cannot tell."""
    sort_col = mapped.col(LIST_SORT[mapped.spec.entity])
    if sort_col is None or _indexed(insp, mapped.spec, sort_col.name):
        return None
    return index_ddl(engine, mapped, sort_col.name)


def _indexed(insp: Any, spec: EntityMap, column: str) -> bool:
    try:
        pk = insp.get_pk_constraint(spec.table_name, schema=spec.schema)
        indexes = insp.get_indexes(spec.table_name, schema=spec.schema)
    except sa_exc.SQLAlchemyError:
        return True  # cannot tell: say nothing rather than something wrong
    firsts = [(pk.get("constrained_columns") or [None])[0]]
    firsts += [(i.get("column_names") or [None])[0] for i in indexes]
    return column in firsts


def index_ddl(engine: Engine, mapped: MappedTable, column: str) -> str:
    """The CREATE INDEX that serves a list sorted by ``column`` (names quoted as the database
    wants them), for the operator to run; the console never runs it."""
    quote = engine.dialect.identifier_preparer.quote
    table = ".".join(quote(p) for p in mapped.spec.table.split("."))
    name = quote(f"ix_{mapped.spec.table_name}_{column}"[:60])
    return f"CREATE INDEX {name} ON {table} ({quote(column)}, {quote(mapped.need('id').name)});"
