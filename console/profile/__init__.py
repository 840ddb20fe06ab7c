"""A shop's profile: its dataclasses (model), read from TOML (parse), written back (writing)."""

from __future__ import annotations

from console.profile.model import (
    DATABASE_DIALECTS,
    DEFAULT_BACKEND_TIMEOUT_S,
    DEFAULT_PROBE_INTERVAL_S,
    DEFAULT_SOURCE_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
    MAX_INTERVAL_S,
    MAX_MAX_SERIES,
    MAX_TIMEOUT_S,
    ROLES,
    SEVERITIES,
    SOURCE_KINDS,
    AlertRule,
    Backend,
    DatabaseConfig,
    Probe,
    Profile,
    ProfileError,
    Role,
    SecretKind,
    SecretRef,
    Source,
)
from console.profile.parse import (
    LATENCY_UNITS,
    METRIC_ROLES,
    parse_profile,
)
from console.profile.writing import (
    profile_to_dict,
)

__all__ = [
    "DATABASE_DIALECTS",
    "DEFAULT_BACKEND_TIMEOUT_S",
    "DEFAULT_PROBE_INTERVAL_S",
    "DEFAULT_SOURCE_INTERVAL_S",
    "DEFAULT_TIMEOUT_S",
    "LATENCY_UNITS",
    "MAX_INTERVAL_S",
    "MAX_MAX_SERIES",
    "MAX_TIMEOUT_S",
    "METRIC_ROLES",
    "ROLES",
    "SEVERITIES",
    "SOURCE_KINDS",
    "AlertRule",
    "Backend",
    "DatabaseConfig",
    "Probe",
    "Profile",
    "ProfileError",
    "Role",
    "SecretKind",
    "SecretRef",
    "Source",
    "parse_profile",
    "profile_to_dict",
]
