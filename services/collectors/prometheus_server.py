"""A Prometheus server's HTTP API: PromQL for latency quantiles, rates, cache and queues."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

import requests

from console import metrics
from console.domain import CollectorReport, Reading, Status, series_name, split_series
from console.redaction import mask_url
from services.collectors import known_metrics as known
from services.collectors._cache import REDIS_HIT_RATE_SCOPE
from services.collectors.promql import (
    bucket_count_query,
    default_queries,
    latency_families,
    parse_duration,
    rate_window,
    series_count_query,
)
from services.errors import BadResponse, SourceTimeout
from services.http.client import MIB, check_status, fetch, server_said, verify_option

__all__ = ["PrometheusServerCollector", "default_queries"]

RATE_WINDOW = "1m"
log = logging.getLogger(__name__)
#: How long the learnt scrape interval and latency family are trusted before asking again.
PLAN_TTL_S = 600.0

#: Metrics whose result keeps one series per queue (label queue/queue_name/name).
PER_QUEUE = frozenset({metrics.QUEUE_DEPTH, metrics.QUEUE_CONSUMERS, metrics.QUEUE_READY,
                       metrics.QUEUE_UNACKED})
#: Metrics that add up across the series of one answer (rates, counts); any other (ratios,
#: quantiles) is never summed: several series stay apart under their own labels.
ADDITIVE = frozenset({metrics.REQUEST_RATE, metrics.ERROR_RATE, metrics.LATENCY_COUNT,
                      metrics.CACHE_HITS_RATE, metrics.CACHE_MISSES_RATE,
                      metrics.BOOKINGS_RATE, metrics.ORDERS_RATE, metrics.EVICTIONS_RATE,
                      metrics.CLIENTS, metrics.MEMORY_BYTES})
_EQUALITY = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _equalities(selector: str) -> dict[str, str]:
    """The ``label="value"`` matchers of a selector (others are not needed to find targets)."""
    found = {}
    for match in _EQUALITY.finditer(selector):
        before = selector[max(0, match.start(2) - 3):match.start(2)]
        if "!" not in before and "~" not in before:
            found[match.group(1)] = match.group(2)
    return found


class PrometheusServerCollector:
    """Runs one instant PromQL query per standard metric against ``/api/v1/query``, all at
    one instant and sharing the source's timeout as a deadline. Rates span at least four
    scrape intervals (the profile's ``scrape_interval_s``, else the targets' own); with
    ``group_by`` each group's figures are read as well, from that group's counters."""

    kind = "prometheus-server"

    def __init__(self, name: str, url: str, session: requests.Session, *,
                 interval_s: float = 15.0, timeout_s: float = 5.0, verify_tls: bool = True,
                 ca_bundle: str | None = None, auth: tuple[str, str] | None = None,
                 queries: dict[str, str] | None = None, selector: str = "",
                 families: dict[str, str] | None = None, group_by: tuple[str, ...] = (),
                 scrape_interval_s: float | None = None, unit: str = "s",
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._session = session
        self._verify = verify_option(verify_tls, ca_bundle)
        self._auth = auth
        self._selector = selector
        #: Seconds per unit of the latency family (quantiles of a histogram in ms are ms).
        self._scale = 0.001 if unit == "ms" else 1.0
        self._families = dict(families or {})
        self._custom = dict(queries or {})
        self.group_by = tuple(group_by)
        self._given_interval_s = scrape_interval_s or None
        self.scrape_interval_s = self._given_interval_s
        self._latency: str | None = None
        #: The cache counters are redis_exporter's: a Redis server's, every database of it.
        self._redis_cache = False
        self._planned_at: float | None = None
        self.window = rate_window(self.scrape_interval_s)
        self.queries: dict[str, str] = {}
        self.group_queries: dict[str, str] = {}
        #: Only these standard metrics are asked for (None: every one); see :meth:`keep_only`.
        self._only: frozenset[str] | None = None
        self._build()
        self._clock = clock

    def _build(self) -> None:
        self.window = rate_window(self.scrape_interval_s)
        self.queries = default_queries(self._selector, self._families, self.window,
                                       latency=self._latency)
        self.queries.update(self._custom)
        self.group_queries = {}
        if self.group_by:
            grouped = default_queries(self._selector, self._families, self.window,
                                      by=self.group_by, latency=self._latency)
            self.group_queries = {m: q for m, q in grouped.items() if m not in self._custom}
        if self._only is not None:
            self.queries = {m: q for m, q in self.queries.items() if m in self._only}
            self.group_queries = {m: q for m, q in self.group_queries.items()
                                  if m in self._only}

    def keep_only(self, wanted: frozenset[str]) -> None:
        """Ask only for these standard metrics from now on (a summary of the shop, as the
        overview of every shop reads it: a few queries instead of every one)."""
        self._only = wanted
        self._build()

    def _plan(self, deadline: float) -> None:
        """Learn (every PLAN_TTL_S, every collect until found) the scrape interval and the
        finest latency histogram."""
        now = time.monotonic()
        if self._planned_at is not None and now - self._planned_at < PLAN_TTL_S:
            return
        self._planned_at = now
        if self._given_interval_s is None:
            try:
                self.scrape_interval_s = self._target_interval(deadline)
            except BadResponse as err:
                log.debug("%s: no scrape interval from /api/v1/targets: %s", self.name, err)
        names = latency_families(self._families)
        if len(names) > 1:
            try:
                counts = self.query(bucket_count_query(names, self._selector), deadline)
            except BadResponse as err:
                log.debug("%s: could not count latency buckets: %s", self.name, err)
                counts = []
            ranked = sorted(((-value, names.index(labels.get("__name__", "")[:-7]))
                             for labels, value in counts
                             if labels.get("__name__", "")[:-7] in names))
            self._latency = names[ranked[0][1]] if ranked else None
            if not ranked:
                self._planned_at = None  # no histogram yet: ask again next time
        if "cache_hits" not in self._families:
            try:
                self._redis_cache = bool(self.query(
                    series_count_query(known.REDIS_EXPORTER_HITS, self._selector), deadline))
            except BadResponse as err:
                log.debug("%s: could not look for redis_exporter: %s", self.name, err)
        if self.scrape_interval_s is None:
            self._planned_at = None
        self._build()

    def _target_interval(self, deadline: float) -> float | None:
        """The longest scrape interval among the active targets the selector names."""
        data = self._api("/api/v1/targets", {"state": "active"}, deadline)
        wanted = _equalities(self._selector)
        longest: float | None = None
        try:
            for target in data.get("activeTargets", []):
                labels = target.get("labels", {})
                if any(labels.get(k) != v for k, v in wanted.items()):
                    continue
                seconds = parse_duration(str(target.get("scrapeInterval", "")))
                if seconds is not None and (longest is None or seconds > longest):
                    longest = seconds
        except (AttributeError, TypeError) as err:
            raise BadResponse("targets in a shape the Prometheus API does not use") from err
        return longest

    def _api(self, path: str, params: dict[str, str], deadline: float) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SourceTimeout(f"{mask_url(self.url)} did not answer all queries within "
                                f"{self.timeout_s:g} s; raise timeout_s or trim the queries")
        url = self.url + path
        fetched = fetch(self._session, url, timeout_s=remaining, verify=self._verify,
                        auth=self._auth, params=params, max_bytes=16 * MIB,
                        headers={"Accept": "application/json"})
        if fetched.status in {400, 422}:
            payload = _json(fetched.body, url)
            raise BadResponse(f"Prometheus rejected the query {params.get('query', '')!r}: "
                              f"{server_said(payload.get('error', 'bad query'), self._auth)}")
        check_status(fetched, url, "Prometheus API")
        payload = _json(fetched.body, url)
        if payload.get("status") != "success":
            raise BadResponse("Prometheus answered an error: "
                              f"{server_said(payload.get('error', payload), self._auth)}")
        return payload.get("data", {})

    def query(self, expr: str, deadline: float | None = None,
              at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query (at ``at``, epoch seconds, else now): (labels, value) per series
        (a scalar gives one unlabelled)."""
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout_s
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._api("/api/v1/query", params, deadline)
        return _vector(data, self.url)

    def query_range(self, expr: str, start: float, end: float,
                    step_s: float) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """A range query: (labels, [(ts, value), ...]) per series, e.g. to fill history."""
        deadline = time.monotonic() + self.timeout_s
        data = self._api("/api/v1/query_range",
                         {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                          "step": f"{max(step_s, 0.001):g}"}, deadline)
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise BadResponse(f"{mask_url(self.url)} gave no matrix for a range query")
        out = []
        try:
            for item in data.get("result", []):
                points = [(float(ts), _number(v)) for ts, v in item.get("values", [])]
                out.append((_label_map(item.get("metric", {})), points))
        except (AttributeError, TypeError, ValueError, OverflowError) as err:
            raise BadResponse(f"{mask_url(self.url)} gave a range result in a shape the "
                              "Prometheus API does not use") from err
        return out

    def range_readings(self, metric: str, start: float, end: float,
                       step_s: float) -> list[Reading]:
        """History of one standard metric as readings (all series summed, per queue kept)."""
        readings = []
        for labels, points in self.query_range(self.queries[metric], start, end, step_s):
            series = series_name(self.name, metric, self._labels(metric, labels))
            readings += [Reading(series, ts, v) for ts, v in points if not math.isnan(v)]
        return readings

    def _labels(self, metric: str, labels: dict[str, str]) -> dict[str, str] | None:
        if metric not in PER_QUEUE:
            return None
        for name in known.QUEUE_LABELS:
            if labels.get(name):
                return {"queue": labels[name]}
        return {"queue": labels.get("__name__", "queue")}

    def _version(self, deadline: float) -> str | None:
        """The server's version; Prometheus-compatible servers without buildinfo give None."""
        try:
            build = self._api("/api/v1/status/buildinfo", {}, deadline)
        except BadResponse as err:
            log.debug("%s: no build info: %s", self.name, err)
            return None
        version = build.get("version") if isinstance(build, dict) else None
        return version if isinstance(version, str) else None

    def _figures(self, metric: str, answer: list[tuple[dict[str, str], float]],
                 group: tuple[str, ...]) -> dict[tuple[tuple[str, str], ...], float]:
        """Values by label set: per queue, per group, summed where adding up is right."""
        out: dict[tuple[tuple[str, str], ...], float] = {}
        scale = self._scale if metric in metrics.SECONDS_METRICS else 1.0
        for labels, raw in answer:
            if math.isnan(raw):
                continue
            value = raw * scale
            if group:
                keep: dict[str, str] | None = {g: labels.get(g, "") for g in group}
                if metric in PER_QUEUE:  # each group's queues
                    keep = {**(self._labels(metric, labels) or {}), **(keep or {})}
            elif metric in PER_QUEUE:
                keep = self._labels(metric, labels)
            elif metric in ADDITIVE or len(answer) == 1:
                keep = None
            else:
                keep = {k: v for k, v in labels.items() if k != "__name__"}
            key = tuple(sorted((keep or {}).items()))
            out[key] = out.get(key, 0.0) + value if metric in ADDITIVE else value
        return out

    def collect(self) -> CollectorReport:
        deadline = time.monotonic() + self.timeout_s
        self._plan(deadline)
        version = self._version(deadline)
        at = self._clock()
        readings = [Reading(series_name(self.name, metrics.UP), at, 1.0)]
        empty = []
        for queries, group in ((self.queries, ()), (self.group_queries, self.group_by)):
            for metric, expr in queries.items():
                figures = self._figures(metric, self.query(expr, deadline, at), group)
                if not figures and not group:
                    empty.append(metric)
                for key, value in figures.items():
                    readings.append(Reading(series_name(self.name, metric, dict(key) or None),
                                            at, value))
        readings += self._error_ratios(readings, at)
        detail = f"{len(readings)} readings from {len(self.queries)} queries"
        if self.scrape_interval_s:
            detail += (f" (rates over {self.window}, targets scraped every "
                       f"{self.scrape_interval_s:g} s)")
        status = Status.OK
        facts: tuple[tuple[str, str], ...] = ()
        if self._redis_cache and any(split_series(r.series)[1] == metrics.CACHE_HIT_RATE
                                     for r in readings):
            facts = (REDIS_HIT_RATE_SCOPE,)
            detail += "; server-wide hit rate (every database of each Redis)"
        if len(readings) == 1:
            status = Status.WARN
            detail = (f"no data over the last {self.window}: no known request, cache or queue "
                      "metric matched; check the selector and that the targets are up")
        elif empty:
            detail += f"; no data for {', '.join(sorted(empty))}"
        return CollectorReport(readings=tuple(readings), detail=detail, status=status,
                               server_version=version, facts=facts)

    def _error_ratios(self, readings: list[Reading], at: float) -> list[Reading]:
        """Errors over requests for the whole and each group, from the summed rates."""
        if metrics.ERROR_RATIO in self._custom:
            return []
        requests_: dict[tuple[tuple[str, str], ...], float] = {}
        errors: dict[tuple[tuple[str, str], ...], float] = {}
        for reading in readings:
            _source, metric, labels = split_series(reading.series)
            if metric == metrics.REQUEST_RATE:
                requests_[tuple(sorted(labels.items()))] = reading.value
            elif metric == metrics.ERROR_RATE:
                errors[tuple(sorted(labels.items()))] = reading.value
        return [Reading(series_name(self.name, metrics.ERROR_RATIO, dict(key) or None), at,
                        min(1.0, errors[key] / rate))
                for key, rate in requests_.items() if rate and key in errors]

    def close(self) -> None:
        """The session is shared and closed by whoever made it."""


def _json(body: bytes | bytearray, url: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise BadResponse(f"{mask_url(url)} did not answer JSON; is this a Prometheus server "
                          "(not a /metrics page)?") from err
    if not isinstance(payload, dict):
        raise BadResponse(f"{mask_url(url)} answered JSON that is not a Prometheus API answer")
    return payload


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a 400-digit integer
        return math.nan


def _vector(data: Any, url: str) -> list[tuple[dict[str, str], float]]:
    try:
        return _read_vector(data, url)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        raise BadResponse(f"{mask_url(url)} gave a query result in a shape the Prometheus "
                          "API does not use") from err


def _read_vector(data: Any, url: str) -> list[tuple[dict[str, str], float]]:
    if not isinstance(data, dict):
        raise BadResponse(f"{mask_url(url)} gave an unexpected query result")
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [({}, _number(result[1]))]
    if kind != "vector" or not isinstance(result, list):
        raise BadResponse(f"{mask_url(url)} gave a {kind!r} result where a vector was expected")
    out = []
    for item in result:
        value = item.get("value", [None, "NaN"])
        out.append((_label_map(item.get("metric", {})), _number(value[1])))
    return out


def _label_map(metric: Any) -> dict[str, str]:
    """Series labels as text (a ``dict()`` of anything else raises TypeError/ValueError)."""
    return {str(k): str(v) for k, v in dict(metric).items()}
