"""Logging for the console: a rotating file in the user's log dir that never holds a secret."""

from __future__ import annotations

import base64
import logging
import logging.handlers
import re
import threading
from pathlib import Path

import platformdirs

APP_NAME = "backroom"

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]+")
#: The credential of an Authorization header, a Bearer token, and a Basic credential (base64
#: of "user:password", in which no form of the password itself can be found).
_AUTH_HEADER = re.compile(r"(?i)(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*"
                          r"(?:(?:basic|bearer|token|digest)\s+)?)[^\s|,;\"'<>]+")
_BASIC = re.compile(r"(?i)(?P<head>\bbasic\s+)(?P<b64>[A-Za-z0-9+/]{4,}={0,2})")


def _basic(match: re.Match[str]) -> str:
    """Mask a Basic credential: base64 that decodes to "user:password"."""
    token = match["b64"]
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except ValueError:
        return match[0]
    return f"{match['head']}***" if b":" in decoded else match[0]


def mask_credentials(text: str) -> str:
    """Mask Authorization header values, Bearer tokens and Basic credentials in ``text``."""
    text = _AUTH_HEADER.sub(lambda m: f"{m['head']}***", text)
    text = _BEARER.sub(r"\1***", text)
    return _BASIC.sub(_basic, text)


def log_dir() -> Path:
    """Where the console's log files live (platformdirs' user log dir)."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def mask_text(text: str, secrets: frozenset[str] = frozenset()) -> str:
    """Mask every known secret value, URL passwords and Authorization/Bearer/Basic
    credentials in ``text``."""
    # Known secrets first (longest first), so no later pattern can cut one in half.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return mask_credentials(text)


class SecretMaskingFilter(logging.Filter):
    """Rewrites every record so that no known secret and no URL password reaches a handler."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add_secret(self, value: str) -> None:
        """Remember a secret value (and its common encodings) so it is masked from now on."""
        import base64
        import urllib.parse

        if not value:
            return
        raw = value.encode()
        variants = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote(value),
                    urllib.parse.quote_plus(value)}
        for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            variants |= {encoded, encoded.rstrip("=")}
        with self._lock:
            self._secrets = self._secrets | frozenset(variants)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = mask_text(message, self._secrets)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, self._secrets)
        return True


class _OneLineFormatter(logging.Formatter):
    """For the terminal: the message only; tracebacks go to the log file, not to the user."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


#: Client libraries whose own lines go to the log file only: what they report (a refused
#: connection, a lost broker) reaches the user as the source's typed error.
LIBRARY_LOGGERS = ("pika", "kombu", "amqp")


def setup_logging(verbose: bool = False, directory: Path | None = None) -> SecretMaskingFilter:
    """Configure the root logger: rotating file (5 x 1 MiB) and stderr warnings.

    Returns the masking filter so the composition root can register resolved secrets.
    """
    directory = directory or log_dir()
    masking = SecretMaskingFilter()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_backroom", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = logging.handlers.RotatingFileHandler(
            directory / "backroom.log", maxBytes=1 << 20, backupCount=5, encoding="utf-8")
    except OSError:
        file_handler = logging.NullHandler()
    file_handler.setFormatter(fmt)
    file_handler.addFilter(masking)
    file_handler._backroom = True  # type: ignore[attr-defined]
    stderr_handler = logging.StreamHandler()
    stderr_handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr_handler.setFormatter(_OneLineFormatter("backroom: %(levelname)s: %(message)s"))
    stderr_handler.addFilter(masking)
    stderr_handler.addFilter(lambda record: not getattr(record, "file_only", False)
                             and not record.name.startswith(LIBRARY_LOGGERS))
    stderr_handler._backroom = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    root.addHandler(stderr_handler)
    for noisy in ("urllib3", *LIBRARY_LOGGERS, "waitress", "werkzeug", "PyQt6", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return masking
