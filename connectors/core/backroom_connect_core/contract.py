"""The contract's entities (fields, statuses, sorts) and the shop's mapping onto its models."""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from typing import Any

TEXT, INT, TIME, BOOL, STATUS = "text", "int", "time", "bool", "status"


@dataclass(frozen=True, slots=True)
class Entity:
    """One kind of resource of docs/api.md: its fields and what a client may do with it."""

    name: str
    noun: str
    fields: dict[str, str]
    required: tuple[str, ...]
    statuses: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]
    sorts: tuple[str, ...]
    default_sort: str
    search: tuple[str, ...]
    time_field: str | None
    editable: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)


ENTITIES: dict[str, Entity] = {e.name: e for e in (
    Entity(
        name="bookings", noun="booking",
        fields={"customer_name": TEXT, "phone": TEXT, "party_size": INT, "start_at": TIME,
                "table_no": INT, "notes": TEXT, "status": STATUS, "customer_id": INT,
                "created_at": TIME, "updated_at": TIME},
        required=("customer_name", "party_size", "start_at", "status"),
        statuses=("confirmed", "seated", "cancelled", "no_show"),
        transitions={"confirmed": ("seated", "no_show", "cancelled"), "seated": ("confirmed",),
                     "no_show": ("confirmed", "seated"), "cancelled": ()},
        sorts=("start_at", "customer_name"), default_sort="start_at",
        search=("customer_name", "phone"), time_field="start_at",
        editable=("customer_name", "phone", "party_size", "start_at", "table_no", "notes",
                  "status"),
        aliases={"guest_name": "customer_name", "table": "table_no"}),
    Entity(
        name="products", noun="product",
        fields={"sku": TEXT, "name": TEXT, "category": TEXT, "price_cents": INT, "stock": INT,
                "low_stock_threshold": INT, "active": BOOL, "updated_at": TIME},
        required=("name",), statuses=(), transitions={},
        sorts=("name", "sku", "stock", "price_cents"), default_sort="name",
        search=("name", "sku"), time_field=None,
        editable=("name", "category", "price_cents", "stock", "low_stock_threshold",
                  "active"),
        aliases={"price": "price_cents", "threshold": "low_stock_threshold"}),
    Entity(
        name="orders", noun="order",
        fields={"customer_name": TEXT, "placed_at": TIME, "status": STATUS,
                "total_cents": INT, "item_count": INT, "customer_id": INT, "updated_at": TIME},
        required=("placed_at", "status"),
        statuses=("pending", "paid", "preparing", "ready", "completed", "cancelled", "refunded"),
        transitions={"pending": ("paid", "cancelled"), "paid": ("preparing", "cancelled",
                                                                 "refunded"),
                     "preparing": ("ready",), "ready": ("completed",),
                     "completed": ("refunded",), "cancelled": (), "refunded": ()},
        sorts=("placed_at", "total_cents"), default_sort="-placed_at",
        search=("customer_name",), time_field="placed_at", editable=("status",),
        aliases={"guest_name": "customer_name", "total": "total_cents"}),
    Entity(
        name="tables", noun="table",
        fields={"number": INT, "name": TEXT, "seats": INT, "area": TEXT},
        required=("number", "seats"), statuses=(), transitions={},
        sorts=("number",), default_sort="number", search=("name",), time_field=None,
        editable=(), aliases={"label": "name", "room": "area"}),
    Entity(
        name="waitlist", noun="waiting party",
        fields={"name": TEXT, "phone": TEXT, "covers": INT, "quoted_minutes": INT,
                "added_at": TIME, "state": STATUS, "seated_at": TIME, "removed_at": TIME,
                "booking_id": INT},
        required=("name", "covers", "quoted_minutes", "added_at", "state"),
        statuses=("waiting", "seated", "removed"), transitions={},
        sorts=("added_at",), default_sort="added_at", search=(), time_field="added_at",
        editable=(), aliases={"guest_name": "name", "party_size": "covers",
                              "quoted": "quoted_minutes"}),
    Entity(
        name="order_lines", noun="order line",
        fields={"order": INT, "product": INT, "quantity": INT, "unit_price_cents": INT},
        required=("order", "quantity", "unit_price_cents"), statuses=(), transitions={},
        sorts=(), default_sort="order", search=(), time_field=None, editable=(),
        aliases={"price_cents": "unit_price_cents"}),
)}

#: Mapped for a part of the contract of their own (the waitlist, the day report), not
#: served as lists under /api/<name> nor described among discovery's entities.
NOT_LISTED = frozenset({"waitlist", "order_lines"})

#: The floor's rules when the shop's settings leave one out (docs/api.md, "The floor").
FLOOR_DEFAULTS: dict[str, Any] = {"opens_at": "11:00", "closes_at": "23:00",
                                  "slot_minutes": 30, "covers_per_slot": None,
                                  "turn_minutes": 90, "large_party_turn_minutes": 120}


class MappingError(ValueError):
    """The shop's BACKROOM_CONNECT settings are not usable; the message says which key."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """How one entity of the contract sits on one model of the shop."""

    entity: Entity
    model: Any
    columns: dict[str, str]
    """contract field -> the model's attribute ("id" and "version" included when mapped)."""
    status_values: dict[str, Any]
    """contract status -> the value the shop stores."""
    version: str | None
    options: dict[str, Any] = field(default_factory=dict)
    """The floor's rules for ``tables`` (opening hours, slot, covers limit, turn times)."""

    @property
    def writable(self) -> bool:
        return self.version is not None

    def has(self, name: str) -> bool:
        return name in self.columns

    def status_of(self, stored: Any) -> str | None:
        for ours, theirs in self.status_values.items():
            if theirs == stored:
                return ours
        return None

    def statuses(self) -> tuple[str, ...]:
        return tuple(s for s in self.entity.statuses if s in self.status_values)

    def describe(self) -> dict[str, Any]:
        """What discovery says about this entity."""
        fields = ["id", *(f for f in self.entity.fields if f in self.columns)]
        if self.entity.name == "products" and {"stock", "low_stock_threshold"} <= set(fields):
            fields.append("low_stock")
        out: dict[str, Any] = {
            "fields": fields, "writable": self.writable,
            "editable": [f for f in self.entity.editable if f in self.columns]
            if self.writable else [],
            "sorts": [s for s in self.entity.sorts if s in self.columns],
        }
        if self.entity.statuses:
            out["statuses"] = list(self.statuses())
        if not self.writable:
            out["read_only_reason"] = (f"the shop's connector maps no version field for "
                                       f"{self.entity.name}, so they are read-only")
        return out


def parse_config(config: AnyMapping[str, Any], resolve_model: Any = None,
                 id_attr: str = "id") -> dict[str, Mapping]:
    """The shop's settings dict checked and turned into one :class:`Mapping` per entity.

    ``resolve_model`` turns the ``"model"`` value into whatever the store needs (Django:
    ``apps.get_model``); without it the value is kept as given. ``id_attr`` is the model's
    primary key attribute when the settings name none (Django: ``pk``).
    """
    if not isinstance(config, AnyMapping):
        raise MappingError("BACKROOM_CONNECT must be a dict")
    token = config.get("token")
    if not isinstance(token, str) or len(token) < 16:
        raise MappingError("BACKROOM_CONNECT['token'] must be a string of 16 characters or more")
    unknown = set(config) - {"token", *ENTITIES}
    if unknown:
        raise MappingError(f"BACKROOM_CONNECT has unknown keys: {', '.join(sorted(unknown))}")
    out: dict[str, Mapping] = {}
    for name, entity in ENTITIES.items():
        spec = config.get(name)
        if spec is None:
            continue
        where = f"BACKROOM_CONNECT['{name}']"
        if not isinstance(spec, AnyMapping) or "model" not in spec:
            raise MappingError(f"{where} must be a dict with a 'model'")
        fields = spec.get("fields") or {}
        if not isinstance(fields, AnyMapping):
            raise MappingError(f"{where}['fields'] must be a dict")
        columns: dict[str, str] = {"id": str(spec.get("id", id_attr))}
        for key, attr in fields.items():
            ours = entity.aliases.get(key, key)
            if ours not in entity.fields:
                known = ", ".join(sorted({*entity.fields, *entity.aliases}))
                raise MappingError(f"{where}['fields'] has '{key}', which is not a field of "
                                   f"{name} (known: {known})")
            if not isinstance(attr, str) or not attr:
                raise MappingError(f"{where}['fields']['{key}'] must name a model field")
            columns[ours] = attr
        missing = [f for f in entity.required if f not in columns]
        if missing:
            raise MappingError(f"{where}['fields'] must map {', '.join(missing)}")
        values = dict(spec.get("status_values") or {})
        if entity.statuses:
            bad = [v for v in values if v not in entity.statuses]
            if bad:
                raise MappingError(f"{where}['status_values'] has {', '.join(bad)}; statuses "
                                   f"are {', '.join(entity.statuses)}")
            if not values:
                raise MappingError(f"{where}['status_values'] must map the statuses the shop "
                                   f"stores ({', '.join(entity.statuses)})")
        version = spec.get("version")
        if name == "waitlist":
            # a party changes once (seated or removed), judged by its state: the state is
            # what a seat or a remove compares and sets (the version field of a party)
            version = columns["state"]
        if version is not None:
            if not isinstance(version, str) or not version:
                raise MappingError(f"{where}['version'] must name an integer or timestamp field")
            columns["version"] = version
        model = resolve_model(spec["model"]) if resolve_model else spec["model"]
        options = _floor_options(spec.get("floor"), where) if name == "tables" else {}
        out[name] = Mapping(entity, model, columns, values, version, options)
    return out


def _floor_options(floor: Any, where: str) -> dict[str, Any]:
    """The ``floor`` dict of the tables' settings, checked: HH:MM hours, whole minutes."""
    if floor is None:
        return {}
    if not isinstance(floor, AnyMapping):
        raise MappingError(f"{where}['floor'] must be a dict")
    unknown = set(floor) - set(FLOOR_DEFAULTS)
    if unknown:
        raise MappingError(f"{where}['floor'] has unknown keys: {', '.join(sorted(unknown))} "
                           f"(known: {', '.join(FLOOR_DEFAULTS)})")
    out: dict[str, Any] = {}
    for key, value in floor.items():
        if key in ("opens_at", "closes_at"):
            hours, _, minutes = str(value).partition(":")
            if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24
                    and int(minutes) < 60):
                raise MappingError(f"{where}['floor']['{key}'] must be HH:MM, not {value!r}")
            out[key] = f"{int(hours):02d}:{int(minutes):02d}"
        elif value is None and key == "covers_per_slot":
            out[key] = None
        elif not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1440:
            raise MappingError(f"{where}['floor']['{key}'] must be whole minutes (or covers) "
                               "from 1 to 1440")
        else:
            out[key] = value
    return out
