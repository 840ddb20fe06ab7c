"""Files the user names: read only regular files of sane size, replace only regular files."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class UnusableFile(OSError):
    """A path the console will not read or replace; ``str()`` is one line naming the path and
    what it is, for the CLI's stderr or a message in the window."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(errno.EINVAL, why, str(path))
        self.path = str(path)
        self.why = why

    def __str__(self) -> str:
        return f"{self.path} {self.why}"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def read_regular_file(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of a regular file (a symbolic link to one is fine) of at most ``max_bytes``.

    A FIFO, device, folder or socket raises :class:`UnusableFile` without being read (a FIFO
    is opened non-blocking, so a missing writer cannot hang the caller); so does a file
    larger than ``max_bytes`` (checked on the open file, and again while reading, in case it
    grows). Other failures raise OSError as open() does."""
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise UnusableFile(path, f"{kind}, not a file")
        if info.st_size > max_bytes:
            raise UnusableFile(path, f"is {_size(info.st_size)}, more than the "
                                     f"{_size(max_bytes)} allowed")
        if nonblock:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnusableFile(path, f"is more than the {_size(max_bytes)} allowed")
    return data


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} kB"


def check_target(path: Path | str, *, try_write: bool = False) -> None:
    """Raise :class:`UnusableFile` unless ``path`` may be replaced: a regular file (the path
    itself: a symbolic link to one is refused) or nothing yet, in a folder we can write.
    ``try_write`` also makes and removes a temporary file there (permissions alone do not
    tell, e.g. for root on a read-only file system), so a long job can fail before it
    starts."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise UnusableFile(path, f"cannot be used ({err.strerror or err})") from None
    if info is not None:
        kind = _kind(info.st_mode)
        if kind is not None:
            raise UnusableFile(path, f"{kind}; give the path of a regular file or a new one")
        if not os.access(path, os.W_OK):
            raise UnusableFile(path, "is read-only")
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise UnusableFile(path, f"{folder} is not a folder")
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise UnusableFile(path, f"cannot write in {folder} (permission denied)")
    if try_write and folder.is_dir():
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as err:
            raise UnusableFile(path, f"cannot be written ({err.strerror or err})") from None


@contextlib.contextmanager
def replacing(path: Path | str, *, mode: int | None = None,
              make_folder: bool = False) -> Iterator[BinaryIO]:
    """Write a file the user named: yields a binary handle on a temporary file in the same
    folder, which replaces ``path`` (os.replace) once the block ends without error.

    ``path`` must be a regular file or not exist yet (see :func:`check_target`); it is checked
    before writing and again just before the swap, and left as it was on any failure. The
    file gets ``mode``, else the mode of the file it replaces, else 0600. With
    ``make_folder`` a missing folder is made."""
    path = Path(path)
    check_target(path)
    try:
        if make_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise UnusableFile(path, f"cannot be written ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            with contextlib.suppress(OSError):
                mode = stat.S_IMODE(os.lstat(path).st_mode)
        os.chmod(tmp, 0o600 if mode is None else mode)
        check_target(path)  # nothing put a link or a pipe there while we wrote
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def replace_file(path: Path | str, data: bytes, *, mode: int | None = None,
                 make_folder: bool = False) -> Path:
    """Write ``data`` as the file at ``path`` (see :func:`replacing`); returns the path."""
    with replacing(path, mode=mode, make_folder=make_folder) as handle:
        handle.write(data)
    return Path(path)


__all__ = ["UnusableFile", "check_target", "read_regular_file", "replace_file", "replacing"]
