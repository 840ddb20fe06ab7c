"""Alert rules: what a rule says (metric, source, threshold, for how long), and the defaults."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console import metrics
from console.domain import Severity, labels_text, series_name, split_series
from console.durations import format_duration

#: Fraction of the threshold a value must be back past before a firing alert resolves
#: (when the rule sets no ``resolve_margin``): 5 % of 0.80 hit rate is 0.04.
DEFAULT_MARGIN_FRACTION = 0.05
#: How long a series may be silent before the rule shows "no data".
DEFAULT_NO_DATA_AFTER_S = 30.0
#: How long a source must be down (per the poller) before the rule shows "error".
DEFAULT_ERROR_AFTER_S = 10.0
#: A relative rule's usual value needs at least this many readings in its baseline.
MIN_BASELINE_POINTS = 5
#: ... spread over at least this share of the baseline: a young console's first minute (a
#: quiet morning before the lunch rush) is no usual of 15 minutes; 5 min of them is.
MIN_BASELINE_SHARE = 1 / 3


_SEVERITY_ALIASES = {
    "info": Severity.INFO, "notice": Severity.INFO,
    "warn": Severity.WARN, "warning": Severity.WARN,
    "fail": Severity.FAIL, "critical": Severity.FAIL, "error": Severity.FAIL,
    "page": Severity.FAIL,
}


def parse_severity(text: object) -> Severity:
    """'warning' -> WARN, 'critical' -> FAIL; anything unknown is WARN."""
    return _SEVERITY_ALIASES.get(str(text or "warn").strip().lower(), Severity.WARN)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One alert rule as the engine reads it.

    Fires when ``metric`` of ``source`` (every series of it whose labels include ``labels``;
    the worst one counts) is above ``threshold`` (``direction`` 'above') or below it, for
    ``for_s`` seconds without a break. Resolves only once the value is back past the
    threshold by ``resolve_margin`` and stays there for ``resolve_for_s`` (hysteresis, so a
    value wobbling around the line neither flaps nor notifies twice). An empty ``source``
    means every source.

    A relative rule (``baseline_s`` > 0) compares each series with its own usual value, the
    median of its readings over the ``baseline_s`` before: ``threshold`` is then a factor
    ("request rate above 3x its usual"), and the engine is given the ratio now / usual.
    """

    name: str
    metric: str
    source: str
    direction: str
    threshold: float
    for_s: float = 0.0
    severity: Severity = Severity.WARN
    labels: tuple[tuple[str, str], ...] = ()
    resolve_margin: float = 0.0
    resolve_for_s: float = 0.0
    no_data_after_s: float = DEFAULT_NO_DATA_AFTER_S
    error_after_s: float = DEFAULT_ERROR_AFTER_S
    baseline_s: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in ("above", "below"):
            raise ValueError(f"rule {self.name!r}: direction must be 'above' or 'below'")
        if not math.isfinite(self.threshold):
            raise ValueError(f"rule {self.name!r}: the threshold must be a number")
        if self.for_s < 0 or self.resolve_for_s < 0 or self.resolve_margin < 0:
            raise ValueError(f"rule {self.name!r}: times and margins cannot be negative")
        if self.baseline_s < 0 or not math.isfinite(self.baseline_s):
            raise ValueError(f"rule {self.name!r}: the baseline cannot be negative")
        if self.baseline_s and self.threshold <= 0:
            raise ValueError(f"rule {self.name!r}: a relative threshold is a factor above 0")

    @property
    def relative(self) -> bool:
        """True when the threshold is a factor of the series' own usual value."""
        return self.baseline_s > 0

    @classmethod
    def create(cls, name: str, metric: str, source: str = "", *, above: float | None = None,
               below: float | None = None, for_s: float = 0.0,
               severity: str | Severity = Severity.WARN,
               labels: Mapping[str, str] | None = None, resolve_margin: float | None = None,
               resolve_for_s: float | None = None,
               no_data_after_s: float | None = None, baseline_s: float = 0.0) -> RuleSpec:
        """A rule with the defaults filled in: margin 5 % of the threshold, resolve period
        equal to ``for_s``; ``baseline_s`` makes it relative (see the class)."""
        if (above is None) == (below is None):
            raise ValueError(f"rule {name!r}: give exactly one of above or below")
        direction = "above" if above is not None else "below"
        threshold = float(above if above is not None else below)  # type: ignore[arg-type]
        margin = (abs(threshold) * DEFAULT_MARGIN_FRACTION if resolve_margin is None
                  else float(resolve_margin))
        return cls(
            name=name, metric=metric, source=source or "", direction=direction,
            threshold=threshold, for_s=float(for_s), severity=parse_severity(severity),
            labels=tuple(sorted((labels or {}).items())), resolve_margin=margin,
            resolve_for_s=float(for_s if resolve_for_s is None else resolve_for_s),
            no_data_after_s=float(DEFAULT_NO_DATA_AFTER_S if no_data_after_s is None
                                  else no_data_after_s),
            baseline_s=float(baseline_s or 0.0),
        )

    @classmethod
    def from_rule(cls, rule: Any) -> RuleSpec:
        """Read a profile's alert rule (``console.profile.AlertRule`` or anything with its
        attributes: name, metric, source, above/below, for_s, severity)."""
        above = getattr(rule, "above", None)
        below = getattr(rule, "below", None)
        op = getattr(rule, "op", None) or getattr(rule, "direction", None)
        if above is None and below is None and op in ("above", "below"):
            threshold = getattr(rule, "threshold", None)
            above, below = (threshold, None) if op == "above" else (None, threshold)
        labels = getattr(rule, "labels", None)
        if labels is not None and not isinstance(labels, Mapping):
            labels = dict(labels)
        return cls.create(
            str(rule.name), str(rule.metric), str(getattr(rule, "source", "") or ""),
            above=above, below=below, for_s=float(getattr(rule, "for_s", 0.0) or 0.0),
            severity=getattr(rule, "severity", "warn"), labels=labels,
            resolve_margin=getattr(rule, "resolve_margin", None),
            resolve_for_s=getattr(rule, "resolve_for_s", None),
            no_data_after_s=getattr(rule, "no_data_after_s", None),
            baseline_s=float(getattr(rule, "baseline_s", 0.0) or 0.0),
        )

    @property
    def resolve_line(self) -> float:
        """The value a firing alert must get back past before it may resolve."""
        if self.direction == "above":
            return self.threshold - self.resolve_margin
        return self.threshold + self.resolve_margin

    def breaching(self, value: float) -> bool:
        if self.direction == "above":
            return value > self.threshold
        return value < self.threshold

    def clear(self, value: float) -> bool:
        """Back past the threshold by the margin (the hysteresis band excluded)."""
        if self.direction == "above":
            return value <= self.resolve_line
        return value >= self.resolve_line

    def matches(self, series: str) -> bool:
        """True when ``series`` is one this rule watches."""
        source, metric, labels = split_series(series)
        if metric != self.metric or (self.source and source != self.source):
            return False
        return all(labels.get(k) == v for k, v in self.labels)

    @property
    def where(self) -> str:
        """'cache/cache_hit_rate': what the rule watches."""
        if self.source:
            return series_name(self.source, self.metric, dict(self.labels))
        return self.metric + labels_text(dict(self.labels))

    def show(self, value: float | None) -> str:
        """A value the engine sees, as a person reads it: '3.2x usual' for a relative rule."""
        if self.relative:
            return "—" if value is None or not math.isfinite(value) else f"{value:.2g}x usual"
        return format_value(self.metric, value)

    def describe(self) -> str:
        """'cache/cache_hit_rate below 80% for 60 s' — the rule in one line; 'shop/request_rate
        above 3x its usual (median of 15 min) for 30 s' for a relative rule."""
        if self.relative:
            text = (f"{self.where} {self.direction} {self.threshold:g}x its usual (median of "
                    f"{format_duration(self.baseline_s)})")
        else:
            text = f"{self.where} {self.direction} {format_value(self.metric, self.threshold)}"
        if self.for_s:
            text += f" for {format_duration(self.for_s)}"
        return text


def min_history_s(baseline_s: float) -> float:
    """How long a series must have been read before its usual over ``baseline_s`` is known."""
    return baseline_s * MIN_BASELINE_SHARE


def usual_value(ts: Iterable[float], values: Iterable[float],
                baseline_s: float) -> float | None:
    """A relative rule's usual value: the median of the finite readings (``ts``, ``values``)
    of its baseline; None with fewer than :data:`MIN_BASELINE_POINTS`, over less than
    :func:`min_history_s` of the baseline (too little history to know what is usual), or a
    usual of zero or less (nothing to be a multiple of)."""
    pairs = [(t, v) for t, v in zip(ts, values, strict=True) if math.isfinite(v)]
    if len(pairs) < MIN_BASELINE_POINTS:
        return None
    stamps = [t for t, _ in pairs]
    if max(stamps) - min(stamps) < min_history_s(baseline_s):
        return None
    finite = sorted(v for _, v in pairs)
    mid = len(finite) // 2
    median = finite[mid] if len(finite) % 2 else (finite[mid - 1] + finite[mid]) / 2
    return median if median > 0 else None


def format_value(metric: str, value: float | None) -> str:
    """A value as a person reads it: latency in ms, ratios in %, counts as they are."""
    if value is None or not math.isfinite(value):
        return "—"
    if metric in metrics.SECONDS_METRICS:
        return f"{value * 1000:.0f} ms"
    if metric in metrics.RATIO_METRICS:
        return f"{value * 100:.0f}%"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.3g}"


# -- defaults ------------------------------------------------------------------------------------


#: The relative traffic rule: requests at twice their median of the last 15 minutes (traffic
#: x5 on the demo is ~3.5x its usual: the probes and scrapes do not grow with it).
BUSIER_THAN_USUAL = "Busier than usual"
BUSIER_FACTOR = 2.0
BUSIER_BASELINE_S = 900.0
#: Whole-table reads of one table (the demo's bookings: a dropped index) past a few a second.
TABLES_READ_WHOLE = "Tables read whole"


@dataclass(frozen=True, slots=True)
class DefaultRule:
    """A suggested rule for a source kind; what the demo profile and the editor start from."""

    name: str
    metric: str
    above: float | None = None
    below: float | None = None
    for_s: float = 60.0
    severity: str = "warn"
    kinds: tuple[str, ...] = field(default=())
    baseline_s: float = 0.0


#: Sensible starting rules: p95 latency, cache hit rate, queue depth, error ratio, and traffic
#: against its own last 15 minutes.
DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule("Pages slow (p95 latency high)", metrics.LATENCY_P95, above=0.5, for_s=60,
                severity="warn", kinds=("prometheus", "prometheus-server", "http")),
    DefaultRule("Error rate high", metrics.ERROR_RATIO, above=0.05, for_s=60, severity="fail",
                kinds=("prometheus", "prometheus-server")),
    DefaultRule("Cache hit rate low", metrics.CACHE_HIT_RATE, below=0.8, for_s=120,
                severity="warn", kinds=("redis", "memcached", "prometheus")),
    DefaultRule("Queue backing up", metrics.QUEUE_DEPTH, above=100, for_s=60, severity="warn",
                kinds=("rabbitmq", "celery-redis", "prometheus")),
    DefaultRule(BUSIER_THAN_USUAL, metrics.REQUEST_RATE, above=BUSIER_FACTOR, for_s=30,
                severity="info", kinds=("prometheus", "prometheus-server"),
                baseline_s=BUSIER_BASELINE_S),
)


def default_rules_for(sources: Iterable[tuple[str, str]]) -> list[RuleSpec]:
    """Suggested rules for (source name, kind) pairs: one per default and matching source,
    the first source of a fitting kind winning (a rule is named once per profile)."""
    chosen: list[RuleSpec] = []
    pairs = list(sources)
    for default in DEFAULT_RULES:
        for name, kind in pairs:
            if kind in default.kinds:
                chosen.append(RuleSpec.create(
                    default.name, default.metric, name, above=default.above,
                    below=default.below, for_s=default.for_s, severity=default.severity,
                    baseline_s=default.baseline_s))
                break
    return chosen
