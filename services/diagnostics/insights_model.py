"""What the database views hold: top statements, tables read by scans, unused indexes, plans."""

from __future__ import annotations

from dataclasses import dataclass

from console.domain import SlowQuery

#: How pg_stat_statements can be ordered, and the words the UI shows for each.
ORDERINGS: dict[str, str] = {
    "total": "total time",
    "mean": "mean time",
    "calls": "calls",
    "rows": "rows",
}
#: A table is an index candidate when it has at least this many rows and is mostly scanned.
MIN_CANDIDATE_ROWS = 10_000
#: ... and fewer than this share of its scans use an index (PgHero uses 95 %).
MAX_INDEX_USE = 0.95


class InsightsError(Exception):
    """The database could not be read; the message says what happened and what to try."""


@dataclass(frozen=True, slots=True)
class TableScans:
    """Sequential versus index scans of one table (pg_stat_user_tables)."""

    table: str
    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    live_rows: int

    @property
    def index_use(self) -> float:
        """Share of scans that used an index, 0..1 (1 when nothing was scanned)."""
        scans = self.seq_scan + self.idx_scan
        return self.idx_scan / scans if scans else 1.0

    @property
    def index_candidate(self) -> bool:
        """Many rows and mostly read by sequential scans: a query here likely lacks an index."""
        return self.live_rows >= MIN_CANDIDATE_ROWS and self.index_use < MAX_INDEX_USE


@dataclass(frozen=True, slots=True)
class UnusedIndex:
    """An index no query has used since statistics were reset (neither unique nor primary)."""

    table: str
    index: str
    size_bytes: int
    scans: int = 0


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """EXPLAIN QUERY PLAN of one of the shop's known queries.

    ``scans`` names the tables read whole (``SCAN t``); ``indexes`` the indexes used
    (``SEARCH t USING INDEX i``). A plan with a full scan of a table of many rows is flagged.
    """

    name: str
    sql: str
    steps: tuple[str, ...]
    scans: tuple[str, ...]
    indexes: tuple[str, ...]
    table_rows: int = 0
    error: str = ""
    suggestion: str = ""  # the index that would turn the SCAN into a SEARCH

    @property
    def uses_index(self) -> bool:
        return bool(self.indexes) and not self.scans

    @property
    def flagged(self) -> bool:
        return bool(self.scans) and not self.error

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        if self.scans:
            return "SCAN " + ", ".join(self.scans)
        if self.indexes:
            return "SEARCH USING INDEX " + ", ".join(self.indexes)
        return "SEARCH"


@dataclass(frozen=True, slots=True)
class DatabaseInsights:
    """Everything the database views show for one database, read in one pass."""

    name: str
    dialect: str
    url: str  # password masked
    server_version: str = ""
    top_by_total: tuple[SlowQuery, ...] = ()
    top_by_mean: tuple[SlowQuery, ...] = ()
    top_by_calls: tuple[SlowQuery, ...] = ()
    top_by_rows: tuple[SlowQuery, ...] = ()
    own_statements: tuple[SlowQuery, ...] = ()
    """Backroom's own statements (its monitoring queries), labelled, by total time."""
    table_scans: tuple[TableScans, ...] = ()
    unused_indexes: tuple[UnusedIndex, ...] = ()
    plans: tuple[QueryPlan, ...] = ()
    notes: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    def top(self, ordering: str, own: bool = False) -> tuple[SlowQuery, ...]:
        """Top statements by one of :data:`ORDERINGS`; with ``own`` Backroom's own among
        them, in the same order."""
        shop = {"total": self.top_by_total, "mean": self.top_by_mean,
                "calls": self.top_by_calls, "rows": self.top_by_rows}[ordering]
        if not own or not self.own_statements:
            return shop
        key = {"total": "total_ms", "mean": "mean_ms", "calls": "calls", "rows": "rows"}[ordering]
        return tuple(sorted((*shop, *self.own_statements), key=lambda q: -getattr(q, key)))

    @property
    def index_candidates(self) -> tuple[TableScans, ...]:
        return tuple(t for t in self.table_scans if t.index_candidate)

    @property
    def flagged_plans(self) -> tuple[QueryPlan, ...]:
        return tuple(p for p in self.plans if p.flagged)


# -- the shop's known queries (what the console and the shop ask most) ------------------------
