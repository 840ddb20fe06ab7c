"""What a shop's back end shares and lets the console change (from its connector's discovery)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EntityAccess:
    """One of bookings, products, orders as the shop shares it.

    ``fields`` None means every field of the contract; otherwise the fields the shop maps.
    ``editable`` None means every editable field may be changed (when ``writable``).
    """

    fields: frozenset[str] | None = None
    writable: bool = True
    editable: frozenset[str] | None = None
    why_read_only: str = ""

    def shows(self, field: str) -> bool:
        return self.fields is None or field in self.fields

    def can_edit(self, field: str) -> bool:
        return self.writable and self.shows(field) and (
            self.editable is None or field in self.editable)

    def why_not(self, field: str) -> str:
        """The tooltip of a greyed field: why the console cannot change it here."""
        if not self.writable:
            return self.why_read_only or "The shop shares these read-only."
        if not self.shows(field):
            return "The shop's connector does not map this field, so Backroom cannot see it."
        return "The shop's connector does not let Backroom change this field."


@dataclass(frozen=True, slots=True)
class ShopAccess:
    """Which entities a shop shares (None: not shared) and whether it has today's figures."""

    bookings: EntityAccess | None = EntityAccess()
    products: EntityAccess | None = EntityAccess()
    orders: EntityAccess | None = EntityAccess()
    today: bool = True


FULL_ACCESS = ShopAccess()


def access_of(repository: object) -> ShopAccess:
    """What a repository shares: its ``access()`` (the API adapter asks the shop's discovery),
    else everything (SQL on Backroom's own schema)."""
    ask = getattr(repository, "access", None)
    return ask() if callable(ask) else FULL_ACCESS
