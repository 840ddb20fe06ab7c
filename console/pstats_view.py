"""A cProfile/pstats file as frozen rows: per-function costs, callers and callees, filter, sort."""

from __future__ import annotations

import marshal
import os
import pstats
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: (file, line, function), the key pstats uses for a function.
FuncKey = tuple[str, int, str]

SORT_COLUMNS: tuple[str, ...] = ("function", "calls", "tottime", "percall", "cumtime",
                                 "cumpercall")


class PstatsError(ValueError):
    """The file is not a readable cProfile/pstats dump; the message says what to do."""


@dataclass(frozen=True, slots=True)
class FunctionRow:
    """One function of a profile: how often it was called and where the time went.

    ``tottime`` is time in the function itself, ``cumtime`` includes what it called; both
    in seconds. ``primitive_calls`` leaves out recursive calls (pstats' ``cc``).
    """

    key: FuncKey
    calls: int
    primitive_calls: int
    tottime: float
    cumtime: float

    @property
    def function(self) -> str:
        """How a person names it: ``name (file:line)``, or the built-in's own text."""
        file, line, name = self.key
        if file == "~" and line == 0:
            return name  # built-ins: "<built-in method time.sleep>"
        return f"{name} ({os.path.basename(file)}:{line})"

    @property
    def name(self) -> str:
        return self.key[2]

    @property
    def file(self) -> str:
        return self.key[0]

    @property
    def line(self) -> int:
        return self.key[1]

    @property
    def percall(self) -> float:
        """Own time per call, seconds."""
        return self.tottime / self.calls if self.calls else 0.0

    @property
    def cumpercall(self) -> float:
        """Cumulative time per primitive call, seconds (what pstats prints)."""
        return self.cumtime / self.primitive_calls if self.primitive_calls else 0.0

    @property
    def calls_text(self) -> str:
        """``12`` or ``12/3`` when some calls were recursive (pstats' notation)."""
        if self.calls != self.primitive_calls:
            return f"{self.calls}/{self.primitive_calls}"
        return str(self.calls)


@dataclass(frozen=True, slots=True)
class CallEdge:
    """One caller -> callee link with the cost of the calls along it."""

    caller: FuncKey
    callee: FuncKey
    calls: int
    tottime: float
    cumtime: float


@dataclass(frozen=True, slots=True)
class ProfileStats:
    """A loaded profile: every function row and every call edge; look-ups by key."""

    rows: tuple[FunctionRow, ...]
    edges: tuple[CallEdge, ...]
    total_time: float
    total_calls: int
    primitive_calls: int
    source: str = ""

    def row(self, key: FuncKey) -> FunctionRow | None:
        for row in self.rows:
            if row.key == key:
                return row
        return None

    def callers(self, key: FuncKey) -> tuple[CallEdge, ...]:
        """Who called ``key``, most cumulative time first."""
        found = [e for e in self.edges if e.callee == key]
        return tuple(sorted(found, key=lambda e: (-e.cumtime, -e.calls, e.caller)))

    def callees(self, key: FuncKey) -> tuple[CallEdge, ...]:
        """What ``key`` called, most cumulative time first."""
        found = [e for e in self.edges if e.caller == key]
        return tuple(sorted(found, key=lambda e: (-e.cumtime, -e.calls, e.callee)))


def describe(key: FuncKey) -> str:
    """The same words :attr:`FunctionRow.function` uses, for a bare key."""
    return FunctionRow(key, 0, 0, 0.0, 0.0).function


def from_raw(raw: Mapping[Any, Any], source: str = "") -> ProfileStats:
    """Build a :class:`ProfileStats` from pstats' raw dict
    ``{(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}``."""
    rows: list[FunctionRow] = []
    edges: list[CallEdge] = []
    total_time = 0.0
    total_calls = primitive = 0
    try:
        for key, value in raw.items():
            func = _key(key)
            cc, nc, tt, ct, callers = value
            rows.append(FunctionRow(func, int(nc), int(cc), float(tt), float(ct)))
            total_time += float(tt)
            total_calls += int(nc)
            primitive += int(cc)
            for caller, cost in callers.items():
                if isinstance(cost, tuple):  # (nc, cc, tt, ct): pstats' print_call_line
                    e_nc, _cc, e_tt, e_ct = cost
                else:
                    e_nc, e_tt, e_ct = cost, 0.0, 0.0
                edges.append(CallEdge(_key(caller), func, int(e_nc), float(e_tt), float(e_ct)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise PstatsError(f"not a cProfile/pstats dump ({exc})") from None
    rows.sort(key=lambda r: (-r.cumtime, r.key))
    return ProfileStats(tuple(rows), tuple(edges), total_time, total_calls, primitive, source)


def _key(key: Any) -> FuncKey:
    file, line, name = key
    return (str(file), int(line), str(name))


def load_stats(path: Path | str) -> ProfileStats:
    """Read a file written by ``cProfile`` (``-o FILE``) or ``pstats.Stats.dump_stats``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PstatsError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        raw = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        raise PstatsError(f"{path.name} is not a cProfile/pstats file; write one with "
                          "`python -m cProfile -o app.prof app.py`") from None
    if not isinstance(raw, dict) or not raw:
        raise PstatsError(f"{path.name} holds no profile data (an empty or foreign file)")
    return from_raw(raw, source=path.name)


def load_merged(paths: Iterable[Path | str]) -> ProfileStats:
    """Several cProfile files as one profile (``pstats.Stats.add``): the runs of one server's
    workers, or several requests profiled one by one. One path reads as :func:`load_stats`."""
    files = [Path(p) for p in paths]
    if not files:
        raise PstatsError("no profile chosen")
    if len(files) == 1:
        return load_stats(files[0])
    for path in files:
        load_stats(path)  # the same checks and words for a bad file as for one file alone
    merged = pstats.Stats(str(files[0]))
    for path in files[1:]:
        merged.add(str(path))
    names = ", ".join(p.name for p in files[:3]) + (", …" if len(files) > 3 else "")
    raw = merged.stats  # type: ignore[attr-defined]
    return from_raw(raw, source=f"{len(files)} profiles ({names})")


def from_stats(stats: pstats.Stats) -> ProfileStats:
    """From an in-memory :class:`pstats.Stats` (e.g. of a ``cProfile.Profile``)."""
    return from_raw(stats.stats, source="")  # type: ignore[attr-defined]


def filter_rows(rows: Iterable[FunctionRow], text: str) -> tuple[FunctionRow, ...]:
    """Rows whose function name or file contains ``text`` (case-insensitive); all for ''."""
    needle = text.strip().casefold()
    if not needle:
        return tuple(rows)
    return tuple(r for r in rows if needle in r.name.casefold() or needle in r.file.casefold())


def sort_value(row: FunctionRow, column: str) -> Any:
    """The value a column sorts by (names alphabetically, numbers numerically)."""
    if column == "function":
        return row.function.casefold()
    if column == "calls":
        return row.calls
    if column in ("tottime", "percall", "cumtime", "cumpercall"):
        return float(getattr(row, column))
    raise KeyError(column)


def sort_rows(rows: Iterable[FunctionRow], column: str = "cumtime",
              descending: bool = True) -> tuple[FunctionRow, ...]:
    """Rows sorted by one of :data:`SORT_COLUMNS`; ties by function name for stability."""
    if column not in SORT_COLUMNS:
        raise KeyError(f"unknown column {column!r} (expected one of {', '.join(SORT_COLUMNS)})")
    ordered = sorted(rows, key=lambda r: r.function.casefold())
    return tuple(sorted(ordered, key=lambda r: sort_value(r, column), reverse=descending))
