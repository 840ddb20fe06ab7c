"""Secrets: resolve keyring:/env: references, store into the OS keychain, mask in text."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

from console.profile import SecretRef
from services.logsetup import mask_credentials

SERVICE = "backroom"
MASK = "***"
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):"
                           r"(?P<pw>[^@/\s]*)@")


class SecretError(Exception):
    """A secret reference could not be resolved; the message says where to put it."""


def resolve_secret(ref: SecretRef) -> str:
    """The secret's value: from the keychain (service "backroom"), the environment, or the
    literal itself. Raises :class:`SecretError` saying what to do when it is missing."""
    if ref.kind == "literal":
        return ref.value
    if ref.kind == "env":
        value = os.environ.get(ref.name)
        if not value:
            raise SecretError(f"environment variable {ref.name} is not set "
                              f"(the profile says env:{ref.name}); export it before starting")
        return value
    import keyring  # on first use: keeps its import off the window's first paint
    import keyring.errors

    try:
        value = keyring.get_password(SERVICE, ref.name)
    except keyring.errors.KeyringError as err:
        raise SecretError(f"the OS keychain could not be read for keyring:{ref.name} ({err}); "
                          "unlock it, or use env:NAME in the profile instead") from err
    if value is None:
        raise SecretError(f"no secret named {ref.name!r} in the OS keychain (service "
                          f"{SERVICE!r}); add it in Settings, or with `keyring set {SERVICE} "
                          f"{ref.name}`")
    return value


def keychain_available() -> bool:
    """True when an OS keychain backend is usable (not the fail/null placeholder)."""
    import keyring

    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    if module.startswith("keyring.backends.chainer"):
        return bool(getattr(backend, "backends", ()))
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) > 0
    except (TypeError, ValueError):
        return True


def store_secret(name: str, value: str) -> SecretRef:
    """Put a secret in the OS keychain; returns the reference to write in the profile."""
    if not name:
        raise SecretError("a keychain entry needs a name")
    import keyring
    import keyring.errors

    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as err:
        raise SecretError(f"the OS keychain refused to store {name!r} ({err}); "
                          "use env:NAME in the profile instead") from err
    return SecretRef("keyring", name)


def secret_forms(secret: str) -> set[str]:
    """A secret as it may be written: raw, URL-encoded, base64 (standard and URL-safe,
    padded or not)."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return forms


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value (raw, URL-encoded or base64), every URL password and every
    Authorization/Basic/Bearer credential with ***. Known secrets go first, so no pattern
    cuts one in half."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) < 3:
            continue  # masking "ab" everywhere would destroy the text and reveal nothing
        for variant in sorted(secret_forms(secret), key=len, reverse=True):
            text = text.replace(variant, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return mask_credentials(text)


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***, safe to show and log."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", url)
    if password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{MASK}@{host}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_password(url: str, password: str) -> str:
    """The URL with ``password`` put in its user info (URL-encoded)."""
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_password(url: str) -> str | None:
    """The password written in a URL, decoded, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None
