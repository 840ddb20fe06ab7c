"""Profile files: names made from a shop's name, reading a broken one, writing one to share."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Protocol

import tomli_w

from console.profile import Profile, ProfileError, parse_profile, profile_to_dict


class ProfileFiles(Protocol):
    """Reading and writing files on this computer (the root's ``services.bootstrap.Local``)."""

    def read_profile_toml(self, path: Path) -> dict[str, object]: ...
    def replace_file(self, path: Path, data: bytes) -> None: ...


def slug(name: str) -> str:
    """'Harbour Café' -> 'harbour-cafe': for file and keychain names."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in ascii_name)
    return "-".join(part for part in cleaned.split("-") if part) or "shop"


def unique_path(directory: Path, name: str) -> Path:
    """``directory/<slug>.toml``, numbered when taken."""
    base = slug(name)
    path = directory / f"{base}.toml"
    n = 2
    while path.exists():
        path = directory / f"{base}-{n}.toml"
        n += 1
    return path


def read_profile_file(files: ProfileFiles, path: Path) -> tuple[dict[str, Any], list[str]]:
    """(TOML data, problems) of a profile file; the data may be invalid, never a crash."""
    try:
        data = files.read_profile_toml(path)
    except OSError as err:
        return {}, [f"{path.name}: cannot be read ({err.strerror or err})"]
    except ProfileError as err:
        return {}, list(err.problems)
    try:
        parse_profile(data, origin=str(path))
    except ProfileError as err:
        return data, list(err.problems)
    return data, []


def write_shareable(files: ProfileFiles, profile: Profile, path: Path) -> None:
    """Write ``profile`` to ``path`` with literal secrets left out (keychain and env: names
    stay); raises OSError."""
    text = tomli_w.dumps(profile_to_dict(profile, redact=True))
    files.replace_file(path, text.encode("utf-8"))
