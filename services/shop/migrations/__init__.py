"""Alembic migrations of the shop schema (script location for services.shop.db)."""
