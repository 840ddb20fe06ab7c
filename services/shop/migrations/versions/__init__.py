"""Revisions of the shop schema, oldest first."""
