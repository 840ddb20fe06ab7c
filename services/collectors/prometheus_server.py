"""A Prometheus server's HTTP API: PromQL for latency quantiles, rates, cache and queues."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import requests

from console import metrics
from console.domain import CollectorReport, Reading, Status, series_name
from console.redaction import mask_url
from services.collectors import known_metrics as known
from services.collectors._http import MIB, check_status, fetch, server_said, verify_option
from services.collectors.base import BadResponse, SourceTimeout

RATE_WINDOW = "1m"


def _regex(names: tuple[str, ...] | list[str], suffix: str = "") -> str:
    return "|".join(name + suffix for name in names)


def default_queries(selector: str = "", families: dict[str, str] | None = None,
                    window: str = RATE_WINDOW) -> dict[str, str]:
    """PromQL for each standard metric, over every series the server has (``selector``, e.g.
    ``job="shop"``, narrows them; ``families`` renames families as for a /metrics page)."""
    overrides = families or {}
    extra = f", {selector}" if selector.strip() else ""
    latency = [overrides["latency"]] if "latency" in overrides else list(
        known.LATENCY_HISTOGRAMS)
    requests_ = [overrides["requests"]] if "requests" in overrides else list(
        known.REQUEST_COUNTERS)
    if "cache_hits" in overrides and "cache_misses" in overrides:
        hits, misses = [overrides["cache_hits"]], [overrides["cache_misses"]]
    else:
        hits = [h for h, _ in known.CACHE_COUNTERS]
        misses = [m for _, m in known.CACHE_COUNTERS]
    depth = [overrides["queue_depth"]] if "queue_depth" in overrides else [
        name for name, metric in known.QUEUE_GAUGES if metric == metrics.QUEUE_DEPTH]
    consumers = [name for name, metric in known.QUEUE_GAUGES
                 if metric == metrics.QUEUE_CONSUMERS]

    def sel(names: list[str], suffix: str = "", more: str = "") -> str:
        return f'{{__name__=~"{_regex(names, suffix)}"{extra}{more}}}'

    def rate(names: list[str], suffix: str = "", more: str = "") -> str:
        return f"sum(rate({sel(names, suffix, more)}[{window}]))"

    buckets = f"sum by (le) (rate({sel(latency, '_bucket')}[{window}]))"
    errors = " or ".join(
        [rate(requests_, "", f', {label}=~"5.*"') for label in known.STATUS_LABELS]
        + [rate(latency, "_count", f', {label}=~"5.*"') for label in known.STATUS_LABELS]
        + [f"({rate(requests_)} * 0)", f"({rate(latency, '_count')} * 0)"])
    queries = {
        metric: f"histogram_quantile({q}, {buckets})" for metric, q in metrics.LATENCY_QUANTILES
    }
    queries[metrics.LATENCY_COUNT] = f"sum(increase({sel(latency, '_count')}[{window}]))"
    queries[metrics.REQUEST_RATE] = f"{rate(latency, '_count')} or {rate(requests_)}"
    queries[metrics.ERROR_RATE] = errors
    queries[metrics.CACHE_HITS_RATE] = rate(hits)
    queries[metrics.CACHE_MISSES_RATE] = rate(misses)
    queries[metrics.CACHE_HIT_RATE] = f"{rate(hits)} / ({rate(hits)} + {rate(misses)})"
    queries[metrics.QUEUE_DEPTH] = sel(depth)
    queries[metrics.QUEUE_CONSUMERS] = sel(consumers)
    queries[metrics.BOOKINGS_RATE] = f"{rate(['shop_bookings_created_total'])} * 60"
    queries[metrics.ORDERS_RATE] = f"{rate(['shop_orders_created_total'])} * 60"
    return queries


#: Metrics whose result keeps one series per queue (label queue/queue_name/name).
PER_QUEUE = frozenset({metrics.QUEUE_DEPTH, metrics.QUEUE_CONSUMERS, metrics.QUEUE_READY,
                       metrics.QUEUE_UNACKED})


class PrometheusServerCollector:
    """Runs one instant PromQL query per standard metric against ``/api/v1/query``; all of
    one collect share the source's timeout as a deadline."""

    kind = "prometheus-server"

    def __init__(self, name: str, url: str, session: requests.Session, *,
                 interval_s: float = 15.0, timeout_s: float = 5.0, verify_tls: bool = True,
                 ca_bundle: str | None = None, auth: tuple[str, str] | None = None,
                 queries: dict[str, str] | None = None, selector: str = "",
                 families: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._session = session
        self._verify = verify_option(verify_tls, ca_bundle)
        self._auth = auth
        self.queries = default_queries(selector, families)
        self.queries.update(queries or {})
        self._clock = clock

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

    def query(self, expr: str, deadline: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query: (labels, value) per series (a scalar gives one unlabelled)."""
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout_s
        data = self._api("/api/v1/query", {"query": expr}, deadline)
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

    def collect(self) -> CollectorReport:
        deadline = time.monotonic() + self.timeout_s
        build = self._api("/api/v1/status/buildinfo", {}, deadline)
        version = build.get("version") if isinstance(build, dict) else None
        version = version if isinstance(version, str) else None
        ts = self._clock()
        readings = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]
        empty = []
        for metric, expr in self.queries.items():
            totals: dict[tuple[tuple[str, str], ...], float] = {}
            for labels, value in self.query(expr, deadline):
                if math.isnan(value):
                    continue
                key = tuple(sorted((self._labels(metric, labels) or {}).items()))
                totals[key] = totals.get(key, 0.0) + value
            if not totals:
                empty.append(metric)
            for key, value in totals.items():
                readings.append(Reading(series_name(self.name, metric, dict(key) or None),
                                        ts, value))
        rates = {r.series: r.value for r in readings}
        requests_per_s = rates.get(series_name(self.name, metrics.REQUEST_RATE))
        errors_per_s = rates.get(series_name(self.name, metrics.ERROR_RATE))
        if requests_per_s and errors_per_s is not None and metrics.ERROR_RATIO not in self.queries:
            readings.append(Reading(series_name(self.name, metrics.ERROR_RATIO), ts,
                                    min(1.0, errors_per_s / requests_per_s)))
        detail = f"{len(readings)} readings from {len(self.queries)} queries"
        if empty:
            detail += f"; no data for {', '.join(sorted(empty))}"
        status = Status.OK if len(readings) > 1 else Status.WARN
        return CollectorReport(readings=tuple(readings), detail=detail, status=status,
                               server_version=version)

    def close(self) -> None:
        """The session is shared and closed by whoever made it."""


def _json(body: bytes, url: str) -> dict[str, Any]:
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
