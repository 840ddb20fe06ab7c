"""A grouped source's sites on the dashboard: the worst few as lines, every site on demand."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from console import metrics as m
from console.domain import split_series

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

#: Site lines a chart draws by default: the worst ones.
WORST_SHOWN = 5
#: A drawn site gives its place only to one worse by more than this share of its figure,
#: so two sites about level do not swap lines every second.
KEEP_MARGIN = 0.1

#: Each chart's site lines are ranked by one figure: (metric, True when lower is worse).
RANKED_BY: dict[str, tuple[str, bool]] = {
    "latency": (m.LATENCY_P95, False),
    "cache": (m.CACHE_HIT_RATE, True),
    "queue": (m.QUEUE_DEPTH, False),
    "traffic": (m.ERROR_RATE, False),
}


class SiteBook:
    """Which series are one site's: the groups of a source with ``group_by`` (a chain's
    ``site``, a fleet's ``instance``), read from the profile's sources."""

    def __init__(self, sources: Iterable[Any]) -> None:
        self.group_by: dict[str, tuple[str, ...]] = {
            s.name: tuple(s.group_by) for s in sources if getattr(s, "group_by", ())}
        self._sites: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.group_by)

    def site(self, series: str) -> str | None:
        """The site (group) a series belongs to, e.g. ``site-7``; None for a whole
        source's series and for sources without groups."""
        if not self.group_by:
            return None
        if series not in self._sites:
            source, _metric, labels = split_series(series)
            by = self.group_by.get(source)
            self._sites[series] = (" ".join(labels[k] for k in by)
                                   if by and all(k in labels for k in by) else None)
        return self._sites[series]

    def noun(self, source: str) -> str:
        """What one source's groups are called: 'sites', 'instances', 'groups'."""
        by = self.group_by.get(source, ())
        return f"{by[0]}s" if len(by) == 1 else "groups"

    def worst(self, names: Iterable[str], latest: Mapping[str, Any], lower_is_worse: bool,
              drawn: Iterable[str] = ()) -> list[str]:
        """``names`` worst first by their latest values (those without one last); the
        ``drawn`` ones count :data:`KEEP_MARGIN` worse than they are."""
        keep = set(drawn)

        def key(name: str) -> tuple[int, float, str]:
            found = latest.get(name)
            value = getattr(found, "value", None)
            if value is None or not math.isfinite(value):
                return (1, 0.0, name)
            if name in keep:
                value *= (1 - KEEP_MARGIN) if lower_is_worse else (1 + KEEP_MARGIN)
            return (0, value if lower_is_worse else -value, name)
        return sorted(names, key=key)


class SiteLines:
    """Keeps each chart's site lines to the worst :data:`WORST_SHOWN` (re-ranked on every
    status read), or all of them once the user asks with the control on the chart; a site
    shown or hidden by hand in the series chooser leaves that chart's choice to the user."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.book = SiteBook(getattr(page.ctx.profile, "sources", ()) or ())
        self.every_site: set[str] = set()  # charts showing every site
        self.by_hand: set[str] = set()  # charts whose sites the user chose in the chooser
        self.focused: str | None = None  # one site drawn alone (see focus)
        self._applying = False
        self._lines: dict[str, tuple[int, list[str]]] = {}  # chart -> (curves seen, lines)
        self._latest: Mapping[str, Any] = {}

    def panels_made(self) -> None:
        """The page's charts exist now: follow their controls and choosers."""
        for key in RANKED_BY:
            panel = self.page.timeline.panel(key)
            panel.sig_control_clicked.connect(lambda k=key: self.toggle_every_site(k))
            panel.sig_visibility.connect(lambda s, _on, k=key: self._chosen(k, s))

    def lines(self, key: str) -> list[str]:
        """The site lines of a chart that are ranked (each site's p95, not its p50)."""
        panel = self.page.timeline.panel(key)
        seen, lines = self._lines.get(key, (-1, []))
        if seen != len(panel.curves):
            metric = RANKED_BY[key][0]
            lines = [s for s in panel.curves
                     if self.book.site(s) is not None and split_series(s)[1] == metric]
            self._lines[key] = (len(panel.curves), lines)
        return lines

    def wanted(self) -> tuple[str, ...]:
        """The series whose latest values the ranking needs."""
        if not self.book:
            return ()
        return tuple(s for key in RANKED_BY for s in self.lines(key))

    def apply(self, latest: Mapping[str, Any]) -> None:
        """Show the worst site lines of each chart (every one where asked) and say so."""
        if not self.book:
            return
        self._latest = latest
        for key, (_metric, lower_is_worse) in RANKED_BY.items():
            lines = self.lines(key)
            panel = self.page.timeline.panel(key)
            if not lines:
                continue
            source = split_series(lines[0])[0]
            noun = self.book.noun(source)
            if len({self.book.site(n) for n in lines}) < len(lines):
                noun = f"{noun[:-1]} queues"  # a line per queue of each site
            if self.focused is not None:
                panel.set_control(f"{self.focused} only · show the worst {WORST_SHOWN}",
                                  f"Draw the {WORST_SHOWN} worst {noun} again")
                self._show(key, [n for n in lines if self.book.site(n) == self.focused])
                continue
            if len(lines) <= WORST_SHOWN:
                panel.set_control("")
                if key not in self.by_hand:
                    self._show(key, self.book.worst(lines, latest, lower_is_worse))
                continue
            if key in self.every_site:
                panel.set_control(f"all {len(lines)} {noun} · show the worst {WORST_SHOWN}",
                                  f"Draw only the {WORST_SHOWN} worst {noun} again")
                self._show(key, self.book.worst(lines, latest, lower_is_worse))
            else:
                panel.set_control(f"worst {WORST_SHOWN} of {len(lines)} {noun} · show all",
                                  f"Draw every one of the {len(lines)} {noun}")
                if key not in self.by_hand:
                    drawn = [n for n in lines if panel.curves[n].style.visible]
                    worst = self.book.worst(lines, latest, lower_is_worse, drawn)
                    self._show(key, worst[:WORST_SHOWN])

    def focus(self, site: str | None) -> None:
        """Draw only ``site``'s lines (beside the whole source's) on every chart, e.g. a
        site opened from an overview of every site; None: the worst few again."""
        self.focused = site
        self.every_site.clear()
        self.by_hand.clear()
        self.apply(self._latest)

    def toggle_every_site(self, key: str) -> None:
        """The chart's control: every site, or back to the worst few (from one site
        focused: the worst few on every chart)."""
        if self.focused is not None:
            self.focus(None)
            return
        if key in self.every_site:
            self.every_site.discard(key)
        else:
            self.every_site.add(key)
        self.by_hand.discard(key)
        self.apply(self._latest)

    def _show(self, key: str, shown: list[str]) -> None:
        """Draw ``shown`` (worst first) and no other site line of the chart."""
        panel = self.page.timeline.panel(key)
        for name in shown:  # first drawn: the next colour of the drawn ones, worst first
            curve = panel.curves[name]
            if not curve.has_item and not curve.style.visible:
                curve.style.colour = self.page.router.colour(key + ":drawn", name, site=True)
        wanted = set(shown)
        self._applying = True
        try:
            for name in self.lines(key):
                if panel.curves[name].style.visible != (name in wanted):
                    panel.set_visible(name, name in wanted)
        finally:
            self._applying = False

    def _chosen(self, key: str, series: str) -> None:
        if not self._applying and series in self.lines(key):
            self.by_hand.add(key)
