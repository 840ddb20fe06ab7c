"""Domain types shared by every layer: readings, states, checks, findings, slow queries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol


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


class NamedState(Protocol):
    """A source's name and state, as the poller's ``SourceStatus`` carries them."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> SourceState: ...


def summarise_sources(statuses: Iterable[NamedState]) -> tuple[str, str]:
    """(light state, words) for the overall status light from the sources' states: down beats
    stale beats all up; a profile without sources has nothing to wait for."""
    statuses = list(statuses)
    down = [s.name for s in statuses if s.state is SourceState.DOWN]
    stale = [s.name for s in statuses if s.state is SourceState.STALE]
    if down:
        return "fail", f"{', '.join(down)} down"
    if stale:
        return "warn", f"No fresh data from {', '.join(stale)}"
    if not statuses:
        return "unknown", "No live sources in this profile"
    if all(s.state is SourceState.UP for s in statuses):
        return "ok", "All normal"
    return "unknown", "Waiting for the first readings"


class Severity(StrEnum):
    """How urgent a finding of the advisor or a firing alert is."""

    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


def iso_time(ts: float) -> str:
    """UTC epoch seconds as ISO 8601 with its offset, to the millisecond, as every CSV the
    console writes has it: '2026-11-25T19:30:05.250Z'."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# -- series names -----------------------------------------------------------------------------
#
# ``source/metric{key="value",...}``, labels sorted by key. Outside text goes into every part
# (a probe named ``GET /slow/``, a queue named ``orders",x="1``), so each part escapes what
# would end it, with a backslash: ``\\`` and ``/`` in the source, ``{`` in the metric, ``=``,
# ``"`` and blanks in a label key, ``"`` in a label value (as Prometheus does); a line break
# is ``\\n`` everywhere. A name without those characters reads as it always did. Names are
# made and read for every reading (100,000 on a big page): plain text takes a fast path.

_ESCAPE_SOURCE = re.compile(r"[\\/\n]")
_ESCAPE_METRIC = re.compile(r"[\\{\n]")
_ESCAPE_KEY = re.compile(r'[\\="\s]')
_ESCAPE_VALUE = re.compile(r'[\\"\n]')
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_SERIES = re.compile(r"((?:[^\\/]|\\.)*)/((?:[^\\{]|\\.)*)(?:\{(.*)\})?", re.DOTALL)
_LABEL = re.compile(r'\s*((?:[^\\=\s]|\\.)*)\s*=\s*"((?:[^\\"]|\\.)*)"\s*(?:,|\Z)',
                    re.DOTALL)


def _escaped(char: re.Match[str]) -> str:
    return "\\n" if char[0] == "\n" else "\\" + char[0]


def _unescaped(char: re.Match[str]) -> str:
    return "\n" if char[1] == "n" else char[1]


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(_unescaped, text) if "\\" in text else text


def _key_text(key: str) -> str:
    return key if key.isidentifier() else _ESCAPE_KEY.sub(_escaped, key)


def _value_text(value: str) -> str:
    if '"' in value or "\\" in value or "\n" in value:
        return _ESCAPE_VALUE.sub(_escaped, value)
    return value


def labels_text(labels: dict[str, str] | None) -> str:
    """``{k="v",...}`` with sorted keys and escaped text, "" for no labels."""
    if not labels:
        return ""
    inner = ",".join(f'{_key_text(k)}="{_value_text(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def parse_labels(text: str) -> dict[str, str] | None:
    """Inverse of :func:`labels_text` without its braces (blanks around ``=`` and ``,`` are
    allowed); None when ``text`` is not such a list."""
    labels: dict[str, str] = {}
    pos, end = 0, len(text)
    while pos < end:
        found = _LABEL.match(text, pos)
        if found is None or found.end() == pos:
            return None
        labels[_unescape(found[1])] = _unescape(found[2])
        pos = found.end()
    return labels


def _plain_labels(inner: str) -> dict[str, str] | None:
    """``k="v",k2="v2`` (no backslash in it, the last quote cut off) read without a regex."""
    labels: dict[str, str] = {}
    for part in inner.split('",'):
        key, eq, value = part.partition('="')
        if not eq:
            return None
        labels[key] = value
    return labels


def series_name(source: str, metric: str, labels: dict[str, str] | None = None) -> str:
    """The one name of a series everywhere (store, history, CSV, diagnose JSON, dashboard):
    ``source/metric{k="v",...}``; :func:`split_series` reads it back exactly."""
    if "/" in source or "\\" in source or "\n" in source:
        source = _ESCAPE_SOURCE.sub(_escaped, source)
    if "{" in metric or "\\" in metric or "\n" in metric:
        metric = _ESCAPE_METRIC.sub(_escaped, metric)
    return f"{source}/{metric}{labels_text(labels)}" if labels else f"{source}/{metric}"


def split_series(name: str) -> tuple[str, str, dict[str, str]]:
    """Inverse of :func:`series_name`: (source, metric, labels). A name that is not one
    (no ``/``, labels that do not parse) is read as leniently as it can be."""
    if "\\" not in name:  # nothing escaped: no quote inside a value, no '=' in a key
        source, slash, rest = name.partition("/")
        brace = rest.find("{")
        if slash and brace < 0:
            return source, rest, {}
        plain = _plain_labels(rest[brace + 1:-2]) if slash and rest.endswith('"}') else None
        if plain is not None:
            return source, rest[:brace], plain
    found = _SERIES.fullmatch(name)
    if found is None:
        source, _, rest = name.partition("/")
        return _unescape(source), _unescape(rest), {}
    labels = parse_labels(found[3]) if found[3] is not None else {}
    if labels is None:
        return _unescape(found[1]), _unescape(name[found.end(1) + 1:]), {}
    return _unescape(found[1]), _unescape(found[2]), labels


def series_source(name: str) -> str:
    """The source part of a series name (what the dashboard groups tiles by)."""
    return split_series(name)[0]


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
    own: bool = False  # Backroom's own statement (its monitoring queries), not the shop's


@dataclass(frozen=True, slots=True)
class CollectorReport:
    """What one ``collect()`` call gives: readings plus what a person would want to read."""

    readings: tuple[Reading, ...]
    detail: str = ""
    status: Status = Status.OK
    server_version: str | None = None
    slow_queries: tuple[SlowQuery, ...] = ()
    facts: tuple[tuple[str, str], ...] = field(default=())
    #: (metric, label sets) the collector already summed into its ``{series="other"}`` reading.
    folded: tuple[tuple[str, int], ...] = field(default=())


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
