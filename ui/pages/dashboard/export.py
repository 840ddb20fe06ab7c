"""The dashboard's exports: the page as a PNG, the shown series over the visible range as CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtWidgets import QFileDialog

from console.domain import iso_time
from ui.worker import TaskState

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage


class DashboardExport:
    """Asks where to save, then writes the PNG (at once) or the CSV (off the GUI thread)."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page

    def ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.page, "Save the dashboard as PNG",
                                              f"dashboard-{datetime.now():%Y%m%d-%H%M%S}.png",
                                              "PNG image (*.png)")
        if path:
            self.save_png(Path(path))

    def ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.page, "Save the visible range as CSV",
                                              f"dashboard-{datetime.now():%Y%m%d-%H%M%S}.csv",
                                              "CSV (*.csv)")
        if path:
            self.save_csv(Path(path))

    def save_png(self, path: Path) -> bool:
        """The page as the user sees it (tiles and charts)."""
        page = self.page
        ok = bool(page.grab().save(str(path), "PNG"))
        if ok:
            page.sig_exported.emit(str(path))
        else:
            page.status_label.setText(f"Could not write {path}: check the folder exists and "
                                      "is writable")
        return ok

    def save_csv(self, path: Path, on_done: Callable[[str], None] | None = None) -> None:
        """Every shown series over the visible range: series, ISO UTC time, stored value.

        Rows are read from the store (and the history for older ranges) in stored units,
        seconds for latency and 0..1 for ratios, one per bucket with data, bucket start
        times within the range; the file is written off the GUI thread.
        """
        page = self.page
        start, end = page.timeline.x_range()
        store = page.store
        names = [c.series for _p, c in page.feed.charted() if c.style.visible]
        older = page.feed.older(names)

        def work(_state: TaskState) -> str:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["series", "ts", "value"])
                for series in names:
                    w = store.window(series, start, end)
                    ts, values = w.ts, w.value
                    if series in older and ts.size:
                        h_ts, h_val = older[series][0], older[series][1]
                        keep = h_ts < ts[0]
                        ts = np.concatenate([h_ts[keep], ts])
                        values = np.concatenate([h_val[keep], values])
                    keep = np.isfinite(values) & (ts >= start) & (ts <= end)
                    for t, v in zip(ts[keep].tolist(), values[keep].tolist(), strict=True):
                        writer.writerow([series, iso_time(t), repr(v)])
            return str(path)

        def done(written: str) -> None:
            page.sig_exported.emit(written)
            if on_done is not None:
                on_done(written)

        def failed(exc: BaseException) -> None:
            page.status_label.setText(f"Could not write {path}: {exc}")

        page.ctx.tasks.run(work, owner=page, on_success=done, on_failure=failed,
                           name="dashboard-csv")
