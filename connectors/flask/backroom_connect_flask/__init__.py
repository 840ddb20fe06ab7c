"""Backroom's shop API (docs/api.md) as a Flask blueprint over a shop's SQLAlchemy models."""

from backroom_connect_flask.blueprint import make_blueprint

__all__ = ["make_blueprint"]
__version__ = "0.1.0"
