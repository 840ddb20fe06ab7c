"""What the REST repository's parts call: one request to the shop's API (the repository's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from console.shop import ShopError


class ApiCalls:
    """The base of the API repository's parts (waitlist, reports): they call ``_call``,
    which :class:`services.shop.api.ApiShopRepository` makes."""

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None, version: int | None = None,
              on_conflict: Callable[[dict[str, Any]], ShopError] | None = None
              ) -> Any:  # pragma: no cover - the subclass's
        raise NotImplementedError
