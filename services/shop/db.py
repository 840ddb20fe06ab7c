"""Engines for the shop database and its migrations: ``init_db`` creates or upgrades the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from services.shop.schema import SHOP_TABLES

MIGRATIONS = Path(__file__).with_name("migrations")
#: The databases our schema's migrations are written and tested for (SQLAlchemy backend
#: names; ``mysql`` is MySQL and MariaDB through PyMySQL).
SUPPORTED_BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")
MYSQL_BACKENDS = ("mysql", "mariadb")
BASELINE = "0001"
DEFAULT_TIMEOUT_S = 10.0


class SchemaError(Exception):
    """The database holds something that is not the shop schema (or half of it)."""


def _fold(value: object) -> str | None:
    """Unicode case-fold for search; SQLite's own LIKE folds ASCII letters only."""
    return None if value is None else str(value).casefold()


def with_driver(url: str | URL) -> URL:
    """``url`` parsed, with PyMySQL as the driver when a MySQL/MariaDB URL names none (the
    installed one: SQLAlchemy's default, mysqlclient, needs a C library)."""
    u = make_url(url)
    if u.drivername in MYSQL_BACKENDS:
        u = u.set(drivername=f"{u.drivername}+pymysql")
    return u


def make_engine(url: str | URL, *, password: str | None = None,
                timeout: float = DEFAULT_TIMEOUT_S, pool_size: int = 5) -> Engine:
    """An engine with timeouts on connect and on every statement.

    SQLite: WAL, foreign keys, a busy timeout, real ``BEGIN`` so a unit of work reads one
    snapshot (``BEGIN IMMEDIATE`` with the execution option ``write=True``), and
    ``br_fold()`` for case-insensitive search (the demo shop registers the same).
    PostgreSQL: ``connect_timeout`` and ``statement_timeout``, pre-ping.
    MySQL/MariaDB: connect/read/write timeouts, utf8mb4, READ COMMITTED (so a unit of work
    that lost a compare-and-set reads the row the other writer committed, not its snapshot).
    """
    u = with_driver(url)
    if password is not None:
        u = u.set(password=password)
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False,
                                                   "timeout": timeout}}
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=timeout)
        engine = create_engine(u, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cur.close()
            dbapi_conn.create_function("br_fold", 1, _fold, deterministic=True)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A writer takes the lock at BEGIN: under WAL a read snapshot that later writes
            # fails at once (SQLITE_BUSY_SNAPSHOT) if another writer committed meanwhile.
            write = conn.get_execution_options().get("write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    connect_args: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if u.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, int(timeout)),
                        "options": f"-c statement_timeout={int(timeout * 1000)}"}
    elif u.get_backend_name() in MYSQL_BACKENDS:
        if "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})
        connect_args = {"connect_timeout": max(1, int(timeout)),
                        "read_timeout": max(1, int(timeout)),
                        "write_timeout": max(1, int(timeout))}
        extra = {"isolation_level": "READ COMMITTED", "pool_recycle": 3600}
    return create_engine(u, connect_args=connect_args, pool_pre_ping=True,
                         pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=timeout,
                         **extra)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code: the scripts live in this package, no alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def init_db(url: str | URL, *, password: str | None = None) -> str:
    """Create the shop schema or upgrade it to the newest revision; returns that revision.

    A database whose shop tables were made without migrations (the demo shop's) is checked
    and stamped at the baseline first, then upgraded.
    """
    engine = make_engine(url, password=password)
    try:
        with engine.begin() as conn:
            insp = inspect(conn)
            present = {t for t in SHOP_TABLES if insp.has_table(t)}
            migrated = insp.has_table("alembic_version")
            cfg = alembic_config(conn)
            if present and not migrated:
                if present != set(SHOP_TABLES):
                    missing = ", ".join(sorted(set(SHOP_TABLES) - present))
                    raise SchemaError(f"the database has some shop tables but not {missing}; "
                                      "point --url at an empty database or a complete shop")
                _check_columns(conn)
                command.stamp(cfg, BASELINE)
            command.upgrade(cfg, "head")
        revision = current_revision(engine)
    finally:
        engine.dispose()
    return revision or ""


def _check_columns(conn: Connection) -> None:
    """Refuse to stamp tables that lack a column the console reads."""
    from services.shop.schema import metadata

    insp = inspect(conn)
    for name in SHOP_TABLES:
        have = {c["name"] for c in insp.get_columns(name)}
        want = {c.name for c in metadata.tables[name].columns}
        if want - have:
            raise SchemaError(f"table {name} lacks column(s) {', '.join(sorted(want - have))}")
