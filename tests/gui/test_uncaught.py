"""A slot that raises is logged and named in the status bar; the console does not abort."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.gui, pytest.mark.slow]

# The console as run_gui starts it, with a timer slot that raises once the window is up.
# Python's own excepthook is put back first, as when pyqtgraph has not installed its own:
# with it PyQt6 aborts the whole process on an exception in a slot.
SCRIPT = textwrap.dedent("""
    import sys

    import pyqtgraph  # noqa: F401  (imported first, it would hide the abort)
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QMainWindow

    from console.profile import Profile
    from services.local.logsetup import setup_logging
    from ui.app import run_gui

    sys.excepthook = sys.__excepthook__
    setup_logging()
    app = QApplication(sys.argv[:1])

    def boom():
        raise RuntimeError("a bug in a callback")

    def report():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMainWindow):
                print("STATUS:", widget.statusBar().currentMessage(), flush=True)

    QTimer.singleShot(500, boom)
    QTimer.singleShot(1500, report)
    sys.exit(run_gui(Profile(name="Hook test"), quit_after=3.0))
""")


def test_an_exception_in_a_slot_is_logged_and_shown_not_fatal(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, env=env, check=False)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    status = [line for line in result.stdout.splitlines() if line.startswith("STATUS:")]
    assert len(status) == 1, result.stdout
    assert "Something went wrong inside the console (RuntimeError)" in status[0]
    assert "backroom.log" in status[0]
    logs = list((tmp_path / "state").rglob("backroom.log"))
    assert logs, list(tmp_path.rglob("*"))
    text = logs[0].read_text(encoding="utf-8")
    assert "uncaught exception on the GUI thread" in text
    assert "RuntimeError: a bug in a callback" in text
