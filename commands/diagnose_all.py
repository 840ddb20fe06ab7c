"""`backroom diagnose --all`: one line (or JSON object) per shop, one Nagios exit code."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TextIO

from commands.diagnose import EXIT_BY_STATUS, EXIT_UNKNOWN
from console.overview import render_overview, row_to_dict, worst_status
from services.diagnostics.overview import MAX_PARALLEL, SOURCE_TIMEOUT_S, ShopOverview
from services.local.profiles import config_dir, list_profiles


def diagnose_all_main(*, as_json: bool, stdout: TextIO, stderr: TextIO,
                      folder: Path | None = None, max_parallel: int = MAX_PARALLEL,
                      timeout_s: float = SOURCE_TIMEOUT_S) -> int:
    """Read every profile in the config folder (``folder``, else the user's) once and print
    one row per shop, worst first (``as_json``: a JSON list, one object per shop). Exit 0 ok,
    1 warn, 2 fail for the worst shop; 3 when there is nothing to read."""
    where = folder or config_dir()
    paths = list_profiles(where)
    if not paths:
        print(f"backroom: error: no profiles (*.toml) in {where}; save one in Settings or "
              "pass --profile", file=stderr)
        return EXIT_UNKNOWN
    if not as_json:
        print(f"Reading {len(paths)} profiles in {where}...", file=stderr, flush=True)
    overview = ShopOverview(max_parallel=max_parallel, timeout_s=timeout_s)
    try:
        rows = overview.read([str(p.resolve()) for p in paths])
    finally:
        overview.close()
    if as_json:
        stdout.write(json.dumps([row_to_dict(r) for r in rows], indent=2, allow_nan=False,
                                ensure_ascii=False) + "\n")
    else:
        stdout.write(render_overview(rows, time.time()))
    stdout.flush()
    return EXIT_BY_STATUS[worst_status(rows)]
