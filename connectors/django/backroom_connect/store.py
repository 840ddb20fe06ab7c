"""The contract's store over Django models: Q objects, keyset order, compare-and-set updates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backroom_connect_core.contract import Mapping
from django.conf import settings
from django.db import connections
from django.db.models import F, Q, QuerySet


def _stored(value: Any) -> Any:
    """Times as the site stores them: aware with USE_TZ, naive UTC without."""
    if isinstance(value, datetime) and not settings.USE_TZ and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


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

    def ping(self) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
