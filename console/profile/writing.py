"""Writing a profile back as TOML-ready data, its secrets as references or left out."""

from __future__ import annotations

from typing import Any

from console.domain import Severity, labels_text
from console.profile.model import (
    DEFAULT_BACKEND_TIMEOUT_S,
    DEFAULT_PROBE_INTERVAL_S,
    DEFAULT_SOURCE_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
    Profile,
    SecretRef,
)
from console.redaction import url_without_secrets
from console.series_limit import DEFAULT_MAX_SERIES
from console.shop_map import shop_map_to_data


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
    if profile.user:
        data["user"] = profile.user
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
            _put(alert, "baseline_s", a.baseline_s, 0.0)
            _put(alert, "severity", a.severity.value, Severity.WARN.value)
            alerts.append(alert)
        data["alerts"] = alerts
    return data


def _put(out: dict[str, Any], key: str, value: Any, default: Any) -> None:
    if value != default:
        out[key] = value
