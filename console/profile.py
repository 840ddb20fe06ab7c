"""The profile schema: frozen dataclasses for one shop, validated from TOML data in one pass."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from console import metrics
from console.domain import Severity, labels_text, parse_labels, series_name
from console.redaction import mask_url, url_password, url_query_secrets, url_without_secrets
from console.series_limit import DEFAULT_MAX_SERIES
from console.shop_map import ShopMap, parse_shop_map, shop_map_to_data

SecretKind = Literal["literal", "keyring", "env"]
Role = Literal["manager", "support"]

ROLES: tuple[str, ...] = ("manager", "support")
SOURCE_KINDS: tuple[str, ...] = (
    "prometheus", "prometheus-server", "redis", "memcached", "rabbitmq", "celery-redis",
    "database",
)
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
DATABASE_DIALECTS: tuple[str, ...] = ("mariadb", "mysql", "postgresql", "sqlite")

DEFAULT_PROBE_INTERVAL_S = 5.0
DEFAULT_SOURCE_INTERVAL_S = 10.0
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_BACKEND_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 300.0
MAX_INTERVAL_S = 86_400.0
#: The most label sets per metric a source may be allowed (``max_series``).
MAX_MAX_SERIES = 100_000


class ProfileError(ValueError):
    """A profile that cannot be used; ``problems`` lists every problem by field path."""

    def __init__(self, problems: list[str], origin: str = "") -> None:
        self.problems = list(problems)
        self.origin = origin
        where = f"{origin}: " if origin else ""
        super().__init__(where + "; ".join(self.problems))


@dataclass(frozen=True, slots=True, repr=False)
class SecretRef:
    """Where a secret lives: the OS keychain, an environment variable, or (discouraged) the
    profile itself. Its repr and str never show a literal value."""

    kind: SecretKind
    name: str = ""
    value: str = field(default="", compare=True)

    @staticmethod
    def parse(text: str) -> SecretRef:
        """``keyring:NAME``, ``env:NAME`` or a literal secret."""
        for kind in ("keyring", "env"):
            prefix = kind + ":"
            if text.startswith(prefix):
                return SecretRef(kind, text[len(prefix):].strip())  # type: ignore[arg-type]
        return SecretRef("literal", "", text)

    @staticmethod
    def literal(value: str) -> SecretRef:
        return SecretRef("literal", "", value)

    def to_text(self) -> str:
        """The profile text for this reference (the value itself for a literal)."""
        return self.value if self.kind == "literal" else f"{self.kind}:{self.name}"

    def describe(self) -> str:
        """Safe to show or log: never the literal value."""
        return "literal (hidden)" if self.kind == "literal" else f"{self.kind}:{self.name}"

    def __repr__(self) -> str:
        return f"SecretRef({self.describe()})"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class Backend:
    """The shop's REST API."""

    base_url: str
    token: SecretRef | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout_s: float = DEFAULT_BACKEND_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Probe:
    """An HTTP check timed end to end; ``{today}`` in the URL becomes today's UTC date."""

    name: str
    url: str
    interval_s: float = DEFAULT_PROBE_INTERVAL_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    expect_status: tuple[int, ...] = ()
    verify_tls: bool = True
    ca_bundle: str | None = None
    token: SecretRef | None = None
    #: The app this probe belongs to (findings link only within one app); "" for none.
    app: str = ""

    @property
    def kind(self) -> str:
        return "http"


@dataclass(frozen=True, slots=True)
class Source:
    """One monitored system; which optional fields matter depends on ``kind``."""

    name: str
    kind: str
    url: str
    interval_s: float = DEFAULT_SOURCE_INTERVAL_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_series: int = DEFAULT_MAX_SERIES  # label sets kept per metric (the rest: 'other')
    user: str | None = None
    password: SecretRef | None = None
    queues: tuple[str, ...] = ()
    vhost: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    metrics: tuple[tuple[str, str], ...] = ()
    selector: str = ""
    verify_tls: bool = True
    ca_bundle: str | None = None
    #: Celery on Redis: kombu's broker_transport_options ``global_keyprefix``, ``sep`` and
    #: ``priority_steps`` (None / () when the profile leaves them to detection).
    key_prefix: str | None = None
    priority_sep: str | None = None
    priority_steps: tuple[int, ...] = ()
    #: Share of 5xx answers that makes a warning / a failure (None: the advisor's default).
    error_ratio_warn: float | None = None
    error_ratio_fail: float | None = None
    #: prometheus-server: labels whose values keep figures apart (e.g. ("site",)).
    group_by: tuple[str, ...] = ()
    #: prometheus-server: the scrape interval behind the figures (None: asked of the server).
    scrape_interval_s: float | None = None
    #: prometheus, prometheus-server: the latency family's unit, "s" or "ms".
    unit: str = "s"
    #: The app this source belongs to, e.g. "orders-api": the advisor links a slow endpoint
    #: only to the database, cache and queue of its own app. "" for none.
    app: str = ""

    def query_for(self, metric: str) -> str | None:
        return dict(self.query).get(metric)

    def metric_for(self, role: str) -> str | None:
        return dict(self.metrics).get(role)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """The shop database for direct SQL (and, in diagnostics, its health)."""

    url: str
    password: SecretRef | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    interval_s: float = 30.0
    map: ShopMap | None = None
    """The shop's own tables (``[database.map.*]``); None: Backroom's schema (``db init``)."""
    app: str = ""


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Fire when ``source/metric`` stays above (or below) a threshold for ``for_s`` seconds."""

    name: str
    source: str
    metric: str
    above: float | None = None
    below: float | None = None
    for_s: float = 0.0
    severity: Severity = Severity.WARN
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def series(self) -> str:
        return series_name(self.source, self.metric, dict(self.labels))


@dataclass(frozen=True, slots=True)
class Profile:
    """One shop: its back end, probes, sources, database and alert rules."""

    name: str
    role: Role = "support"
    backend: Backend | None = None
    probes: tuple[Probe, ...] = ()
    sources: tuple[Source, ...] = ()
    database: DatabaseConfig | None = None
    alerts: tuple[AlertRule, ...] = ()
    origin: str = field(default="", compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def secrets(self) -> tuple[SecretRef, ...]:
        """Every secret reference in the profile."""
        refs: list[SecretRef | None] = [self.backend.token if self.backend else None]
        refs += [p.token for p in self.probes]
        refs += [s.password for s in self.sources]
        refs.append(self.database.password if self.database else None)
        return tuple(r for r in refs if r is not None)

    def urls(self) -> tuple[str, ...]:
        """Every URL (and memcached address) in the profile: where secrets may be written."""
        urls = [self.backend.base_url] if self.backend else []
        urls += [p.url for p in self.probes]
        urls += [s.url for s in self.sources]
        if self.database is not None:
            urls.append(self.database.url)
        return tuple(urls)
    def apps(self) -> dict[str, str]:
        """The app of every probe and source by name ("" where none is said); the
        ``[database]`` table reads as the source named "database"."""
        found = {p.name: p.app for p in self.probes}
        found.update({s.name: s.app for s in self.sources})
        if self.database is not None:
            found.setdefault("database", self.database.app)
        return found


# ---- parsing ------------------------------------------------------------------------------

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


def _quote_list(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items)


class _Reader:
    """Collects problems while reading nested TOML data, so every one is reported at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(self, data: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.problem(path, f"expected a table, got {_type_name(data)}")
            return None
        return data

    def unknown_keys(self, data: dict[str, Any], path: str, allowed: set[str],
                     what: str = "") -> None:
        for key in data:
            if key not in allowed:
                hint = f" for {what}" if what else ""
                expected = _quote_list(sorted(allowed))
                self.problem(_join(path, str(key)),
                             f"unknown field{hint} (expected one of {expected})")

    def string(self, data: dict[str, Any], key: str, path: str, *, required: bool = False,
               default: str | None = None) -> str | None:
        value = data.get(key)
        where = _join(path, key)
        if value is None:
            if required:
                self.problem(where, "required")
            return default
        if not isinstance(value, str):
            self.problem(where, f"expected a string, got {_type_name(value)}")
            return default
        if required and not value.strip():
            self.problem(where, "must not be empty")
            return default
        return value

    def number(self, data: dict[str, Any], key: str, path: str, default: float, *,
               minimum: float = 0.0, maximum: float = math.inf,
               allow_zero: bool = False) -> float:
        value = data.get(key)
        where = _join(path, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(where, f"expected a number, got {_type_name(value)}")
            return default
        number = float(value)
        low_ok = number >= minimum if allow_zero else number > minimum
        if math.isnan(number) or not low_ok or number > maximum:
            bound = f">= {minimum:g}" if allow_zero else f"> {minimum:g}"
            self.problem(where, f"must be {bound} and <= {maximum:g}, got {value!r}")
            return default
        return number

    def optional_number(self, data: dict[str, Any], key: str, path: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.problem(_join(path, key), f"expected a number, got {_type_name(value)}")
            return None
        return float(value)

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"expected true or false, got {_type_name(value)}")
            return default
        return value

    def secret(self, data: dict[str, Any], key: str, path: str) -> SecretRef | None:
        text = self.string(data, key, path)
        if text is None:
            return None
        where = _join(path, key)
        if not text:
            self.problem(where, "must not be empty (use keyring:NAME or env:NAME)")
            return None
        ref = SecretRef.parse(text)
        if ref.kind != "literal" and not ref.name:
            self.problem(where, f"{ref.kind}: needs a name, e.g. {ref.kind}:backroom/shop")
            return None
        if ref.kind == "literal":
            self.warnings.append(f"{where}: the secret is written in the profile itself; "
                                 "store it in the keychain (keyring:NAME) or use env:NAME")
        return ref

    def string_list(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        where = _join(path, key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(where, "expected a list of non-empty strings")
            return ()
        if len(set(value)) != len(value):
            self.problem(where, "lists a name twice")
        return tuple(value)

    def string_table(self, data: dict[str, Any], key: str, path: str,
                     allowed: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...]:
        value = data.get(key)
        if value is None:
            return ()
        where = _join(path, key)
        if not isinstance(value, dict):
            self.problem(where, f"expected a table, got {_type_name(value)}")
            return ()
        pairs: list[tuple[str, str]] = []
        for name, text in value.items():
            if allowed is not None and name not in allowed:
                self.problem(_join(where, str(name)),
                             f"unknown metric (expected one of {_quote_list(allowed)})")
            elif not isinstance(text, str) or not text.strip():
                self.problem(_join(where, str(name)), "expected a non-empty string")
            else:
                pairs.append((str(name), text))
        return tuple(sorted(pairs))

    def http_url(self, text: str | None, where: str) -> None:
        if text is not None:
            self.url(text, where, ("http", "https"))

    def url(self, text: str, where: str, schemes: tuple[str, ...]) -> None:
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as err:
            self.problem(where, f"not a valid URL ({err})")
            return
        if parts.scheme not in schemes:
            self.problem(where, f"{mask_url(text)!r} is not a {'/'.join(schemes)} URL")
        elif parts.scheme != "unix" and not parts.hostname:
            self.problem(where, f"{mask_url(text)!r} has no host")
        self.url_secrets(text, where)

    def url_secrets(self, text: str, where: str) -> None:
        """Warn about a password or secret query parameter written in a URL, as about a
        literal secret (never quoting the value)."""
        if url_password(text):
            self.warnings.append(f"{where}: the URL holds a password; "
                                 "put it in the password field as keyring:NAME instead")
        keys = sorted({key for key, _value in url_query_secrets(text)})
        if keys:
            self.warnings.append(
                f"{where}: the URL's query string holds a secret ({', '.join(keys)}); "
                "put it in a secret field as keyring:NAME or env:NAME instead")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    return {
        str: "a string", int: "a number", float: "a number", bool: "true/false",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


def parse_profile(data: dict[str, Any], origin: str = "") -> Profile:
    """Validate TOML data into a :class:`Profile`, or raise :class:`ProfileError` listing
    every problem by field path. Pure: no files, no keychain, no network."""
    reader = _Reader()
    if not isinstance(data, dict):
        raise ProfileError([f"profile: expected a table, got {_type_name(data)}"], origin)
    reader.unknown_keys(data, "", {"name", "role", "backend", "probes", "sources", "database",
                                   "alerts"})
    name = reader.string(data, "name", "", required=True) or ""
    role = reader.string(data, "role", "", default="support") or "support"
    if role not in ROLES:
        reader.problem("role", f"unknown role {role!r} (expected one of {_quote_list(ROLES)})")
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
                   backend=backend, probes=probes, sources=sources, database=database,
                   alerts=alerts, origin=origin, warnings=tuple(reader.warnings))


def _unique_name(reader: _Reader, seen: dict[str, str], name: str, path: str) -> None:
    if not name:
        return
    if name in seen:
        reader.problem(path, f"{name!r} is already used by {seen[name]}")
    else:
        seen[name] = path.rsplit(".", 1)[0]


def _parse_list(reader: _Reader, data: dict[str, Any], key: str, parse: Any) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problem(key, f"expected a list of tables ([[{key}]]), got {_type_name(value)}")
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


def _parse_backend(reader: _Reader, value: Any) -> Backend | None:
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


def _parse_probe(reader: _Reader, data: dict[str, Any], path: str) -> Probe:
    reader.unknown_keys(data, path, {"name", "url", "interval_s", "timeout_s", "expect_status",
                                     "verify_tls", "ca_bundle", "token", "app"})
    url = reader.string(data, "url", path, required=True)
    reader.http_url(url, _join(path, "url"))
    return Probe(
        name=(reader.string(data, "name", path, required=True) or "").strip(),
        url=url or "",
        interval_s=reader.number(data, "interval_s", path, DEFAULT_PROBE_INTERVAL_S,
                                 maximum=MAX_INTERVAL_S),
        timeout_s=reader.number(data, "timeout_s", path, DEFAULT_TIMEOUT_S,
                                maximum=MAX_TIMEOUT_S),
        expect_status=_parse_statuses(reader, data.get("expect_status"),
                                      _join(path, "expect_status")),
        verify_tls=reader.boolean(data, "verify_tls", path, True),
        ca_bundle=reader.string(data, "ca_bundle", path),
        token=reader.secret(data, "token", path),
        app=(reader.string(data, "app", path, default="") or "").strip(),
    )


def _parse_statuses(reader: _Reader, value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599 for v in items
    ):
        reader.problem(where, "expected an HTTP status (100..599) or a list of them")
        return ()
    return tuple(sorted(set(items)))


def _parse_source(reader: _Reader, data: dict[str, Any], path: str) -> Source | None:
    kind = reader.string(data, "kind", path, required=True)
    name = (reader.string(data, "name", path, required=True) or "").strip()
    if kind is None:
        return None
    if kind not in SOURCE_KINDS:
        reader.problem(_join(path, "kind"),
                       f"unknown kind {kind!r} (expected one of {_quote_list(SOURCE_KINDS)})")
        return None
    reader.unknown_keys(data, path, _SOURCE_KEYS[kind], what=f"kind {kind!r}")
    if kind == "memcached":
        url = _memcached_address(reader, data, path)
    else:
        url = reader.string(data, "url", path, required=True) or ""
        if url and kind == "database":
            _database_url(reader, url, _join(path, "url"))
        elif url:
            reader.url(url, _join(path, "url"), _URL_SCHEMES[kind])
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
                                       _join(path, "priority_steps")),
        error_ratio_warn=warn,
        error_ratio_fail=fail,
        group_by=reader.string_list(data, "group_by", path),
        scrape_interval_s=(reader.number(data, "scrape_interval_s", path, 0.0,
                                         maximum=MAX_INTERVAL_S)
                           if "scrape_interval_s" in data else None),
        unit=_latency_unit(reader, data, path),
        app=(reader.string(data, "app", path, default="") or "").strip(),
    )


def _priority_steps(reader: _Reader, value: Any, where: str) -> tuple[int, ...]:
    """kombu's ``priority_steps``: the priorities that get a list of their own (0..255)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        reader.problem(where, "expected a list of priorities (whole numbers 0..255), as in "
                       "Celery's broker_transport_options")
        return ()
    return tuple(sorted(set(value)))


def _latency_unit(reader: _Reader, data: dict[str, Any], path: str) -> str:
    unit = reader.string(data, "unit", path, default="s") or "s"
    if unit not in LATENCY_UNITS:
        reader.problem(_join(path, "unit"),
                       f"unknown unit {unit!r} (expected one of {_quote_list(LATENCY_UNITS)})")
        return "s"
    return unit


def _error_ratios(reader: _Reader, data: dict[str, Any],
                  path: str) -> tuple[float | None, float | None]:
    """A source's error-ratio thresholds: shares in (0, 1], warn below fail."""
    found: list[float | None] = []
    for key in ("error_ratio_warn", "error_ratio_fail"):
        value = data.get(key)
        found.append(reader.number(data, key, path, 0.0, maximum=1.0)
                     if value is not None else None)
    warn, fail = (v or None for v in found)
    if warn is not None and fail is not None and warn > fail:
        reader.problem(_join(path, "error_ratio_warn"),
                       f"must not be above error_ratio_fail ({fail:g})")
    return warn, fail


def _memcached_address(reader: _Reader, data: dict[str, Any], path: str) -> str:
    address = reader.string(data, "address", path)
    url = reader.string(data, "url", path)
    if address is not None and url is not None:
        reader.problem(_join(path, "address"), "give either address or url, not both")
    text = address if address is not None else url
    where = _join(path, "address" if address is not None else "url")
    if text is None:
        reader.problem(_join(path, "address"), "required (host:port)")
        return ""
    if "://" in text:
        reader.url(text, where, _URL_SCHEMES["memcached"])
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        reader.problem(where, f"{text!r} is not host:port")
    return text


def _max_series(reader: _Reader, data: dict[str, Any], path: str) -> int:
    number = reader.number(data, "max_series", path, DEFAULT_MAX_SERIES, minimum=1,
                           maximum=MAX_MAX_SERIES, allow_zero=True)
    if not float(number).is_integer():
        reader.problem(_join(path, "max_series"), f"expected a whole number, got {number:g}")
        return DEFAULT_MAX_SERIES
    return int(number)


def _database_url(reader: _Reader, url: str, where: str) -> None:
    scheme = url.partition("://")[0]
    dialect = scheme.partition("+")[0]
    if "://" not in url or not dialect:
        reader.problem(where, f"{mask_url(url)!r} is not a database URL (e.g. postgresql+psycopg://"
                       "user@host/db or sqlite:///path)")
    elif dialect not in DATABASE_DIALECTS:
        reader.problem(where, f"unsupported database {dialect!r} "
                       f"(expected one of {_quote_list(DATABASE_DIALECTS)})")
    else:
        reader.url_secrets(url, where)


def _parse_database(reader: _Reader, value: Any) -> DatabaseConfig | None:
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


def _parse_alert(reader: _Reader, data: dict[str, Any], path: str,
                 targets: set[str]) -> AlertRule | None:
    reader.unknown_keys(data, path, {"name", "source", "metric", "above", "below", "for_s",
                                     "severity"})
    name = (reader.string(data, "name", path, required=True) or "").strip()
    source = reader.string(data, "source", path, required=True)
    if source and source not in targets:
        known = _quote_list(sorted(targets)) or "none defined"
        reader.problem(_join(path, "source"),
                       f"no probe or source named {source!r} (known: {known})")
    metric_text = reader.string(data, "metric", path, required=True)
    metric = ""
    labels: tuple[tuple[str, str], ...] = ()
    if metric_text:
        metric, labels = _parse_alert_metric(reader, metric_text.strip(), _join(path, "metric"))
    above = reader.optional_number(data, "above", path)
    below = reader.optional_number(data, "below", path)
    if "above" not in data and "below" not in data:
        reader.problem(path, "needs a threshold: above = N or below = N")
    elif "above" in data and "below" in data:
        reader.problem(path, "give either above or below, not both")
    severity_text = reader.string(data, "severity", path, default="warn") or "warn"
    severity = Severity.WARN
    if severity_text in SEVERITIES:
        severity = Severity(severity_text)
    else:
        reader.problem(_join(path, "severity"), f"unknown severity {severity_text!r} "
                       f"(expected one of {_quote_list(SEVERITIES)})")
    return AlertRule(
        name=name, source=source or "", metric=metric, above=above, below=below,
        for_s=reader.number(data, "for_s", path, 0.0, maximum=MAX_INTERVAL_S,
                            allow_zero=True),
        severity=severity, labels=labels,
    )


def _parse_alert_metric(reader: _Reader, text: str,
                        where: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    match = _ALERT_METRIC.match(text)
    if match is None:
        reader.problem(where, f"{text!r} is not a metric name like queue_depth or "
                       'queue_depth{queue="celery"}')
        return "", ()
    metric = match["metric"]
    if metric not in metrics.STANDARD_METRICS:
        reader.problem(where, f"unknown metric {metric!r} "
                       f"(expected one of {_quote_list(metrics.STANDARD_METRICS)})")
    label_text = match["labels"]
    labels = parse_labels(label_text) if label_text else {}
    if labels is None:
        reader.problem(where, f'bad labels {label_text!r} (expected name="value", ...)')
        return metric, ()
    for key in labels:
        if not _LABEL_NAME.match(key):
            reader.problem(where, f"bad label name {key!r}")
    return metric, tuple(sorted(labels.items()))


# ---- writing ------------------------------------------------------------------------------


def profile_to_dict(profile: Profile, *, redact: bool = False,
                    url_secret_mark: str = "") -> dict[str, Any]:
    """The profile as TOML-ready data (for tomli-w). Secrets are written as references;
    a literal secret is written as is, or left out when ``redact`` is true, as are the
    passwords and secret query parameters of its URLs (replaced by ``url_secret_mark`` when
    one is given). Fields at their default value are left out."""

    def secret(out: dict[str, Any], key: str, ref: SecretRef | None) -> None:
        if ref is None or (redact and ref.kind == "literal"):
            return
        out[key] = ref.to_text()

    def url(text: str) -> str:
        return url_without_secrets(text, url_secret_mark) if redact else text

    data: dict[str, Any] = {"name": profile.name}
    if profile.role != "support":
        data["role"] = profile.role
    if profile.backend is not None:
        b = profile.backend
        backend: dict[str, Any] = {"base_url": url(b.base_url)}
        secret(backend, "token", b.token)
        _put(backend, "verify_tls", b.verify_tls, True)
        _put(backend, "ca_bundle", b.ca_bundle, None)
        _put(backend, "timeout_s", b.timeout_s, DEFAULT_BACKEND_TIMEOUT_S)
        data["backend"] = backend
    if profile.probes:
        probes = []
        for p in profile.probes:
            probe: dict[str, Any] = {"name": p.name, "url": url(p.url)}
            _put(probe, "interval_s", p.interval_s, DEFAULT_PROBE_INTERVAL_S)
            _put(probe, "timeout_s", p.timeout_s, DEFAULT_TIMEOUT_S)
            if p.expect_status:
                probe["expect_status"] = (p.expect_status[0] if len(p.expect_status) == 1
                                          else list(p.expect_status))
            _put(probe, "verify_tls", p.verify_tls, True)
            _put(probe, "ca_bundle", p.ca_bundle, None)
            secret(probe, "token", p.token)
            _put(probe, "app", p.app, "")
            probes.append(probe)
        data["probes"] = probes
    if profile.sources:
        sources = []
        for s in profile.sources:
            source: dict[str, Any] = {"name": s.name, "kind": s.kind}
            if s.kind == "memcached" and "://" not in s.url:
                source["address"] = s.url
            else:
                source["url"] = url(s.url)
            _put(source, "interval_s", s.interval_s, DEFAULT_SOURCE_INTERVAL_S)
            _put(source, "timeout_s", s.timeout_s, DEFAULT_TIMEOUT_S)
            _put(source, "max_series", s.max_series, DEFAULT_MAX_SERIES)
            _put(source, "user", s.user, None)
            secret(source, "password", s.password)
            if s.queues:
                source["queues"] = list(s.queues)
            _put(source, "vhost", s.vhost, "/")
            if s.query:
                source["query"] = dict(s.query)
            if s.metrics:
                source["metrics"] = dict(s.metrics)
            _put(source, "selector", s.selector, "")
            _put(source, "verify_tls", s.verify_tls, True)
            _put(source, "ca_bundle", s.ca_bundle, None)
            _put(source, "global_keyprefix", s.key_prefix, None)
            _put(source, "sep", s.priority_sep, None)
            if s.priority_steps:
                source["priority_steps"] = list(s.priority_steps)
            _put(source, "error_ratio_warn", s.error_ratio_warn, None)
            _put(source, "error_ratio_fail", s.error_ratio_fail, None)
            if s.group_by:
                source["group_by"] = list(s.group_by)
            _put(source, "scrape_interval_s", s.scrape_interval_s, None)
            _put(source, "unit", s.unit, "s")
            _put(source, "app", s.app, "")
            sources.append(source)
        data["sources"] = sources
    if profile.database is not None:
        d = profile.database
        database: dict[str, Any] = {"url": url(d.url)}
        secret(database, "password", d.password)
        _put(database, "timeout_s", d.timeout_s, DEFAULT_TIMEOUT_S)
        _put(database, "interval_s", d.interval_s, 30.0)
        if d.map is not None:
            database["map"] = shop_map_to_data(d.map)
        _put(database, "app", d.app, "")
        data["database"] = database
    if profile.alerts:
        alerts = []
        for a in profile.alerts:
            metric = a.metric
            if a.labels:
                metric += labels_text(dict(a.labels))
            alert: dict[str, Any] = {"name": a.name, "source": a.source, "metric": metric}
            if a.above is not None:
                alert["above"] = a.above
            if a.below is not None:
                alert["below"] = a.below
            _put(alert, "for_s", a.for_s, 0.0)
            _put(alert, "severity", a.severity.value, Severity.WARN.value)
            alerts.append(alert)
        data["alerts"] = alerts
    return data


def _put(out: dict[str, Any], key: str, value: Any, default: Any) -> None:
    if value != default:
        out[key] = value
