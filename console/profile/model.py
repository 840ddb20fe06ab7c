"""A shop's profile: frozen dataclasses for its back end, probes, sources, database and alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from console.domain import Severity, series_name
from console.series_limit import DEFAULT_MAX_SERIES
from console.shop_map import ShopMap

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
    """Fire when ``source/metric`` stays above (or below) a threshold for ``for_s`` seconds;
    with ``baseline_s`` the threshold is a factor of the series' usual value (its median over
    that many seconds before): ``above = 3, baseline_s = 900`` is "3x its last 15 minutes"."""

    name: str
    source: str
    metric: str
    above: float | None = None
    below: float | None = None
    for_s: float = 0.0
    severity: Severity = Severity.WARN
    labels: tuple[tuple[str, str], ...] = ()
    baseline_s: float = 0.0

    @property
    def series(self) -> str:
        return series_name(self.source, self.metric, dict(self.labels))


@dataclass(frozen=True, slots=True)
class Profile:
    """One shop: its back end, probes, sources, database and alert rules."""

    name: str
    role: Role = "support"
    user: str | None = None
    """Who this console's changes to the shop are recorded as; None: the OS user."""
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
