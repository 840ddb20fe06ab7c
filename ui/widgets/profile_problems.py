"""Where a profile's problems are shown: each schema problem beside the card and field it names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

Card = TypeVar("Card")

_PATH = re.compile(r"(?P<section>[A-Za-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>[A-Za-z_]+))?")


def route_problem(problem: str) -> tuple[str, int | None, str, str]:
    """'sources[1].url: bad' -> ('sources', 1, 'url', 'bad'); top-level fields go to
    section 'general' ('name: required' -> ('general', None, 'name', 'required'))."""
    path, sep, message = problem.partition(": ")
    if not sep:
        return "general", None, "", problem
    match = _PATH.match(path)
    if match is None:
        return "general", None, "", problem
    section, index, field = match["section"], match["index"], match["field"] or ""
    if section in ("backend", "database", "probes", "sources", "alerts"):
        return section, int(index) if index is not None else None, field, message
    return "general", None, section, message


def route_problems(problems: Sequence[str], cards: Mapping[tuple[str, int | None], Card],
                   general: Card) -> dict[Card, dict[str, list[str]]]:
    """Each problem to the card its path names (``cards``: (section, index) -> card), by
    field; what names no card goes to ``general``, as written. Every card gets an entry."""
    routed: dict[Card, dict[str, list[str]]] = {card: {} for card in cards.values()}
    routed.setdefault(general, {})
    for problem in problems:
        section, index, field, message = route_problem(problem)
        card = cards.get((section, index)) or general
        if card is general and section != "general":
            field, message = "", problem
        routed[card].setdefault(field, []).append(message)
    return routed


def by_field(problems: Sequence[str]) -> dict[str, list[str]]:
    """The problems of a one-card profile, by the field they name (for that card alone)."""
    fields: dict[str, list[str]] = {}
    for problem in problems:
        _section, _index, field, message = route_problem(problem)
        fields.setdefault(field, []).append(message)
    return fields
