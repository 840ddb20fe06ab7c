"""The API repository's reports: a record's history, past days and today (docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from console.changes import Change, Entity
from console.past_days import PastDays, check_range
from console.shop import NotFound, TodayFigures, Unsupported
from services.shop.api_calls import ApiCalls
from services.shop.api_json import changes_from_json, past_days_from_json, today_from_json


class ApiReports(ApiCalls):
    """What the shop reports over its API rather than lists: 404 on an endpoint it lacks
    is said as Unsupported (the page says what the shop keeps not)."""

    def history(self, entity: Entity, record_id: int) -> tuple[Change, ...]:
        """``GET /api/<entity>/<id>/history``; Unsupported when the shop keeps none."""
        path = f"/api/{Entity(entity).value}/{int(record_id)}/history"
        try:
            data = self._call("GET", path)
        except NotFound as exc:  # the record is gone, or the shop's API predates history
            self._call("GET", path.removesuffix("/history"))
            raise Unsupported(f"no history: this shop's API has no GET {path}") from exc
        return changes_from_json(data)

    def past_days(self, first: date, last: date, *, tz: tzinfo | None = None) -> PastDays:
        """The shop's own days (UTC for the demo; ``tz`` is the server's call)."""
        check_range(first, last)
        try:
            data = self._call("GET", "/api/reports/days",
                              params={"from": first.isoformat(), "to": last.isoformat()})
        except NotFound as exc:
            raise Unsupported("This shop's API has no day report (GET /api/reports/days of "
                              "docs/api.md): ask its developer for it, or connect its "
                              "database in Settings.") from exc
        return past_days_from_json(data)

    def today(self, *, now: datetime | None = None, tz: tzinfo | None = None) -> TodayFigures:
        """The shop's own figures for its today (``now`` and ``tz`` are the server's call)."""
        return today_from_json(self._call("GET", "/api/stats/today"))
