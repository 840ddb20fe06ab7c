"""Who changed a record: the connector's own log (written here) merged with Django admin's log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from backroom_connect_core.store import Logged
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist

from backroom_connect.models import RecordedChange

HISTORY_LIMIT = 500


def stored_time(value: Any) -> Any:
    """Times as the site stores them: aware with USE_TZ, naive UTC without."""
    if isinstance(value, datetime) and not settings.USE_TZ and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def write_log(log: Sequence[Logged], record_id: int, using: str) -> None:
    """The changes into the connector's table, on the shop model's database (the caller's
    transaction); a create's rows get the new record's id."""
    if not log:
        return
    RecordedChange.objects.using(using).bulk_create([RecordedChange(
        entity=c["entity"], record_id=record_id if c["record_id"] is None else c["record_id"],
        field=c["field"], old_value=c["from"], new_value=c["to"], user=c["user"],
        at=stored_time(c["at"]), version=c["version"]) for c in log])


def history(m: Mapping, ident: int, using: str) -> list[dict[str, Any]]:
    """The record's changes, newest first: those made through the connector (with the
    console user's name and the values) and those the admin logged (field names only)."""
    own = [{"at": c.at, "user": c.user, "field": c.field, "from": c.old_value,
            "to": c.new_value, "version": c.version}
           for c in RecordedChange.objects.using(using)
           .filter(entity=m.entity.name, record_id=ident)
           .order_by("-at", "-pk")[:HISTORY_LIMIT]]
    merged = sorted(own + _admin_log(m, ident), key=lambda c: c["at"], reverse=True)
    return merged[:HISTORY_LIMIT]


def _changed_labels(message: str) -> list[str]:
    """The field labels of an admin change message (JSON since Django 1.10; older: none)."""
    try:
        parts = json.loads(message or "[]")
    except ValueError:
        return []
    labels: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        changed = part.get("changed") if isinstance(part, dict) else None
        fields = changed.get("fields") if isinstance(changed, dict) else None
        labels += [str(f) for f in fields or [] if isinstance(f, str)]
    return labels


def _admin_log(m: Mapping, ident: int) -> list[dict[str, Any]]:
    """The admin's log of the row (who added or changed which fields, when; Django keeps
    no old and new values); none when the site has no admin to keep one."""
    if not django_apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib.admin.models import ADDITION, DELETION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    names: dict[str, str] = {}  # the admin's field label, folded -> the contract's name
    for name, attr in m.columns.items():
        try:
            found = m.model._meta.get_field(attr)
        except FieldDoesNotExist:
            continue
        names[str(getattr(found, "verbose_name", attr)).casefold()] = name
        names[attr.casefold()] = name
    kind = ContentType.objects.get_for_model(m.model)
    out: list[dict[str, Any]] = []
    for entry in (LogEntry.objects.filter(content_type=kind, object_id=str(ident))
                  .select_related("user").order_by("-action_time", "-pk")[:HISTORY_LIMIT]):
        user = entry.user.get_username() if entry.user is not None else ""
        if entry.action_flag in (ADDITION, DELETION):
            field = "created" if entry.action_flag == ADDITION else "deleted"
            out.append({"at": entry.action_time, "user": user, "field": field,
                        "to": entry.object_repr or None})
            continue
        for label in _changed_labels(entry.change_message) or ["changed"]:
            out.append({"at": entry.action_time, "user": user,
                        "field": names.get(label.casefold(), label)})
    return out
