"""An exception no slot caught is logged and shown in the window, never fatal to the console."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


def install_excepthook(show: Callable[[str], None], log_file: Path) -> Callable[[], None]:
    """Make ``sys.excepthook`` log an uncaught exception and ``show`` one line about it
    (which names ``log_file``, where the details are).

    PyQt6 aborts the process (qFatal, SIGABRT) when a slot or a virtual method raises and
    ``sys.excepthook`` is still Python's own; pyqtgraph replaces it only when it happens to
    be imported first. The console installs this one itself so that a bug in one callback
    costs a message in the status bar, not the manager's open window. Returns a function
    that puts back the hook it replaced.
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException,
             tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("uncaught exception on the GUI thread", exc_info=(kind, value, tb))
        try:
            # The exception's own text may quote a URL or a customer's data: the log (which
            # masks secrets) has it; the window names only the kind.
            show(f"Something went wrong inside the console ({kind.__name__}); it carries on. "
                 f"Details are in {log_file}.")
        except Exception:  # the window may be half gone: the log has it all the same
            log.exception("could not show the uncaught exception")

    sys.excepthook = hook

    def restore() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return restore
