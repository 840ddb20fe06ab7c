"""Redaction: what a secret looks like in text and URLs, and the one way to mask it."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

if TYPE_CHECKING:
    from console.profile import Profile, SecretRef

MASK = "***"
#: Shorter known secrets are not masked as free text: replacing every "ab" in a log would
#: destroy it and hide nothing (they are still masked where a URL or header holds them).
MIN_SECRET_LEN = 3

#: Query-string keys that carry a secret, compared lower-case with "-" and "." read as "_":
#: libpq's password/sslpassword, redis-py's password, the usual API keys and tokens.
SECRET_QUERY_KEYS = frozenset({
    "password", "passwd", "pwd", "pass", "sslpassword", "secret", "client_secret",
    "api_key", "apikey", "key", "token", "access_token", "refresh_token", "id_token",
    "auth_token", "auth", "authorization", "access_key", "private_key", "signature", "sig",
    "sessionid", "session_id", "credential", "credentials",
})  # not "session": a restaurant's ?session=dinner is no secret
#: A key holding one of these words is a secret too (x-api-key, x-amz-signature, ...).
_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "signature",
                 "credential")

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):"
                           r"(?P<pw>[^@/\s]+)@")
#: ``?key=value`` / ``&key=value`` in free text; ``;`` too, for ``&amp;key=`` in HTML.
_QUERY_PAIR = re.compile(r"(?P<head>[?&;](?P<key>[A-Za-z0-9_.\-\[\]%]{1,64})=)"
                         r"(?P<value>[^&#;\s\"'<>\\]+)")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]+")
#: The credential of an Authorization header, a Bearer token, and a Basic credential (base64
#: of "user:password", in which no form of the password itself can be found).
_AUTH_HEADER = re.compile(r"(?i)(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*"
                          r"(?:(?:basic|bearer|token|digest)\s+)?)[^\s|,;\"'<>]+")
_BASIC = re.compile(r"(?i)(?P<head>\bbasic\s+)(?P<b64>[A-Za-z0-9+/]{4,}={0,2})")


def is_secret_key(key: str) -> bool:
    """True when a query-string key names a secret (``password``, ``api_key``, ``token``...)."""
    name = unquote_plus(key).strip().lower().replace("-", "_").replace(".", "_")
    return name in SECRET_QUERY_KEYS or any(word in name for word in _SECRET_WORDS)


def secret_forms(secret: str) -> set[str]:
    """A secret as it may be written: raw, URL-encoded, base64 (standard and URL-safe,
    padded or not)."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return {form for form in forms if form}


def _basic(match: re.Match[str]) -> str:
    """Mask a Basic credential: base64 that decodes to "user:password"."""
    token = match["b64"]
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except ValueError:
        return match[0]
    return f"{match['head']}{MASK}" if b":" in decoded else match[0]


def _query_pair(match: re.Match[str]) -> str:
    return f"{match['head']}{MASK}" if is_secret_key(match["key"]) else match[0]


def mask_patterns(text: str) -> str:
    """Mask what looks like a secret whoever's it is: URL passwords (``user:pw@``), secret
    query parameters (``?token=...``), Authorization headers, Bearer and Basic credentials."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _QUERY_PAIR.sub(_query_pair, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['head']}{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _BASIC.sub(_basic, text)


class Redactor:
    """Masks known secret values (in every form of :func:`secret_forms`) and every secret
    pattern (:func:`mask_patterns`) in text. Immutable: :meth:`adding` gives a new one."""

    __slots__ = ("_forms", "secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = frozenset(s for s in secrets if s and len(s) >= MIN_SECRET_LEN)
        forms: set[str] = set()
        for secret in self.secrets:
            forms |= secret_forms(secret)
        # longest first, so no shorter form (or later pattern) cuts a secret in half
        self._forms = tuple(sorted(forms, key=lambda f: (-len(f), f)))

    def adding(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that also knows ``secrets``."""
        return Redactor(self.secrets | set(secrets))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return mask_patterns(text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret (raw, URL-encoded or base64), every URL password,
    secret query parameter and Authorization/Basic/Bearer credential replaced by ***."""
    return Redactor(secrets)(text)


def _split_query(query: str, mark: str) -> str:
    """The query with each secret parameter's value replaced by ``mark``, or left out when
    ``mark`` is empty."""
    kept = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        if eq and value and is_secret_key(key):
            if mark:
                kept.append(f"{key}={mark}")
            continue
        kept.append(part)
    return "&".join(kept)


def url_without_secrets(url: str, mark: str = "") -> str:
    """The URL without its password (``user:pw@``) and secret query parameters; with
    ``mark`` each is replaced by it (so a reader sees one was there), without it they are
    left out (an exported profile: the secret belongs in a secret field). Text that is not
    one URL (an error message quoting one) is masked by pattern."""
    if any(c.isspace() for c in url):
        return mask_patterns(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_patterns(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        kept = f"{user}:{mark}" if mark else user
        netloc = f"{kept}@{host}" if kept else host
    query = _split_query(parts.query, mark) if parts.query else parts.query
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_url(url: str) -> str:
    """The URL with its password and secret query parameters replaced by ***, to show and
    log."""
    return url_without_secrets(url, MASK)


def url_password(url: str) -> str | None:
    """The password written in a URL's user info, decoded, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def url_query_secrets(url: str) -> list[tuple[str, str]]:
    """(key, decoded value) of each secret query parameter of a URL, in order."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    found = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        if eq and value and is_secret_key(key):
            found.append((unquote_plus(key), unquote_plus(value)))
    return found


def url_secrets(url: str) -> list[str]:
    """Every secret value written in a URL: its password and secret query values."""
    values = [value for _key, value in url_query_secrets(url)]
    password = url_password(url)
    return [password, *values] if password else values


def profile_secrets(profile: Profile, resolve: Callable[[SecretRef], str] | None = None
                    ) -> set[str]:
    """Every secret value a profile can reach: its literal secrets, each keyring/env
    reference ``resolve`` can resolve (one it cannot cannot leak), and every password and
    secret query value written in its URLs."""
    values: set[str] = set()
    for ref in profile.secrets():
        if ref.kind == "literal":
            values.add(ref.value)
        elif resolve is not None:
            try:
                values.add(resolve(ref))
            except Exception:  # an unresolvable reference has no value to leak
                continue
    for url in profile.urls():
        values.update(url_secrets(url))
    return {value for value in values if value}


__all__ = [
    "MASK",
    "MIN_SECRET_LEN",
    "SECRET_QUERY_KEYS",
    "Redactor",
    "is_secret_key",
    "mask_patterns",
    "mask_url",
    "profile_secrets",
    "redact",
    "secret_forms",
    "url_password",
    "url_query_secrets",
    "url_secrets",
    "url_without_secrets",
]
