"""Diagnostics: the sweep, diagnose, database insights, connection checks, reports, bundles."""
