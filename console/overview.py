"""Every shop at a glance: one row per profile (or per site of a grouped source), worst first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from console import metrics
from console.advisor import Thresholds, source_thresholds, thresholds_from_rules
from console.alert_rules import RuleSpec
from console.alerts import observe
from console.domain import Reading, Severity, Status, split_series

#: A rule of this severity over its line makes the row this status (info is only shown).
_SEVERITY_STATUS = {Severity.INFO: Status.OK, Severity.WARN: Status.WARN,
                    Severity.FAIL: Status.FAIL}
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ShopRow:
    """One shop as the overview shows it. ``group`` is empty for a whole profile and the
    group's labels (``(("site", "leeds"),)``) for one site of a grouped source; figures are
    None where the shop gave none (latency in seconds, ratios 0..1)."""

    shop: str
    profile: str
    status: Status
    p95_s: float | None = None
    error_ratio: float | None = None
    cache_hit_rate: float | None = None
    queue_depth: float | None = None
    alerts: tuple[str, ...] = ()
    last_reading: float | None = None
    problem: str = ""
    group: Labels = ()

    @property
    def group_words(self) -> str:
        """``site=leeds``: the group as one reads it, '' for a whole profile."""
        return ", ".join(f"{k}={v}" for k, v in self.group)


@dataclass(frozen=True, slots=True)
class SourceRead:
    """What reading one source of a profile gave: its readings, or why it gave none."""

    source: str
    readings: tuple[Reading, ...] = ()
    error: str = ""
    group_by: tuple[str, ...] = ()


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _figures(readings: Sequence[Reading], group: Labels | None, grouped: frozenset[str]
             ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Values per metric of the series that belong to the row (``group`` None: the whole
    profile's unlabelled series and its queues; else exactly that group's series), and the
    queue depth of each queue. A grouped source's queues are left out: one series per queue
    name stands for that queue at every site, so no sum of them is the chain's."""
    by_metric: dict[str, list[float]] = {}
    queues: dict[str, float] = {}
    for reading in readings:
        source, metric, labels = split_series(reading.series)
        if metric == metrics.QUEUE_DEPTH:
            if group is None and source not in grouped:
                queues[reading.series] = reading.value
            continue
        key = tuple(sorted(labels.items()))
        if (group is None and key) or (group is not None and key != group):
            continue
        by_metric.setdefault(metric, []).append(reading.value)
    return by_metric, queues


def _judge(p95: float | None, errors: float | None, cache: float | None,
           queue: float | None, t: Thresholds) -> list[tuple[Status, str]]:
    """The advisor's lines (the profile's rules where they set them) applied to a row."""
    out: list[tuple[Status, str]] = []
    if p95 is not None and p95 >= t.latency_p95_s:
        out.append((Status.FAIL if p95 >= t.latency_p95_fail_s else Status.WARN,
                    f"p95 {p95 * 1000:,.0f} ms"))
    if errors is not None and errors >= t.error_ratio_warn:
        out.append((Status.FAIL if errors >= t.error_ratio_fail else Status.WARN,
                    f"{errors:.1%} of requests failing"))
    if cache is not None and cache < t.cache_warn:
        out.append((Status.FAIL if cache < t.cache_fail else Status.WARN,
                    f"cache hit rate {cache:.0%}"))
    if queue is not None and queue > t.queue_depth:
        out.append((Status.WARN, f"{queue:,.0f} jobs queued"))
    return out


def _breached(rules: Sequence[RuleSpec], readings: Sequence[Reading], now: float
              ) -> list[RuleSpec]:
    """The rules over their line at this reading (a relative rule needs a history the
    overview does not keep, so it is not judged here)."""
    out = []
    for spec in rules:
        if spec.relative:
            continue
        value = observe(spec, readings, now, math.inf).value
        if value is None:
            continue
        if value > spec.threshold if spec.direction == "above" else value < spec.threshold:
            out.append(spec)
    return out


def _row(shop: str, profile: str, readings: Sequence[Reading], group: Labels | None,
         rules: Sequence[RuleSpec], lines: Mapping[str, Thresholds], errors: list[str],
         now: float, grouped: frozenset[str] = frozenset()) -> ShopRow:
    by_metric, queues = _figures(readings, group, grouped)
    p95s = _finite(by_metric.get(metrics.LATENCY_P95, []))
    ratios = _finite(by_metric.get(metrics.ERROR_RATIO, []))
    caches = _finite(by_metric.get(metrics.CACHE_HIT_RATE, []))
    depths = _finite(queues.values())
    p95, ratio = (max(p95s) if p95s else None), (max(ratios) if ratios else None)
    cache, depth = (min(caches) if caches else None), (sum(depths) if depths else None)
    mine = [r for r in readings
            if group is None or tuple(sorted(split_series(r.series)[2].items())) == group]
    sources = {split_series(r.series)[0] for r in mine}
    t = next((lines[s] for s in sorted(sources) if s in lines), Thresholds())
    verdicts = [(Status.FAIL, e) for e in errors] + _judge(p95, ratio, cache, depth, t)
    breached = _breached(rules, mine, now)
    verdicts += [(_SEVERITY_STATUS[r.severity], r.name) for r in breached]
    if not any(split_series(r.series)[1] != metrics.UP for r in mine) and not errors:
        verdicts.append((Status.WARN, "no figures: no request, cache or queue metric read"))
    status = Status.worst([s for s, _ in verdicts])
    problem = "; ".join(words for s, words in verdicts if s is status and s is not Status.OK)
    last = max((r.ts for r in mine), default=None)
    return ShopRow(shop=shop, profile=profile, status=status, p95_s=p95, error_ratio=ratio,
                   cache_hit_rate=cache, queue_depth=depth,
                   alerts=tuple(r.name for r in breached), last_reading=last,
                   problem=problem, group=group or ())


def summarise_profile(shop: str, profile: str, reads: Sequence[SourceRead],
                      rules: Sequence[RuleSpec], now: float,
                      sources: Iterable[object] = ()) -> list[ShopRow]:
    """The overview's rows of one profile: the whole shop, then one per group of each
    grouped source (``group_by``), each judged by the profile's alert rules and the
    advisor's lines. A source that could not be read makes the shop's row failing."""
    readings = [r for read in reads for r in read.readings]
    errors = [f"{read.source}: {read.error}" for read in reads if read.error]
    names = {read.source for read in reads}
    lines = source_thresholds(sources, thresholds_from_rules(rules, names))
    grouped = frozenset(read.source for read in reads if read.group_by)
    rows = [_row(shop, profile, readings, None, rules, lines, errors, now, grouped)]
    groups: set[Labels] = set()
    for read in reads:
        if not read.group_by:
            continue
        for reading in read.readings:
            labels = split_series(reading.series)[2]
            if labels and set(labels) == set(read.group_by):
                groups.add(tuple(sorted(labels.items())))
    for group in sorted(groups):
        rows.append(_row(shop, profile, readings, group, rules, lines, [], now, grouped))
    return rows


def failed_profile(shop: str, profile: str, problem: str) -> ShopRow:
    """The row of a profile that could not be read at all (invalid, unreadable)."""
    return ShopRow(shop=shop, profile=profile, status=Status.FAIL, problem=problem)


def worst_first(rows: Iterable[ShopRow]) -> list[ShopRow]:
    """Failing shops first, then warnings; within one status the most alerts, then the
    slowest p95, then the highest error ratio, then by name."""
    return sorted(rows, key=lambda r: (-r.status.rank, -len(r.alerts),
                                       -(r.p95_s if r.p95_s is not None else -1.0),
                                       -(r.error_ratio or 0.0), r.shop, r.group))


def worst_status(rows: Iterable[ShopRow]) -> Status:
    return Status.worst([r.status for r in rows])


# -- renderings ----------------------------------------------------------------------------------


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def row_to_dict(row: ShopRow) -> dict[str, object]:
    """One shop in ``backroom diagnose --all --json`` (latency in ms, ratios 0..1, the last
    reading in UTC epoch seconds, None where unknown)."""
    return {"shop": row.shop, "group": dict(row.group), "profile": row.profile,
            "status": row.status.value, "p95_ms": _ms(row.p95_s),
            "error_ratio": row.error_ratio, "cache_hit_rate": row.cache_hit_rate,
            "queue_depth": row.queue_depth, "alerts": list(row.alerts),
            "last_reading": row.last_reading, "problem": row.problem}


def shop_name(row: ShopRow) -> str:
    """'Main Street' or 'Chain · site=leeds': a row's name as a list shows it."""
    return f"{row.shop} · {row.group_words}" if row.group else row.shop


def age_words(ts: float | None, now: float) -> str:
    """'4 s ago', '3 min ago', '-' for no reading: how old a shop's last reading is."""
    if ts is None:
        return "-"
    age = max(0.0, now - ts)
    if age < 90:
        return f"{age:.0f} s ago"
    if age < 5400:
        return f"{age / 60:.0f} min ago"
    return f"{age / 3600:.0f} h ago"


def row_cells(row: ShopRow, now: float) -> list[str]:
    """The figures of a row as text: p95, errors, cache hit, queue, alerts, last reading."""
    return ["-" if row.p95_s is None else f"{row.p95_s * 1000:,.0f} ms",
            "-" if row.error_ratio is None else f"{row.error_ratio:.2%}",
            "-" if row.cache_hit_rate is None else f"{row.cache_hit_rate:.0%}",
            "-" if row.queue_depth is None else f"{row.queue_depth:,.0f}",
            str(len(row.alerts)) if row.alerts else "-",
            age_words(row.last_reading, now)]


HEADERS = ("status", "shop", "p95", "errors", "cache hit", "queue", "alerts", "last reading")


def render_overview(rows: Sequence[ShopRow], now: float) -> str:
    """The table of ``backroom diagnose --all``: one line per shop, worst first, then what
    is wrong with each shop that is not ok."""
    table = [list(HEADERS)] + [[row.status.value.upper(), shop_name(row), *row_cells(row, now)]
                               for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    out = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                     for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip()
           for line in table]
    problems = [f"{shop_name(r)}: {r.problem}" for r in rows if r.problem]
    if problems:
        out += ["", *problems]
    return "\n".join(out) + "\n"
