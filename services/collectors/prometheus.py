"""Prometheus ``/metrics`` pages: latency quantiles, request/error rates, cache and queue gauges."""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from console import metrics
from console.domain import CollectorReport, Reading, Status, series_name
from console.quantiles import (
    counter_increase,
    histogram_quantile,
    total_count,
    window_buckets,
)
from console.redaction import mask_url
from console.series_limit import OTHER_LABELS
from services.collectors import known_metrics as known
from services.collectors._cache import REDIS_HIT_RATE_SCOPE
from services.collectors.gc_hold import gc_held
from services.collectors.page_process import (
    BIG_PAGE_BYTES,
    ChildGone,
    PageProcess,
    PageTimeout,
)
from services.collectors.prom_parse import LabelSetCap, PageShape, PromParseError, Samples
from services.errors import BadResponse, SourceTimeout, SourceUnreachable
from services.http.client import MIB, check_status, fetch, server_said, verify_option

ACCEPT = "text/plain;version=0.0.4;q=1.0, */*;q=0.1"
#: Over this many scrapes, this many drops of the request count is no restart but several
#: processes taking turns to answer.
MULTIPROCESS_SCRAPES = 12
MULTIPROCESS_DROPS = 2
MAX_PAGE_BYTES = 64 * MIB
#: Counters read as a rate per label set (each table's full scans), not summed, and over
#: the scrapes of the last ``SMOOTHED_RATE_S`` seconds, not the last one alone: a table read
#: whole in bursts (a cached answer recomputed every 15 s) shows as a steady rate.
PER_LABEL_RATES = frozenset({metrics.FULL_SCANS_RATE})
SMOOTHED_RATE_S = 30.0

LabelKey = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str], drop: str = "") -> LabelKey:
    return _sorted_key(tuple(labels.items()), drop)


@functools.lru_cache(maxsize=4096)  # a page's label sets are the last page's, mostly
def _sorted_key(items: LabelKey, drop: str) -> LabelKey:
    return tuple(sorted(item for item in items if item[0] != drop))


def _is_error(labels: dict[str, str]) -> bool:
    for name in known.STATUS_LABELS:
        value = labels.get(name)
        if value is not None:
            return value.startswith("5")
    return False


def _finest_first(samples: Samples, families: Iterable[str]) -> list[str]:
    """Latency families on the page, the one with the most bucket bounds first."""
    found = [fam for fam in families if samples.get(fam + "_bucket")]
    return sorted(found, key=lambda fam: -len({lb.get("le") for lb, _ in
                                               samples[fam + "_bucket"]}))


def _queue_name(labels: dict[str, str], fallback: str) -> str:
    for name in known.QUEUE_LABELS:
        value = labels.get(name)
        if value:
            return value
    return fallback


@dataclass(slots=True)
class _Scrape:
    """What one page said, reduced to the figures the readings need (internal)."""

    mono: float
    histogram: dict[LabelKey, list[tuple[float, float]]] = field(default_factory=dict)
    #: A summary's quantiles the page publishes: q -> the highest over its label sets.
    quantiles: dict[float, float] = field(default_factory=dict)
    latency_sum: dict[LabelKey, float] = field(default_factory=dict)
    requests: dict[LabelKey, float] = field(default_factory=dict)
    errors: dict[LabelKey, float] = field(default_factory=dict)
    hits: dict[LabelKey, float] = field(default_factory=dict)
    misses: dict[LabelKey, float] = field(default_factory=dict)
    counters: dict[str, dict[LabelKey, float]] = field(default_factory=dict)
    #: (metric, label key, value): a tuple of strings, no dict (100,000 queues make as many).
    gauges: list[tuple[str, LabelKey, float]] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    #: What the exporter says it cannot reach: (its up gauge, what it exports), e.g. Redis.
    down: list[tuple[str, str]] = field(default_factory=list)
    #: Label sets past the cap summed into 'other' as the page was read, per metric.
    folded: dict[str, int] = field(default_factory=dict)
    #: Earlier scrapes' per-label counters of the last SMOOTHED_RATE_S: (monotonic, counts).
    earlier: dict[str, list[tuple[float, dict[LabelKey, float]]]] = field(default_factory=dict)


def _increase(before: dict[LabelKey, float], after: dict[LabelKey, float]) -> float:
    """Sum over label sets of each counter's increase, resets handled per label set."""
    return sum(counter_increase(before.get(k, 0.0), v) for k, v in after.items())


def _unique(rows: Iterable[tuple[dict[str, str], float]],
            drop: str = "") -> dict[LabelKey, tuple[dict[str, str], float]]:
    """A page's samples by label set: a series the page repeats counts once (the last)."""
    return {(*_key(labels, drop), (drop, labels.get(drop, ""))) if drop else _key(labels):
            (labels, float(value)) for labels, value in rows}


def _carry(before: dict[LabelKey, Any], after: dict[LabelKey, Any]) -> None:
    """A label set missing from this scrape keeps its last value (no jump when it is back)."""
    for key, value in before.items():
        after.setdefault(key, value)


class PrometheusPageReader:
    """Turns scrapes of one page into standard readings (pure apart from the parse).

    ``families`` may rename what is looked for: keys ``latency`` (histogram family),
    ``requests`` and ``errors`` (counter sample names), ``cache_hits``/``cache_misses``
    and ``queue_depth`` (gauge). With ``max_series`` each sample name keeps its first so many
    label sets, the rest summed into one ``{series="other"}`` row as the page is read.
    """

    def __init__(self, source: str, families: dict[str, str] | None = None,
                 unit: str = "s", max_series: int = 0) -> None:
        self.source = source
        self.cap = LabelSetCap(max_series, known.STATUS_LABELS) if max_series > 0 else None
        #: Seconds per unit of the latency family (a histogram in ms: le="250" is 0.25 s).
        self.scale = 0.001 if unit == "ms" else 1.0
        overrides = families or {}
        latency = overrides.get("latency")
        self.latency_families = (latency,) if latency else known.LATENCY_HISTOGRAMS
        requests_name = overrides.get("requests")
        self.request_counters = (requests_name,) if requests_name else known.REQUEST_COUNTERS
        self.error_counter = overrides.get("errors")
        hits, misses = overrides.get("cache_hits"), overrides.get("cache_misses")
        self.cache_pairs = ((hits, misses),) if hits and misses else known.CACHE_COUNTERS
        queue = overrides.get("queue_depth")
        self.queue_gauges = ((queue, metrics.QUEUE_DEPTH),) if queue else known.QUEUE_GAUGES
        wanted: set[str] = set()
        for fam in self.latency_families:
            wanted |= {fam, fam + "_bucket", fam + "_count", fam + "_sum"}
        wanted |= set(self.request_counters)
        if self.error_counter:
            wanted.add(self.error_counter)
        for pair in self.cache_pairs:
            wanted |= set(pair)
        wanted |= {name for name, _ in self.queue_gauges}
        wanted |= {name for name, _ in known.BUSINESS_COUNTERS}
        wanted |= set(known.FULL_SCAN_COUNTERS) | set(known.TABLE_ROW_GAUGES)
        wanted |= {known.REDIS_EXPORTER_MEMORY, known.REDIS_EXPORTER_CLIENTS,
                   known.REDIS_EXPORTER_EVICTIONS}
        wanted |= {name for name, _ in known.EXPORTER_UP}
        self.wanted = frozenset(wanted)
        self.shape = PageShape()  # the last page's shape: a page like it reads its values only

    def scrape(self, text: str | bytes | bytearray, mono: float) -> _Scrape:
        """Parse a page (raises PromParseError) and keep what the readings need."""
        samples = self.shape.parse(text, self.wanted, self.cap)
        scrape = self.reduce(samples, mono)
        if self.cap is not None:
            for name, metric in self.queue_gauges:
                if self.cap.folded.get(name):
                    scrape.folded[metric] = scrape.folded.get(metric, 0) + self.cap.folded[name]
        return scrape

    def reduce(self, samples: Samples, mono: float) -> _Scrape:
        """What the readings need from a page's samples (the queue gauges' rows are used up)."""
        scrape = _Scrape(mono=mono)
        scrape.down = [(name, what) for name, what in known.EXPORTER_UP
                       if any(float(value) == 0 for _labels, value in samples.get(name, ()))]
        histograms = _finest_first(samples, self.latency_families)
        summaries = [fam for fam in self.latency_families
                     if samples.get(fam + "_count") and fam not in histograms]
        for fam in histograms[:1] or summaries[:1]:
            self._latency(samples, fam, scrape)
        counted = bool(scrape.requests)
        for name in self.request_counters:
            rows = samples.get(name)
            if not rows:
                continue
            requests_seen: dict[LabelKey, float] = {}
            errors_seen: dict[LabelKey, float] = {}
            for labels, value in rows:
                key = (("__name__", name), *_key(labels))
                requests_seen[key] = float(value)
                if _is_error(labels):
                    errors_seen[key] = float(value)
            if not counted:
                scrape.requests = requests_seen
            if errors_seen or not scrape.errors:
                scrape.errors = errors_seen
            scrape.found.append(name)
            break
        if self.error_counter and samples.get(self.error_counter):
            scrape.errors = {_key(labels): float(v) for labels, v in samples[self.error_counter]}
        for hits_name, misses_name in self.cache_pairs:
            if hits_name in samples or misses_name in samples:
                scrape.hits = {_key(lb): float(v) for lb, v in samples.get(hits_name, ())}
                scrape.misses = {_key(lb): float(v) for lb, v in samples.get(misses_name, ())}
                scrape.found.append(hits_name)
                break
        for name, metric in (*known.BUSINESS_COUNTERS,
                             (known.REDIS_EXPORTER_EVICTIONS, metrics.EVICTIONS_RATE)):
            if name in samples:
                scrape.counters[metric] = {_key(lb): float(v) for lb, v in samples[name]}
        for name in known.FULL_SCAN_COUNTERS:
            if name in samples:
                scrape.counters[metrics.FULL_SCANS_RATE] = {
                    _key(lb): float(v) for lb, v in samples[name]}
        for name, metric in ((known.REDIS_EXPORTER_MEMORY, metrics.MEMORY_BYTES),
                             (known.REDIS_EXPORTER_CLIENTS, metrics.CLIENTS)):
            for _labels, value in _unique(samples.get(name, ())).values():
                scrape.gauges.append((metric, (), float(value)))
        for name in known.TABLE_ROW_GAUGES:
            for labels, value in _unique(samples.get(name, ())).values():
                scrape.gauges.append((metrics.TABLE_ROWS, _key(labels), float(value)))
        redis_gauges, scrape.gauges = scrape.gauges, []  # after the queues', as ever
        for name, metric in self.queue_gauges:  # last: their rows are used up as they are read
            rows = samples.get(name) or []
            rows.reverse()
            last: dict[LabelKey, tuple[str, float]] = {}  # a repeated series counts once
            while rows:  # each row freed once read: 100,000 queues are not held twice
                labels, value = rows.pop()
                last[_key(labels)] = (_queue_name(labels, name), float(value))
            folded = last.pop(_key(OTHER_LABELS), None)  # the sum of the label sets past the cap
            scrape.gauges.extend((metric, (("queue", queue),), value)
                                 for queue, value in last.values())
            if folded is not None:
                scrape.gauges.append((metric, _key(OTHER_LABELS), folded[1]))
        scrape.gauges.extend(redis_gauges)
        return scrape

    def _latency(self, samples: Samples, fam: str, scrape: _Scrape) -> None:
        """One latency family's buckets (or a summary's quantiles), counts and errors."""
        counts = _unique(samples.get(fam + "_count", ()))
        by_set: dict[LabelKey, dict[float, float]] = {}
        for (labels, value) in _unique(samples.get(fam + "_bucket", ()), "le").values():
            try:
                le = float(labels["le"])
            except (KeyError, ValueError):
                continue
            by_set.setdefault(_key(labels, "le"), {})[le * self.scale] = value
        for key, buckets in by_set.items():
            if math.inf not in buckets and key in counts:  # no +Inf: the page's _count is
                buckets[math.inf] = counts[key][1]          # how many there were
            scrape.histogram[key] = sorted(buckets.items())
        for labels, value in _unique(samples.get(fam, ())).values():
            try:
                q = float(labels.get("quantile", ""))
            except ValueError:
                continue
            if not math.isnan(value):
                scrape.quantiles[q] = max(scrape.quantiles.get(q, -math.inf), value * self.scale)
        for key, (labels, value) in counts.items():
            scrape.requests[key] = value
            if _is_error(labels):
                scrape.errors[key] = value
        sums = _unique(samples.get(fam + "_sum", ()))
        scrape.latency_sum = {key: value * self.scale for key, (_lb, value) in sums.items()}
        scrape.found.append(fam)

    def readings(self, scrape: _Scrape, previous: _Scrape | None, ts: float) -> list[Reading]:
        """Readings of a scrape; rates and windowed quantiles need the previous scrape."""
        out: list[Reading] = []

        def add(metric: str, value: float | None, labels: dict[str, str] | None = None) -> None:
            if value is not None and not math.isnan(value):
                out.append(Reading(series_name(self.source, metric, labels), ts, value))

        add(metrics.UP, 1.0)
        dt = scrape.mono - previous.mono if previous is not None else 0.0
        windowed = previous is not None and dt > 0
        if previous is not None:
            for before, after in ((previous.histogram, scrape.histogram),
                                  (previous.requests, scrape.requests),
                                  (previous.errors, scrape.errors),
                                  (previous.hits, scrape.hits), (previous.misses, scrape.misses),
                                  (previous.latency_sum, scrape.latency_sum)):
                _carry(before, after)
            for metric, series in previous.counters.items():
                _carry(series, scrape.counters.setdefault(metric, {}))
        if scrape.quantiles:  # a summary: the quantiles it publishes, as they are
            for metric, q in metrics.LATENCY_QUANTILES:
                add(metric, scrape.quantiles.get(q))
        elif windowed and scrape.latency_sum and not scrape.histogram:
            assert previous is not None  # a summary without quantiles: the window's mean
            done = _increase(previous.requests, scrape.requests)
            if done > 0:
                add(metrics.LATENCY_MEAN,
                    _increase(previous.latency_sum, scrape.latency_sum) / done)
        if scrape.histogram and windowed:
            # quantiles of the window only: a first scrape's buckets hold every request
            # since the app started, which says nothing of now
            assert previous is not None
            buckets = window_buckets(previous.histogram, scrape.histogram)
            count = total_count(buckets)
            add(metrics.LATENCY_COUNT, count)
            if count > 0:
                for metric, q in metrics.LATENCY_QUANTILES:
                    add(metric, histogram_quantile(q, buckets))
        if windowed:
            assert previous is not None
            if scrape.requests:
                requests_done = _increase(previous.requests, scrape.requests)
                add(metrics.REQUEST_RATE, requests_done / dt)
                errors_done = _increase(previous.errors, scrape.errors)
                add(metrics.ERROR_RATE, errors_done / dt)
                if requests_done > 0:
                    add(metrics.ERROR_RATIO, min(1.0, errors_done / requests_done))
            if scrape.hits or scrape.misses:
                hits = _increase(previous.hits, scrape.hits)
                misses = _increase(previous.misses, scrape.misses)
                add(metrics.CACHE_LOOKUPS, hits + misses)
                add(metrics.CACHE_HITS_RATE, hits / dt)
                add(metrics.CACHE_MISSES_RATE, misses / dt)
                if hits + misses > 0:
                    add(metrics.CACHE_HIT_RATE, hits / (hits + misses))
            for metric, series in scrape.counters.items():
                if metric in PER_LABEL_RATES:
                    self._smoothed_rates(metric, scrape, previous, add)
                    continue
                grown = _increase(previous.counters.get(metric, {}), series)
                per_minute = metric in (metrics.BOOKINGS_RATE, metrics.ORDERS_RATE)
                add(metric, grown / dt * (60.0 if per_minute else 1.0))
        elif scrape.hits or scrape.misses:
            # since the app started: context, never judged
            hits, misses = sum(scrape.hits.values()), sum(scrape.misses.values())
            add(metrics.CACHE_LOOKUPS_SINCE_START, hits + misses)
            if hits + misses > 0:
                add(metrics.CACHE_HIT_RATE_SINCE_START, hits / (hits + misses))
        totals: dict[tuple[str, LabelKey], float] = {}
        for metric, labels_key, value in scrape.gauges:
            key = (metric, labels_key)
            totals[key] = totals.get(key, 0.0) + value
        for (metric, labels_key), value in totals.items():
            add(metric, value, dict(labels_key) or None)
        return out


    @staticmethod
    def _smoothed_rates(metric: str, scrape: _Scrape, previous: _Scrape,
                        add: Callable[[str, float | None, dict[str, str] | None], None]
                        ) -> None:
        """Each label set's rate since the oldest scrape of the last SMOOTHED_RATE_S (a
        label set's first count gives none yet; a reset counts from zero, as Prometheus)."""
        history = [(mono, counts) for mono, counts in previous.earlier.get(metric, ())
                   if mono >= scrape.mono - SMOOTHED_RATE_S]
        history.append((previous.mono, previous.counters.get(metric, {})))
        scrape.earlier[metric] = history
        base_mono, base = history[0]
        span = scrape.mono - base_mono
        for label_set, count in scrape.counters[metric].items():
            if label_set in base and span > 0:
                add(metric, counter_increase(base[label_set], count) / span,
                    dict(label_set) or None)


class PrometheusCollector:
    """Scrapes an app's or exporter's ``/metrics`` page (text format) over HTTP."""

    kind = "prometheus"

    def __init__(self, name: str, url: str, session: requests.Session, *,
                 interval_s: float = 10.0, timeout_s: float = 5.0, verify_tls: bool = True,
                 ca_bundle: str | None = None, auth: tuple[str, str] | None = None,
                 families: dict[str, str] | None = None, unit: str = "s",
                 max_series: int = 0, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._session = session
        self._verify = verify_option(verify_tls, ca_bundle)
        self._auth = auth
        self._reader = PrometheusPageReader(name, families, unit, max_series)
        self._page_process = PageProcess()  # started at the first page over BIG_PAGE_BYTES
        self._previous: _Scrape | None = None
        #: Requests counted on the last pages: counters that go down again and again mean
        #: several processes answer /metrics, each with its own counters.
        self._totals: deque[float] = deque(maxlen=MULTIPROCESS_SCRAPES)
        self._clock = clock
        self._monotonic = monotonic

    def collect(self) -> CollectorReport:
        fetched = fetch(self._session, self.url, timeout_s=self.timeout_s, verify=self._verify,
                        headers={"Accept": ACCEPT}, auth=self._auth, max_bytes=MAX_PAGE_BYTES,
                        refuse_larger=True)
        check_status(fetched, self.url, "metrics page")
        if fetched.truncated:
            raise BadResponse(f"the metrics page at {mask_url(self.url)} is larger than "
                              f"{MAX_PAGE_BYTES // MIB} MiB; scrape a smaller endpoint")
        with gc_held():  # a page of 100,000 samples: no full collection per 25 % of them
            return self._report(fetched.body)  # decoded a piece at a time as it is read

    def _scrape(self, body: str | bytes | bytearray) -> _Scrape:
        """The page's scrape: a very large page read in a child process (its parse would
        hold the GIL the GUI thread needs for 0.3 s and more), a page of usual size here."""
        mono = self._monotonic()
        if len(body) < BIG_PAGE_BYTES or isinstance(body, str):
            return self._reader.scrape(body, mono)
        try:
            scrape, self._reader = self._page_process.scrape(self._reader, body, mono,
                                                             self.timeout_s)
        except PageTimeout as err:
            raise SourceTimeout(f"reading the {len(body) / MIB:.0f} MiB metrics page at "
                                f"{mask_url(self.url)} took over {self.timeout_s:g} s; "
                                "scrape a smaller endpoint or set max_series") from err
        except ChildGone:
            if self._page_process.closed:
                raise
            return self._reader.scrape(body, mono)  # the child died: this page is read here
        assert isinstance(scrape, _Scrape)
        return scrape

    def _report(self, text: str | bytes | bytearray) -> CollectorReport:
        try:
            scrape = self._scrape(text)
        except PromParseError as err:
            raise BadResponse(f"{mask_url(self.url)} is not a Prometheus metrics page "
                              f"({server_said(err, self._auth)}); check the URL points at "
                              "/metrics") from err
        if scrape.down:  # the exporter answers; what it exports does not
            said = ", ".join(f"{name} 0" for name, _ in scrape.down)
            raise SourceUnreachable(
                f"the exporter at {mask_url(self.url)} answers but cannot reach "
                f"{', '.join(what for _, what in scrape.down)} ({said}); check that it runs "
                "and the address the exporter is given")
        previous, self._previous = self._previous, scrape
        self._totals.append(sum(scrape.requests.values()))  # 0: a worker that served none
        readings = self._reader.readings(scrape, previous, self._clock())
        status = Status.OK
        drops = sum(1 for a, b in itertools.pairwise(self._totals) if b < a)
        if drops >= MULTIPROCESS_DROPS:
            status = Status.WARN
            detail = (f"request counters went down {drops} times in the last "
                      f"{len(self._totals)} scrapes: several processes (e.g. gunicorn workers) "
                      "answer /metrics, each with its own counters, so rates are wrong; "
                      "use prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR and "
                      "MultiProcessCollector; prometheus-flask-exporter: "
                      "GunicornPrometheusMetrics)")
        elif scrape.found or scrape.gauges:
            detail = f"{len(readings)} readings from {', '.join(scrape.found) or 'gauges'}"
        else:
            status = Status.WARN
            detail = ("none of the known request, cache or queue metrics on this page; name "
                      "yours in the source's metrics table")
        facts = [("families", ", ".join(scrape.found))]
        if known.REDIS_EXPORTER_HITS in scrape.found:  # redis_exporter: INFO's counters
            facts.append(REDIS_HIT_RATE_SCOPE)
            detail += "; server-wide hit rate (every database of this Redis)"
        scrape.gauges.clear()  # kept for the next rates, which need no gauges (100,000 of them)
        return CollectorReport(readings=tuple(readings), detail=detail, status=status,
                               facts=tuple(facts), folded=tuple(scrape.folded.items()))

    def close(self) -> None:
        """Ends the child that reads large pages; the session is shared and closed by
        whoever made it."""
        self._page_process.close()


def readings_from_text(source: str, texts: Iterable[tuple[str, float]],
                       families: dict[str, str] | None = None,
                       unit: str = "s") -> list[Reading]:
    """Readings of the last of several pages (text, monotonic time), for tests and tools."""
    reader = PrometheusPageReader(source, families, unit)
    previous: _Scrape | None = None
    readings: list[Reading] = []
    for text, mono in texts:
        scrape = reader.scrape(text, mono)
        readings = reader.readings(scrape, previous, mono)
        previous = scrape
    return readings
