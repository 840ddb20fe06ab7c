"""Logging for the console: a rotating file in the user's log dir that never holds a secret."""

from __future__ import annotations

import logging
import logging.handlers
import threading
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from console.redaction import Redactor

APP_NAME = "backroom"


def log_dir() -> Path:
    """Where the console's log files live (platformdirs' user log dir)."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


class SecretMaskingFilter(logging.Filter):
    """Rewrites every record with console.redaction, so that no known secret, URL password,
    secret query parameter or Authorization credential reaches a handler."""

    def __init__(self) -> None:
        super().__init__()
        self._redact = Redactor()
        self._lock = threading.Lock()

    def add_secret(self, value: str) -> None:
        """Remember a secret value (all its encodings are masked) from now on."""
        self.add_secrets((value,))

    def add_secrets(self, values: Iterable[str]) -> None:
        """Remember secret values (a profile's, from console.redaction.profile_secrets)."""
        with self._lock:
            self._redact = self._redact.adding(values)

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self._redact
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
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
    stderr_handler.addFilter(lambda record: not getattr(record, "file_only", False))
    stderr_handler._backroom = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    root.addHandler(stderr_handler)
    for noisy in ("urllib3", "pika", "waitress", "werkzeug", "PyQt6", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return masking
