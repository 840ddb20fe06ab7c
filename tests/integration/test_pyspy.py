"""py-spy against a real Python process the test starts: the flame tree finds its hot handler."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from console.flame import load_flame
from console.flame_layout import share_of
from services.diagnostics.pyspy import (
    PTRACE_FIX,
    PySpyError,
    RecordingCancelled,
    python_processes,
    record,
)
from tests.support.pyspy import hot_process, record_or_skip, require_pyspy

pytestmark = pytest.mark.integration


def test_a_speedscope_recording_puts_the_time_under_the_hot_handler(tmp_path: Path) -> None:
    require_pyspy()
    steps: list[tuple[float, str]] = []
    with hot_process(tmp_path) as child:
        out = record_or_skip(child.pid, 2, tmp_path / "server.json",
                             progress=lambda f, m: steps.append((f, m)))
    tree = load_flame(out)
    # The handler runs on a worker thread (cProfile on the main thread would see none of it)
    assert share_of(tree, "slow_handler") >= 0.6
    assert share_of(tree, "fast_handler") < share_of(tree, "slow_handler")
    assert tree.unit == "seconds" and tree.total > 1.0
    handler = next(f for f in tree.frames() if f.name == "slow_handler")
    assert handler.file.endswith("hot_server.py") and handler.line > 0
    # progress went from the start towards the end, in words
    assert steps and steps[0][0] < 0.5 <= steps[-1][0]
    assert "Recording process" in steps[-1][1]


def test_raw_collapsed_stacks_read_the_same(tmp_path: Path) -> None:
    program = require_pyspy()
    out = tmp_path / "server.txt"
    with hot_process(tmp_path) as child:
        record_or_skip(child.pid, 1, tmp_path / "probe.json")  # skips when ptrace is refused
        done = subprocess.run([program, "record", "--pid", str(child.pid), "--duration", "2",
                               "--format", "raw", "--output", str(out), "--nonblocking"],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    tree = load_flame(out)
    assert tree.unit == "samples" and tree.total >= 50
    assert share_of(tree, "slow_handler") >= 0.6


def test_cancel_stops_py_spy_at_once_and_writes_nothing(tmp_path: Path) -> None:
    require_pyspy()
    with hot_process(tmp_path) as child:
        record_or_skip(child.pid, 1, tmp_path / "probe.json")
        started = time.monotonic()
        out = tmp_path / "long.json"
        with pytest.raises(RecordingCancelled):
            record(child.pid, 60, out, cancelled=lambda: time.monotonic() - started > 0.5)
        assert time.monotonic() - started < 5
        assert not out.exists()
        assert not _commands_naming(str(out)), "py-spy still runs after the cancel"


def _commands_naming(word: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if word in command:
            found.append(command)
    return found


def test_a_process_that_is_gone_is_said_in_words(tmp_path: Path) -> None:
    require_pyspy()
    child = subprocess.Popen(["sleep", "0"])
    child.wait()
    with pytest.raises(Exception, match=f"Process {child.pid} is not running"):
        record(child.pid, 1, tmp_path / "gone.json")


def test_the_python_processes_of_this_machine_are_listed(tmp_path: Path) -> None:
    with hot_process(tmp_path) as child:
        listed = {p.pid: p for p in python_processes()}
        assert child.pid in listed
        assert "hot_server.py" in listed[child.pid].command


def test_a_refused_ptrace_is_explained_with_the_fix(tmp_path: Path) -> None:
    # py-spy run as "nobody" against a process of root's: the kernel refuses ptrace, as in a
    # container without SYS_PTRACE; the words py-spy prints are the real ones.
    program = require_pyspy()
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run py-spy as another user")
    wrapper = tmp_path / "py-spy-as-nobody"
    wrapper.write_text(f'#!/bin/sh\nexec {setpriv} --reuid=65534 --regid=65534 '
                       f'--clear-groups {program} "$@"\n')
    wrapper.chmod(0o755)
    tmp_path.chmod(0o755)
    with hot_process(tmp_path) as child, pytest.raises(PySpyError) as refused:
        record(child.pid, 1, tmp_path / "refused.json", program=str(wrapper))
    text = str(refused.value)
    assert text.startswith(f"Not allowed to read process {child.pid}"), text
    assert PTRACE_FIX in text
