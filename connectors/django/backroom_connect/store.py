"""The contract's store over Django models: Q objects, keyset order, compare-and-set updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, Q, QuerySet


def _stored(value: Any) -> Any:
    """Times as the site stores them: aware with USE_TZ, naive UTC without."""
    if isinstance(value, datetime) and not settings.USE_TZ and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


HISTORY_LIMIT = 500


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


class DjangoStore:
    """Rows of the shop's models as dicts keyed by the contract's field names."""

    def _all(self, m: Mapping) -> QuerySet[Any]:
        return m.model._default_manager.all()

    def _q(self, m: Mapping, cond: tuple[Any, ...]) -> Q:
        col = m.columns
        op = cond[0]
        if op == "eq":
            return Q(**{col[cond[1]]: _stored(cond[2])})
        if op == "in":
            return Q(**{f"{col[cond[1]]}__in": cond[2]})
        if op in ("ge", "lt"):
            return Q(**{f"{col[cond[1]]}__{'gte' if op == 'ge' else 'lt'}": _stored(cond[2])})
        if op == "le_field":
            return Q(**{f"{col[cond[1]]}__lte": F(col[cond[2]])})
        if op == "search":
            q = Q(pk__in=[])
            for name in cond[1]:  # icontains escapes % and _ itself
                q |= Q(**{f"{col[name]}__icontains": cond[2]})
            return q
        if op == "after":
            _, name, descending, value, row_id = cond
            past = "lt" if descending else "gt"
            value = _stored(value)
            return Q(**{f"{col[name]}__{past}": value}) | Q(
                **{col[name]: value, f"{col['id']}__{past}": row_id})
        raise ValueError(f"unknown condition {op}")

    def _filtered(self, m: Mapping, where: list[tuple[Any, ...]]) -> QuerySet[Any]:
        qs = self._all(m)
        for cond in where:
            qs = qs.filter(self._q(m, cond))
        return qs

    def _row(self, m: Mapping, values: dict[str, Any]) -> dict[str, Any]:
        return {name: values[attr] for name, attr in m.columns.items()}

    def rows(self, m: Mapping, where: list[tuple[Any, ...]], order: tuple[str, bool],
             limit: int | None) -> list[dict[str, Any]]:
        name, descending = order
        sign = "-" if descending else ""
        qs = self._filtered(m, where).order_by(f"{sign}{m.columns[name]}",
                                               f"{sign}{m.columns['id']}")
        qs = qs.values(*dict.fromkeys(m.columns.values()))
        return [self._row(m, v) for v in (qs[:limit] if limit is not None else qs)]

    def count(self, m: Mapping, where: list[tuple[Any, ...]]) -> int:
        return self._filtered(m, where).count()

    def get(self, m: Mapping, ident: int) -> dict[str, Any] | None:
        found = self._all(m).filter(**{m.columns["id"]: ident}).values(
            *dict.fromkeys(m.columns.values())).first()
        return self._row(m, found) if found is not None else None

    def _values(self, m: Mapping, values: dict[str, Any]) -> dict[str, Any]:
        """The contract's values as the model stores them: an empty text field that may not
        be NULL (Django's habit: ``blank=True`` without ``null=True``) gets ``""``."""
        out = {}
        for name, value in values.items():
            attr = m.columns[name]
            stored = value
            if value is None:
                found = m.model._meta.get_field(attr)
                if not found.null and found.empty_strings_allowed:
                    stored = ""
            out[attr] = _stored(stored)
        return out

    def update(self, m: Mapping, ident: int, seen_version: Any,
               changes: dict[str, Any]) -> bool:
        values = self._values(m, changes)
        return self._all(m).filter(**{m.columns["id"]: ident,
                                      m.columns["version"]: seen_version}).update(**values) == 1

    def create(self, m: Mapping, values: dict[str, Any]) -> int:
        obj = m.model(**self._values(m, values))
        obj.save()
        return int(obj.pk)

    def distinct(self, m: Mapping, name: str) -> list[Any]:
        return list(self._all(m).order_by().values_list(m.columns[name], flat=True).distinct())

    def history(self, m: Mapping, ident: int) -> list[dict[str, Any]] | None:
        """The admin's log of the row (who added or changed which fields, when; Django keeps
        no old and new values), or None when the site has no admin to keep one."""
        if not django_apps.is_installed("django.contrib.admin"):
            return None
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

    def ping(self) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
