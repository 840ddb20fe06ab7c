"""Build the Backroom installer bundle under dist/: the one-folder app, then the platform package.

    python packaging/build.py [--skip-tarball] [--clean]      (or: backroom package)

Linux: dist/backroom/ and dist/backroom-<version>-linux-<arch>.tar.gz (with install.sh).
Windows: dist/backroom/, then dist/backroom-<version>-windows-setup.exe when Inno Setup's
iscc is on PATH. macOS: dist/backroom/, dist/Backroom.app and (packaging/macos/make_dmg.sh)
dist/Backroom-<version>-macos-<arch>.dmg. --skip-tarball stops at the folder (and the .app).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))

import bundle_rules  # noqa: E402

DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
SPEC = PACKAGING / "backroom.spec"
BUNDLE = DIST / bundle_rules.APP_NAME
# Written last, removed first: the smoke tests only trust a bundle with this next to it.
BUILD_INFO = DIST / f"{bundle_rules.APP_NAME}.build-info.json"


def project_version() -> str:
    """The version in console/__init__.py, read without importing the app."""
    text = (ROOT / "console" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if not match:
        raise SystemExit("build.py: no __version__ in console/__init__.py")
    return match.group(1)


def run_pyinstaller(clean: bool) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit('build.py: PyInstaller is not installed; run: pip install -e ".[package]"'
                         ) from None
    if clean and WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]
    print("build.py:", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def add_linux_files(bundle: Path, version: str) -> None:
    """The menu entry, icons, install script and a short how-to next to the executable."""
    shutil.copy2(ROOT / "resources" / "backroom.desktop", bundle / "backroom.desktop")
    shutil.copy2(ROOT / "resources" / "icons" / "backroom.png", bundle / "backroom.png")
    shutil.copy2(ROOT / "resources" / "icons" / "backroom.svg", bundle / "backroom.svg")
    shutil.copy2(PACKAGING / "linux" / "install.sh", bundle / "install.sh")
    (bundle / "install.sh").chmod(0o755)
    (bundle / "INSTALL.txt").write_text(
        f"Backroom {version}\n\n"
        "Run it from here:           ./backroom\n"
        "Add it to your menu:        ./install.sh\n"
        "                            (copies this folder to ~/.local/share/backroom/app and\n"
        "                            links ~/.local/bin/backroom; no root needed)\n"
        "Remove it again:            ./install.sh --uninstall\n\n"
        "Without a profile it opens on the embedded demo shop. The licences of everything\n"
        "bundled are in THIRD-PARTY.txt and licenses/; Backroom itself is GPL-3.0-or-later.\n",
        encoding="utf-8")


def smoke_check(bundle: Path, version: str) -> None:
    exe = bundle / (f"{bundle_rules.APP_NAME}-cli.exe" if sys.platform == "win32"
                    else bundle_rules.APP_NAME)
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60,
                         check=False)
    if out.returncode != 0 or version not in out.stdout:
        raise SystemExit(f"build.py: the built {exe.name} --version failed "
                         f"(exit {out.returncode}): {out.stdout}{out.stderr}")
    print(f"build.py: {exe.name} --version -> {out.stdout.strip()}")


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) of a folder, symlinks counted once and not followed."""
    total = files = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_size
            files += 1
    return total, files


def size_report(bundle: Path, top: int = 20) -> str:
    sizes = sorted(((p.stat().st_size, p.relative_to(bundle).as_posix())
                    for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()),
                   reverse=True)
    total, files = folder_size(bundle)
    lines = [f"{bundle.name}/: {total / 1e6:.1f} MB in {files} files; largest:"]
    lines += [f"  {size / 1e6:7.2f} MB  {name}" for size, name in sizes[:top]]
    return "\n".join(lines)


def make_tarball(bundle: Path, version: str) -> Path:
    """dist/backroom-<version>-<platform>.tar.gz with one top folder, owned by root."""
    out = DIST / f"{bundle_rules.APP_NAME}-{version}-{bundle_rules.platform_tag()}.tar.gz"
    top = f"{bundle_rules.APP_NAME}-{version}"

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isdir() or info.mode & 0o111:
            info.mode = 0o755
        else:
            info.mode = 0o644
        return info

    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz", compresslevel=9) as tar:
        tar.add(bundle, arcname=top, filter=normalise)
    tmp.replace(out)
    return out


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, timeout=10, check=False)
    except OSError:
        return ""
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backroom package", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tarball", action="store_true",
                        help="build the folder only: no tarball, installer or disk image")
    parser.add_argument("--clean", action="store_true",
                        help="throw away PyInstaller's cache under build/ first")
    args = parser.parse_args(argv)
    started = time.monotonic()
    version = project_version()
    BUILD_INFO.unlink(missing_ok=True)

    run_pyinstaller(clean=args.clean)
    if not BUNDLE.is_dir():
        raise SystemExit(f"build.py: PyInstaller made no {BUNDLE}")
    if sys.platform.startswith("linux"):
        add_linux_files(BUNDLE, version)
    smoke_check(BUNDLE, version)

    report = size_report(BUNDLE)
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "size-report.txt").write_text(report + "\n", encoding="utf-8")
    print(report)

    size, files = folder_size(BUNDLE)
    info: dict[str, object] = {
        "version": version, "platform": bundle_rules.platform_tag(), "commit": git_commit(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "bundle": str(BUNDLE.relative_to(ROOT)),
        "bundle_bytes": size, "bundle_files": files,
    }
    if sys.platform.startswith("linux") and not args.skip_tarball:
        tarball = make_tarball(BUNDLE, version)
        info.update(tarball=str(tarball.relative_to(ROOT)), tarball_bytes=tarball.stat().st_size)
        print(f"build.py: {tarball.relative_to(ROOT)}: {tarball.stat().st_size / 1e6:.1f} MB")
    elif sys.platform == "win32":
        iscc = shutil.which("iscc") or shutil.which("ISCC")
        if iscc:
            subprocess.run([iscc, f"/DAppVersion={version}", f"/DSourceRoot={ROOT}",
                            str(PACKAGING / "windows" / "backroom.iss")], check=True)
        else:
            print("build.py: Inno Setup (iscc) not on PATH; the installer .exe was not made")
    elif sys.platform == "darwin":
        print(f"build.py: {DIST / 'Backroom.app'}")
        if not args.skip_tarball and shutil.which("hdiutil"):
            subprocess.run(["sh", str(PACKAGING / "macos" / "make_dmg.sh")], check=True)
    info["build_seconds"] = round(time.monotonic() - started, 1)
    BUILD_INFO.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"build.py: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
