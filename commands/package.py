"""`backroom package`: packaging/build.py run from a source checkout, its exit code passed on."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


class UnusableSource(Exception):
    """The installer cannot be built from here: one line for the user (exit 3)."""


def package_main(source: Path, *, skip_tarball: bool) -> int:
    """Run ``source``/packaging/build.py as if from the command line; its exit status."""
    script = source / "packaging" / "build.py"
    if not script.exists():
        raise UnusableSource("packaging/build.py is missing: run `backroom package` from a "
                             "source checkout")
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise UnusableSource("building the installer needs PyInstaller, which is not "
                             "installed: pip install 'backroom[package]'") from None
    sys.argv = [str(script), *(["--skip-tarball"] if skip_tarball else [])]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        raise UnusableSource(str(exc.code)) from None  # build.py's own one-line reason
    return 0
