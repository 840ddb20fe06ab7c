"""Throwaway PostgreSQL and MariaDB databases, each made for one test and dropped after it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import servers


def throwaway_postgres(prefix: str = "br_test") -> tuple[str, Callable[[], None]]:
    """A new empty PostgreSQL database (never the shared ``test`` one): its URL and how to
    drop it, with any connection still open to it."""
    servers.require_port("PostgreSQL", "127.0.0.1", 5432)
    admin_url = make_url(servers.POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def throwaway_mariadb(prefix: str = "br_shop_test", collation: str | None = "utf8mb4_bin"
                      ) -> tuple[str, Callable[[], None]]:
    """A new empty MariaDB database: its URL and how to drop it. ``collation`` None keeps the
    server's default for utf8mb4 (case-insensitive, as a shop's own database would be)."""
    servers.require_port("MariaDB", "127.0.0.1", 3306)
    admin_url = make_url(servers.MARIADB_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url)
    with admin.connect() as conn:
        # Code-point order, as the PostgreSQL test database's C collation sorts (the tests
        # compare with Python's sorted()).
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
                             + (f" COLLATE {collation}" if collation else ""))
    url = admin_url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()

    return url, drop
