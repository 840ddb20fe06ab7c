"""Backroom's core: domain types, metric store, alert rules, the advisor and reports."""

__version__ = "0.1.0"
