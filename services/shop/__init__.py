"""Bookings, products and orders of a shop: one repository interface, an API and a SQL adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from console.shop_map import ShopMap
from services.shop.repository import ShopRepository

if TYPE_CHECKING:
    import requests

__all__ = ["ShopRepository", "make_repository"]


def make_repository(*, base_url: str | None = None, token: str | None = None,
                    verify: bool | str = True, timeout: float = 10.0,
                    db_url: str | None = None, db_password: str | None = None,
                    db_map: ShopMap | None = None,
                    session: requests.Session | None = None,
                    prefer: Literal["api", "sql"] = "api",
                    user: str = "") -> ShopRepository | None:
    """The shop repository for a profile, or None when it names neither a back end nor a database.

    ``base_url``/``token``/``verify``/``timeout`` come from the profile's ``[backend]``
    (``verify`` is True, False or a CA bundle path); ``db_url``/``db_password`` from its
    ``[database]``, and ``db_map`` its ``[database.map.*]`` (the shop's own tables; without
    it, Backroom's schema). With both, ``prefer`` picks. ``user`` is who the console's
    changes are recorded as. Nothing connects here: the first call does.
    """
    use_api = bool(base_url) and (prefer == "api" or not db_url)
    if use_api:
        from services.shop.api import ApiShopRepository

        assert base_url is not None
        return ApiShopRepository(base_url, token or "", session=session, timeout=timeout,
                                 verify=verify, user=user)
    if db_url:
        from services.shop.db import make_engine

        engine = make_engine(db_url, password=db_password, timeout=timeout)
        if db_map is not None:
            from services.shop.mapped import MappedShopRepository

            return MappedShopRepository(engine, db_map, user=user)
        from services.shop.sql import SqlShopRepository

        return SqlShopRepository(engine, user=user)
    return None
