"""The console's own SQLite files: their tables made on first use, engines in WAL mode."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine


def lazy_schema(tables: Callable[[Any, Any], dict[str, Any]]) -> Callable[[], Any]:
    """A file's tables, made on first use with SQLAlchemy imported then: opening the console
    does not wait for SQLAlchemy's import before its window paints.

    ``tables(sa, metadata)`` makes the tables and returns them by name; the function returned
    gives them as one namespace beside ``sa`` (the module) and ``metadata``.
    """

    @functools.cache
    def schema() -> Any:
        import sqlalchemy as sa

        metadata = sa.MetaData()
        return SimpleNamespace(sa=sa, metadata=metadata, **tables(sa, metadata))

    return schema


def sqlite_engine(path: Path, *, timeout_s: float, synchronous: str = "NORMAL",
                  page_size: int | None = None) -> Engine:
    """An engine on a local SQLite file in WAL mode, shared by the console's threads."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": timeout_s})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            if page_size is not None:  # before WAL: a WAL file keeps the size it started with
                cursor.execute(f"PRAGMA page_size={int(page_size)}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    return engine
