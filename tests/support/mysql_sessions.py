"""A throwaway MariaDB database with a table, and a second user who may not kill sessions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.support.databases import throwaway_mariadb


@dataclass
class LiveMariaDB:
    """``url`` as root; ``weak_url`` the same database as a user who may only read it (and
    performance_schema)."""

    url: str
    weak_url: str
    weak_user: str

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool)


@contextmanager
def live_mariadb() -> Iterator[LiveMariaDB]:
    url, drop = throwaway_mariadb("br_live")
    user = f"br_weak_{uuid.uuid4().hex[:8]}"
    database = make_url(url).database
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bookings (id INT PRIMARY KEY, guests INT)")
            conn.exec_driver_sql("INSERT INTO bookings VALUES (1, 2), (2, 4)")
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%'")
            conn.exec_driver_sql(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%%'")
            # what a monitoring user is given: the database views read the statement digests
            conn.exec_driver_sql(f"GRANT SELECT ON performance_schema.* TO '{user}'@'%%'")
    except BaseException:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        admin.dispose()
        drop()
        raise
    weak = make_url(url).set(username=user).render_as_string(hide_password=False)
    try:
        yield LiveMariaDB(url, weak, user)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        admin.dispose()
        drop()
