"""Reading a profile from TOML data: every field checked, every problem reported by its path."""

from __future__ import annotations

import re
from typing import Any

from console import metrics
from console.changes import MAX_USER, clean_user
from console.domain import Severity, parse_labels
from console.profile.fields import FieldReader, join_path, quote_list, type_name
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
    Source,
)
from console.redaction import mask_url
from console.series_limit import DEFAULT_MAX_SERIES
from console.shop_map import parse_shop_map

_COMMON_SOURCE_KEYS = {"name", "kind", "url", "interval_s", "timeout_s", "max_series", "app"}
_TLS_KEYS = {"verify_tls", "ca_bundle"}
_ERROR_KEYS = {"error_ratio_warn", "error_ratio_fail", "unit"}
LATENCY_UNITS = ("s", "ms")
_SOURCE_KEYS: dict[str, set[str]] = {
    "prometheus": _COMMON_SOURCE_KEYS | _TLS_KEYS | _ERROR_KEYS | {"metrics", "user", "password"},
    "prometheus-server": _COMMON_SOURCE_KEYS | _TLS_KEYS | _ERROR_KEYS
    | {"metrics", "query", "selector", "user", "password", "group_by", "scrape_interval_s"},
    "redis": _COMMON_SOURCE_KEYS | {"password"},
    "memcached": _COMMON_SOURCE_KEYS | {"address"},
    "rabbitmq": _COMMON_SOURCE_KEYS | _TLS_KEYS | {"user", "password", "queues", "vhost"},
    "celery-redis": _COMMON_SOURCE_KEYS
    | {"password", "queues", "global_keyprefix", "sep", "priority_steps"},
    "database": _COMMON_SOURCE_KEYS | {"password"},
}
_URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "prometheus": ("http", "https"),
    "prometheus-server": ("http", "https"),
    "redis": ("redis", "rediss", "unix"),
    "celery-redis": ("redis", "rediss", "unix"),
    "rabbitmq": ("http", "https", "amqp", "amqps"),
    "memcached": ("memcached",),
}
#: What the ``metrics`` table of a prometheus source may rename (family names).
METRIC_ROLES: tuple[str, ...] = (
    "latency", "requests", "errors", "cache_hits", "cache_misses", "queue_depth",
)
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_ALERT_METRIC = re.compile(r"(?P<metric>[a-z0-9_]+)(?:\{(?P<labels>.*)\})?\Z")

#: A relative rule's baseline: at least a minute of readings, at most a day.
MIN_BASELINE_S = 60.0
MAX_BASELINE_S = 86_400.0


def parse_profile(data: dict[str, Any], origin: str = "") -> Profile:
    """Validate TOML data into a :class:`Profile`, or raise :class:`ProfileError` listing
    every problem by field path. Pure: no files, no keychain, no network."""
    reader = FieldReader()
    if not isinstance(data, dict):
        raise ProfileError([f"profile: expected a table, got {type_name(data)}"], origin)
    reader.unknown_keys(data, "", {"name", "role", "user", "backend", "probes", "sources",
                                   "database", "alerts"})
    name = reader.string(data, "name", "", required=True) or ""
    role = reader.string(data, "role", "", default="support") or "support"
    user = reader.string(data, "user", "", default=None)
    if user is not None and not clean_user(user):
        reader.problem("user", "must name someone (or leave it out for the computer's user)")
    elif user is not None and len(" ".join(user.split())) > MAX_USER:
        reader.problem("user", f"is longer than {MAX_USER} characters")
    if role not in ROLES:
        reader.problem("role", f"unknown role {role!r} (expected one of {quote_list(ROLES)})")
        role = "support"
    backend = _parse_backend(reader, data.get("backend"))
    probes = tuple(_parse_list(reader, data, "probes", _parse_probe))
    sources = tuple(_parse_list(reader, data, "sources", _parse_source))
    database = _parse_database(reader, data.get("database"))
    names: dict[str, str] = {}
    for i, item in enumerate(probes):
        _unique_name(reader, names, item.name, f"probes[{i}].name")
    for i, source in enumerate(sources):
        _unique_name(reader, names, source.name, f"sources[{i}].name")
    targets = set(names)
    if database is not None:
        targets.add("database")
    alerts = tuple(_parse_list(reader, data, "alerts",
                               lambda r, d, p: _parse_alert(r, d, p, targets)))
    alert_names: dict[str, str] = {}
    for i, rule in enumerate(alerts):
        _unique_name(reader, alert_names, rule.name, f"alerts[{i}].name")
    if reader.problems:
        raise ProfileError(reader.problems, origin)
    return Profile(name=name.strip(), role=role,  # type: ignore[arg-type]
                   user=clean_user(user) if user else None,
                   backend=backend, probes=probes, sources=sources, database=database,
                   alerts=alerts, origin=origin, warnings=tuple(reader.warnings))


def _unique_name(reader: FieldReader, seen: dict[str, str], name: str, path: str) -> None:
    if not name:
        return
    if name in seen:
        reader.problem(path, f"{name!r} is already used by {seen[name]}")
    else:
        seen[name] = path.rsplit(".", 1)[0]


def _parse_list(reader: FieldReader, data: dict[str, Any], key: str, parse: Any) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problem(key, f"expected a list of tables ([[{key}]]), got {type_name(value)}")
        return []
    items = []
    for i, item in enumerate(value):
        path = f"{key}[{i}]"
        table = reader.table(item, path)
        if table is not None:
            parsed = parse(reader, table, path)
            if parsed is not None:
                items.append(parsed)
    return items


def _parse_backend(reader: FieldReader, value: Any) -> Backend | None:
    if value is None:
        return None
    data = reader.table(value, "backend")
    if data is None:
        return None
    reader.unknown_keys(data, "backend", {"base_url", "token", "verify_tls", "ca_bundle",
                                          "timeout_s"})
    base_url = reader.string(data, "base_url", "backend", required=True)
    reader.http_url(base_url, "backend.base_url")
    return Backend(
        base_url=(base_url or "").rstrip("/"),
        token=reader.secret(data, "token", "backend"),
        verify_tls=reader.boolean(data, "verify_tls", "backend", True),
        ca_bundle=reader.string(data, "ca_bundle", "backend"),
        timeout_s=reader.number(data, "timeout_s", "backend", DEFAULT_BACKEND_TIMEOUT_S,
                                maximum=MAX_TIMEOUT_S),
    )


def _parse_probe(reader: FieldReader, data: dict[str, Any], path: str) -> Probe:
    reader.unknown_keys(data, path, {"name", "url", "interval_s", "timeout_s", "expect_status",
                                     "verify_tls", "ca_bundle", "token", "app"})
    url = reader.string(data, "url", path, required=True)
    reader.http_url(url, join_path(path, "url"))
    return Probe(
        name=(reader.string(data, "name", path, required=True) or "").strip(),
        url=url or "",
        interval_s=reader.number(data, "interval_s", path, DEFAULT_PROBE_INTERVAL_S,
                                 maximum=MAX_INTERVAL_S),
        timeout_s=reader.number(data, "timeout_s", path, DEFAULT_TIMEOUT_S,
                                maximum=MAX_TIMEOUT_S),
        expect_status=_parse_statuses(reader, data.get("expect_status"),
                                      join_path(path, "expect_status")),
        verify_tls=reader.boolean(data, "verify_tls", path, True),
        ca_bundle=reader.string(data, "ca_bundle", path),
        token=reader.secret(data, "token", path),
        app=(reader.string(data, "app", path, default="") or "").strip(),
    )


def _parse_statuses(reader: FieldReader, value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599 for v in items
    ):
        reader.problem(where, "expected an HTTP status (100..599) or a list of them")
        return ()
    return tuple(sorted(set(items)))


def _parse_source(reader: FieldReader, data: dict[str, Any], path: str) -> Source | None:
    kind = reader.string(data, "kind", path, required=True)
    name = (reader.string(data, "name", path, required=True) or "").strip()
    if kind is None:
        return None
    if kind not in SOURCE_KINDS:
        reader.problem(join_path(path, "kind"),
                       f"unknown kind {kind!r} (expected one of {quote_list(SOURCE_KINDS)})")
        return None
    reader.unknown_keys(data, path, _SOURCE_KEYS[kind], what=f"kind {kind!r}")
    if kind == "memcached":
        url = _memcached_address(reader, data, path)
    else:
        url = reader.string(data, "url", path, required=True) or ""
        if url and kind == "database":
            _database_url(reader, url, join_path(path, "url"))
        elif url:
            reader.url(url, join_path(path, "url"), _URL_SCHEMES[kind])
    vhost = reader.string(data, "vhost", path, default="/") or "/"
    query = reader.string_table(data, "query", path, metrics.STANDARD_METRICS)
    warn, fail = _error_ratios(reader, data, path)
    return Source(
        name=name,
        kind=kind,
        url=url,
        interval_s=reader.number(data, "interval_s", path, DEFAULT_SOURCE_INTERVAL_S,
                                 maximum=MAX_INTERVAL_S),
        timeout_s=reader.number(data, "timeout_s", path, DEFAULT_TIMEOUT_S,
                                maximum=MAX_TIMEOUT_S),
        max_series=_max_series(reader, data, path),
        user=reader.string(data, "user", path),
        password=reader.secret(data, "password", path),
        queues=reader.string_list(data, "queues", path),
        vhost=vhost,
        query=query,
        metrics=reader.string_table(data, "metrics", path, METRIC_ROLES),
        selector=reader.string(data, "selector", path, default="") or "",
        verify_tls=reader.boolean(data, "verify_tls", path, True),
        ca_bundle=reader.string(data, "ca_bundle", path),
        key_prefix=reader.string(data, "global_keyprefix", path),
        priority_sep=reader.string(data, "sep", path),
        priority_steps=_priority_steps(reader, data.get("priority_steps"),
                                       join_path(path, "priority_steps")),
        error_ratio_warn=warn,
        error_ratio_fail=fail,
        group_by=reader.string_list(data, "group_by", path),
        scrape_interval_s=(reader.number(data, "scrape_interval_s", path, 0.0,
                                         maximum=MAX_INTERVAL_S)
                           if "scrape_interval_s" in data else None),
        unit=_latency_unit(reader, data, path),
        app=(reader.string(data, "app", path, default="") or "").strip(),
    )


def _priority_steps(reader: FieldReader, value: Any, where: str) -> tuple[int, ...]:
    """kombu's ``priority_steps``: the priorities that get a list of their own (0..255)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        reader.problem(where, "expected a list of priorities (whole numbers 0..255), as in "
                       "Celery's broker_transport_options")
        return ()
    return tuple(sorted(set(value)))


def _latency_unit(reader: FieldReader, data: dict[str, Any], path: str) -> str:
    unit = reader.string(data, "unit", path, default="s") or "s"
    if unit not in LATENCY_UNITS:
        reader.problem(join_path(path, "unit"),
                       f"unknown unit {unit!r} (expected one of {quote_list(LATENCY_UNITS)})")
        return "s"
    return unit


def _error_ratios(reader: FieldReader, data: dict[str, Any],
                  path: str) -> tuple[float | None, float | None]:
    """A source's error-ratio thresholds: shares in (0, 1], warn below fail."""
    found: list[float | None] = []
    for key in ("error_ratio_warn", "error_ratio_fail"):
        value = data.get(key)
        found.append(reader.number(data, key, path, 0.0, maximum=1.0)
                     if value is not None else None)
    warn, fail = (v or None for v in found)
    if warn is not None and fail is not None and warn > fail:
        reader.problem(join_path(path, "error_ratio_warn"),
                       f"must not be above error_ratio_fail ({fail:g})")
    return warn, fail


def _memcached_address(reader: FieldReader, data: dict[str, Any], path: str) -> str:
    address = reader.string(data, "address", path)
    url = reader.string(data, "url", path)
    if address is not None and url is not None:
        reader.problem(join_path(path, "address"), "give either address or url, not both")
    text = address if address is not None else url
    where = join_path(path, "address" if address is not None else "url")
    if text is None:
        reader.problem(join_path(path, "address"), "required (host:port)")
        return ""
    if "://" in text:
        reader.url(text, where, _URL_SCHEMES["memcached"])
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        reader.problem(where, f"{text!r} is not host:port")
    return text


def _max_series(reader: FieldReader, data: dict[str, Any], path: str) -> int:
    number = reader.number(data, "max_series", path, DEFAULT_MAX_SERIES, minimum=1,
                           maximum=MAX_MAX_SERIES, allow_zero=True)
    if not float(number).is_integer():
        reader.problem(join_path(path, "max_series"), f"expected a whole number, got {number:g}")
        return DEFAULT_MAX_SERIES
    return int(number)


def _database_url(reader: FieldReader, url: str, where: str) -> None:
    scheme = url.partition("://")[0]
    dialect = scheme.partition("+")[0]
    if "://" not in url or not dialect:
        reader.problem(where, f"{mask_url(url)!r} is not a database URL (e.g. postgresql+psycopg://"
                       "user@host/db or sqlite:///path)")
    elif dialect not in DATABASE_DIALECTS:
        reader.problem(where, f"unsupported database {dialect!r} "
                       f"(expected one of {quote_list(DATABASE_DIALECTS)})")
    else:
        reader.url_secrets(url, where)


def _parse_database(reader: FieldReader, value: Any) -> DatabaseConfig | None:
    if value is None:
        return None
    data = reader.table(value, "database")
    if data is None:
        return None
    reader.unknown_keys(data, "database", {"url", "password", "timeout_s", "interval_s", "map",
                                           "app"})
    url = reader.string(data, "url", "database", required=True) or ""
    if url:
        _database_url(reader, url, "database.url")
    return DatabaseConfig(
        url=url,
        password=reader.secret(data, "password", "database"),
        timeout_s=reader.number(data, "timeout_s", "database", DEFAULT_TIMEOUT_S,
                                maximum=MAX_TIMEOUT_S),
        interval_s=reader.number(data, "interval_s", "database", 30.0, maximum=MAX_INTERVAL_S),
        map=parse_shop_map(data.get("map"), "database.map", reader.problem),
        app=(reader.string(data, "app", "database", default="") or "").strip(),
    )


def _parse_alert(reader: FieldReader, data: dict[str, Any], path: str,
                 targets: set[str]) -> AlertRule | None:
    reader.unknown_keys(data, path, {"name", "source", "metric", "above", "below", "for_s",
                                     "severity", "baseline_s"})
    name = (reader.string(data, "name", path, required=True) or "").strip()
    source = reader.string(data, "source", path, required=True)
    if source and source not in targets:
        known = quote_list(sorted(targets)) or "none defined"
        reader.problem(join_path(path, "source"),
                       f"no probe or source named {source!r} (known: {known})")
    metric_text = reader.string(data, "metric", path, required=True)
    metric = ""
    labels: tuple[tuple[str, str], ...] = ()
    if metric_text:
        metric, labels = _parse_alert_metric(reader, metric_text.strip(), join_path(path, "metric"))
    above = reader.optional_number(data, "above", path)
    below = reader.optional_number(data, "below", path)
    if "above" not in data and "below" not in data:
        reader.problem(path, "needs a threshold: above = N or below = N")
    elif "above" in data and "below" in data:
        reader.problem(path, "give either above or below, not both")
    baseline_s = 0.0
    if "baseline_s" in data:
        baseline_s = reader.number(data, "baseline_s", path, 0.0, maximum=MAX_BASELINE_S)
        factor = above if above is not None else below
        if baseline_s < MIN_BASELINE_S:
            reader.problem(join_path(path, "baseline_s"),
                           f"must be at least {MIN_BASELINE_S:g} s (the usual value is a "
                           "median over it)")
        if factor is not None and factor <= 0:
            reader.problem(path, "with baseline_s the threshold is a factor of the usual "
                           "value and must be above 0 (3 means 3x)")
    severity_text = reader.string(data, "severity", path, default="warn") or "warn"
    severity = Severity.WARN
    if severity_text in SEVERITIES:
        severity = Severity(severity_text)
    else:
        reader.problem(join_path(path, "severity"), f"unknown severity {severity_text!r} "
                       f"(expected one of {quote_list(SEVERITIES)})")
    return AlertRule(
        name=name, source=source or "", metric=metric, above=above, below=below,
        for_s=reader.number(data, "for_s", path, 0.0, maximum=MAX_INTERVAL_S,
                            allow_zero=True),
        severity=severity, labels=labels, baseline_s=baseline_s,
    )


def _parse_alert_metric(reader: FieldReader, text: str,
                        where: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    match = _ALERT_METRIC.match(text)
    if match is None:
        reader.problem(where, f"{text!r} is not a metric name like queue_depth or "
                       'queue_depth{queue="celery"}')
        return "", ()
    metric = match["metric"]
    if metric not in metrics.STANDARD_METRICS:
        reader.problem(where, f"unknown metric {metric!r} "
                       f"(expected one of {quote_list(metrics.STANDARD_METRICS)})")
    label_text = match["labels"]
    labels = parse_labels(label_text) if label_text else {}
    if labels is None:
        reader.problem(where, f'bad labels {label_text!r} (expected name="value", ...)')
        return metric, ()
    for key in labels:
        if not _LABEL_NAME.match(key):
            reader.problem(where, f"bad label name {key!r}")
    return metric, tuple(sorted(labels.items()))
