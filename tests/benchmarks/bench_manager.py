"""The manager's reads on 1,000,000 bookings: past days, a guest's history, tonight's run sheet."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import Figure, median_time

AREA = "manager"


def _figures(label: str, url: str, rows: int, quick: bool) -> list[Figure]:
    from sqlalchemy import func, select

    from console.run_sheet import SERVICES, build_run_sheet
    from console.shop import BookingQuery, BookingSort
    from services.shop import make_repository
    from services.shop.schema import bookings
    from services.shop.seed import seed

    start = time.perf_counter()
    seed(url, bookings=rows, products=200, orders=20_000 if not quick else 2_000)
    seeded = time.perf_counter() - start
    repo: Any = make_repository(db_url=url)
    figures = [Figure(AREA, f"{label}: seed {rows:,} bookings", seeded, "s")]
    try:
        # The busiest day of the data, so each figure is a full day's work.
        with repo.engine.connect() as conn:
            day = func.date(bookings.c.start_at)
            busiest = conn.execute(select(day).group_by(day).order_by(func.count().desc())
                                   .limit(1)).scalar()
        last = datetime.fromisoformat(str(busiest)).date()
        first = last - timedelta(days=29)
        report = repo.past_days(first, last, tz=UTC)
        lo = datetime.combine(first, datetime.min.time())
        hi = datetime.combine(last + timedelta(days=1), datetime.min.time())

        def count_range() -> None:
            with repo.engine.connect() as conn:
                conn.execute(select(func.count()).where(bookings.c.start_at >= lo,
                                                        bookings.c.start_at < hi)).scalar()

        in_range = sum(d.booking_count for d in report.days)
        figures.append(Figure(
            AREA, f"{label}: past days, 30 days ({in_range:,} bookings)",
            median_time(lambda: repo.past_days(first, last, tz=UTC), repeat=3) * 1000, "ms",
            "count(*) of the range", median_time(count_range, repeat=3) * 1000))

        guest = next(b for b in repo.list_bookings(
            BookingQuery(start_from=lo, sort=BookingSort.START_AT), limit=200).rows if b.phone)

        def scan_phone() -> None:
            with repo.engine.connect() as conn:
                conn.execute(select(func.count()).where(bookings.c.phone == guest.phone)).scalar()

        figures.append(Figure(
            AREA, f"{label}: a guest's history (phone, whole table)",
            median_time(lambda: repo.guest_history(guest), repeat=3) * 1000, "ms",
            "count(*) WHERE phone = ?", median_time(scan_phone, repeat=3) * 1000))

        from PyQt6.QtWidgets import QApplication

        from ui.pages.run_sheet import expected_bookings, save_pdf

        app = QApplication.instance() or QApplication([])
        assert app is not None
        service = SERVICES[0]
        window = service.window(last, UTC)

        class State:
            def check(self) -> None:
                return None

        with tempfile.TemporaryDirectory() as tmp:
            def sheet() -> int:
                got = expected_bookings(repo, *window, State())  # type: ignore[arg-type]
                made = build_run_sheet(got, last, service, shop=label,
                                       now=datetime.now(UTC), tz=UTC)
                save_pdf(made, Path(tmp) / "sheet.pdf")
                return len(made.lines)

            n = sheet()
            figures.append(Figure(AREA, f"{label}: run sheet of a dinner ({n} bookings) to PDF",
                                  median_time(sheet, repeat=3) * 1000, "ms"))
    finally:
        repo.close()
    return figures


def run(quick: bool = False) -> list[Figure]:
    rows = 100_000 if quick else 1_000_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        figures += _figures("SQLite", f"sqlite:///{Path(tmp) / 'shop.sqlite3'}", rows, quick)
    from tests import servers

    if servers.port_open("127.0.0.1", 5432):
        from tests.support.databases import throwaway_postgres

        url, drop = throwaway_postgres("br_bench_manager")
        try:
            figures += _figures("PostgreSQL", url, rows, quick)
        finally:
            drop()
    return figures
