"""Domain types shared by every layer: readings, states, checks, findings, slow queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Outcome of a check or a whole sweep, ordered ok < warn < fail."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @staticmethod
    def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
        """The most severe status, ok for an empty list."""
        return max(statuses, key=lambda s: s.rank, default=Status.OK)


_STATUS_RANK = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2}


class SourceState(StrEnum):
    """What the poller knows of a source: answering, failing, or silent for too long."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"
    STALE = "stale"


class Severity(StrEnum):
    """How urgent a finding of the advisor or a firing alert is."""

    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


def series_name(source: str, metric: str, labels: dict[str, str] | None = None) -> str:
    """The one name of a series everywhere: ``source/metric{k="v",...}`` with sorted labels."""
    if not labels:
        return f"{source}/{metric}"
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{source}/{metric}{{{inner}}}"


def split_series(name: str) -> tuple[str, str, dict[str, str]]:
    """Inverse of :func:`series_name`: (source, metric, labels)."""
    source, _, rest = name.partition("/")
    metric, brace, label_text = rest.partition("{")
    labels: dict[str, str] = {}
    if brace:
        for part in label_text.rstrip("}").split('",'):
            if not part:
                continue
            key, _, value = part.partition("=")
            labels[key.strip()] = value.strip().strip('"')
    return source, metric, labels


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample of one series: ``ts`` is UTC epoch seconds, latency values are in seconds."""

    series: str
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class SlowQuery:
    """A statement from pg_stat_statements (or an equivalent) with its cost."""

    query: str
    calls: int
    mean_ms: float
    total_ms: float
    rows: int = 0
    source: str = ""  # the database source that reported it


@dataclass(frozen=True, slots=True)
class CollectorReport:
    """What one ``collect()`` call gives: readings plus what a person would want to read."""

    readings: tuple[Reading, ...]
    detail: str = ""
    status: Status = Status.OK
    server_version: str | None = None
    slow_queries: tuple[SlowQuery, ...] = ()
    facts: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Check:
    """One line of a diagnostic sweep."""

    name: str
    kind: str
    status: Status
    detail: str
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A conclusion of the advisor: what is wrong, the numbers behind it, what to do."""

    severity: Severity
    title: str
    evidence: str
    advice: str
    rule: str = ""
    sources: tuple[str, ...] = ()  # the sources whose figures are the evidence
