"""What a framework's side provides (the :class:`Store` over the shop's models) and gets back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from backroom_connect_core.contract import Mapping
from backroom_connect_core.values import Refusal

Cond = tuple[Any, ...]
"""A filter in contract field names and the shop's stored values:
``("eq", f, v)``, ``("in", f, [v..])``, ``("ge", f, v)``, ``("lt", f, v)``,
``("le_field", f, g)`` (f <= g), ``("search", (f..), text)`` (case-insensitive literal
substring of any), ``("after", f, descending, v, id)`` (keyset: past row (v, id)),
``("any", [cond..])`` (any of them)."""

Logged = dict[str, Any]
"""One change for the connector's own log: ``entity``, ``record_id`` (None on a create: the
store fills in the new id), ``field``, ``from``, ``to`` (text or None), ``version``, ``user``,
``at`` (aware UTC)."""


class Store(Protocol):
    """What a framework's adapter does over the shop's models (rows as dicts keyed by the
    contract's field names, ``"id"`` and ``"version"`` included, values as stored)."""

    def rows(self, m: Mapping, where: list[Cond], order: tuple[str, bool],
             limit: int | None) -> list[dict[str, Any]]: ...
    def count(self, m: Mapping, where: list[Cond]) -> int: ...
    def get(self, m: Mapping, ident: int) -> dict[str, Any] | None: ...
    def update(self, m: Mapping, ident: int, seen_version: Any, changes: dict[str, Any],
               log: Sequence[Logged] = ()) -> bool:
        """Write ``changes`` only if the version field still holds ``seen_version``, and
        ``log`` into the connector's change log in the same transaction."""
        ...
    def create(self, m: Mapping, values: dict[str, Any], log: Sequence[Logged] = ()) -> int: ...
    def seat(self, party: Mapping, bookings: Mapping, party_id: int, waiting: Any,
             seated: dict[str, Any], booking: dict[str, Any], log: Sequence[Logged]
             ) -> int | None:
        """In one transaction: the party's ``seated`` changes if its state still is
        ``waiting``, the ``booking`` made, its id set on the party (when mapped); the
        booking's id, or None when the party was no longer waiting."""
        ...
    def distinct(self, m: Mapping, name: str) -> list[Any]: ...
    def history(self, m: Mapping, ident: int) -> list[dict[str, Any]] | None:
        """Who changed the row, newest first: the connector's log merged with the shop's
        own (``at``, ``user``, ``field``, ``from``, ``to``, ``version``); None if it keeps
        none."""
        ...
    def day_totals(self, m: Mapping, time_field: str, sum_field: str | None, lo: datetime,
                   hi: datetime) -> list[tuple[date | str, Any, int, int | None]]:
        """Per day of ``time_field`` (the shop's days) and stored status within
        ``lo <= t < hi``: (day, status, rows, sum of ``sum_field``), aggregated by the
        database."""
        ...
    def line_totals(self, lines: Mapping, orders: Mapping, products: Mapping | None,
                    lo: datetime, hi: datetime, statuses: list[Any]
                    ) -> list[tuple[date | str, Any, int | None]]:
        """Per day of the orders' ``placed_at`` and product category: the sum of quantity
        times unit price of the lines of orders in ``statuses`` (category None when the
        line has no product, or the products map none)."""
        ...
    def timezone(self) -> str:
        """The name of the zone whose days the reports count (the site's)."""
        ...
    def ping(self) -> None: ...


@dataclass(slots=True)
class Answer:
    """What the framework sends back: status, a JSON-able body, headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise Refusal(405, {"error": "method not allowed"}, {"Allow": ", ".join(allowed)})
