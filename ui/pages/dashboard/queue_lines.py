"""The queue chart of a broker with more queues than a chart draws: the deepest ones as lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from console import metrics as m
from console.domain import split_series
from console.series_limit import OTHER_LABELS
from ui.pages.dashboard.routing import MAX_SHOWN_PER_PANEL

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

#: The chart these lines are on.
QUEUE_CHART = "queue"


class QueueLines:
    """Keeps the queue chart to the :data:`MAX_SHOWN_PER_PANEL` deepest queues once the
    sources without sites have more (re-ranked on every status read; a drawn queue gives its
    line only to one deeper by more than 10 %), or every queue once the user asks with the
    control on the chart. A queue shown or hidden by hand in the series chooser leaves the
    choice to the user. A chain's queues by site are :class:`~.sites.SiteLines`' to rank; the
    series past the series limit (the rest of thousands of queues, summed) is no queue."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.every = False  # the user asked for every queue
        self.by_hand = False  # the user chose the queues in the chooser
        self._applying = False
        self._lines: tuple[int, list[str]] = (-1, [])  # (curves seen, queue lines)
        self._folds: list[str] = []  # the chart's rest-of-the-queues series
        self._latest: Mapping[str, Any] = {}
        self._folds_hidden: set[str] = set()  # the rest-of-the-queues series, hidden once

    def panel_made(self) -> None:
        """The page's charts exist now: follow the queue chart's control and chooser."""
        panel = self.page.timeline.panel(QUEUE_CHART)
        panel.sig_control_clicked.connect(self.toggle_every)
        panel.sig_visibility.connect(self._chosen)

    def lines(self) -> list[str]:
        """The queue chart's lines of one queue each, outside any site."""
        panel = self.page.timeline.panel(QUEUE_CHART)
        seen, lines = self._lines
        if seen != len(panel.curves):
            book = self.page.sites.book
            lines, self._folds = [], []
            for name in panel.curves:
                _source, metric, labels = split_series(name)
                if metric != m.QUEUE_DEPTH:
                    continue
                if labels == OTHER_LABELS:
                    self._folds.append(name)
                elif labels.get("queue") and book.site(name) is None:
                    lines.append(name)
            self._lines = (len(panel.curves), lines)
        return lines

    def _ranked(self) -> list[str]:
        """The lines this class ranks: none while they fit the chart or sites are drawn."""
        lines = self.lines()
        if len(lines) <= MAX_SHOWN_PER_PANEL or self.page.sites.lines(QUEUE_CHART):
            return []
        return lines

    def wanted(self) -> tuple[str, ...]:
        """The series whose latest values the ranking needs."""
        return tuple(self._ranked())

    def apply(self, latest: Mapping[str, Any]) -> None:
        """Draw the deepest queues (every one where asked) and say so on the chart."""
        self._latest = latest
        panel = self.page.timeline.panel(QUEUE_CHART)
        lines = self._ranked()  # reads the chart's series again only when it has new ones
        self._hide_folds(panel)
        if not lines:
            return
        count, most = f"{len(lines):,}", MAX_SHOWN_PER_PANEL
        book = self.page.sites.book
        if self.every:
            panel.set_control(f"all {count} queues · show the deepest {most}",
                              f"Draw only the {most} deepest queues again")
            self._show(lines, lines)
            return
        panel.set_control(f"deepest {most} of {count} queues · show all",
                          f"Draw every one of the {count} queues")
        if not self.by_hand:
            drawn = [n for n in lines if panel.curves[n].style.visible]
            self._show(lines, book.worst(lines, latest, False, drawn)[:most])

    def _hide_folds(self, panel: Any) -> None:
        """The sum of the queues past the series limit is no queue: drawn, it would squash
        the deepest ones to the floor. Hidden once; ``series ▾`` shows it again for good."""
        for name in self._folds:
            if name not in self._folds_hidden:
                self._folds_hidden.add(name)
                if panel.curves[name].style.visible:
                    panel.set_visible(name, False)

    def toggle_every(self) -> None:
        """The chart's control: every queue, or back to the deepest few."""
        if not self._ranked():
            return  # the control is the sites' (or there is none)
        self.every = not self.every
        self.by_hand = False
        self.apply(self._latest)

    def _show(self, lines: list[str], shown: list[str]) -> None:
        """Draw ``shown`` (deepest first) and no other queue line of the chart."""
        panel = self.page.timeline.panel(QUEUE_CHART)
        for name in shown:  # first drawn: the next colour of the drawn ones, deepest first
            curve = panel.curves[name]
            if not curve.has_item and not curve.style.visible:
                curve.style.colour = self.page.router.colour(QUEUE_CHART + ":drawn", name)
        wanted = set(shown)
        self._applying = True
        try:
            for name in lines:
                if panel.curves[name].style.visible != (name in wanted):
                    panel.set_visible(name, name in wanted)
        finally:
            self._applying = False

    def _chosen(self, series: str, _visible: bool) -> None:
        if not self._applying and series in self.lines():
            self.by_hand = True
