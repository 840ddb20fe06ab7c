"""A real Python process with a known hot function, for py-spy to record; skip rules for py-spy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.diagnostics.pyspy import PySpyError, pyspy_path, record
from tests.servers import UNDER_CI

#: A "server": the request handler runs on a worker thread (where cProfile, started on the
#: main thread, would see none of it), about 80 % of its time in ``slow_handler``.
HOT_SCRIPT = '''
import threading, time

def slow_handler():
    total = 0
    for i in range(80_000):
        total += i * i
    return total

def fast_handler():
    total = 0
    for i in range(20_000):
        total += i
    return total

def serve():
    end = time.monotonic() + 120
    while time.monotonic() < end:
        slow_handler()
        fast_handler()

worker = threading.Thread(target=serve, name="request-handler", daemon=True)
worker.start()
print("ready", flush=True)
worker.join()
'''


def require_pyspy() -> str:
    """py-spy's path; skips without it, but fails under CI=true (the test extra installs it)."""
    program = pyspy_path()
    if program is None:
        reason = "py-spy is not installed (pip install -e .[test])"
        if UNDER_CI:
            pytest.fail(f"required under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return program


@contextmanager
def hot_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Start the hot script, wait until its worker runs, and stop it afterwards."""
    script = tmp_path / "hot_server.py"
    script.write_text(HOT_SCRIPT)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        yield child
    finally:
        child.kill()
        child.wait(10)


def record_or_skip(pid: int, seconds: float, output: Path, **kwargs: object) -> Path:
    """Record with py-spy; skip (even under CI) when this machine does not allow tracing."""
    try:
        return record(pid, seconds, output, **kwargs)  # type: ignore[arg-type]
    except PySpyError as exc:
        if str(exc).startswith("Not allowed"):
            pytest.skip(f"ptrace is not permitted here: {exc}")
        raise
