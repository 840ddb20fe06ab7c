"""Smoke tests of the built installer bundle (dist/backroom): it starts, diagnoses, draws.

Skipped when dist/ holds no finished bundle (one that build.py completed and stamped with
dist/backroom.build-info.json), unless BACKROOM_BUILD_BUNDLE=1 asks for a build here first.
Each run gets empty XDG folders so it neither reads nor writes the user's profiles.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
BUNDLE = DIST / "backroom"
BUILD_INFO = DIST / "backroom.build-info.json"
EXE = BUNDLE / ("backroom-cli.exe" if sys.platform == "win32" else "backroom")
LINUX = sys.platform.startswith("linux")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _version() -> str:
    from console import __version__

    return __version__


@pytest.fixture(scope="module")
def bundle() -> dict[str, object]:
    """The finished bundle's build info; builds it first under BACKROOM_BUILD_BUNDLE=1."""
    if os.environ.get("BACKROOM_BUILD_BUNDLE") == "1":
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], cwd=ROOT,
                       check=True, timeout=1700)
    if not BUILD_INFO.exists() or not EXE.exists():
        pytest.skip("no finished bundle in dist/ (run `backroom package`, or set "
                    "BACKROOM_BUILD_BUNDLE=1 to build it in this test)")
    info: dict[str, object] = json.loads(BUILD_INFO.read_text(encoding="utf-8"))
    return info


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    env["QT_QPA_PLATFORM"] = "offscreen"
    # The bundle must not lean on this checkout or its virtualenv.
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 120,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_bundle_prints_its_version(bundle: dict[str, object], env: dict[str, str],
                                       tmp_path: Path) -> None:
    done = _run(["--version"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"backroom {_version()}"
    assert bundle["version"] == _version(), "dist/ holds a bundle of another version"


def test_the_bundle_diagnoses_the_demo_shop_as_json(bundle: dict[str, object],
                                                    env: dict[str, str], tmp_path: Path) -> None:
    done = _run(["diagnose", "--demo", "--json"], env, timeout=180, cwd=tmp_path)
    report = json.loads(done.stdout)
    assert isinstance(report, dict) and report.get("checks"), done.stdout[:500]
    # 0 ok or 1 warn: the demo shop may warn, but a fresh demo must not fail its own sweep.
    failing = [f"{c.get('name')}: {c.get('detail')}" for c in report.get("checks", [])
               if c.get("status") == "fail"]
    failing += [f"finding {f.get('title')}: {f.get('evidence')}"
                for f in report.get("findings", []) if f.get("severity") == "fail"]
    assert done.returncode in (0, 1), (f"exit {done.returncode}, status "
                                       f"{report.get('status')}: {failing} {done.stderr[-1000:]}")


def test_the_bundle_opens_the_dashboard_offscreen(bundle: dict[str, object],
                                                  env: dict[str, str], tmp_path: Path) -> None:
    shot = tmp_path / "bundle-dashboard.png"
    done = _run(["gui", "--demo", "--page", "dashboard", "--quit-after", "6", "--screenshot",
                 str(shot)], env, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert shot.exists(), "no screenshot was saved"
    # Kept where a person can look at it after the run.
    keep = ROOT / "build" / "bundle-dashboard.png"
    keep.parent.mkdir(exist_ok=True)
    shutil.copy2(shot, keep)
    assert shot.stat().st_size > 20_000, "the screenshot is suspiciously small"

    from PyQt6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 500
    step = 16
    colours = {image.pixel(x, y) for x in range(0, image.width(), step)
               for y in range(0, image.height(), step)}
    assert len(colours) > 40, "the window looks blank"
    assert "Traceback" not in done.stderr


def test_the_bundle_carries_licences_and_leaves_out_unused_qt(bundle: dict[str, object]) -> None:
    third_party = (BUNDLE / "THIRD-PARTY.txt").read_text(encoding="utf-8")
    for name in ("PyQt6", "PyQt6-Qt6", "numpy", "pyqtgraph", "SQLAlchemy", "keyring", "Flask",
                 "Python"):
        assert name in third_party, f"{name} is missing from THIRD-PARTY.txt"
    # pure-Python distributions of one module, collected as a .pyc file beside the executable
    assert "typing_extensions" in third_party and "six " in third_party
    assert ".pyc" not in third_party, "a bundled module was listed as a system library"
    assert "GNU GENERAL PUBLIC LICENSE" in (BUNDLE / "LICENSE").read_text(encoding="utf-8")
    assert sum(1 for p in (BUNDLE / "licenses").rglob("*") if p.is_file()) >= 20

    internal = BUNDLE / "_internal"
    dangling = [str(p) for p in BUNDLE.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, f"links to files left out of the bundle: {dangling}"
    names = {p.name for p in internal.rglob("*")}
    for unwanted in ("libQt6Quick.so.6", "libQt6Qml.so.6", "libQt6Pdf.so.6",
                     "libQt6WebEngineCore.so.6", "libQt6Network.so.6", "libqgtk3.so",
                     "QtQuick.abi3.so", "QtNetwork.abi3.so", "libavcodec.so.61"):
        assert unwanted not in names, f"{unwanted} should not be in the bundle"
    assert not (internal / "PyQt6" / "Qt6" / "translations").exists()
    assert not (internal / "PyQt6" / "Qt6" / "qml").exists()
    # Top-level modules and packages, as files (.pyc, extension modules) or folders; numpy's own
    # numpy/_pytesttester.pyc is not pytest. Django: only Celery's optional glue would import it.
    top_level = {p.name.split(".")[0] for p in internal.iterdir()}
    top_level |= {p.name.split(".")[0] for p in internal.glob("python3*/lib-dynload/*")}
    for unwanted in ("pytest", "_pytest", "hypothesis", "tkinter", "_tkinter", "django"):
        assert unwanted not in top_level, f"{unwanted} should not be in the bundle"
    if LINUX:
        plugins = internal / "PyQt6" / "Qt6" / "plugins"
        for kept in ("platforms/libqxcb.so", "platforms/libqwayland.so",
                     "platforms/libqoffscreen.so", "platforms/libqminimal.so",
                     "iconengines/libqsvgicon.so", "imageformats/libqsvg.so"):
            assert (plugins / kept).exists(), f"Qt plugin {kept} is missing"
    assert list((internal / "qtawesome" / "fonts").glob("*.ttf")), "qtawesome fonts are missing"
    migrations = internal / "services" / "shop" / "migrations"
    assert (migrations / "env.py").exists(), "Alembic reads migrations from files"
    assert list((migrations / "versions").glob("*.py"))


def test_the_console_runs_without_what_the_bundle_leaves_out(env: dict[str, str],
                                                            tmp_path: Path) -> None:
    """From source, with every module the spec excludes blocked: no build needed."""
    script = ROOT / "packaging" / "check_excludes.py"
    shot = tmp_path / "source-dashboard.png"
    gui = subprocess.run([sys.executable, str(script), "gui", "--demo", "--page", "dashboard",
                          "--quit-after", "3", "--screenshot", str(shot)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=180, check=False)
    assert gui.returncode == 0, gui.stderr[-2000:]
    assert shot.exists()
    diag = subprocess.run([sys.executable, str(script), "diagnose", "--demo", "--json"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False)
    assert "left out of the bundle" not in diag.stderr, diag.stderr[-2000:]
    assert json.loads(diag.stdout)["checks"]


@pytest.mark.skipif(not LINUX, reason="ELF libraries: Linux only")
def test_every_bundled_library_finds_its_dependencies(bundle: dict[str, object]) -> None:
    """ldd over every shared object: each loads, and nothing is 'not found' on this machine."""
    if not shutil.which("ldd"):
        pytest.skip("ldd is not installed")
    # Libraries the bundle takes from the desktop on purpose (PyInstaller's own list and
    # packaging/bundle_rules.py SYSTEM_LIBRARIES): missing here is this machine, not the bundle.
    from_the_system = ("libwayland-", "libGL", "libEGL", "libOpenGL", "libxcb.so", "libdrm",
                       "libdbus-1", "libsystemd", "libfontconfig", "libfreetype", "libX11",
                       "libstdc++", "libgcc_s")
    internal = BUNDLE / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=f"{internal}:{internal / 'PyQt6' / 'Qt6' / 'lib'}")
    missing: dict[str, list[str]] = {}
    for path in sorted(internal.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env,
                              timeout=60, check=False)
        lost = [name for name in (line.split("=>")[0].strip()
                                  for line in done.stdout.splitlines() if "not found" in line)
                if not name.startswith(from_the_system)]
        if "error while loading" in done.stderr + done.stdout:
            lost.append(done.stderr.strip() or done.stdout.strip())
        if lost:
            missing[str(path.relative_to(internal))] = lost
    assert not missing, f"libraries with unresolved dependencies: {missing}"


@pytest.mark.skipif(not LINUX, reason="the tarball and install.sh are the Linux package")
def test_the_tarball_installs_and_uninstalls_for_one_user(bundle: dict[str, object],
                                                          tmp_path: Path) -> None:
    tarball_name = bundle.get("tarball")
    if not tarball_name:
        pytest.skip("the bundle was built with --skip-tarball")
    tarball = ROOT / str(tarball_name)
    top = f"backroom-{_version()}"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        for member in ("backroom", "install.sh", "backroom.desktop", "backroom.png",
                       "backroom.svg", "THIRD-PARTY.txt", "LICENSE", "_internal"):
            assert f"{top}/{member}" in names, f"{member} is missing from the tarball"
        assert tar.getmember(f"{top}/install.sh").mode & 0o111
        assert tar.getmember(f"{top}/backroom").mode & 0o111
        tar.extractall(tmp_path / "unpacked", filter="tar")

    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    script = tmp_path / "unpacked" / top / "install.sh"
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    link = home / ".local" / "bin" / "backroom"
    app = home / ".local" / "share" / "backroom" / "app"
    desktop = home / ".local" / "share" / "applications" / "backroom.desktop"
    assert link.is_symlink() and link.resolve() == (app / "backroom").resolve()
    entry = desktop.read_text(encoding="utf-8")
    assert f'Exec="{app}/backroom"' in entry and "Icon=backroom" in entry
    assert (home / ".local/share/icons/hicolor/256x256/apps/backroom.png").exists()

    # Through the symlink, as a menu or a shell would start it.
    version = subprocess.run([str(link), "--version"], env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.stdout.strip() == f"backroom {_version()}", version.stderr

    done = subprocess.run(["sh", str(app / "install.sh"), "--uninstall"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not link.exists() and not link.is_symlink()
    assert not desktop.exists() and not app.exists()
