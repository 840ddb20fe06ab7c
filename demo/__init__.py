"""The embedded demo shop: a small real back end the console can be pointed at."""

from __future__ import annotations

from demo.cli import serve_main
from demo.shop import DemoShop

__all__ = ["DemoShop", "serve_main"]
