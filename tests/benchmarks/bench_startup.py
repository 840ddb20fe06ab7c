"""Cold start: process start to the first painted main window, from source and from the bundle.

Each run is a new process on the demo shop (``gui --demo``) with empty XDG folders shared by
the runs of one case, so the first run also seeds the demo database and is reported on its own.
"First painted" is read from Qt itself, with no hook in the product: with
``QT_LOGGING_RULES=qt.widgets.painting.debug=true`` Qt logs every backing-store flush, and the
first "Flushing ... of MainWindow" line, time-stamped by ``QT_MESSAGE_PATTERN``, is the moment
the first frame of the main window reaches its window surface. The baseline, a bare PyQt6 +
pyqtgraph window, is timed the same way. The OS file cache is warm: "cold" means a new process.
Python's compiled bytecode is kept too (``PYTHONDONTWRITEBYTECODE`` is dropped for the runs),
as an installed console or the bundle has it: without it every start compiles the
console's own modules again (0.1-0.15 s here), which no user pays.

The console paints first and builds its services after, so the first paint alone would hide
a slower real start: "to first data" is when the dashboard drew its first readings, from the
line the console writes to its own log then ("the dashboard drew its first readings").

The bundle starts through PyInstaller's bootloader, which costs a fixed amount a start from
source does not pay; ``--bare-bundle`` (or ``BACKROOM_BENCH_BARE_BUNDLE=1``) also times the bare
window bundled the same way (packaging/bundle_rules.py's exclusions and filters, modules as
.pyc files, stripped), built once with PyInstaller (about a minute) and kept under
build/bench-bare-bundle/; once built it is timed in every run.

    python -m tests.benchmarks startup
    python -m tests.benchmarks.bench_startup --bare-bundle   (also the bare window, bundled)
    python -m tests.benchmarks.bench_startup --importtime    (the slowest imports before the paint)
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks.harness import Figure

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_EXE = ROOT / "dist" / "backroom" / ("backroom-cli.exe" if sys.platform == "win32"
                                            else "backroom")
TARGET_S = 0.8
#: Issue 23: within this many times the bare window's first paint, measured in the same run.
TARGET_RATIO = 1.5
TIMEOUT_S = 90.0
#: How long each run of the console lasts: long enough for the demo shop to start and the
#: first readings to be drawn (about a second here).
RUN_S = 5.0
FIRST_DATA = "the dashboard drew its first readings"
LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
PAINT_LOG = {
    "QT_LOGGING_RULES": "qt.widgets.painting.debug=true",
    "QT_MESSAGE_PATTERN": "%{time yyyy-MM-ddTHH:mm:ss.zzz} %{category} %{message}",
    "TZ": "UTC",
}
FIRST_FLUSH = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) qt\.widgets\.painting "
                         r"Flushing .* of (\w+)\(", re.MULTILINE)

# The baseline: the least a PyQt6 + pyqtgraph window costs.
BARE_WINDOW = """
import sys
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QMainWindow
import pyqtgraph as pg

app = QApplication(sys.argv[:1])
window = QMainWindow()
plot = pg.PlotWidget()
plot.plot([0, 1, 2, 3], [1, 3, 2, 4])
window.setCentralWidget(plot)
window.resize(1400, 900)
window.show()
QTimer.singleShot(500, app.quit)
sys.exit(app.exec())
"""


# The bare window's bundle: the same PyInstaller settings and bundle_rules steps as
# packaging/backroom.spec, nothing of the console's.
BARE_BUNDLE_DIR = ROOT / "build" / "bench-bare-bundle"
BARE_BUNDLE_ASKED = "BACKROOM_BENCH_BARE_BUNDLE"
BARE_SPEC = """
import sys
from pathlib import Path
sys.path.insert(0, {packaging!r})
import bundle_rules

a = Analysis([{script!r}], excludes=bundle_rules.excluded_modules(), noarchive=True, optimize=0)
a.binaries, _dropped = bundle_rules.filter_toc(a.binaries)
a.datas, _dropped = bundle_rules.filter_toc(a.datas)
a.binaries, _orphans = bundle_rules.prune_orphans(a.binaries)
present = {{dest for dest, _src, kind in [*a.binaries, *a.datas] if kind != "SYMLINK"}}
a.binaries, _dangling = bundle_rules.drop_dangling_links(a.binaries, present)
a.datas, _dangling = bundle_rules.drop_dangling_links(a.datas, present)
exe = EXE(PYZ(a.pure), a.scripts, [], exclude_binaries=True, name="bare_window", console=True,
          strip=False, upx=False)
COLLECT(exe, a.binaries, a.datas, strip=False, upx=False, name="bare_window")
bundle_rules.strip_bundle(Path(DISTPATH) / "bare_window")
"""


def bare_bundle(build: bool) -> Path | None:
    """The bare window's bundled executable, built first if ``build`` and not cached; None if
    not built. The cache is keyed by the script, the spec, PyInstaller's version and the
    bundle rules, so a change to any of them builds it again."""
    try:
        from PyInstaller import __version__ as pyinstaller_version
    except ImportError:
        return None
    packaging = ROOT / "packaging"
    rules = (packaging / "bundle_rules.py").read_bytes()
    key = hashlib.sha256(b"\0".join([BARE_WINDOW.encode(), BARE_SPEC.encode(),
                                      pyinstaller_version.encode(), rules])).hexdigest()[:12]
    folder = BARE_BUNDLE_DIR / key
    exe = folder / "dist" / "bare_window" / ("bare_window.exe" if sys.platform == "win32"
                                             else "bare_window")
    if exe.exists() or not build:
        return exe if exe.exists() else None
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "bare_window.py"
    script.write_text(BARE_WINDOW, encoding="utf-8")
    spec = folder / "bare_window.spec"
    spec.write_text(BARE_SPEC.format(packaging=str(packaging), script=str(script)),
                    encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(folder / "dist"), "--workpath", str(folder / "work"),
                    str(spec)], cwd=folder, env=env, check=True, timeout=900)
    return exe


def _isolated_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"))
    return env


def first_paint(command: list[str], env: dict[str, str], window_class: str) -> float:
    """Seconds from starting ``command`` to Qt's first flush of a ``window_class`` window."""
    return start_times(command, env, window_class)[0]


def start_times(command: list[str], env: dict[str, str], window_class: str,
                log_file: Path | None = None) -> tuple[float, float | None]:
    """Seconds from starting ``command`` to Qt's first flush of a ``window_class`` window,
    and (with ``log_file``, the console's log) to its "first readings" line, or None if it
    wrote none. The log is read from where it stood before the run (it is appended to)."""
    offset = log_file.stat().st_size if log_file is not None and log_file.exists() else 0
    start = time.time()
    done = subprocess.run(command, env={**env, **PAINT_LOG}, cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout)[-800:]}")
    painted = None
    for stamp, cls in FIRST_FLUSH.findall(done.stderr):
        if cls == window_class:
            when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
            painted = when.timestamp() - start
            break
    if painted is None:
        raise RuntimeError(f"{' '.join(command)}: Qt logged no paint of a {window_class}; "
                           f"stderr ends {done.stderr[-800:]!r}")
    data = None
    if log_file is not None and log_file.exists():
        with log_file.open("rb") as lines:
            lines.seek(offset)
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                found = LOG_STAMP.match(line)
                if found and FIRST_DATA in line:  # the log's times are local: TZ=UTC here
                    when = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f")
                    data = when.replace(tzinfo=UTC).timestamp() - start
                    break
    return painted, data


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=TIMEOUT_S,
                   check=True)
    return time.perf_counter() - start


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def run(quick: bool = False, bare_bundled: bool | None = None) -> list[Figure]:
    """``bare_bundled``: build the bare window's bundle if need be (default: when
    BACKROOM_BENCH_BARE_BUNDLE=1); a cached one is timed either way."""
    repeat = 3 if quick else 7
    if bare_bundled is None:
        bare_bundled = os.environ.get(BARE_BUNDLE_ASKED) == "1"
    bare_exe = bare_bundle(build=bare_bundled and BUNDLE_EXE.exists())
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="backroom-bench-startup-") as tmp:
        work = Path(tmp)
        bare_script = work / "bare_window.py"
        bare_script.write_text(BARE_WINDOW, encoding="utf-8")
        bare_env = _isolated_env(work / "home-bare")

        def bare() -> float:
            return first_paint([sys.executable, str(bare_script)], bare_env, "QMainWindow")

        bare()  # warm the file cache
        baseline = _median(bare, repeat)
        baseline_name = "bare PyQt6 + pyqtgraph window, new process to first paint"
        figures.append(Figure("startup", "bare PyQt6 + pyqtgraph window to first paint",
                              baseline, "s"))
        bundled_baseline = None
        if bare_exe is not None and BUNDLE_EXE.exists():
            def bare_bundled_run(exe: Path = bare_exe) -> float:
                return first_paint([str(exe)], bare_env, "QMainWindow")

            bare_bundled_run()
            bundled_baseline = _median(bare_bundled_run, repeat)
            figures.append(Figure("startup", "bare window bundled the same way, first paint",
                                  bundled_baseline, "s", baseline_name, baseline))

        cases = [("source", [sys.executable, str(ROOT / "main.py")])]
        if BUNDLE_EXE.exists():
            cases.append(("bundle", [str(BUNDLE_EXE)]))
        for label, base in cases:
            home = work / f"home-{label}"
            env = _isolated_env(home)
            gui = [*base, "gui", "--demo", "--quit-after", f"{RUN_S:g}"]
            # platformdirs' user_log_dir on Linux (the runs are told XDG_STATE_HOME)
            log_file = home / "state" / "backroom" / "log" / "backroom.log"

            def start(gui: list[str] = gui, env: dict[str, str] = env,
                      log_file: Path = log_file) -> tuple[float, float | None]:
                return start_times(gui, env, "MainWindow", log_file)

            first, first_data = start()
            figures.append(Figure("startup", f"{label}: first start (seeds the demo shop)",
                                  first, "s", baseline_name, baseline))
            figures.append(Figure("startup", f"{label}: first start to first data",
                                  _or_nan(first_data), "s"))
            runs = [start() for _ in range(repeat)]
            typical = statistics.median(paint for paint, _data in runs)
            figures.append(Figure("startup", f"{label}: gui --demo to first paint", typical, "s",
                                  baseline_name, baseline,
                                  f"<= {TARGET_RATIO:g}x bare, <= {TARGET_S} s",
                                  typical <= TARGET_RATIO * baseline and typical <= TARGET_S))
            if label == "bundle" and bundled_baseline is not None:
                figures.append(Figure(
                    "startup", "bundle: first paint against the bare window bundled", typical,
                    "s", "bare PyQt6 + pyqtgraph window bundled the same way", bundled_baseline,
                    f"<= {TARGET_RATIO:g}x bare bundled",
                    typical <= TARGET_RATIO * bundled_baseline))
            data = [d for _paint, d in runs if d is not None]
            figures.append(Figure(
                "startup", f"{label}: gui --demo to first data on the dashboard",
                statistics.median(data) if len(data) == len(runs) else math.nan, "s",
                baseline_name, baseline))
            def version_run(base: list[str] = base, env: dict[str, str] = env) -> float:
                return wall_time([*base, "--version"], env)

            version = _median(version_run, repeat)
            figures.append(Figure("startup", f"{label}: --version, start to exit", version,
                                  "s"))
        if len(cases) == 1:
            figures.append(Figure("startup", "bundle: not built (run `backroom package`)",
                                  float("nan"), "s"))
    return figures


def import_offenders(args: list[str], top: int = 12, script: Path | None = None,
                     until_paint: str | None = None
                     ) -> tuple[list[tuple[int, int, str]], list[tuple[int, str]], int]:
    """The slowest imports of ``python -X importtime main.py ARGS`` (or of ``script``).

    Returns (top-level imports as (cumulative us, self us, module), packages as (cumulative us,
    package), every import's self time summed in us), slowest first. "Top-level" is what
    main.py or a lazy import inside a function asked for; a package's figure is its first
    import wherever it happened (one package's figure can include another's: flask includes
    werkzeug). ``until_paint``: only the imports before Qt's first flush of a window of that
    class (Qt's paint log goes to stderr between importtime's lines).
    """
    command = [sys.executable, "-X", "importtime", str(script or ROOT / "main.py"), *args]
    with tempfile.TemporaryDirectory(prefix="backroom-importtime-") as tmp:
        env = _isolated_env(Path(tmp))
        for _ in range(2):  # the first run seeds the demo shop and draws the icons
            done = subprocess.run(command, env={**env, **PAINT_LOG}, cwd=ROOT,
                                  capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False)
    rows: list[tuple[int, int, str]] = []
    packages: list[tuple[int, str]] = []
    total = 0
    for line in done.stderr.splitlines():
        if until_paint and "Flushing" in line and f" of {until_paint}(" in line:
            break
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        module = name.strip()
        total += int(self_us)
        if "." not in module and not module.startswith("_"):
            packages.append((int(cumulative_us), module))
        if not name.startswith(" " * 3):  # nested ones count in their importer's time
            rows.append((int(cumulative_us), int(self_us), module))
    rows.sort(reverse=True)
    packages.sort(reverse=True)
    return rows[:top], packages[:top], total


def _print_offenders() -> None:
    with tempfile.TemporaryDirectory(prefix="backroom-bare-") as tmp:
        bare = Path(tmp) / "bare_window.py"
        bare.write_text(BARE_WINDOW, encoding="utf-8")
        _rows, _packages, bare_us = import_offenders([], script=bare, until_paint="QMainWindow")
    print(f"imports before the first paint: bare PyQt6 + pyqtgraph window {bare_us / 1000:.0f} ms")
    runs = ((["--version"], None), (["gui", "--demo", "--quit-after", "1"], "MainWindow"))
    for args, until in runs:
        rows, packages, total = import_offenders(args, until_paint=until)
        where = " before the first paint" if until else ""
        print(f"python -X importtime main.py {' '.join(args)}: {total / 1000:.0f} ms{where}")
        print(f"  top-level imports   {'cumulative ms':>13} {'self ms':>8}")
        for cumulative, self_us, name in rows:
            print(f"  {name:<30} {cumulative / 1000:8.1f} {self_us / 1000:8.1f}")
        print(f"  packages            {'cumulative ms':>13}")
        for cumulative, name in packages:
            print(f"  {name:<30} {cumulative / 1000:8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_startup")
    parser.add_argument("--importtime", action="store_true",
                        help="print the slowest imports (gui: those before the first paint)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bare-bundle", action="store_true",
                        help="also time the bare window bundled the same way (built once, "
                             "about a minute, kept under build/bench-bare-bundle/)")
    options = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if options.importtime:
        _print_offenders()
    else:
        for figure in run(quick=options.quick, bare_bundled=options.bare_bundle or None):
            print(f"{figure.name:<60} {figure.value:8.3f} {figure.unit}  {figure.target}")
