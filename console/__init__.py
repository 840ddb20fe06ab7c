"""Backroom's core: domain types, metric store, alert rules, the advisor and reports (pure Python)."""

__version__ = "0.1.0"
