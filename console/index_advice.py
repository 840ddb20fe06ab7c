"""The index a PostgreSQL statement's WHERE clause wants, as CREATE INDEX CONCURRENTLY to copy."""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_COLUMN = rf"(?:{_IDENT}\.)?({_IDENT})"
_TABLE = re.compile(rf"\bFROM\s+((?:{_IDENT}\.)?{_IDENT})(?:\s+(?:AS\s+)?({_IDENT}))?",
                    re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b(.*?)(?:\bGROUP\s+BY\b|\bORDER\s+BY\b|\bLIMIT\b|\bOFFSET\b|"
                    r"\bFOR\s+UPDATE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)
# "col ILIKE '%x%'", "col LIKE '%' || $1", "lower(col) LIKE $1"
_LIKE = re.compile(rf"(?:lower\s*\(\s*)?{_COLUMN}\s*\)?\s+(NOT\s+)?(I?LIKE)\s+"
                   r"('(?:[^']|'')*'|\$\d+|%\(\w+\)s|:\w+|\?)(\s*\|\|)?", re.IGNORECASE)
_COMPARE = re.compile(rf"{_COLUMN}\s*(=|<=|>=|<|>|\bIN\b|\bBETWEEN\b)", re.IGNORECASE)
_KEYWORDS = {"and", "or", "not", "null", "true", "false", "select", "exists", "case", "when",
             "then", "else", "end", "coalesce", "lower", "upper"}


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    """What to create (``sql``, ready to copy) and why, in one sentence."""

    sql: str
    why: str
    trigram: bool = False


def _bare(name: str) -> str:
    return name.strip('"')


def _index_name(table: str, columns: list[str], suffix: str = "") -> str:
    parts = [_bare(table.rsplit(".", 1)[-1]), *(_bare(c) for c in columns)]
    name = "ix_" + "_".join(parts) + suffix
    return re.sub(r"[^A-Za-z0-9_]", "_", name)[:63]


def _leading_wildcard(pattern: str, concatenated: bool) -> bool | None:
    """True when the pattern starts with % or _; None when it is a parameter (unknown)."""
    if pattern.startswith("'"):
        return pattern[1:2] in ("%", "_") or (concatenated and pattern == "''")
    return None


def index_advice(query: str) -> IndexAdvice | None:
    """The index the statement's filter wants, or None when none can be read off it.

    ``ILIKE`` (any pattern) and ``LIKE`` with a leading wildcard cannot use a B-tree index:
    they want a trigram GIN index (pg_trgm). Equality and range filters want a B-tree on
    their columns, equalities first. Always ``CONCURRENTLY``: the table stays writable.
    """
    found = _TABLE.search(query)
    where = _WHERE.search(query)
    if found is None or where is None:
        return None
    table = found.group(1)
    if table.lower().startswith("pg_") or table.lower() == "information_schema":
        return None
    clause = where.group(1)
    for match in _LIKE.finditer(clause):
        column, negated, operator, pattern, concat = match.groups()
        if negated or column.lower() in _KEYWORDS:
            continue
        leading = _leading_wildcard(pattern, bool(concat))
        if operator.upper() == "LIKE" and leading is False:
            return IndexAdvice(
                f"CREATE INDEX CONCURRENTLY {_index_name(table, [column], '_prefix')} "
                f"ON {table} ({column} text_pattern_ops);",
                f"LIKE with a fixed start ({pattern}) can use a B-tree index with "
                "text_pattern_ops.")
        what = ("ILIKE" if operator.upper() == "ILIKE" else
                f"LIKE {pattern}" if leading else "LIKE with a leading wildcard")
        return IndexAdvice(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
            f"CREATE INDEX CONCURRENTLY {_index_name(table, [column], '_trgm')} "
            f"ON {table} USING gin ({column} gin_trgm_ops);",
            f"{what} on {_bare(column)} cannot use a B-tree index: a trigram index "
            "(pg_trgm) serves '%x%' searches.", trigram=True)
    equal: list[str] = []
    ranged: list[str] = []
    for match in _COMPARE.finditer(clause):
        column, operator = match.group(1), match.group(2).upper()
        if column.lower() in _KEYWORDS or column.startswith("$") or column.isdigit():
            continue
        target = equal if operator in ("=", "IN") else ranged
        if column not in equal and column not in ranged:
            target.append(column)
    columns = equal + ranged[:1]
    if not columns:
        return None
    return IndexAdvice(
        f"CREATE INDEX CONCURRENTLY {_index_name(table, columns)} "
        f"ON {table} ({', '.join(columns)});",
        "A B-tree on the filtered columns (equalities first, then one range); CONCURRENTLY "
        "keeps the table writable while it builds.")
