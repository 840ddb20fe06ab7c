"""Cold start: process start to the first painted main window, from source and from the bundle.

Each run is a new process on the demo shop with fresh XDG folders shared by the runs (so the
first run also seeds the demo database, and is reported on its own). "First painted" needs the
app's startup probe: with ``BACKROOM_STARTUP_PROBE=<file>`` ui/app.py writes ``time.time()``
to the file after the main window's first paint and quits. Without the probe the figure falls
back to process start -> exit with ``--quit-after 0.01 --screenshot``, which also counts the
shutdown, and says so in its name. The OS file cache is warm: "cold" means a new process.

    python -m tests.benchmarks startup
    python -m tests.benchmarks.bench_startup --importtime    (top import offenders)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.harness import Figure

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_EXE = ROOT / "dist" / "backroom" / ("backroom-cli.exe" if sys.platform == "win32"
                                            else "backroom")
PROBE_ENV = "BACKROOM_STARTUP_PROBE"
TARGET_S = 0.8
TIMEOUT_S = 120.0

# The baseline: the least a PyQt6 + pyqtgraph window costs, measured the same way.
BARE_WINDOW = r"""
import sys, time
from PyQt6.QtCore import QEvent, QObject, QTimer
from PyQt6.QtWidgets import QApplication, QMainWindow
import pyqtgraph as pg

class FirstPaint(QObject):
    def __init__(self, path):
        super().__init__()
        self.path, self.done = path, False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            QTimer.singleShot(0, self.record)
        return False
    def record(self):
        with open(self.path, "w") as fh:
            fh.write(repr(time.time()))
        QApplication.quit()

app = QApplication(sys.argv[:1])
window = QMainWindow()
plot = pg.PlotWidget()
plot.plot([0, 1, 2, 3], [1, 3, 2, 4])
window.setCentralWidget(plot)
window.resize(1200, 800)
probe = FirstPaint(sys.argv[1])
window.installEventFilter(probe)
window.show()
sys.exit(app.exec())
"""


def _isolated_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"),
               PYTHONDONTWRITEBYTECODE="")
    env.pop(PROBE_ENV, None)
    return env


def _run(command: list[str], env: dict[str, str], probe: Path | None) -> tuple[float, float]:
    """(seconds to the probe's timestamp or nan, seconds to exit) for one new process."""
    if probe is not None:
        probe.unlink(missing_ok=True)
        env = dict(env, **{PROBE_ENV: str(probe)})
    start = time.time()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=TIMEOUT_S,
                          check=False)
    exited = time.time() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode(errors="replace")[-800:]
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {tail}")
    if probe is not None and probe.exists():
        return float(probe.read_text(encoding="utf-8").strip()) - start, exited
    return float("nan"), exited


class StartupCase:
    """One way of starting the console (from source or the bundle) and how to time it."""

    def __init__(self, label: str, base: list[str], env: dict[str, str], work: Path) -> None:
        self.label, self.base, self.env, self.work = label, base, env, work
        self.probe_file = work / f"probe-{label}.txt"
        self.shot = work / f"shot-{label}.png"
        self.has_probe = False

    def gui_command(self) -> list[str]:
        if self.has_probe:  # the probe quits at first paint; --quit-after is only a backstop
            return [*self.base, "gui", "--demo", "--quit-after", "60"]
        return [*self.base, "gui", "--demo", "--quit-after", "0.01", "--screenshot",
                str(self.shot)]

    def first_start(self) -> float:
        """The very first start on empty folders; also finds out whether the app has the probe."""
        command = [*self.base, "gui", "--demo", "--quit-after", "0.01", "--screenshot",
                   str(self.shot)]
        painted, exited = _run(command, self.env, self.probe_file)
        self.has_probe = painted == painted  # not nan
        return painted if self.has_probe else exited

    def start(self) -> float:
        painted, exited = _run(self.gui_command(), self.env,
                               self.probe_file if self.has_probe else None)
        return painted if self.has_probe else exited

    def version(self) -> float:
        return _run([*self.base, "--version"], self.env, None)[1]

    @property
    def what(self) -> str:
        return "to first paint" if self.has_probe else "to exit, --quit-after 0.01 (no probe)"


def _median(fn: object, repeat: int) -> float:
    assert callable(fn)
    return statistics.median(fn() for _ in range(repeat))


def run(quick: bool = False) -> list[Figure]:
    repeat = 3 if quick else 7
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="backroom-bench-startup-") as tmp:
        work = Path(tmp)
        bare_script = work / "bare_window.py"
        bare_script.write_text(BARE_WINDOW, encoding="utf-8")
        env = _isolated_env(work / "home-bare")
        bare_probe = work / "probe-bare.txt"

        def bare_once() -> float:
            bare_probe.unlink(missing_ok=True)
            start = time.time()
            subprocess.run([sys.executable, str(bare_script), str(bare_probe)], env=env,
                           capture_output=True, timeout=TIMEOUT_S, check=True)
            return float(bare_probe.read_text(encoding="utf-8")) - start

        bare_once()  # warm the file cache
        baseline = _median(bare_once, repeat)
        baseline_name = "bare PyQt6 + pyqtgraph window in a new process, to first paint"
        figures.append(Figure("startup", "bare PyQt6 + pyqtgraph window", baseline, "s"))

        cases = [StartupCase("source", [sys.executable, str(ROOT / "main.py")],
                             _isolated_env(work / "home-source"), work)]
        if BUNDLE_EXE.exists():
            cases.append(StartupCase("bundle", [str(BUNDLE_EXE)],
                                     _isolated_env(work / "home-bundle"), work))
        for case in cases:
            first = case.first_start()
            figures.append(Figure("startup", f"{case.label}: first start, empty data dir",
                                  first, "s", baseline_name, baseline))
            typical = _median(case.start, repeat)
            figures.append(Figure("startup", f"{case.label}: gui --demo {case.what}", typical,
                                  "s", baseline_name, baseline, f"<= {TARGET_S} s",
                                  typical <= TARGET_S))
            figures.append(Figure("startup", f"{case.label}: --version", _median(case.version,
                                                                                  repeat), "s"))
        if len(cases) == 1:
            figures.append(Figure("startup", "bundle: not built (run `backroom package`)",
                                  float("nan"), "s"))
    return figures


def import_offenders(args: list[str], top: int = 15) -> list[tuple[int, int, str]]:
    """The slowest top-level imports of ``python -X importtime main.py ARGS``.

    Rows are (cumulative us, self us, module), slowest first; "top-level" is what main.py or a
    lazy import inside a function asked for, nested imports are inside its cumulative time.
    """
    with tempfile.TemporaryDirectory(prefix="backroom-importtime-") as tmp:
        done = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), *args],
                              env=_isolated_env(Path(tmp)), cwd=ROOT, capture_output=True,
                              text=True, timeout=TIMEOUT_S, check=False)
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        if name.startswith(" " * 3):  # nested: counted in its importer's cumulative time
            continue
        rows.append((int(cumulative_us), int(self_us), name.strip()))
    rows.sort(reverse=True)
    return rows[:top]


def _print_offenders() -> None:
    for args in (["--version"], ["gui", "--demo", "--quit-after", "0.01"]):
        print(f"python -X importtime main.py {' '.join(args)}: slowest imports")
        print(f"  {'cumulative ms':>13} {'self ms':>8}  module")
        for cumulative, self_us, name in import_offenders(args):
            print(f"  {cumulative / 1000:13.1f} {self_us / 1000:8.1f}  {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_startup")
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports")
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if options.importtime:
        _print_offenders()
    else:
        for figure in run(quick=options.quick):
            print(f"{figure.name:<60} {figure.value:8.3f} {figure.unit}  {figure.target}")
