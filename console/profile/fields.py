"""Reading typed fields out of a profile's TOML tables, every problem collected at once."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from console.profile.model import SecretRef
from console.redaction import mask_url, url_password, url_query_secrets


def quote_list(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items)


class FieldReader:
    """Collects problems while reading nested TOML data, so every one is reported at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(self, data: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.problem(path, f"expected a table, got {type_name(data)}")
            return None
        return data

    def unknown_keys(self, data: dict[str, Any], path: str, allowed: set[str],
                     what: str = "") -> None:
        for key in data:
            if key not in allowed:
                hint = f" for {what}" if what else ""
                expected = quote_list(sorted(allowed))
                self.problem(join_path(path, str(key)),
                             f"unknown field{hint} (expected one of {expected})")

    def string(self, data: dict[str, Any], key: str, path: str, *, required: bool = False,
               default: str | None = None) -> str | None:
        value = data.get(key)
        where = join_path(path, key)
        if value is None:
            if required:
                self.problem(where, "required")
            return default
        if not isinstance(value, str):
            self.problem(where, f"expected a string, got {type_name(value)}")
            return default
        if required and not value.strip():
            self.problem(where, "must not be empty")
            return default
        return value

    def number(self, data: dict[str, Any], key: str, path: str, default: float, *,
               minimum: float = 0.0, maximum: float = math.inf,
               allow_zero: bool = False) -> float:
        value = data.get(key)
        where = join_path(path, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(where, f"expected a number, got {type_name(value)}")
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
            self.problem(join_path(path, key), f"expected a number, got {type_name(value)}")
            return None
        return float(value)

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(join_path(path, key), f"expected true or false, got {type_name(value)}")
            return default
        return value

    def secret(self, data: dict[str, Any], key: str, path: str) -> SecretRef | None:
        text = self.string(data, key, path)
        if text is None:
            return None
        where = join_path(path, key)
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
        where = join_path(path, key)
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
        where = join_path(path, key)
        if not isinstance(value, dict):
            self.problem(where, f"expected a table, got {type_name(value)}")
            return ()
        pairs: list[tuple[str, str]] = []
        for name, text in value.items():
            if allowed is not None and name not in allowed:
                self.problem(join_path(where, str(name)),
                             f"unknown metric (expected one of {quote_list(allowed)})")
            elif not isinstance(text, str) or not text.strip():
                self.problem(join_path(where, str(name)), "expected a non-empty string")
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


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
    return {
        str: "a string", int: "a number", float: "a number", bool: "true/false",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)
