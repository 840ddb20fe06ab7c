"""The floor: a 200-table venue's full evening, laid out and painted once after the data arrives."""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.benchmarks.harness import Figure

AREA = "floor"
FRAME_MS = 1000 / 60
TABLES = 200
DAY = date(2026, 12, 11)


def _evening(tables: int) -> tuple[Any, list[Any]]:
    """A plan of ``tables`` tables in 8 areas and a full evening on each, 17:00 to 23:00."""
    from console.floor import DiningTable, FloorPlan
    from console.shop import Booking, BookingStatus

    rng = random.Random(5)
    plan = FloorPlan(tables=tuple(DiningTable(n, f"{n}", rng.choice((2, 4, 4, 6, 8)),
                                              f"Room {(n - 1) // 25 + 1}")
                                  for n in range(1, tables + 1)),
                     covers_per_slot=tables, turn_minutes=90, large_party_turn_minutes=120)
    bookings: list[Any] = []
    for t in plan.tables:
        last = datetime(DAY.year, DAY.month, DAY.day, 22, 0, tzinfo=UTC)
        start = datetime(DAY.year, DAY.month, DAY.day, 11, 0, tzinfo=UTC)
        start += timedelta(minutes=15 * rng.randint(0, 4))
        while start < last:
            party = rng.randint(1, t.seats + 1)  # now and then one too many: flagged
            bookings.append(Booking(
                id=len(bookings) + 1, customer_name=f"Guest {len(bookings) + 1}",
                party_size=party, start_at=start, version=1, table_no=t.number,
                status=rng.choice((BookingStatus.CONFIRMED, BookingStatus.SEATED))))
            start += timedelta(minutes=plan.expected_minutes(party) + 15 * rng.randint(0, 3))
    return plan, bookings


def run(quick: bool = False) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QPoint, QRectF
    from PyQt6.QtGui import QBrush, QColor, QImage, QPainter, QRegion
    from PyQt6.QtWidgets import QApplication, QGraphicsScene

    from console.floor import lay_out
    from ui.widgets.floor_grid import FloorGrid

    app = QApplication.instance() or QApplication([])
    plan, bookings = _evening(TABLES)
    repeats = 5 if quick else 15
    grid = FloorGrid()
    grid.tz = UTC
    now = datetime(DAY.year, DAY.month, DAY.day, 20, 0, tzinfo=UTC)
    viewport = (1200, 800)
    image = QImage(*viewport, QImage.Format.Format_ARGB32_Premultiplied)

    def paint_viewport() -> None:
        image.fill(0)
        grid.render(image, QPoint(), QRegion(0, 0, *viewport))

    # The page lays the day out on its worker thread (read_day); the GUI thread gets the
    # FloorDay, then places the blocks (set_day) and paints what the viewport shows.
    layout_ms, arrive_ms, paint_ms, full_ms = [], [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        day = lay_out(plan, bookings, DAY, UTC)
        arrived = time.perf_counter()
        grid.set_day(day, now)
        placed = time.perf_counter()
        paint_viewport()
        done = time.perf_counter()
        layout_ms.append((arrived - start) * 1000)
        arrive_ms.append((done - arrived) * 1000)
        paint_ms.append((done - placed) * 1000)
        whole = QImage(grid.width(), grid.height(), QImage.Format.Format_ARGB32_Premultiplied)
        t0 = time.perf_counter()
        grid.render(whole)
        full_ms.append((time.perf_counter() - t0) * 1000)
    blocks = grid.block_count

    # The baseline: the same blocks as plain QGraphicsRectItems, the scene drawn into the
    # same viewport (the plainest retained-mode drawing Qt offers), built anew as the grid is.
    base_ms, base_full_ms = [], []
    rects = [b.rect for i in range(len(grid.rows)) for b in grid.row_blocks(i)]
    for _ in range(repeats):
        start = time.perf_counter()
        scene = QGraphicsScene()
        brush = QBrush(QColor("#0072B2"))
        for r in rects:
            scene.addRect(QRectF(r), brush=brush)
        image.fill(0)
        painter = QPainter(image)
        scene.render(painter, QRectF(0, 0, *viewport), QRectF(0, 0, *viewport))
        painter.end()
        base_ms.append((time.perf_counter() - start) * 1000)
        whole = QImage(grid.width(), grid.height(), QImage.Format.Format_ARGB32_Premultiplied)
        t0 = time.perf_counter()
        painter = QPainter(whole)
        scene.render(painter)
        painter.end()
        base_full_ms.append((time.perf_counter() - t0) * 1000)
    app.processEvents()
    arrive = statistics.median(arrive_ms)
    return [
        Figure(AREA, f"{TABLES} tables, {blocks} bookings: data in -> painted (1200x800)",
               arrive, "ms", baseline_name=f"{blocks} QGraphicsRectItems: scene built + drawn",
               baseline=statistics.median(base_ms), target=f"<= one frame ({FRAME_MS:.1f} ms)",
               met=arrive <= FRAME_MS),
        Figure(AREA, "the day laid out (worker thread: tables, clashes, covers per slot)",
               statistics.median(layout_ms), "ms"),
        Figure(AREA, "of which the paint of the visible part", statistics.median(paint_ms), "ms",
               target=f"<= {FRAME_MS:.1f} ms", met=statistics.median(paint_ms) <= FRAME_MS),
        Figure(AREA, f"the whole grid painted ({grid.width()}x{grid.height()})",
               statistics.median(full_ms), "ms",
               baseline_name="the same QGraphicsRectItems, whole scene drawn",
               baseline=statistics.median(base_full_ms)),
    ]
