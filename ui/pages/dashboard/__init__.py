"""The live dashboard: status tiles, linked charts, time range, events and what moved first."""

from ui.pages.dashboard.page import DashboardPage
from ui.pages.dashboard.routing import PANELS, Route, route

__all__ = ["PANELS", "DashboardPage", "Route", "route"]
