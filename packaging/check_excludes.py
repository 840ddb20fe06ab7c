"""Run Backroom from source as the bundle would see it: every module the spec leaves out blocked.

    python packaging/check_excludes.py gui --demo --quit-after 2
    python packaging/check_excludes.py diagnose --demo --json

A module the console needs but bundle_rules.excluded_modules() leaves out fails here in seconds
with "ModuleNotFoundError: ... left out of the bundle", instead of in the built bundle minutes
later. The exit status is main.py's.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent


class LeftOut(importlib.abc.MetaPathFinder):
    """Refuses to import the modules the bundle leaves out, as the frozen app would."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            raise ModuleNotFoundError(f"No module named {fullname!r} (left out of the bundle)",
                                      name=fullname)
        return None


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(PACKAGING))
    import bundle_rules

    sys.meta_path.insert(0, LeftOut(bundle_rules.excluded_modules()))
    sys.path.insert(0, str(ROOT))
    sys.argv = [str(ROOT / "main.py"), *argv]
    try:
        runpy.run_path(str(ROOT / "main.py"), run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
