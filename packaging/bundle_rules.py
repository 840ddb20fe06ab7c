"""What goes into the Backroom bundle and what stays out: modules, Qt plugins, data files.

Plain Python, no PyInstaller import: the spec applies these rules, and the bundle smoke test and
docs/packaging.md refer to them. Paths are destination paths inside the bundle, with '/'.
"""

from __future__ import annotations

import fnmatch
import struct
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

APP_NAME = "backroom"

# Our own packages: collected whole, because pages, collectors and migrations are imported by
# name at run time and PyInstaller's static analysis cannot see those imports.
OWN_PACKAGES = ("console", "services", "commands", "ui", "demo")

# Imported lazily or through entry points / registries (SQLAlchemy dialects by URL, keyring
# backends, psycopg's binary implementation, Prometheus's text parser).
HIDDEN_IMPORTS = (
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.mysql",
    "sqlalchemy.dialects.mysql.pymysql",
    "pymysql",
    "sqlalchemy.sql.default_comparator",
    "psycopg",
    "psycopg_binary",
    "psycopg_binary.pq",
    "psycopg_binary._psycopg",
    "alembic",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "alembic.ddl.mysql",
    "keyring.backends",
    "prometheus_client",
    "prometheus_client.parser",
    "waitress",
    "flask",
    "redis",
    "pika",
    "kombu",
    "kombu.pidbox",
    "kombu.transport.redis",  # kombu loads its transports by name
    "pymemcache",
    "platformdirs",
    "tomli_w",
)

# PyQt6 modules the console never uses. pyqtgraph imports QtTest inside try/except, so leaving
# it out only turns that import into pyqtgraph's FailedImport. QtOpenGL, QtOpenGLWidgets and
# uic stay: pyqtgraph 0.14 imports them unconditionally (PlotCurveItem -> OpenGLHelpers).
UNUSED_QT_MODULES = (
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
    "QtBluetooth", "QtCharts", "QtDataVisualization", "QtDBus", "QtDesigner", "QtHelp",
    "QtMultimedia", "QtMultimediaWidgets", "QtNetwork", "QtNetworkAuth", "QtNfc",
    "QtPdf", "QtPdfWidgets", "QtPositioning", "QtQml",
    "QtQuick", "QtQuick3D", "QtQuickWidgets", "QtRemoteObjects", "QtSensors", "QtSerialPort",
    "QtSpatialAudio", "QtSql", "QtStateMachine", "QtTest", "QtTextToSpeech", "QtWebChannel",
    "QtWebEngineCore", "QtWebEngineQuick", "QtWebEngineWidgets", "QtWebSockets", "QtXml",
    "QAxContainer", "lupdate",
)

# Whole libraries nothing in the console imports at run time (test tools, other GUI toolkits,
# science stacks some of our dependencies mention in optional code paths).
UNUSED_MODULES = (
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "pydoc_data",
    "test", "matplotlib", "scipy", "pandas", "IPython", "ipykernel", "jupyter_rfb", "PIL",
    "PyQt5", "PySide2", "PySide6", "cupy", "numba", "h5py", "OpenGL", "pyqtgraph.opengl",
    "pyqtgraph.examples", "pyqtgraph.jupyter", "pytest", "_pytest", "pytestqt", "hypothesis",
    "trustme", "mypy", "ruff", "importlinter", "grimp", "setuptools", "pkg_resources", "pip",
    "distutils", "numpy.f2py", "numpy.distutils", "sqlalchemy.testing", "alembic.testing",
    "rich", "pygments", "markdown_it", "tests", "readline",
    # Never imported by pyqtgraph's __init__ or by us; only reached through pyqtgraph's
    # Qt-Designer template modules, which PyInstaller's pyqtgraph hook adds wholesale.
    "pyqtgraph.flowchart", "pyqtgraph.canvas", "pyqtgraph.console", "pyqtgraph.dockarea",
    # Test and debugging tools numpy and the stdlib mention but never import at run time.
    "numpy.testing", "unittest", "doctest", "pdb",
    # SQLite, PostgreSQL and MySQL/MariaDB are supported; SQLAlchemy's hook adds every dialect.
    "sqlalchemy.dialects.mssql", "sqlalchemy.dialects.oracle",
    # Celery and kombu try Django (inside try/except ImportError) for their Django glue; with
    # it in the graph PyInstaller bundles all of Django (3,600 files, 40 MB) and its runtime
    # hook imports django.utils.autoreload (with asyncio, ssl) at every start, ~27 ms.
    "django",
)


def excluded_modules() -> list[str]:
    return [*UNUSED_MODULES, *(f"PyQt6.{name}" for name in UNUSED_QT_MODULES)]


# Qt plugins kept, per plugin folder; a folder not named here is left out whole.
# Platforms: the desktop ones plus offscreen and minimal (headless smoke tests, CI, VNC-less
# servers). Image formats: PNG (also BMP, PPM, XPM) is built into QtGui; SVG for icons, ICO
# for Windows; no JPEG, GIF, TIFF, WebP or PDF.
KEPT_QT_PLUGINS: dict[str, tuple[str, ...]] = {
    "platforms": ("*qxcb*", "*qwayland*", "*qoffscreen*", "*qminimal.*", "*qwindows*",
                  "*qcocoa*"),
    # The portal theme follows the desktop's dark/light setting and gives native file dialogs.
    # Not gtk3: it would load the system's GTK against the glib bundled from the build machine.
    "platformthemes": ("*xdgdesktopportal*",),
    "platforminputcontexts": ("*",),     # compose keys and input methods
    "iconengines": ("*qsvgicon*",),
    "imageformats": ("*qsvg*", "*qico*"),
    "xcbglintegrations": ("*",),
    "wayland-decoration-client": ("*bradient*",),
    "wayland-graphics-integration-client": ("*qt-plugin-wayland-egl*", "*shm-emulation*"),
    "wayland-shell-integration": ("*xdg-shell*", "*qt-shell*"),
    "styles": ("*",),                    # Windows: the modern Windows style
    "printsupport": ("*",),              # the run sheet's Print… (CUPS on Linux)
}

# Qt libraries only the left-out plugins or modules need; dropped even if a hook pulled them in.
UNUSED_QT_LIBRARIES = (
    "*Qt6Quick*", "*Qt6Qml*", "*Qt6Pdf*", "*Qt6Multimedia*", "*Qt6WebEngine*", "*Qt6Designer*",
    "*Qt6ShaderTools*", "*Qt63D*", "*Qt6Bluetooth*", "*Qt6Nfc*", "*Qt6Sensors*",
    "*Qt6SerialPort*", "*Qt6Positioning*", "*Qt6Help*", "*Qt6Sql*", "*Qt6Test*",
    "*Qt6RemoteObjects*", "*Qt6VirtualKeyboard*", "*Qt6TextToSpeech*", "*Qt6SpatialAudio*",
    "*Qt6Charts*", "*Qt6DataVisualization*", "*Qt6Network*",
    "*Qt6StateMachine*", "*Qt6WebSockets*", "*Qt6WebChannel*",
    "*libavcodec*", "*libavformat*", "*libavutil*", "*libswresample*", "*libswscale*",
    "*libassimp*",
)

# Libraries of the desktop session, used from the machine the console runs on: the D-Bus
# client must match the running D-Bus and systemd, fontconfig and freetype the system's font
# configuration, and libX11 the system's libxcb (which PyInstaller never bundles). Every
# desktop has them; the headless commands (diagnose, demo serve, db) do not load Qt at all.
# The C++ runtime too: the bundle needs glibc 2.36 anyway (the build machine's), every such
# system has a libstdc++ at least as new as the GLIBCXX_3.4.29 Qt asks for, and a bundled
# older libstdc++ breaks the system's OpenGL drivers when they need a newer one.
SYSTEM_LIBRARIES = (
    "libdbus-1.so*", "libsystemd.so*", "libfontconfig.so*", "libfreetype.so*", "libX11.so*",
    "libX11-xcb.so*", "libstdc++.so*", "libgcc_s.so*",
)

# macOS: Qt comes as QtQuick.framework/... rather than libQt6Quick.so.6.
UNUSED_QT_FRAMEWORKS = tuple(p.replace("Qt6", "Qt") for p in UNUSED_QT_LIBRARIES if "Qt6" in p)

# Data files nobody reads at run time.
UNUSED_DATA = (
    "PyQt6/Qt6/translations/*",
    "PyQt6/Qt6/qml/*",
    "*/__pycache__/*",
    "*.pyi",
    "*/py.typed",
    "numpy/*/tests/*",
    "numpy/_core/include/*",
    "pyqtgraph/examples/*",
    "pyqtgraph/icons/*.svg.orig",
)


def _qt_plugin_kept(dest: str) -> bool | None:
    """True/False for a Qt plugin path, None when ``dest`` is not a Qt plugin."""
    marker = "/plugins/"
    if "PyQt6/Qt6/plugins/" not in dest and "PyQt6/Qt6/PlugIns/" not in dest:
        return None
    tail = dest.split(marker, 1)[1] if marker in dest else dest.split("/PlugIns/", 1)[1]
    folder, _, name = tail.partition("/")
    patterns = KEPT_QT_PLUGINS.get(folder)
    if patterns is None:
        return False
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def keep(dest: str) -> bool:
    """Whether a binary or data file at bundle path ``dest`` belongs in the bundle."""
    dest = dest.replace("\\", "/")
    plugin = _qt_plugin_kept(dest)
    if plugin is not None:
        return plugin
    name = dest.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatch(name, pattern) for pattern in UNUSED_QT_LIBRARIES):
        return False
    framework = next((part for part in dest.split("/") if part.endswith(".framework")), "")
    if framework and any(fnmatch.fnmatch(framework, p) for p in UNUSED_QT_FRAMEWORKS):
        return False
    if sys.platform.startswith("linux") and "/" not in dest and any(
            fnmatch.fnmatch(name, pattern) for pattern in SYSTEM_LIBRARIES):
        return False
    return not any(fnmatch.fnmatch(dest, pattern) for pattern in UNUSED_DATA)


def filter_toc(entries: Iterable[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]],
                                                                list[str]]:
    """Split a PyInstaller TOC into (kept entries, dropped destination paths)."""
    kept: list[tuple[str, str, str]] = []
    dropped: list[str] = []
    for entry in entries:
        if keep(entry[0]):
            kept.append(entry)
        else:
            dropped.append(entry[0])
    return kept, dropped


# Shared libraries are only collected because something needs them. When a plugin is left out,
# the libraries only it needed (GTK's cairo and pango for the gtk3 theme, ...) go too. Never
# pruned: the Python library, which the bootloader loads by name, not through DT_NEEDED.
NEVER_PRUNED = ("libpython*",)


def is_dependency_only(dest: str) -> bool:
    """A library collected as a dependency (not a Python extension module or Qt plugin)."""
    dest = dest.replace("\\", "/")
    if "/" not in dest:
        return True
    return "/Qt6/lib/" in dest or dest.split("/", 1)[0].endswith(".libs")


def elf_dynamic(path: str) -> tuple[dict[int, list[str]], bool] | None:
    """(string-valued dynamic entries by tag, has a symbol table) of an ELF file, or None.

    Tags: 1 DT_NEEDED, 15 DT_RPATH, 29 DT_RUNPATH. A symbol table (.symtab) is what ``strip``
    removes; the dynamic symbols a shared library exports are elsewhere and stay.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(endian + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
        sec_fmt, dyn_fmt = endian + "IIQQQQIIQQ", endian + "qQ"
    else:
        shoff, = struct.unpack_from(endian + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
        sec_fmt, dyn_fmt = endian + "IIIIIIIIII", endian + "iI"
    sections = [struct.unpack_from(sec_fmt, data, shoff + i * shentsize) for i in range(shnum)]
    entries: dict[int, list[str]] = {}
    has_symtab = False
    for sec in sections:
        has_symtab = has_symtab or sec[1] == 2  # SHT_SYMTAB
        if sec[1] != 6:  # SHT_DYNAMIC
            continue
        str_off = sections[sec[6]][4]
        entry_size = struct.calcsize(dyn_fmt)
        for offset in range(sec[4], sec[4] + sec[5], entry_size):
            tag, value = struct.unpack_from(dyn_fmt, data, offset)
            if tag == 0:
                break
            if tag in (1, 15, 29):
                end = data.index(b"\0", str_off + value)
                entries.setdefault(tag, []).append(data[str_off + value:end].decode())
    return entries, has_symtab


def elf_needed(path: str) -> list[str] | None:
    """The DT_NEEDED names of an ELF shared object or executable, None if it is not ELF."""
    info = elf_dynamic(path)
    return None if info is None else info[0].get(1, [])


def strippable(path: Path, bundle: Path) -> bool:
    """Whether ``strip`` may remove the symbol table of this bundled file.

    Not the libraries auditwheel vendored into ``*.libs`` folders, nor extension modules whose
    RPATH points there: patchelf rewrote their layout, and strip then writes files the loader
    rejects ("ELF load command address/offset not page-aligned", seen with numpy's OpenBLAS).
    """
    if path.is_symlink() or not path.is_file():
        return False
    rel = path.relative_to(bundle).as_posix()
    if any(part.endswith(".libs") for part in rel.split("/")[:-1]):
        return False
    info = elf_dynamic(str(path))
    if info is None or not info[1]:
        return False
    paths = info[0].get(15, []) + info[0].get(29, [])
    return not any(".libs" in p for p in paths)


def strip_bundle(bundle: Path) -> tuple[int, int]:
    """Strip the symbol tables of the bundle's ELF files that allow it; (files, bytes saved).

    Python built with debug symbols (pyenv, for one) is a 23 MB libpython before and 6 MB after.
    Does nothing off Linux or without binutils' strip.
    """
    import shutil
    import subprocess

    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0, 0
    files = saved = 0
    for path in sorted(bundle.rglob("*")):
        if not strippable(path, bundle):
            continue
        before = path.stat().st_size
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True, timeout=120)
        saved += before - path.stat().st_size
        files += 1
    return files, saved


def _is_root(entry: tuple[str, str, str]) -> bool:
    dest, _src, kind = entry
    name = dest.replace("\\", "/").rsplit("/", 1)[-1]
    return (kind == "EXTENSION" or not is_dependency_only(dest)
            or any(fnmatch.fnmatch(name, pattern) for pattern in NEVER_PRUNED))


def prune_orphans(entries: list[tuple[str, str, str]],
                  needed_of: Callable[[str], list[str] | None] = elf_needed,
                  ) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Drop dependency-only libraries that no kept binary needs (directly or indirectly).

    Roots are the kept extension modules, Qt plugins and other non-dependency binaries.
    Returns (kept entries, dropped destination paths). Only ELF (Linux) is analysed; on
    other platforms nothing is dropped.
    """
    if not sys.platform.startswith("linux"):
        return list(entries), []
    needs: dict[str, list[str]] = {}
    by_name: dict[str, list[tuple[str, str, str]]] = {}
    for entry in entries:
        dest, src, kind = entry
        by_name.setdefault(dest.replace("\\", "/").rsplit("/", 1)[-1], []).append(entry)
        if kind != "SYMLINK":
            needs[dest] = needed_of(src) or []
    reachable: set[str] = set()
    stack = [name for entry in entries if _is_root(entry) for name in needs.get(entry[0], [])]
    while stack:
        name = stack.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for dest, _src, kind in by_name.get(name, []):
            if kind == "SYMLINK":
                stack.append(_src.rsplit("/", 1)[-1])
            stack.extend(needs.get(dest, []))
    kept: list[tuple[str, str, str]] = []
    dropped: list[str] = []
    for entry in entries:
        dest = entry[0]
        name = dest.replace("\\", "/").rsplit("/", 1)[-1]
        if not _is_root(entry) and name not in reachable:
            dropped.append(dest)
        else:
            kept.append(entry)
    return kept, dropped


def drop_dangling_links(entries: list[tuple[str, str, str]], present: set[str],
                        ) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Drop SYMLINK entries whose target (a bundle path) is not among ``present``.

    PyInstaller keeps a library's original location as a symlink to where it put the file;
    when the file was left out, the link would dangle.
    """
    kept: list[tuple[str, str, str]] = []
    dropped: list[str] = []
    for entry in entries:
        dest, target, kind = entry
        if kind == "SYMLINK":
            resolved = (Path(dest).parent / target).as_posix()
            resolved = str(Path(resolved)).replace("\\", "/")
            parts: list[str] = []
            for part in resolved.split("/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            if "/".join(parts) not in present and target not in present:
                dropped.append(dest)
                continue
        kept.append(entry)
    return kept, dropped


def own_data_files(root: Path) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for our own non-Python files.

    Alembic reads migration scripts from disk by path, so the migrations folder goes in as
    files (the .py sources included), next to where ``services/shop`` expects it.
    """
    pairs: list[tuple[str, str]] = []
    skip_suffixes = {".pyc", ".pyo"}
    for package in OWN_PACKAGES:
        base = root / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root)
            in_migrations = "migrations" in rel.parts
            if path.suffix == ".py" and not in_migrations:
                continue
            if path.suffix in skip_suffixes:
                continue
            pairs.append((str(path), rel.parent.as_posix()))
    resources = root / "resources"
    for path in sorted(resources.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".py":
            pairs.append((str(path), path.relative_to(root).parent.as_posix()))
    return pairs


def write_platform_icon(png: Path, folder: Path) -> Path | None:
    """The application icon in the format this platform's executable wants, made from ``png``.

    Windows: an .ico holding the 256x256 PNG (valid since Vista); macOS: an .icns holding it
    as 'ic08'. Linux executables carry no icon (the .desktop entry names one): None.
    """
    data = png.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        dest = folder / "backroom.ico"
        header = struct.pack("<HHH", 0, 1, 1)
        entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(data), 6 + 16)
        dest.write_bytes(header + entry + data)
        return dest
    if sys.platform == "darwin":
        dest = folder / "backroom.icns"
        chunk = b"ic08" + struct.pack(">I", 8 + len(data)) + data
        dest.write_bytes(b"icns" + struct.pack(">I", 8 + len(chunk)) + chunk)
        return dest
    return None


def platform_tag() -> str:
    """'linux-x86_64', 'windows-amd64', 'macos-arm64', ... for archive names."""
    import platform

    machine = platform.machine().lower() or "unknown"
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform,
                                                                           sys.platform)
    return f"{system}-{machine}"
