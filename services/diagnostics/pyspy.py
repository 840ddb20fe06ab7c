"""Record a process of this machine with py-spy: find it, record with progress and cancel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ProgressFn = Callable[[float, str], None]

#: Seconds py-spy gets past the recording to write its file before it is stopped.
WRITE_GRACE_S = 30.0
POLL_S = 0.1

PTRACE_FIX = (
    "py-spy reads the other process's memory, which the system allows only to a user with "
    "the right to trace it (ptrace). Fixes: run the console as root or as the same user as "
    "the process (sudo); in a Docker container start it with `--cap-add SYS_PTRACE` "
    "(Kubernetes: securityContext.capabilities.add: [SYS_PTRACE]); on a host with Yama, "
    "`sudo sysctl kernel.yama.ptrace_scope=0` allows tracing a process of your own user.")

_PERMISSION_WORDS = ("permission denied", "operation not permitted", "os error 1)", "eperm",
                     "ptrace")
_GONE_WORDS = ("failed to get process executable name", "no such process", "os error 3)")
_NOT_PYTHON_WORDS = ("failed to find python version", "failed to find a python interpreter",
                     "doesn't look like a python")


class PySpyError(RuntimeError):
    """py-spy could not record; the message says why in words and what to do."""


class RecordingCancelled(Exception):
    """The user stopped the recording; nothing was written."""


@dataclass(frozen=True, slots=True)
class PythonProcess:
    """A process on this machine that looks like Python: its id and its command line."""

    pid: int
    command: str

    @property
    def label(self) -> str:
        return f"{self.pid}  {self.command}"


def pyspy_path() -> str | None:
    """The py-spy program: beside this Python (the venv's bin) first, then on the PATH."""
    here = Path(sys.executable).with_name("py-spy.exe" if os.name == "nt" else "py-spy")
    if here.is_file():
        return str(here)
    return shutil.which("py-spy")


def python_processes(proc: Path = Path("/proc"), limit: int = 200) -> list[PythonProcess]:
    """Processes whose program is a Python (Linux' /proc; empty elsewhere), newest first,
    this console left out."""
    found: list[PythonProcess] = []
    try:
        entries = [e for e in proc.iterdir() if e.name.isdigit()]
    except OSError:
        return []
    mine = os.getpid()
    for entry in entries:
        pid = int(entry.name)
        if pid == mine:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode("utf-8", "replace") for a in argv if a]
        if not words or "python" not in Path(words[0]).name.lower():
            continue
        found.append(PythonProcess(pid, " ".join(words)[:300]))
    found.sort(key=lambda p: -p.pid)
    return found[:limit]


def explain(output: str, pid: int) -> str:
    """py-spy's error output in words, with the fix when it is the permission to trace."""
    lowered = output.lower()
    last = next((line.strip() for line in output.splitlines() if line.strip()), "")
    if any(word in lowered for word in _PERMISSION_WORDS):
        return f"Not allowed to read process {pid} ({last}). {PTRACE_FIX}"
    if any(word in lowered for word in _GONE_WORDS):
        return (f"Process {pid} is not running (or not visible from here): py-spy records "
                "only processes on the machine the console runs on.")
    if any(word in lowered for word in _NOT_PYTHON_WORDS):
        return f"Process {pid} does not look like a Python program to py-spy ({last})."
    return f"py-spy could not record process {pid}: {last or 'no message'}"


def record(pid: int, seconds: float, output: Path, *, rate: int = 100,
           progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None,
           program: str | None = None, extra: tuple[str, ...] = ()) -> Path:
    """Record ``pid`` for ``seconds`` into ``output`` as speedscope JSON; returns ``output``.

    Progress is reported as the seconds pass; ``cancelled()`` turning true stops py-spy and
    raises :class:`RecordingCancelled`. Raises :class:`PySpyError` in words otherwise."""
    program = program or pyspy_path()
    if program is None:
        raise PySpyError("py-spy is not installed: `pip install py-spy` (or "
                         "`pip install backroom[profile]`) on the machine of the process")
    duration = max(1, round(seconds))
    command = [program, "record", "--pid", str(pid), "--duration", str(duration),
               "--rate", str(rate), "--format", "speedscope", "--output", str(output),
               "--nonblocking", *extra]
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise PySpyError(f"py-spy could not start: {exc.strerror or exc}") from None
    start = time.monotonic()
    deadline = start + duration + WRITE_GRACE_S
    try:
        while child.poll() is None:
            if cancelled is not None and cancelled():
                raise RecordingCancelled()
            now = time.monotonic()
            if now > deadline:
                raise PySpyError(f"py-spy did not finish within {duration + WRITE_GRACE_S:.0f} s")
            if progress is not None:
                elapsed = min(now - start, duration)
                progress(elapsed / duration, f"Recording process {pid}: {elapsed:.0f} of "
                                             f"{duration} s")
            time.sleep(POLL_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
    text = child.stdout.read().decode("utf-8", "replace") if child.stdout else ""
    if child.returncode != 0 or not output.is_file():
        raise PySpyError(explain(text, pid))
    return output


class PySpyTools:
    """What the profiler's recorder calls; the composition root hands it in."""

    def available(self) -> bool:
        return pyspy_path() is not None

    def processes(self) -> list[PythonProcess]:
        return python_processes()

    def record(self, pid: int, seconds: float, output: Path, *,
               progress: Callable[[float, str], None], cancelled: Callable[[], bool],
               when_cancelled: Callable[[], None]) -> Path:
        """Record ``pid`` for ``seconds`` into ``output``; ``when_cancelled`` runs (and may
        raise) when the user cancelled, before the cancellation is raised."""
        try:
            return record(pid, seconds, output, progress=progress, cancelled=cancelled)
        except RecordingCancelled:
            when_cancelled()
            raise
