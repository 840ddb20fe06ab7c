"""Real PostgreSQL sessions for the live views: a database with pg_stat_statements and a table,
a second role without rights, a query that runs, and one session blocking others."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import servers
from tests.support.databases import throwaway_postgres


@dataclass
class LiveDatabase:
    """A throwaway database (``url``, as postgres), its table ``bookings`` of 100 rows, and
    ``weak_url``: the same database as a role that is neither superuser nor signaller."""

    url: str
    weak_url: str
    weak_role: str
    admin: sa.Engine
    engines: list[sa.Engine] = field(default_factory=list)

    def engine(self, url: str | None = None, application: str = "shop-web") -> sa.Engine:
        engine = sa.create_engine(url or self.url, poolclass=sa.pool.NullPool,
                                  connect_args={"application_name": application})
        self.engines.append(engine)
        return engine


@contextmanager
def live_database() -> Iterator[LiveDatabase]:
    url, drop = throwaway_postgres("br_live")
    role = f"br_weak_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    weak = make_url(url).set(username=role).render_as_string(hide_password=False)
    db = LiveDatabase(url, weak, role, admin)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.exec_driver_sql("CREATE TABLE bookings (id int PRIMARY KEY, guests int, "
                                 "customer_name text)")
            conn.exec_driver_sql("INSERT INTO bookings SELECT g, 2, 'guest ' || g "
                                 "FROM generate_series(1, 100) g")
            conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            conn.exec_driver_sql(f'GRANT SELECT ON bookings TO "{role}"')
        yield db
    finally:
        for engine in db.engines:
            engine.dispose()
        admin.dispose()
        drop()
        server = sa.create_engine(servers.POSTGRES_URL, isolation_level="AUTOCOMMIT",
                                  poolclass=sa.pool.NullPool)
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        server.dispose()


class Running:
    """A statement running on its own thread and connection; ``error`` is what it raised."""

    def __init__(self, engine: sa.Engine, statements: list[str]) -> None:
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.started = threading.Event()
        self._engine = engine
        self._statements = statements
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.started.wait(10)

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                self.started.set()
                for statement in self._statements:
                    conn.exec_driver_sql(statement)
                conn.rollback()
        except BaseException as exc:
            self.error = exc
        finally:
            self.started.set()
            self.done.set()


def wait_until(check: Callable[[], Any], timeout_s: float = 10.0,
               every_s: float = 0.05) -> Any:
    """Poll ``check`` every ``every_s`` until it returns something true; fails the test at
    the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    raise AssertionError("the database never got there")


@contextmanager
def blocking_chain(db: LiveDatabase) -> Iterator[tuple[int, int, int]]:
    """Session A updates booking 1 and keeps its transaction open; B updates the same row
    (waits for A); C wants the whole table (waits for A and B). Yields (A, B, C) pids."""
    holder = db.engine(application="shop-admin").connect()
    holder.exec_driver_sql("UPDATE bookings SET guests = 3 WHERE id = 1")
    a = int(holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    b_run = Running(db.engine(application="shop-web"),
                    ["SET lock_timeout = '30s'", "UPDATE bookings SET guests = 4 WHERE id = 1"])
    c_run: Running | None = None
    try:
        with db.admin.connect() as conn:
            def waiting(app: str) -> int:
                return int(conn.exec_driver_sql(
                    "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE "
                    f"application_name = '{app}' AND wait_event_type = 'Lock'").scalar_one())

            b = wait_until(lambda: waiting("shop-web"))
            c_run = Running(db.engine(application="shop-report"),
                            ["SET lock_timeout = '30s'", "LOCK TABLE bookings"])
            c = wait_until(lambda: waiting("shop-report"))
        yield a, b, c
    finally:
        holder.rollback()
        holder.close()
        b_run.done.wait(10)
        if c_run is not None:
            c_run.done.wait(10)
