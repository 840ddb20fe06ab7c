"""The dashboard's status tiles: each source's state, headline number, errors and sparkline."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console import metrics as m
from console.domain import series_source, split_series
from console.series_limit import OTHER_LABELS
from ui.charts.feed import StatusUpdate, read_status
from ui.charts.units import unit_for
from ui.theme import FAIL, WARN, series_colour

if TYPE_CHECKING:
    from console.advisor import Thresholds
    from ui.pages.dashboard.page import DashboardPage

log = logging.getLogger(__name__)

SPARK_S = 300.0
#: Tiles made per status tick (hundreds of sources appear over a few seconds, no stall).
NEW_TILES_PER_TICK = 8

#: What a source's tile shows, first one the source has: (metric, caption).
HEADLINES: tuple[tuple[str, str], ...] = (
    (m.LATENCY_P95, "p95 latency"),
    (m.CACHE_HIT_RATE, "cache hit rate"),
    (m.QUEUE_DEPTH, "queue depth"),
    (m.REQUEST_RATE, "requests"),
    (m.DB_CONNECTIONS_TOTAL, "connections"),
    (m.DB_CONNECTIONS, "connections"),
    (m.CLIENTS, "clients"),
    (m.MEMORY_BYTES, "memory"),
    (m.DB_SIZE_BYTES, "database size"),
    ("scrape_seconds", "poll time"),
)


class StatusTiles:
    """Fills the page's tile row from the poller's states and the store's latest values."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.busy = False
        self.statuses: list[Any] = []
        self._headline: dict[str, str | None] = {}
        self._error_series: dict[str, str | None] = {}  # each source's error ratio
        self._queues: dict[str, list[str]] = {}  # a source's queues, when it has several
        self._sites: dict[str, list[str]] = {}  # a grouped source's sites' headline series
        self._overall: dict[str, str] = {}  # a grouped source's headline over every site
        self._error_limits: dict[str, Thresholds] | None = None  # made at the first reading
        self._by_source: dict[str, list[str]] = {}
        self._indexed = -1

    def _headline_for(self, source: str, mine: list[str]) -> str | None:
        for metric, _caption in HEADLINES:
            for name in mine:
                _s, met, labels = split_series(name)
                if met == metric and (metric != m.LATENCY_P95 or not labels):
                    return name
        return None

    def _index(self, names: list[str]) -> dict[str, list[str]]:
        """Series names by source, rebuilt only when new series appear."""
        if len(names) != self._indexed:
            index: dict[str, list[str]] = {}
            for name in names:
                index.setdefault(series_source(name), []).append(name)
            self._by_source = index
            self._indexed = len(names)
            self._headline.clear()
            self._error_series.clear()
            self._queues.clear()
            self._sites.clear()
        return self._by_source

    def _headlines_in_view(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The series whose values and sparklines the tiles in view show, and the series
        whose latest value alone is needed (every queue of a source with several)."""
        tiles = self.page.tiles
        span = tiles.visible_span()
        wanted = []
        latest_only: list[str] = []
        for name, tile in tiles.tiles.items():
            headline = self._headline.get(name)
            if headline is not None and tiles.in_view(tile, span):
                wanted.append(headline)
                errors = self._error_series.get(name)
                if errors is not None and errors != headline:
                    wanted.append(errors)
                latest_only.extend(self._queues.get(name, ()))
                latest_only.extend(self._sites.get(name, ()))
                if name in self._overall:
                    latest_only.append(self._overall[name])
        latest_only.extend(self.page.sites.wanted())
        latest_only.extend(self.page.queues.wanted())
        return tuple(wanted), tuple(latest_only)

    def _deepest(self, source: str, update: StatusUpdate) -> str | None:
        """The source's deepest queue now (its tile's headline), None before any reading."""
        depths = [(latest.value, name) for name in self._queues.get(source, ())
                  if (latest := update.latest.get(name)) is not None]
        return max(depths)[1] if depths else None

    def _worst_site(self, source: str, update: StatusUpdate) -> str | None:
        """A grouped source's worst site now (its tile's headline), None before any reading."""
        sites = self._sites.get(source)
        if not sites:
            return None
        metric = split_series(sites[0])[1]
        ranked = self.page.sites.book.worst(sites, update.latest, metric == m.CACHE_HIT_RATE)
        return ranked[0] if update.latest.get(ranked[0]) is not None else None

    def _find_sites(self, source: str, mine: list[str]) -> None:
        """A grouped source's tile shows its worst site: the sites' series of its headline."""
        headline = self._headline.get(source)
        book = self.page.sites.book
        if headline is None or source not in book.group_by:
            return
        metric = split_series(headline)[1]
        sites = [n for n in mine if split_series(n)[1] == metric and book.site(n) is not None]
        if sites:
            self._sites[source] = sites
            self._overall[source] = headline

    def update(self) -> None:
        """Read the poller's states and the tiles' numbers on a worker thread, then show them.

        Built for hundreds of sources: at most :data:`NEW_TILES_PER_TICK` tiles are made at
        a time, and values and sparklines are read only for tiles in view.
        """
        if self.busy:
            return
        page = self.page
        poller = page.ctx.poller
        store = page.store
        headlines, latest_only = self._headlines_in_view()
        now = page.clock()
        self.busy = True

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.warning("reading the sources' states failed: %s", exc)

        page.run_read(lambda: read_status(poller, store, headlines, SPARK_S, now, latest_only),
                      self._apply, failed, "dashboard-status")

    def _apply(self, update: StatusUpdate) -> None:
        from console.own_cost import OWN_SOURCE  # imported by the services by now

        self.busy = False
        page = self.page
        tiles = page.tiles
        now = page.clock()
        self.statuses = update.statuses
        index = self._index(update.names)
        made = 0
        span = tiles.visible_span()
        for status in update.statuses:
            if status.name == OWN_SOURCE:  # the console's own cost: Diagnostics shows it
                continue
            tile = tiles.tiles.get(status.name)
            if tile is None:
                if made >= NEW_TILES_PER_TICK:
                    page.status_soon.request()  # the rest in a moment
                    continue
                made += 1
                tile = tiles.tile(status.name, series_colour(len(tiles.tiles)))
                page.status_soon.request()  # its number, once its headline is known
            state = str(status.state)
            was = tile.state
            tile.set_state(state, status.last_error or "", status.last_ok_ts, now)
            tile.set_warning(getattr(status, "warning", "") if state == "up" else "")
            if state == "down" and was != "down":
                tiles.move_to_front(status.name)
            if status.name not in self._headline:
                self._headline[status.name] = self._headline_for(
                    status.name, index.get(status.name, []))
                error_series = f"{status.name}/{m.ERROR_RATIO}"
                self._error_series[status.name] = (
                    error_series if error_series in index.get(status.name, []) else None)
                # not the series that past the series limit folds the rest into: a sum of
                # thousands of queues is no queue, and it would always read deepest
                queues = [n for n in index.get(status.name, [])
                          if split_series(n)[1] == m.QUEUE_DEPTH
                          and split_series(n)[2] != OTHER_LABELS]
                headline_metric = split_series(self._headline[status.name] or "")[1]
                if len(queues) > 1 and headline_metric == m.QUEUE_DEPTH:
                    self._queues[status.name] = queues
                self._find_sites(status.name, index.get(status.name, []))
            deepest = self._worst_site(status.name, update) or self._deepest(status.name,
                                                                               update)
            if deepest is not None and deepest != self._headline[status.name]:
                self._headline[status.name] = deepest
                page.status_soon.request()  # its sparkline
            headline = self._headline[status.name]
            if headline is None:
                if state == "down":
                    tile.set_value("–", "no reading")
                continue
            if headline not in update.latest or not tiles.in_view(tile, span):
                continue
            _s, metric, _l = split_series(headline)
            unit = unit_for(metric)
            caption = dict(HEADLINES).get(metric, metric.replace("_", " "))
            if status.name in self._sites:
                caption = self._site_caption(status.name, headline, caption, update)
            elif status.name in self._queues:
                queue = split_series(headline)[2].get("queue") or headline
                caption = f"deepest of {len(self._queues[status.name]):,} queues: {queue}"
            latest = update.latest[headline]
            fresh = latest is not None and state == "up"
            text = unit.format(latest.value) if latest is not None else "–"
            if not fresh and latest is not None:
                caption = f"{caption} · last {datetime.fromtimestamp(latest.ts):%H:%M:%S}"
            caption, alarm = self._with_errors(status.name, update, caption, fresh)
            tile.set_value(text, caption)
            tile.set_alarm(alarm)
            w = update.sparks.get(headline)
            if w is not None:
                tile.set_spark(w.ts, w.value * unit.scale, (now - SPARK_S, now))
        page.sites.apply(update.latest)
        page.queues.apply(update.latest)
        if not page.timeline.shown_panels():
            page.show_empty()

    def _site_caption(self, source: str, headline: str, caption: str,
                      update: StatusUpdate) -> str:
        """'p95 latency — worst of 20 sites: site-7 · all 180 ms' (the whole chain's figure
        after the worst site's, never in its place)."""
        book = self.page.sites.book
        sites = {book.site(n) for n in self._sites[source]}
        caption = (f"{caption} — worst of {len(sites)} {book.noun(source)}: "
                   f"{book.site(headline)}")
        overall = update.latest.get(self._overall[source])
        metric = split_series(headline)[1]
        if overall is not None and metric != m.QUEUE_DEPTH:
            caption += f" · all {unit_for(metric).format(overall.value)}"
        return caption

    def _limits_of(self, source: str) -> Thresholds:
        """The advisor's error thresholds of ``source`` (imported after the first paint)."""
        from console.advisor import Thresholds, source_thresholds

        if self._error_limits is None:
            profile = self.page.ctx.profile
            self._error_limits = source_thresholds(getattr(profile, "sources", ()) or ())
        return self._error_limits.get(source, Thresholds())

    def _with_errors(self, source: str, update: StatusUpdate, caption: str,
                     fresh: bool) -> tuple[str, str]:
        """The caption with the share of failing requests once it reaches the advisor's
        warning threshold (the source's own, if its profile sets one), and its colour."""
        series = self._error_series.get(source)
        errors = update.latest.get(series) if series is not None and fresh else None
        limits = self._limits_of(source)
        if errors is None or errors.value < limits.error_ratio_warn:
            return caption, ""
        colour = FAIL if errors.value >= limits.error_ratio_fail else WARN
        share = f"{errors.value:.0%}" if errors.value >= 0.1 else f"{errors.value:.1%}"
        return f"{caption} · {share} errors", colour
