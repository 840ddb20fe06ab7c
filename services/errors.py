"""What can go wrong reading a shop's server: unreachable, timed out, refused, a bad answer."""

from __future__ import annotations


class CollectorError(Exception):
    """A source could not be read; the message says what happened and what to try."""

    kind = "error"


class SourceUnreachable(CollectorError):
    """Connection refused, DNS failure, host down."""

    kind = "unreachable"


class SourceTimeout(CollectorError):
    """The source accepted but did not answer within its timeout."""

    kind = "timeout"


class AuthFailed(CollectorError):
    """The source refused our credentials (401/403, bad password)."""

    kind = "auth"


class TlsError(CollectorError):
    """The TLS handshake failed: untrusted, expired or wrong-host certificate."""

    kind = "tls"


class BadResponse(CollectorError):
    """The source answered with something we cannot read (wrong kind of server, malformed)."""

    kind = "bad-response"


class NotFound(CollectorError):
    """The server answered, but has nothing by the name we asked for (a database)."""

    kind = "not-found"
