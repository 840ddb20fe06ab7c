"""The demo shop for tests: without simulated customers, in the test's own directory."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo import DemoShop


def quiet_demo(directory: Path, **options: Any) -> DemoShop:
    """A demo shop with its database in ``directory`` and no simulated customers, not started
    yet (``with quiet_demo(...) as shop:`` starts it and stops it)."""
    return DemoShop(directory / f"shop-{secrets.token_hex(3)}.sqlite", traffic=False, **options)


@pytest.fixture
def demo_shop(tmp_path: Path) -> Iterator[DemoShop]:
    """The demo shop running for one test, seeded at 0.3 of its full size."""
    with quiet_demo(tmp_path, seed_scale=0.3) as shop:
        yield shop
