"""Secrets: resolve keyring:/env: references and store them in the OS keychain."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from console.profile import SecretRef

SERVICE = "backroom"


class SecretError(Exception):
    """A secret reference could not be resolved; the message says where to put it."""


def hold_for_session(name: str, value: str) -> None:
    """Keep a typed secret for this run only (no keychain here): it is read back through the
    profile's ``env:NAME`` like an exported variable, and is gone when Backroom quits."""
    os.environ[name] = value


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


def with_password(url: str, password: str) -> str:
    """The URL with ``password`` put in its user info (URL-encoded)."""
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
