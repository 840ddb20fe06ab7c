"""Who changed what through the connector: the user a request names, the log rows of a change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from backroom_connect_core.contract import Mapping
from backroom_connect_core.store import Answer, Logged, Store
from backroom_connect_core.values import Refusal, iso, utc, version_number

USER_HEADER = "X-Backroom-User"
MAX_USER = 120
MAX_VALUE = 2000
#: A change the shop's own log names (Django's admin: no version) is taken as the latest
#: save when its time is this close to the row's timestamp version.
SAME_SAVE = timedelta(seconds=2)


def who(header: Callable[[str], str | None]) -> str:
    """Who the request says it is (``X-Backroom-User``, UTF-8 percent-encoded); "" if none."""
    raw = header(USER_HEADER) or ""
    return " ".join(unquote(raw, errors="replace").split())[:MAX_USER]


def as_text(value: Any) -> str | None:
    """A field's value as the log keeps it: text, times in ISO, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return str(value)[:MAX_VALUE]


def change_log(m: Mapping, before: dict[str, Any], after: dict[str, Any], version: int,
               user: str) -> list[Logged]:
    """A log row per field whose text differs: ``before`` is the resource as it was,
    ``after`` the contract's values written (statuses as the contract names them). No value
    and an empty one read the same (a phone of "" saved back as null is no change)."""
    now = datetime.now(UTC)
    return [{"entity": m.entity.name, "record_id": before["id"], "field": name,
             "from": as_text(before.get(name)), "to": as_text(value), "version": version,
             "user": user, "at": now}
            for name, value in after.items()
            if name in m.entity.fields
            and (as_text(before.get(name)) or "") != (as_text(value) or "")]


def created_log(m: Mapping, summary: str, version: int | None, user: str) -> list[Logged]:
    return [{"entity": m.entity.name, "record_id": None, "field": "created", "from": None,
             "to": summary[:MAX_VALUE], "version": version, "user": user,
             "at": datetime.now(UTC)}]


def saved_by(store: Store, m: Mapping, row: dict[str, Any]) -> dict[str, Any] | None:
    """Who made the row's current version and when, where the history says so: a connector
    change of that version, or a shop's own entry at the time of a timestamp version."""
    changes = store.history(m, row["id"])
    if not changes:
        return None
    latest = changes[0]
    current = row.get("version")
    if latest.get("version") is not None:
        same = latest["version"] == version_number(current)
    else:
        same = isinstance(current, datetime) and abs(utc(current) - utc(latest["at"])) \
            <= SAME_SAVE
    return {"user": str(latest.get("user") or ""), "at": iso(latest["at"])} if same else None


def history_answer(store: Store, m: Mapping, ident: int) -> Answer:
    """The connector's log of the row merged with the shop's own, newest first."""
    changes = store.history(m, ident)
    if changes is None:
        raise Refusal(501, {"error": f"no history: this shop keeps no record of who changed "
                                     f"its {m.entity.name}"})
    return Answer(200, {"items": [{"at": iso(c["at"]), "user": str(c.get("user") or ""),
                                   "field": c["field"], "from": c.get("from"),
                                   "to": c.get("to"), "version": c.get("version")}
                                  for c in changes]})
