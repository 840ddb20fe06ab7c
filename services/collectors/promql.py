"""PromQL for each standard metric over a fleet: overall from summed counters, or per group."""

from __future__ import annotations

from console import metrics
from services.collectors import known_metrics as known

#: The shortest rate window; longer where the scrape interval asks for it.
MIN_WINDOW_S = 60.0
#: A rate needs two samples in its window; four intervals leave room for a missed scrape
#: (Grafana's $__rate_interval rule).
SCRAPES_PER_WINDOW = 4


def rate_window(scrape_interval_s: float | None) -> str:
    """The range of every rate(): at least a minute, at least four scrape intervals."""
    seconds = max(MIN_WINDOW_S, SCRAPES_PER_WINDOW * (scrape_interval_s or 0.0))
    return f"{round(seconds)}s"


def _regex(names: tuple[str, ...] | list[str], suffix: str = "") -> str:
    return "|".join(name + suffix for name in names)


def latency_families(families: dict[str, str] | None) -> list[str]:
    """The latency histograms looked for (the profile's, else the known ones)."""
    overrides = families or {}
    return [overrides["latency"]] if "latency" in overrides else list(known.LATENCY_HISTOGRAMS)


def bucket_count_query(names: list[str], selector: str = "") -> str:
    """How many bucket bounds each latency family has (to read the finest one)."""
    extra = f", {selector}" if selector.strip() else ""
    inner = f'{{__name__=~"{_regex(names, "_bucket")}"{extra}}}'
    return f"count by (__name__) (count by (__name__, le) ({inner}))"


def series_count_query(name: str, selector: str = "") -> str:
    """How many series of one metric the selector matches (none: an empty answer)."""
    extra = f", {selector}" if selector.strip() else ""
    return f'count({{__name__="{name}"{extra}}})'


def default_queries(selector: str = "", families: dict[str, str] | None = None,
                    window: str = "1m", by: tuple[str, ...] = (),
                    latency: str | None = None) -> dict[str, str]:
    """PromQL for each standard metric over every series the server has (``selector``, e.g.
    ``job="shop"``, narrows them; ``families`` renames families as for a /metrics page).

    Counters are summed before any ratio or quantile is taken; ``by`` keeps the groups
    (e.g. ``("site",)``) apart, so each group's ratio comes from that group's counters only.
    Queues are kept by name (per group too), a queue's depth added up across targets.
    ``latency`` names the one histogram family to read (else every known one)."""
    overrides = families or {}
    extra = f", {selector}" if selector.strip() else ""
    group = f" by ({', '.join(by)})" if by else ""
    le_group = f" by ({', '.join(('le', *by))})"
    latency_names = [latency] if latency else latency_families(families)
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
        return f"sum{group} (rate({sel(names, suffix, more)}[{window}]))"

    buckets = f"sum{le_group} (rate({sel(latency_names, '_bucket')}[{window}]))"
    errors = " or ".join(
        [rate(requests_, "", f', {label}=~"5.*"') for label in known.STATUS_LABELS]
        + [rate(latency_names, "_count", f', {label}=~"5.*"') for label in known.STATUS_LABELS]
        + [f"({rate(requests_)} * 0)", f"({rate(latency_names, '_count')} * 0)"])
    queries = {
        metric: f"histogram_quantile({q}, {buckets})" for metric, q in metrics.LATENCY_QUANTILES
    }
    queries[metrics.LATENCY_COUNT] = (
        f"sum{group} (increase({sel(latency_names, '_count')}[{window}]))")
    queries[metrics.REQUEST_RATE] = f"{rate(latency_names, '_count')} or {rate(requests_)}"
    queries[metrics.ERROR_RATE] = errors
    queries[metrics.CACHE_HITS_RATE] = rate(hits)
    queries[metrics.CACHE_MISSES_RATE] = rate(misses)
    queries[metrics.CACHE_HIT_RATE] = f"{rate(hits)} / ({rate(hits)} + {rate(misses)})"
    # queues by name, added up across the targets that report one (a chain's sites)
    queue_group = f" by ({', '.join((*by, '__name__', *known.QUEUE_LABELS))})"
    queries[metrics.QUEUE_DEPTH] = f"sum{queue_group} ({sel(depth)})"
    queries[metrics.QUEUE_CONSUMERS] = f"sum{queue_group} ({sel(consumers)})"
    queries[metrics.BOOKINGS_RATE] = f"{rate(['shop_bookings_created_total'])} * 60"
    queries[metrics.ORDERS_RATE] = f"{rate(['shop_orders_created_total'])} * 60"
    return queries


def parse_duration(text: str) -> float | None:
    """Seconds of a Prometheus duration such as ``15s``, ``1m``, ``1m30s``, ``500ms``."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0,
             "y": 31536000.0}
    total, number, pos = 0.0, "", 0
    try:
        while pos < len(text):
            char = text[pos]
            if char.isdigit():
                number += char
                pos += 1
                continue
            unit = "ms" if text.startswith("ms", pos) else char
            total += int(number) * units[unit]
            number = ""
            pos += len(unit)
    except (KeyError, ValueError):
        return None
    return total if total > 0 and not number else None
