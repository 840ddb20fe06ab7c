"""Runtime hook of the Backroom bundle: runs before main.py inside the frozen app.

A windowed launcher (Windows backroom.exe, the macOS .app) starts with no stdout/stderr;
logging and print() would then fail, so point them at the null device.
"""

import os
import sys

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
