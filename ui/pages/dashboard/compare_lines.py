"""What Compare picks from: a chain's sites in this store, or whole shops as All shops read them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from console import metrics as m
from console.domain import split_series
from ui.charts.feed import Window
from ui.pages.dashboard.feed import MEMORY_REACH_S
from ui.worker import TaskState

if TYPE_CHECKING:
    from services.diagnostics.overview import ShopOverview
    from ui.pages.dashboard.page import DashboardPage

#: The figures a comparison can show: (metric, words).
FIGURES: tuple[tuple[str, str], ...] = (
    (m.LATENCY_P95, "p95 latency"),
    (m.ERROR_RATIO, "error ratio"),
    (m.CACHE_HIT_RATE, "cache hit rate"),
    (m.QUEUE_DEPTH, "queue depth"),
    (m.REQUEST_RATE, "requests"),
)
#: The narrowest time axis of whole shops (a minute: four of All shops' reads).
SHOPS_MIN_SPAN_S = 60.0
#: A list of (line name, its latest value or None), worst first.
Listed = list[tuple[str, float | None]]


#: Sources that read a whole shop's back end (a site each, when a profile has several).
SHOP_KINDS = frozenset({"prometheus", "prometheus-server"})


def worth_comparing(profile: Any) -> bool:
    """True when a profile has sites to compare: a grouped source, or two Prometheus
    sources (a shop per source; a shop's probes and caches are not sites)."""
    sources = tuple(getattr(profile, "sources", ()) or ())
    return (any(getattr(s, "group_by", ()) for s in sources)
            or sum(1 for s in sources if getattr(s, "kind", "") in SHOP_KINDS) >= 2)


class SiteLines:
    """The groups of this profile's grouped sources (and each Prometheus source as a site
    of its own), read from the store, and from the history on disk for older ranges."""

    noun = "site"

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.book = page.sites.book

    def figures(self) -> tuple[tuple[str, str], ...]:
        return FIGURES

    def lister(self, metric: str) -> Callable[[TaskState], Listed]:
        """A read, for off the GUI thread, of the sites that have ``metric``: a chain's
        whole first (the line its sites are read against), then its sites, worst first."""
        store, book = self.page.store, self.book

        def read(_state: TaskState) -> Listed:
            names = [n for n in store.series_names() if self._comparable(n, metric)]
            latest = {n: store.latest(n) for n in names}
            wholes = [n for n in names if self.is_whole(n)]
            ranked = book.worst([n for n in names if n not in wholes], latest,
                                metric == m.CACHE_HIT_RATE)
            return [(n, r.value if (r := latest[n]) is not None else None)
                    for n in wholes + ranked]

        return read

    def _comparable(self, series: str, metric: str) -> bool:
        """A site's series of the figure, or a whole source's (one site per source, or a
        chain's whole beside its sites); a whole source's queues each count as one."""
        _source, found, labels = split_series(series)
        return found == metric and (self.book.site(series) is not None
                                    or set(labels) <= {"queue"})

    def is_whole(self, series: str) -> bool:
        """A chain's whole figure (no site of it): never among 'the 8 worst'."""
        return self.book.site(series) is None and split_series(series)[0] in self.book.group_by

    def label(self, series: str) -> str:
        """'site-7', 'site-7 orders'; a whole source by its name ('chain (all sites)')."""
        source, _metric, labels = split_series(series)
        site = self.book.site(series)
        if site is None:
            site = (f"{source} (all {self.book.noun(source)})" if source in self.book.group_by
                    else source)
        queue = labels.get("queue")
        return f"{site} {queue}" if queue else site

    def time_range(self) -> tuple[float, float]:
        return self.page.view_range()

    def reader(self, names: list[str], start: float, end: float, columns: int
               ) -> Callable[[TaskState], dict[str, Window]]:
        """A read, for off the GUI thread, of ``names`` over ``[start, end]``."""
        store, history = self.page.store, self.page.ctx.history
        reach = self.page.clock() - MEMORY_REACH_S  # older than this is on disk only

        def window(name: str) -> Window:
            recent = Window.of(store.window(name, max(start, reach), max(end, start + 1)))
            if history is None or start >= reach:
                return recent
            older = Window.of(history.series_window(name, start, reach,
                                                    max_points=2 * columns))
            keep = older.ts < (recent.ts[0] if recent.ts.size else np.inf)
            return Window(np.concatenate([older.ts[keep], recent.ts]),
                          np.concatenate([older.value[keep], recent.value]),
                          np.concatenate([older.lo[keep], recent.lo]),
                          np.concatenate([older.hi[keep], recent.hi]), recent.step_s)

        return lambda _state: {n: window(n) for n in names}

    def empty_words(self) -> str:
        return ("No site has this figure yet. A prometheus-server source with "
                "group_by = [\"site\"] gives each site its own.")


class ShopLines:
    """Whole shops (every profile in the config folder, each site of a grouped one) as the
    All shops reads gave them, from the reader's in-memory hour of reads."""

    noun = "shop"

    def __init__(self, overview: ShopOverview, clock: Callable[[], float] = time.time) -> None:
        self.overview = overview
        self.clock = clock
        self._labels: dict[str, str] = {}

    def figures(self) -> tuple[tuple[str, str], ...]:
        from console.shop_history import FIGURES as SHOP_FIGURES  # the dashboard opens without

        kept = {metric for metric, _field in SHOP_FIGURES}
        return tuple((metric, words) for metric, words in FIGURES if metric in kept)

    def lister(self, metric: str) -> Callable[[TaskState], Listed]:
        history = self.overview.history
        from console.overview import shop_name  # not imported before Compare opens
        from console.shop_history import FIGURES as SHOP_FIGURES
        from console.shop_history import line_name

        field = dict(SHOP_FIGURES)[metric]
        labels = self._labels

        def read(_state: TaskState) -> Listed:
            rows = history.shops()
            if metric == m.CACHE_HIT_RATE:  # the lowest hit rate is the worst
                rows.sort(key=lambda r: (getattr(r, field) is None, getattr(r, field) or 0.0))
            else:
                rows.sort(key=lambda r: -(getattr(r, field) if getattr(r, field) is not None
                                          else -1.0))
            out: Listed = []
            for row in rows:
                name = line_name(row, metric)
                labels[name] = shop_name(row)  # one dict store: safe beside the GUI's reads
                out.append((name, getattr(row, field)))
            return out

        return read

    def is_whole(self, _name: str) -> bool:
        return False

    def label(self, name: str) -> str:
        """The shop as All shops names it ('Bistro A', 'Chain · site=leeds')."""
        return self._labels.get(name) or Path(split_series(name)[0]).stem

    def time_range(self) -> tuple[float, float]:
        """The time the console has been reading every shop (its last hour at most), at
        least :data:`SHOPS_MIN_SPAN_S` wide, up to now."""
        now = self.clock()
        span = self.overview.history.span()
        start = max(span[0], now - self.overview.history.keep_s) if span else now
        return min(start, now - SHOPS_MIN_SPAN_S), now

    def reader(self, names: list[str], _start: float, _end: float, _columns: int
               ) -> Callable[[TaskState], dict[str, Window]]:
        """A read, for off the GUI thread, of the shops' lines ``names`` (all they have:
        an hour at most)."""
        history = self.overview.history

        def window(name: str) -> Window:
            ts, values = history.line(name)
            gaps = np.diff(ts)
            step = float(np.median(gaps)) if gaps.size else 0.0
            return Window(ts, values, values, values, step)

        return lambda _state: {n: window(n) for n in names}

    def empty_words(self) -> str:
        return ("No shop has been read yet. Each profile in the config folder is read by "
                "All shops every 15 s while it or this window is open.")


def shop_reads(page: DashboardPage, *, made_only: bool = False) -> Any:
    """The root's reader of every shop (the one All shops uses), or None without one;
    ``made_only``: None too while nothing has made it (no shop was read yet)."""
    diagnostics = page.ctx.diagnostics
    make = getattr(diagnostics, "shop_overview_made" if made_only else "shop_overview", None)
    return make() if callable(make) else None
