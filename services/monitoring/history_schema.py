"""The history file's tables, and opening the file: its format checked, its series known."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.history_codec import FORMAT_VERSION
from services.local.local_files import check_own_file
from services.local.sqlite import lazy_schema, sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _tables(sa: Any, metadata: Any) -> dict[str, Any]:
    meta = sa.Table(
        "meta",
        metadata,
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
    )
    series = sa.Table(
        "series",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    chunk = sa.Table(
        "chunk",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("start_ts", sa.Float, nullable=False),
        sa.Column("end_ts", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Index("ix_chunk_series_time", "series_id", "tier", "start_ts"),
        sa.Index("ix_chunk_tier_end", "tier", "end_ts"),
    )
    return {"meta": meta, "series": series, "chunk": chunk}


history_sql = lazy_schema(_tables)
"""SQLAlchemy (``sa``) and the history's tables (``meta``, ``series``, ``chunk``)."""


@dataclass(frozen=True, slots=True)
class OpenedHistory:
    """A history file just opened: its engine, and where its ids go on from."""

    engine: Engine
    series_ids: dict[str, int]
    next_chunk_id: int
    next_series_id: int


def open_history_file(path: Path, synchronous: str) -> OpenedHistory:
    """Open a history file: create it, or check that it holds this build's format (raises
    ``RuntimeError`` with advice when not)."""
    db = history_sql()
    check_own_file(path, db.metadata.tables)
    # 16 KB pages pack the ~1 KB chunks with little waste
    engine = sqlite_engine(path, timeout_s=30, synchronous=synchronous, page_size=16384)
    try:
        db.metadata.create_all(engine)
        with engine.begin() as conn:
            stored = conn.execute(
                db.sa.select(db.meta.c.value).where(db.meta.c.key == "format")
            ).scalar_one_or_none()
            if stored is None:
                conn.execute(db.sa.insert(db.meta).values(key="format", value=str(FORMAT_VERSION)))
            elif stored != str(FORMAT_VERSION):
                raise RuntimeError(
                    f"{path} holds history of format {stored}, this build reads "
                    f"{FORMAT_VERSION}; move the file aside to start a new history"
                )
            series_ids = {
                name: sid
                for sid, name in conn.execute(db.sa.select(db.series.c.id, db.series.c.name))
            }
            top = conn.execute(db.sa.select(db.sa.func.max(db.chunk.c.id))).scalar()
    except BaseException:
        engine.dispose()
        raise
    return OpenedHistory(engine, series_ids, (top or 0) + 1,
                         max(series_ids.values(), default=0) + 1)
