"""Backroom's shop API contract over any store of the shop's own models (no web framework here)."""

from backroom_connect_core.contract import ENTITIES, Mapping, MappingError, parse_config
from backroom_connect_core.handler import handle
from backroom_connect_core.store import Answer, Store

__all__ = ["ENTITIES", "Answer", "Mapping", "MappingError", "Store", "handle", "parse_config"]
__version__ = "0.1.0"
