"""The console's own files and folders: checked before anything is written, faults in words."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Iterable
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
#: SQLite's primary result codes a user can do something about.
_SQLITE_FULL = 13
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

FREE_SPACE = "free space on that disk"
MOVE_ASIDE = "move the file aside (or delete it) and restart the console to start a new one"


class LocalFileProblem(RuntimeError):
    """One of the console's files cannot be used; the message says why and what to do."""


def check_own_file(path: Path, tables: Iterable[str]) -> None:
    """Make ``path``'s folder and check that ``path`` is missing, empty, or a SQLite database
    holding only ``tables``. Raises :class:`LocalFileProblem` otherwise, having written
    nothing: another program's database, a damaged file or a folder that cannot be made."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LocalFileProblem(f"the folder {folder} cannot be created ({_reason(err)}): "
                               f"{_advice(err, 'check the permissions of the folders above it')}"
                               ) from None
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as err:
        raise LocalFileProblem(f"{path} cannot be read ({_reason(err)}): check its "
                               "permissions") from None
    if not stat.S_ISREG(info.st_mode):
        raise LocalFileProblem(f"{path} is not a file: {MOVE_ASIDE}")
    if info.st_size == 0:
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise LocalFileProblem(f"{path} cannot be read ({_reason(err)}): check its "
                               "permissions") from None
    if head != SQLITE_MAGIC:
        raise LocalFileProblem(f"{path} is not a SQLite database (damaged, or another "
                               f"program's file): {MOVE_ASIDE}")
    try:
        # read-only: looking must not change a byte of a file that is not ours
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            found = {name for (name,) in conn.execute(
                "select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise LocalFileProblem(f"{path} cannot be read as a database ({err}): "
                               f"{MOVE_ASIDE}") from None
    foreign = sorted(name for name in found - set(tables) if not name.startswith("sqlite_"))
    if foreign:
        shown = ", ".join(foreign[:5]) + (", …" if len(foreign) > 5 else "")
        raise LocalFileProblem(f"{path} is another program's database (its tables: "
                               f"{shown}), so it is left as it is: {MOVE_ASIDE}")


def describe_write_error(err: BaseException, path: Path) -> str:
    """Why writing ``path`` failed and what to do, from SQLite's or the OS's error."""
    if isinstance(err, LocalFileProblem):
        return str(err)
    cause = getattr(err, "orig", None) or err  # SQLAlchemy wraps the driver's error
    code = getattr(cause, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _SQLITE_FULL or (isinstance(cause, OSError) and cause.errno == errno.ENOSPC):
        return f"the disk holding {path.parent} is full: {FREE_SPACE}"
    if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN) or isinstance(cause, PermissionError):
        return (f"{path} cannot be written ({cause}): check the permissions of the file and "
                "its folder")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return f"{path} is damaged ({cause}): {MOVE_ASIDE}"
    if primary == _SQLITE_IOERR or isinstance(cause, OSError):
        return (f"{path} could not be written ({cause}): is the disk full, removed or "
                "failing?")
    return f"{path} could not be written ({cause})"


def same_file(path: Path, identity: tuple[int, int] | None) -> bool:
    """Whether ``path`` is still the file whose (device, inode) is ``identity``: False once
    it (or its folder) was removed or replaced while the console ran."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return identity is None or (info.st_dev, info.st_ino) == identity


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None when it cannot be looked at."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _reason(err: OSError) -> str:
    return err.strerror or type(err).__name__


def _advice(err: OSError, otherwise: str) -> str:
    return FREE_SPACE if err.errno == errno.ENOSPC else otherwise
