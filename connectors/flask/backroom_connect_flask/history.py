"""The connector's own change log (table ``backroom_connect_change``, made if missing)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from backroom_connect_core.store import Logged
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("backroom_connect")

HISTORY_LIMIT = 500

#: Apart from the shop's own metadata: the blueprint never alters the shop's tables.
metadata = MetaData()
changes = Table(
    "backroom_connect_change", metadata,
    Column("id", Integer, primary_key=True),
    Column("entity", String(20), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("field", String(40), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("user", String(120), nullable=False, default=""),
    Column("at", DateTime, nullable=False),  # naive UTC
    Column("version", BigInteger),
    Index("backroom_change_record", "entity", "record_id", "at"),
)


class ChangeLog:
    """Writes and reads of the log; the table is made on first use where it is missing.

    Where it can be neither found nor made (a database user without CREATE rights), edits
    still go through, unrecorded, with one warning in the site's log, and the history
    answers "keeps none"."""

    def __init__(self) -> None:
        self._ready: bool | None = None  # None: not looked for yet
        self._lock = threading.Lock()

    def ensure(self, session: Session) -> bool:
        if self._ready is not None:
            return self._ready
        with self._lock:
            if self._ready is None:
                try:
                    metadata.create_all(session.get_bind(), checkfirst=True)
                    self._ready = True
                except SQLAlchemyError as exc:
                    log.warning("backroom_connect: no table %s and it cannot be made (%s): "
                                "edits through the connector are not recorded",
                                changes.name, type(exc).__name__)
                    self._ready = False
        return self._ready

    def write(self, session: Session, log: Sequence[Logged], record_id: int) -> None:
        """Into the caller's transaction; a create's rows get the new record's id."""
        if not log or not self._ready:
            return
        session.execute(insert(changes), [{
            "entity": c["entity"],
            "record_id": record_id if c["record_id"] is None else c["record_id"],
            "field": c["field"], "old_value": c["from"], "new_value": c["to"],
            "user": c["user"], "at": c["at"].astimezone(UTC).replace(tzinfo=None),
            "version": c["version"]} for c in log])

    def read(self, session: Session, m: Mapping, ident: int) -> list[dict[str, Any]]:
        c = changes.c
        rows = session.execute(select(changes).where(
            c.entity == m.entity.name, c.record_id == ident).order_by(
            c.at.desc(), c.id.desc()).limit(HISTORY_LIMIT))
        return [{"at": _aware(r.at), "user": r.user, "field": r.field, "from": r.old_value,
                 "to": r.new_value, "version": r.version} for r in rows]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
