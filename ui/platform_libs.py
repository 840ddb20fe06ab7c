"""The system libraries Qt's X11 (xcb) platform plugin needs, checked before the QApplication."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SystemLibrary:
    """One shared library the plugin loads, and the package that ships it on each family."""

    soname: str
    debian: str
    fedora: str


#: What PyQt6's libqxcb.so links against beyond Qt and glibc (from `ldd`), in load order.
#: Qt's own "could not load the Qt platform plugin" names only the first one it trips on,
#: and not always that one (issue 19: it named xcb-cursor while icccm and keysyms were missing).
XCB_LIBRARIES: tuple[SystemLibrary, ...] = (
    SystemLibrary("libxcb.so.1", "libxcb1", "libxcb"),
    SystemLibrary("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    SystemLibrary("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SystemLibrary("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SystemLibrary("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SystemLibrary("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SystemLibrary("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SystemLibrary("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLibrary("libGL.so.1", "libgl1", "libglvnd-glx"),
    SystemLibrary("libEGL.so.1", "libegl1", "libglvnd-egl"),
    SystemLibrary("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    SystemLibrary("libdbus-1.so.3", "libdbus-1-3", "dbus-libs"),
)


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will open its xcb plugin first: Linux, and neither another platform asked
    for (offscreen, wayland...) nor a Wayland session, where Qt tries Wayland first."""
    if not platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return not (environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"))


def missing_libraries(libraries: tuple[SystemLibrary, ...] = XCB_LIBRARIES
                      ) -> list[SystemLibrary]:
    """The libraries the dynamic loader cannot open, as the plugin would ask for them."""
    bundled = _bundled_sonames()
    missing = []
    for library in libraries:
        if library.soname in bundled:
            continue
        try:
            ctypes.CDLL(library.soname)
        except OSError:
            missing.append(library)
    return missing


def _bundled_sonames() -> set[str]:
    """In the packaged console, the libraries the bundle carries (docs/packaging.md): the
    plugin finds them by its RUNPATH, which a bare dlopen here does not search."""
    root = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or root is None:
        return set()
    return {path.name for path in Path(root).rglob("lib*.so*")}


def install_advice(missing: list[SystemLibrary]) -> str:
    """What to tell the user: which libraries are missing and the one command per family."""
    debian = " ".join(dict.fromkeys(lib.debian for lib in missing))
    fedora = " ".join(dict.fromkeys(lib.fedora for lib in missing))
    names = ", ".join(lib.soname for lib in missing)
    return (f"the window cannot open: Qt's X11 platform plugin needs {names}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install with\n"
            f"  Debian/Ubuntu: sudo apt-get install {debian}\n"
            f"  Fedora:        sudo dnf install {fedora}\n"
            "(or run headless with QT_QPA_PLATFORM=offscreen)")


def platform_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """None when the window can open; else the advice to print (before any QApplication)."""
    if not uses_xcb(os.environ if environ is None else environ):
        return None
    missing = missing_libraries(XCB_LIBRARIES)
    return install_advice(missing) if missing else None
