"""TLS certificate checks of https probes and back ends: validity and days left before expiry."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from console.domain import Check, Status

#: Fewer days than this before expiry is a warning; an expired or untrusted certificate fails.
WARN_DAYS = 14.0


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What one TLS handshake told us about a server's certificate."""

    host: str
    port: int
    valid: bool
    subject: str = ""
    issuer: str = ""
    not_after: float | None = None  # UTC epoch seconds
    days_left: float | None = None
    error: str = ""
    handshake_ms: float | None = None


def _name(parts: Any) -> str:
    """``CN=shop.example, O=Example`` from ssl's nested tuples."""
    pairs = []
    for rdn in parts or ():
        for key, value in rdn:
            short = {"commonName": "CN", "organizationName": "O",
                     "countryName": "C", "organizationalUnitName": "OU"}.get(key, key)
            pairs.append(f"{short}={value}")
    return ", ".join(pairs)


def check_certificate(url: str, *, timeout_s: float = 5.0, ca_bundle: str | None = None,
                      verify: bool = True, now: float | None = None) -> CertificateInfo:
    """Connect to the URL's host, do a TLS handshake and read the certificate's dates.

    With ``verify`` the chain and host name are checked against the system store (or
    ``ca_bundle``); a certificate that fails is reported with the reason, not raised.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    if parts.scheme != "https" or not host:
        raise ValueError(f"not an https URL: {url!r}")
    context = ssl.create_default_context(cafile=ca_bundle)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            raw.settimeout(max(0.1, timeout_s - (time.monotonic() - started)))
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert()
                handshake_ms = (time.monotonic() - started) * 1000.0
    except ssl.SSLCertVerificationError as exc:
        return CertificateInfo(host, port, False,
                               error=f"certificate not trusted: {exc.verify_message or exc}")
    except TimeoutError:
        return CertificateInfo(host, port, False,
                               error=f"no TLS handshake within {timeout_s:g} s")
    except ssl.SSLError as exc:
        return CertificateInfo(host, port, False, error=f"TLS handshake failed: {exc.reason}")
    except OSError as exc:
        return CertificateInfo(host, port, False,
                               error=f"cannot connect to {host}:{port}: {exc.strerror or exc}")
    if not cert:  # verify=False gives no parsed certificate
        return CertificateInfo(host, port, True, error="", handshake_ms=handshake_ms)
    not_after = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    days_left = (not_after - (time.time() if now is None else now)) / 86_400.0
    return CertificateInfo(host, port, True, subject=_name(cert.get("subject")),
                           issuer=_name(cert.get("issuer")), not_after=not_after,
                           days_left=days_left, handshake_ms=handshake_ms)


def certificate_check(name: str, url: str, *, timeout_s: float = 5.0,
                      ca_bundle: str | None = None, verify: bool = True,
                      warn_days: float = WARN_DAYS, now: float | None = None) -> Check:
    """One sweep line for the certificate of ``url``: ok, warn (expires soon) or fail."""
    info = check_certificate(url, timeout_s=timeout_s, ca_bundle=ca_bundle, verify=verify,
                             now=now)
    where = f"{info.host}:{info.port}"
    if not info.valid:
        return Check(name, "tls", Status.FAIL, f"{where}: {info.error}", None)
    if info.days_left is None:
        return Check(name, "tls", Status.WARN,
                     f"{where}: certificate not checked (TLS verification is off)",
                     info.handshake_ms)
    days = info.days_left
    issuer = f", issued by {info.issuer}" if info.issuer else ""
    expiry = time.strftime("%Y-%m-%d", time.gmtime(info.not_after or 0))
    if days < 0:
        return Check(name, "tls", Status.FAIL,
                     f"{where}: certificate expired {-days:.0f} days ago ({expiry})",
                     info.handshake_ms)
    if days < warn_days:
        return Check(name, "tls", Status.WARN,
                     f"{where}: certificate expires in {days:.0f} days ({expiry}); renew it"
                     f"{issuer}", info.handshake_ms)
    return Check(name, "tls", Status.OK,
                 f"{where}: valid, {days:.0f} days left (until {expiry}){issuer}",
                 info.handshake_ms)


def https_targets(profile: Any) -> list[tuple[str, str, str | None, bool, float]]:
    """(name, url, ca_bundle, verify, timeout_s) of every https endpoint of a profile, one per
    host:port (the back end, probes, http sources)."""
    seen: set[tuple[str, int]] = set()
    targets: list[tuple[str, str, str | None, bool, float]] = []

    def add(name: str, url: str, ca: str | None, verify: bool, timeout: float) -> None:
        try:
            parts = urlsplit(url)
            key = (parts.hostname or "", parts.port or 443)
        except ValueError:
            return
        if parts.scheme == "https" and key not in seen:
            seen.add(key)
            targets.append((name, url, ca, verify, timeout))

    backend = getattr(profile, "backend", None)
    if backend is not None:
        add("back end", backend.base_url, backend.ca_bundle, backend.verify_tls,
            backend.timeout_s)
    items: Iterable[Any] = (*getattr(profile, "probes", ()), *getattr(profile, "sources", ()))
    for item in items:
        add(item.name, item.url, getattr(item, "ca_bundle", None),
            getattr(item, "verify_tls", True), item.timeout_s)
    return targets
