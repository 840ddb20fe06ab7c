"""Backroom's shop API (docs/api.md) served by a Django site over its own models."""

__version__ = "0.1.0"
