"""Run every benchmark: ``python -m tests.benchmarks [--quick] [AREA ...]``.

Each area runs in a process of its own, so no area's figures carry what an earlier one left
behind (threads, servers, a QApplication, a warm or fragmented heap)."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import subprocess
import sys
import traceback

from tests.benchmarks.harness import Figure


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller data")
    parser.add_argument("areas", nargs="*", help="only these modules (e.g. store history)")
    parser.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tests.benchmarks as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                   if m.name.startswith("bench_"))
    if args.areas:
        names = [n for n in names if n.removeprefix("bench_") in args.areas]
    failures = 0
    if not args.no_header:
        print(f"{'area':<10} {'figure':<52} {'value':>12} {'unit':<8} {'baseline':>12} "
              f"{'ratio':>8}  target", flush=True)
    if len(names) > 1:
        for name in names:
            done = subprocess.run([sys.executable, "-m", "tests.benchmarks", "--no-header",
                                   *(["--quick"] if args.quick else []),
                                   name.removeprefix("bench_")], check=False)
            failures += done.returncode != 0
        return 1 if failures else 0
    for name in names:
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            figures: list[Figure] = module.run(quick=args.quick)
        except Exception:
            failures += 1
            print(f"{name}: FAILED", file=sys.stderr)
            traceback.print_exc()
            continue
        for f in figures:
            mark = "" if f.met is None else (" (met)" if f.met else " (MISSED)")
            base = f"{_fmt(f.baseline)}" if f.baseline is not None else "-"
            print(f"{f.area:<10} {f.name:<52} {_fmt(f.value):>12} {f.unit:<8} {base:>12} "
                  f"{_fmt(f.ratio):>8}  {f.target}{mark}")
            if f.baseline_name:
                print(f"{'':<10}   baseline: {f.baseline_name}")
        sys.stdout.flush()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
