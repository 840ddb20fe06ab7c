"""The console's own cost while it watches: CPU share of one core and RSS, window or none.

    python -m tests.benchmarks idle_cost [--quick]    (5 minutes a case; --quick: 45 s)
    BACKROOM_IDLE_COST_S=120 python -m tests.benchmarks idle_cost

Each case is a new process of the console, measured from outside over the same window after
a warm-up: CPU is the process's user + system time (``/proc/PID/stat``) over the wall time
(100 % = one core), RSS is sampled every second (``/proc/PID/status``) and its growth is the
slope of a least-squares line through the samples. The cases:

- the demo shop with the dashboard shown (``gui --profile P --page dashboard``), the shop
  and its simulated customers served by another process, so what is measured is the console
  alone; against the same profile polled by the same services with no window (a process
  that builds them as the GUI does and waits);
- 200 targets at 1 Hz (100 health probes, 100 /metrics pages; bench_soak's target server,
  another process) with the dashboard shown, against the same poll load with no window;
- ``gui --demo`` with the dashboard shown as a user starts it: the embedded shop and its
  simulated customers in the same process (for the record; no target).

Linux only (it reads /proc).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.bench_soak import PER_PORT, PORTS, TARGETS, _slope_per_min
from tests.benchmarks.harness import Figure

AREA = "idle_cost"
ROOT = Path(__file__).resolve().parents[2]
TICK_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
DEMO_TARGET_PCT = 3.0
MANY_TARGET_PCT = 15.0

#: The same poll load with no window: the services the GUI builds for the profile, started
#: as the GUI starts them (its GIL switch interval too), and nothing else.
NO_WINDOW = """
import sys, time
from pathlib import Path
from services.bootstrap import build_services
from services.local.profiles import load_profile
sys.setswitchinterval(0.001)
services = build_services(load_profile(Path(sys.argv[1])), directory=Path(sys.argv[2]))
services.start()
time.sleep(float(sys.argv[3]))
services.stop()
"""


@dataclass(frozen=True)
class Cost:
    """What one case measured."""

    cpu_pct: float
    rss_start_mb: float
    rss_end_mb: float
    rss_slope_mb_min: float


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_HZ  # utime + stime


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"), HOME=str(home),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"))
    return env


def measure(command: list[str], env: dict[str, str], warmup_s: float,
            window_s: float) -> Cost:
    """Start ``command`` (which must run at least ``warmup_s + window_s``), measure it over
    the window after the warm-up, then stop it."""
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(warmup_s)
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: "
                               f"{(proc.stderr.read() if proc.stderr else '')[-800:]}")
        start, cpu_start = time.monotonic(), _cpu_s(proc.pid)
        rss = [(start, _rss_mb(proc.pid))]
        end = start + window_s
        while (now := time.monotonic()) < end:
            time.sleep(min(1.0, end - now))
            rss.append((time.monotonic(), _rss_mb(proc.pid)))
        cpu_end, stop = _cpu_s(proc.pid), time.monotonic()
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} ended during the window")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
    return Cost(cpu_pct=100.0 * (cpu_end - cpu_start) / (stop - start),
                rss_start_mb=rss[0][1], rss_end_mb=rss[-1][1],
                rss_slope_mb_min=_slope_per_min(rss))


def _profile_demo(path: Path, base_url: str, token: str, db_path: Path) -> Path:
    from services.local.profiles import demo_profile, save_profile

    return save_profile(demo_profile(base_url, token, db_path), path)


def _profile_many(path: Path, ports: list[int]) -> Path:
    lines = ['name = "Two hundred targets"', ""]
    for i in range(PORTS * PER_PORT):
        base = f"http://127.0.0.1:{ports[i % PORTS]}/t/{i}"
        if i % 2:
            lines += ["[[sources]]", f'name = "web{i}"', 'kind = "prometheus"',
                      f'url = "{base}/metrics"', "interval_s = 1", "timeout_s = 2", ""]
        else:
            lines += ["[[probes]]", f'name = "health{i}"', f'url = "{base}/health"',
                      "interval_s = 1", "timeout_s = 2", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _start_demo_shop(work: Path, token: str) -> tuple[subprocess.Popen[str], str]:
    shop = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "demo", "serve",
                             "--port", "0", "--db", str(work / "demo-shop.sqlite"),
                             "--token", token], env=_env(work / "home-shop"), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert shop.stdout is not None
    for line in shop.stdout:
        if line.startswith("Demo shop serving at "):
            return shop, line.split(" at ", 1)[1].strip()
    raise RuntimeError("the demo shop did not start")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def _cases(work: Path, profile: Path, label: str, warmup_s: float,
           window_s: float) -> tuple[Cost, Cost]:
    """(dashboard shown, no window) for one profile, each in a new process."""
    quit_after = f"{warmup_s + window_s + 30:g}"
    shown = measure([sys.executable, str(ROOT / "main.py"), "gui", "--profile", str(profile),
                     "--page", "dashboard", "--quit-after", quit_after],
                    _env(work / f"home-{label}-gui"), warmup_s, window_s)
    bare = work / f"home-{label}-none"
    none = measure([sys.executable, "-c", NO_WINDOW, str(profile), str(bare / "data"),
                    quit_after], _env(bare), warmup_s, window_s)
    return shown, none


def _figures(label: str, shown: Cost, none: Cost, target_pct: float | None) -> list[Figure]:
    baseline = "the same poll load, no window"
    return [
        Figure(AREA, f"{label}, dashboard shown: CPU", shown.cpu_pct, "% core", baseline,
               none.cpu_pct, f"< {target_pct:g} % of a core" if target_pct else "",
               shown.cpu_pct < target_pct if target_pct else None),
        Figure(AREA, f"{label}, dashboard shown: RSS at the end", shown.rss_end_mb, "MB",
               baseline, none.rss_end_mb),
        Figure(AREA, f"{label}, dashboard shown: RSS growth", shown.rss_slope_mb_min,
               "MB/min", baseline, none.rss_slope_mb_min),
    ]


def run(quick: bool = False) -> list[Figure]:
    window_s = float(os.environ.get("BACKROOM_IDLE_COST_S", "45" if quick else "300"))
    warmup_s = 20.0 if quick else 30.0
    load = os.getloadavg()[0]
    print(f"idle_cost: {window_s:g} s a case after {warmup_s:g} s of warm-up; load "
          f"{load:.2f} on {os.cpu_count()} cores at the start", flush=True)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="backroom-bench-idle-") as tmp:
        work = Path(tmp)
        token = secrets.token_hex(16)
        shop, base_url = _start_demo_shop(work, token)
        try:
            profile = _profile_demo(work / "demo.toml", base_url, token,
                                    work / "demo-shop.sqlite")
            shown, none = _cases(work, profile, "demo", warmup_s, window_s)
        finally:
            _stop(shop)
        figures += _figures("demo (shop in another process)", shown, none, DEMO_TARGET_PCT)

        targets = subprocess.Popen([sys.executable, "-c", TARGETS, str(PORTS), str(PER_PORT)],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        try:
            assert targets.stdout is not None
            ports = [int(p) for p in targets.stdout.readline().split()]
            profile = _profile_many(work / "many.toml", ports)
            shown, none = _cases(work, profile, "many", warmup_s, window_s)
        finally:
            _stop(targets)
        figures += _figures("200 targets at 1 Hz", shown, none, MANY_TARGET_PCT)

        whole = measure([sys.executable, str(ROOT / "main.py"), "gui", "--demo", "--page",
                         "dashboard", "--quit-after", f"{warmup_s + window_s + 30:g}"],
                        _env(work / "home-embedded"), warmup_s, window_s)
        figures.append(Figure(AREA, "gui --demo, shop and customers inside: CPU",
                              whole.cpu_pct, "% core"))
        figures.append(Figure(AREA, "gui --demo, shop and customers inside: RSS growth",
                              whole.rss_slope_mb_min, "MB/min"))
    print(f"idle_cost: load {os.getloadavg()[0]:.2f} at the end", flush=True)
    return figures
