"""The dashboard's "what moved first?": a selected window's series ranked by how much they moved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from console.correlate import Mover, rank_movers
from ui.charts.units import Unit
from ui.worker import TaskState

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage


class MovedFirst:
    """The selection region on the charts and the ranked list beside them."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.movers: list[Mover] = []
        self.task: Any = None

    def set_region_mode(self, on: bool) -> None:
        """Show the selection region (pausing the charts) and the ranked list, or hide them."""
        page = self.page
        if page.movers_button.isChecked() != on:
            page.movers_button.setChecked(on)
            return
        if on:
            page.set_live(False)
            start, end = page.timeline.x_range()
            span = end - start
            page.timeline.show_region(end - span * 0.25, end - span * 0.02)
            page.movers_box.show()
            page.side.show()
            self.rank_region()
        else:
            page.timeline.hide_region()
            page.movers_box.hide()
            page.side.setVisible(page.demo_panel is not None)

    def select_region(self, start: float, end: float) -> None:
        """Put the selection on ``[start, end]`` and rank what moved there."""
        page = self.page
        if not page.movers_button.isChecked():
            page.movers_button.setChecked(True)
        page.timeline.show_region(start, end)
        self.rank_region()

    def rank_region(self) -> None:
        page = self.page
        region = page.timeline.region()
        if region is None:
            return
        start, end = region
        if end - start < 2:
            return
        base_start = start - (end - start)
        data = {}
        humans: dict[str, str] = {}
        units: dict[str, Unit] = {}
        colours: dict[str, str] = {}
        behind: list[str] = []
        for panel, curve in page.feed.charted():
            humans[curve.series] = str(curve.extra.get("human", curve.style.label))
            units[curve.series] = panel.spec.unit
            colours[curve.series] = curve.style.colour
            if curve.series in page.feed.behind:
                behind.append(curve.series)
                continue
            ts, values = curve.buffer.finite(base_start, end)
            if ts.size:
                data[curve.series] = (ts.copy(), values.copy())
        if self.task is not None:
            self.task.cancel()
        page.movers_box.show_busy()
        store = page.store

        def work(_state: TaskState) -> list[Mover]:
            # hidden series are not kept up to date on screen: read them from the store
            for series in behind:
                w = store.window(series, base_start, end)
                keep = np.isfinite(w.value)
                data[series] = (w.ts[keep], w.value[keep])
            return rank_movers(data, start, end)

        def done(movers: list[Mover]) -> None:
            self.task = None
            self.show_movers(movers, humans, units, colours)

        self.task = page.ctx.tasks.run(work, owner=page, on_success=done,
                                       name="what-moved-first")

    def show_movers(self, movers: list[Mover], humans: dict[str, str],
                    units: dict[str, Unit], colours: dict[str, str]) -> None:
        self.movers = movers
        self.page.movers_box.show_movers(movers, humans, units, colours,
                                         group=self.page.router.group)
        self.page.sig_movers_ranked.emit(movers)
