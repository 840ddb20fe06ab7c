"""Licences of what the bundle ships: a licenses/ folder and THIRD-PARTY.txt.

Every module and binary PyInstaller collected is traced back to the installed distribution
that owns the file (from each distribution's RECORD). Files no distribution owns are either
Python's standard library (the PSF licence) or shared libraries copied from the build machine
(traced to their Debian package, when dpkg is there, for its copyright file).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

OWN_TOP_LEVEL = frozenset({"console", "services", "commands", "ui", "demo", "resources", "main",
                           "licenses", "LICENSE", "THIRD-PARTY.txt", "base_library.zip"})
LICENCE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS|COPYRIGHT)", re.IGNORECASE)

# Licence texts that the distribution's metadata names but its wheel leaves out; the text is
# the standard one, and Backroom's own LICENSE is the GPL v3 text.
STANDARD_TEXTS = {"GPL-3.0-only": "LICENSE", "GPL-3.0-or-later": "LICENSE"}

# What a distribution carries under other licences than its own, as its README states it.
NOTES = {
    "qtawesome": "its icon fonts: Font Awesome and Elusive Icons under the SIL Open Font "
                 "License 1.1, Phosphor under MIT, Material Design Icons and Remix Icon under "
                 "Apache-2.0, Microsoft's Codicons under CC-BY-4.0",
    "psycopg-binary": "vendors libpq (PostgreSQL licence), OpenSSL (Apache-2.0), MIT Kerberos, "
                      "OpenLDAP and Cyrus SASL in psycopg_binary.libs/",
    "numpy": "vendors OpenBLAS (BSD-3-Clause) and the GCC runtime libgfortran/libquadmath "
             "(GPL-3.0 with the GCC Runtime Library Exception) in numpy.libs/",
    "pyqt6-qt6": "the Qt libraries, also with ICU (Unicode licence) inside",
}


@dataclass
class BundledDistribution:
    """One installed distribution with at least one file in the bundle."""

    name: str
    version: str
    licence: str
    licence_files: list[Path] = field(default_factory=list)
    files_in_bundle: int = 0


@dataclass
class SystemLibrary:
    """A shared library copied from the build machine, with the OS package that owns it."""

    dest: str
    source: str
    package: str = ""
    copyright_file: Path | None = None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def licence_of(dist: metadata.Distribution) -> str:
    """The licence in SPDX form when the metadata has it, else the best short description."""
    meta = dist.metadata
    expression = meta["License-Expression"]
    if expression:
        return str(expression).strip()
    text = str(meta["License"] or "").strip()
    if text and "\n" not in text and len(text) <= 80 and text.upper() != "UNKNOWN":
        return text
    classifiers = [c.split("::")[-1].strip() for c in (meta.get_all("Classifier") or [])
                   if c.startswith("License ::")]
    if classifiers:
        return "; ".join(classifiers)
    if text:
        return text.splitlines()[0][:80]
    return "see the licence files"


def licence_files(dist: metadata.Distribution) -> list[Path]:
    """Licence, notice and copyright files shipped in the distribution's metadata folder."""
    found: list[Path] = []
    for item in dist.files or ():
        parts = PurePosixPath(str(item)).parts
        if not parts or not parts[0].endswith(".dist-info"):
            continue
        in_licences = len(parts) > 2 and parts[1] == "licenses"
        if in_licences or LICENCE_NAME.match(parts[-1]):
            path = Path(str(dist.locate_file(item)))
            if path.is_file():
                found.append(path)
    return found


class DistributionIndex:
    """Which installed distribution owns a given path inside site-packages."""

    def __init__(self) -> None:
        self.by_path: dict[str, metadata.Distribution] = {}
        self.by_top: dict[str, metadata.Distribution] = {}
        for dist in metadata.distributions():
            for item in dist.files or ():
                rel = PurePosixPath(str(item))
                if not rel.parts or rel.parts[0] in ("..", "") or rel.suffix == ".pyc":
                    continue
                key = rel.as_posix()
                self.by_path.setdefault(key, dist)
                top = rel.parts[0]
                if not top.endswith((".dist-info", ".data")):
                    top = top.removesuffix(".py")
                    if "." in top and not top.endswith(".libs"):
                        top = top.split(".", 1)[0]
                    self.by_top.setdefault(top, dist)

    def owner_of_module(self, module: str) -> metadata.Distribution | None:
        path = module.replace(".", "/")
        for candidate in (f"{path}.py", f"{path}/__init__.py"):
            if candidate in self.by_path:
                return self.by_path[candidate]
        return self.by_top.get(module.split(".", 1)[0])

    def owner_of_file(self, dest: str) -> metadata.Distribution | None:
        dest = dest.replace("\\", "/")
        if dest in self.by_path:
            return self.by_path[dest]
        return self.by_top.get(dest.split("/", 1)[0])


def _dpkg_owner(path: str) -> str:
    if not shutil.which("dpkg"):
        return ""
    real = str(Path(path).resolve())
    candidates = [real, path]
    if real.startswith("/usr/lib/"):          # merged /usr: dpkg knows /lib/... paths
        candidates.append(real.removeprefix("/usr"))
    for candidate in candidates:
        try:
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                                 timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        if out.returncode == 0 and ":" in out.stdout:
            return out.stdout.split(":", 1)[0].strip()
    return ""


def module_of_pyc(dest: str) -> str:
    """The module a collected .pyc file holds: ``jaraco/context.pyc`` -> ``jaraco.context``."""
    name = dest.replace("\\", "/").removesuffix(".pyc").replace("/", ".")
    return name.removesuffix(".__init__")


def survey(pure: Iterable[tuple[str, str, str]], binaries: Iterable[tuple[str, str, str]],
           datas: Iterable[tuple[str, str, str]]) -> tuple[list[BundledDistribution],
                                                          list[SystemLibrary], int]:
    """Trace PyInstaller TOCs to distributions and system libraries.

    Returns (distributions, system libraries, number of standard-library modules).
    """
    index = DistributionIndex()
    found: dict[str, BundledDistribution] = {}
    system_libs: list[SystemLibrary] = []
    stdlib_modules = 0
    stdlib_dir = Path(sysconfig.get_paths()["stdlib"]).resolve()

    def count(dist: metadata.Distribution) -> None:
        name = dist.metadata["Name"] or "unknown"
        key = _normalise(name)
        if key == "backroom":
            return
        entry = found.get(key)
        if entry is None:
            entry = found[key] = BundledDistribution(
                name=name, version=dist.version, licence=licence_of(dist),
                licence_files=licence_files(dist))
        entry.files_in_bundle += 1

    # The spec collects modules as .pyc files beside the executable (noarchive), so they come
    # as data files named after their module rather than in ``pure``; both count as modules.
    datas = list(datas)
    modules = [name for name, _path, _kind in pure]
    modules += [module_of_pyc(dest) for dest, _source, kind in datas
                if kind == "DATA" and dest.endswith(".pyc")]
    for name in modules:
        if name.split(".", 1)[0] in OWN_TOP_LEVEL:
            continue
        dist = index.owner_of_module(name)
        if dist is not None:
            count(dist)
        else:
            stdlib_modules += 1
    for dest, source, kind in [*binaries, *datas]:
        if kind == "SYMLINK" or dest.replace("\\", "/").split("/", 1)[0] in OWN_TOP_LEVEL:
            continue  # a link is another name for a file counted where it lives
        if kind == "DATA" and dest.endswith(".pyc"):
            continue  # counted above as a module
        dist = index.owner_of_file(dest)
        if dist is not None:
            count(dist)
            continue
        try:
            resolved = Path(source).resolve()
        except OSError:
            resolved = Path(source)
        if resolved.is_relative_to(stdlib_dir) or "python3" in resolved.name.lower():
            stdlib_modules += 1
            continue
        if "/" not in dest.replace("\\", "/") and resolved.suffix != ".py":
            system_libs.append(SystemLibrary(dest=dest, source=source))
    for lib in system_libs:
        lib.package = _dpkg_owner(lib.source)
        if lib.package:
            copyright_file = Path("/usr/share/doc") / lib.package.split(":")[0] / "copyright"
            lib.copyright_file = copyright_file if copyright_file.is_file() else None
    ordered = sorted(found.values(), key=lambda d: d.name.lower())
    return ordered, sorted(system_libs, key=lambda s: s.dest), stdlib_modules


def _python_licence() -> Path | None:
    base = Path(sys.base_prefix)
    for candidate in (base / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
                      / "LICENSE.txt", base / "LICENSE.txt",
                      Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"):
        if candidate.is_file():
            return candidate
    return None


def _pyinstaller_bootloader() -> BundledDistribution | None:
    try:
        dist = metadata.distribution("pyinstaller")
    except metadata.PackageNotFoundError:
        return None
    return BundledDistribution(
        name="PyInstaller (bootloader only)", version=dist.version,
        licence="GPL-2.0-or-later WITH the PyInstaller bootloader exception",
        licence_files=licence_files(dist))


def write(target: Path, project_root: Path, distributions: list[BundledDistribution],
          system_libs: list[SystemLibrary], app_version: str) -> Path:
    """Write ``target``/licenses/<name>/... and ``target``/THIRD-PARTY.txt; returns the latter."""
    licences_dir = target / "licenses"
    if licences_dir.exists():
        shutil.rmtree(licences_dir)
    licences_dir.mkdir(parents=True)
    shutil.copy2(project_root / "LICENSE", target / "LICENSE")

    rows: list[tuple[str, str, str, str]] = []

    def store(folder: str, files: Iterable[Path]) -> str:
        written = []
        for file in files:
            dest = licences_dir / folder / file.name
            n = 2
            while dest.exists():
                dest = licences_dir / folder / f"{file.stem}-{n}{file.suffix}"
                n += 1
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, dest)
            written.append(dest.relative_to(target).as_posix())
        return ", ".join(written)

    extra = [d for d in [_pyinstaller_bootloader()] if d is not None]
    for dist in [*distributions, *extra]:
        folder = re.sub(r"[^A-Za-z0-9_.-]+", "-", dist.name).strip("-")
        files = list(dist.licence_files)
        if not files and dist.licence in STANDARD_TEXTS:
            files = [project_root / STANDARD_TEXTS[dist.licence]]
        where = store(folder, files) or "(no licence file in the wheel)"
        note = NOTES.get(_normalise(dist.name))
        rows.append((dist.name, dist.version, dist.licence,
                     f"{where}; {note}" if note else where))

    python_licence = _python_licence()
    rows.append(("Python (interpreter and standard library)", sys.version.split()[0],
                 "PSF-2.0", store("Python", [python_licence] if python_licence else [])
                 or "https://docs.python.org/3/license.html"))
    for lib in system_libs:
        where = (store(f"system/{lib.package.split(':')[0]}", [lib.copyright_file])
                 if lib.copyright_file else "")
        origin = f"Debian package {lib.package}" if lib.package else "build machine"
        rows.append((lib.dest, origin, "see the copyright file" if where else "unknown",
                     where or "-"))

    out = target / "THIRD-PARTY.txt"
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    lines = [
        f"Backroom {app_version} is free software under the GNU General Public License,",
        "version 3 or (at your option) any later version: see LICENSE.",
        "",
        "This bundle also carries the software below, each under its own licence; the texts",
        "are in the licenses/ folder. Shared libraries copied from the build machine are",
        "listed with the operating-system package they came from.",
        "",
        f"{'name':<{width}}  {'version':<{vwidth}}  licence  [files]",
        f"{'-' * width}  {'-' * vwidth}  -------",
    ]
    for name, version, licence, where in rows:
        lines.append(f"{name:<{width}}  {version:<{vwidth}}  {licence}")
        lines.append(f"{'':<{width}}  {'':<{vwidth}}  [{where}]")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
