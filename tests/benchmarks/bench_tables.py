"""Manager tables on 1,000,000 bookings: SQLite, PostgreSQL, MariaDB, a mapped schema."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import Figure, median_time

AREA = "tables"


def _rss_mb() -> float:
    """This process's resident memory (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _wait(app: Any, cond: Callable[[], bool], timeout: float = 30.0) -> None:
    # The benchmark drives the event loop itself (the product never does). It waits for
    # events as app.exec() does: a loop spinning processEvents() would hold the GIL and
    # keep the worker thread that runs the query waiting for it.
    from PyQt6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout
    tick = QTimer()
    tick.start(20)  # wakes the wait now and then to look at the deadline
    try:
        while not cond():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.perf_counter() > deadline:
                raise TimeoutError("the table did not load in time")
    finally:
        tick.stop()


def _postgres_url() -> str | None:
    from tests import servers

    if not servers.port_open("127.0.0.1", 5432):
        return None
    return servers.POSTGRES_URL


def _mariadb_url() -> str | None:
    from tests import servers

    if not servers.port_open("127.0.0.1", 3306):
        return None
    return servers.MARIADB_URL


def _table_figures(app: Any, label: str, url: str, rows: int, quick: bool,
                   shop_map: Any = None) -> list[Figure]:
    """The figures of one database; ``shop_map`` lists the shop's own tables instead of ours
    (the bookings then live in reservations_reservation, sorted by its time column)."""
    from sqlalchemy import event, text

    from console.shop import BookingQuery
    from services.shop import make_repository
    from ui.models.shop_tables import BookingsTableModel
    from ui.pages.shop_widgets import make_table
    from ui.worker import TaskRunner

    figures: list[Figure] = []
    repo: Any = make_repository(db_url=url, db_map=shop_map)
    table, order = (("bookings", "start_at, id") if shop_map is None
                    else ("reservations_reservation", "time, id"))
    tasks = TaskRunner()
    repeats = 3 if quick else 7
    jump_to = deep = int(rows * 0.9)
    try:
        # Warm the engine's connection pool and SQLAlchemy's statement cache, as an app that
        # has been open for a moment would be.
        repo.list_bookings(BookingQuery(), limit=200)
        repo.count_bookings(BookingQuery())

        # 1. First rows shown after the list opens (model + view, the 1,000,000-row list).
        first_ms: list[float] = []
        views = []
        for _ in range(repeats):
            model = BookingsTableModel(tasks, lambda: repo, BookingQuery())
            view = make_table(model)
            view.resize(1200, 800)
            view.show()
            views.append(view)
            start = time.perf_counter()
            model.reload()
            _wait(app, lambda m=model: m.first_rows_at is not None)
            view.viewport().repaint()
            first_ms.append((time.perf_counter() - start) * 1000)
            _wait(app, lambda m=model: not m.loading)
        query_alone = median_time(lambda: repo.list_bookings(BookingQuery(), limit=200),
                                  repeat=repeats) * 1000
        figures.append(Figure(AREA, f"{label}: first rows shown after opening", statistics.median(
            first_ms), "ms", baseline_name="the first page's query alone (no model, no paint)",
            baseline=query_alone, target="<= 50 ms", met=statistics.median(first_ms) <= 50))

        model = views[-1].model()
        view = views[-1]
        assert model.rowCount() >= rows * 0.5, model.rowCount()
        # The view takes in a new row count (the scroll range) a turn of the event loop later:
        # where the count comes after the first rows (an exact COUNT on MySQL), a jump made at
        # once stopped at the old range.
        scroll = view.verticalScrollBar()
        _wait(app, lambda: scroll.maximum() > 0 and view.rowAt(0) >= 0)
        app.processEvents()
        # The scroll bar holds the count's estimate (PostgreSQL's planner, InnoDB's sampled
        # statistics): the user can drag as far as it goes, and no further until paging
        # meets the real end.
        shown_rows = model.rowCount()
        figures.append(Figure(AREA, f"{label}: rows the scroll bar holds at open",
                              float(shown_rows), "rows", baseline_name="rows in the table",
                              baseline=float(rows)))
        jump_to = min(jump_to, int(shown_rows * 0.9))

        # 2. A jump to row 900,000 is painted (placeholders) within one frame; rows follow.
        paint_ms: list[float] = []
        rows_ms: list[float] = []
        floor_ms: list[float] = []
        for i in range(repeats):
            target = jump_to - i * 5000
            start = time.perf_counter()
            view.scrollTo(model.index(target, 0))
            view.viewport().repaint()
            paint_ms.append((time.perf_counter() - start) * 1000)
            _wait(app, lambda t=target: model.row_object(t) is not None)
            view.viewport().repaint()
            rows_ms.append((time.perf_counter() - start) * 1000)
            # What one repaint of this view costs on this host with its rows in memory.
            start = time.perf_counter()
            view.viewport().repaint()
            floor_ms.append((time.perf_counter() - start) * 1000)
        figures.append(Figure(AREA, f"{label}: jump to row {jump_to:,} painted", statistics.median(
            paint_ms), "ms", baseline_name="one repaint of the same view, its rows loaded",
            baseline=statistics.median(floor_ms), target="<= 16 ms (one frame)",
            met=statistics.median(paint_ms) <= 16))
        figures.append(Figure(AREA, f"{label}: rows at {jump_to:,} shown after the jump",
                              statistics.median(rows_ms), "ms"))

        # 3. Keyset page deep in the list against OFFSET for the same page.
        q = BookingQuery()
        cursor = repo.seek_bookings(q, deep)
        keyset = median_time(lambda: repo.list_bookings(q, after=cursor, limit=200),
                             repeat=repeats)
        # The baselines get time: OFFSET 900,000 on MariaDB outlasts the console's 10 s bound.
        from services.shop.db import make_engine

        slow_engine = make_engine(url, timeout=600.0)
        with slow_engine.connect() as conn:
            offset = median_time(lambda: conn.execute(text(
                f"SELECT * FROM {table} ORDER BY {order} LIMIT 200 OFFSET :o"),
                {"o": deep}).all(), repeat=repeats)
            count_all = median_time(lambda: conn.execute(text(
                f"SELECT count(*) FROM {table}")).scalar(), repeat=repeats)
        slow_engine.dispose()
        seek = median_time(lambda: repo.seek_bookings(q, deep), repeat=repeats)
        figures.append(Figure(AREA, f"{label}: keyset page at row {deep:,}", keyset * 1000,
                              "ms", baseline_name=f"LIMIT 200 OFFSET {deep:,} (same page)",
                              baseline=offset * 1000, target="keyset << OFFSET",
                              met=keyset < offset))
        figures.append(Figure(AREA, f"{label}: seek to row {deep:,} (once per jump)",
                              seek * 1000, "ms"))

        # 4. No COUNT(*) per page: statements while paging through 50 pages in order.
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(str(args[2]).lower())

        event.listen(repo.engine, "before_cursor_execute", record)
        try:
            model.set_query(BookingQuery(descending=True))
            _wait(app, lambda: model.row_object(0) is not None and not model.loading)
            for page in range(1, 50):
                _wait(app, lambda p=page: (model.data(model.index(p * 200, 0)) is not None
                                           and model.row_object(p * 200) is not None))
        finally:
            event.remove(repo.engine, "before_cursor_execute", record)
        counts = sum("count(" in s for s in statements)
        figures.append(Figure(AREA, f"{label}: count queries while paging 50 pages",
                              float(counts), "queries",
                              target="1 at open (estimate on PostgreSQL), 0 per page",
                              met=counts <= 1))
        count_ms = median_time(lambda: repo.count_bookings(q), repeat=repeats) * 1000
        figures.append(Figure(AREA, f"{label}: row count for the scroll bar", count_ms, "ms",
                              baseline_name=f"SELECT count(*) FROM {table}",
                              baseline=count_all * 1000))

        # 5. Memory after scrolling from the top to the very end.
        model.set_query(BookingQuery())
        _wait(app, lambda: model.row_object(0) is not None and not model.loading)
        before = _rss_mb()
        steps = 100 if quick else 400
        for i in range(steps + 1):
            row = min(model.rowCount() - 1, i * (model.rowCount() - 1) // steps)
            view.scrollTo(model.index(row, 0))
            view.viewport().repaint()
            _wait(app, lambda r=row: model.row_object(r) is not None)
        after = _rss_mb()
        figures.append(Figure(AREA, f"{label}: memory growth after scrolling to the end",
                              after - before, "MB",
                              target=f"bounded: {model.max_pages} pages of {model.page_size}",
                              met=model.cached_pages() <= model.max_pages))
        figures.append(Figure(AREA, f"{label}: pages cached after scrolling to the end",
                              float(model.cached_pages()), "pages"))
    finally:
        # Drain the pool first, then let the finished signals reach the models before they
        # go: a view deleted with a task still on its way crashed the next database's run.
        tasks.shutdown()
        _wait(app, lambda: True, timeout=1.0)
        app.processEvents()
        for v in views:
            v.close()
            v.deleteLater()
        repo.close()
    return figures


def _wanted() -> set[str]:
    """The databases to run: all, or those named in BENCH_TABLES (e.g. ``mariadb,mapped``:
    sqlite, postgresql, mariadb, mapped-mariadb, mapped-postgresql; ``mapped`` is both)."""
    every = {"sqlite", "postgresql", "mariadb", "mapped-mariadb", "mapped-postgresql"}
    named = {n.strip() for n in os.environ.get("BENCH_TABLES", "").split(",") if n.strip()}
    if not named:
        return every
    if "mapped" in named:
        named |= {"mapped-mariadb", "mapped-postgresql"}
    return named & every


def run(quick: bool = False) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import sqlalchemy as sa
    from PyQt6.QtWidgets import QApplication
    from sqlalchemy.engine import make_url

    from services.shop.seed import seed

    app = QApplication.instance() or QApplication([])
    rows = 100_000 if quick else 1_000_000
    figures: list[Figure] = []
    wanted = _wanted()
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
            sqlite_url = f"sqlite:///{Path(tmp) / 'shop.db'}"
            result = seed(sqlite_url, bookings=rows, products=200, orders=1000)
            figures.append(Figure(AREA, f"SQLite: seed {rows:,} bookings (+customers, orders)",
                                  result.seconds, "s", target="well under 30 s",
                                  met=result.seconds < 30))
            figures += _table_figures(app, f"SQLite {rows:,}", sqlite_url, rows, quick)

    pg = _postgres_url()
    if pg is not None and "postgresql" in wanted:
        admin_url = make_url(pg)
        name = f"br_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        try:
            result = seed(url, bookings=rows, products=200, orders=1000)
            figures.append(Figure(AREA, f"PostgreSQL: seed {rows:,} bookings (COPY)",
                                  result.seconds, "s"))
            figures += _table_figures(app, f"PostgreSQL {rows:,}", url, rows, quick)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    maria = _mariadb_url()
    if maria is not None and "mariadb" in wanted:
        from tests.support.databases import throwaway_mariadb

        url, drop = throwaway_mariadb()
        try:
            result = seed(url, bookings=rows, products=200, orders=1000)
            figures.append(Figure(AREA, f"MariaDB: seed {rows:,} bookings (multi-row INSERT)",
                                  result.seconds, "s"))
            figures += _table_figures(app, f"MariaDB {rows:,}", url, rows, quick)
        finally:
            drop()
    if maria is not None and "mapped-mariadb" in wanted:
        from tests.support.databases import throwaway_mariadb

        url, drop = throwaway_mariadb()
        try:
            figures += _mapped_figures(app, "mapped MariaDB", url, rows, quick)
        finally:
            drop()
    if pg is not None and "mapped-postgresql" in wanted:
        admin_url = make_url(pg)
        name = f"br_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        try:
            figures += _mapped_figures(app, "mapped PostgreSQL", url, rows, quick)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    return figures


def _mapped_figures(app: Any, label: str, url: str, rows: int, quick: bool) -> list[Figure]:
    """A restaurant's own reservations table of ``rows`` rows (the tests' schema), listed
    through the profile's map."""
    import sqlalchemy as sa

    from tests.support.restaurant import fill, shop_map_for

    fill(url, bookings=0)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        # Rows made by the server itself: generate_series / MariaDB's sequence engine.
        numbers = ("generate_series(1, :n) AS s(i)" if conn.dialect.name == "postgresql"
                   else "seq_1_to_" + str(int(rows)) + " AS s")
        i = "s.i" if conn.dialect.name == "postgresql" else "s.seq"
        conn.execute(sa.text(
            "INSERT INTO reservations_reservation (id, time, name, covers, phone, table_no, "
            f"notes, state, updated_at) SELECT {i}, "
            + (f"TIMESTAMP '2026-01-01 11:00:00' + ({i} % 3000) * INTERVAL '1 day' "
               f"+ ({i} % 44) * INTERVAL '15 minutes'" if conn.dialect.name == "postgresql"
               else f"TIMESTAMP '2026-01-01 11:00:00' + INTERVAL ({i} % 3000) DAY "
               f"+ INTERVAL ({i} % 44) * 15 MINUTE")
            + f", CONCAT('Guest ', {i}), 1 + {i} % 8, CONCAT('+39 055 ', {i}), 1 + {i} % 30, "
            f"NULL, 'C', TIMESTAMP '2026-01-01 09:00:00' FROM {numbers}"), {"n": rows})
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE reservations_reservation")
        else:
            conn.exec_driver_sql("ANALYZE TABLE reservations_reservation").all()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE reservations_reservation")
    engine.dispose()
    figures = [Figure(AREA, f"{label}: {rows:,} reservations made in the shop's own table",
                      time.perf_counter() - started, "s")]
    return figures + _table_figures(app, f"{label} {rows:,}", url, rows, quick,
                                    shop_map=shop_map_for(url))


if __name__ == "__main__":
    import sys

    for fig in run(quick="--quick" in sys.argv):
        print(fig)
