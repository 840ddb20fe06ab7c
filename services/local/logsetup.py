"""Logging for the console: a rotating file in the user's log dir that never holds a secret."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
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


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file. When it cannot be written (a full disk) it says so once on
    stderr, instead of Python's '--- Logging error ---' and a traceback for every record."""

    _failing = False
    _erred = False

    def emit(self, record: logging.LogRecord) -> None:
        self._erred = False
        super().emit(record)  # calls handleError on a failure
        if self._failing and not self._erred:
            self._failing = False  # written again: a next failure is said again

    def handleError(self, record: logging.LogRecord) -> None:
        self._erred = True
        if self._failing:
            return
        self._failing = True
        error = sys.exc_info()[1]
        with contextlib.suppress(Exception):
            sys.stderr.write(f"backroom: the log file {self.baseFilename} cannot be written "
                             f"({error}); nothing more is logged there until it can be\n")


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
        file_handler: logging.Handler = _LogFile(
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
