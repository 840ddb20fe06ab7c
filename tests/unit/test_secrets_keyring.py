"""Secrets through a real keyring backend (a file one): saved as the editor saves, read back,
never in the profile file or a connection test's words; and the no-keychain path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from console.profile import Profile, SecretRef, Source
from services.diagnostics.connection_check import Outcome, check_target
from services.local.profiles import load_profile, save_profile
from services.local.secrets import SecretError, keychain_available, resolve_secret, store_secret
from tests import servers

SECRET = "Kitchen-Door-Code-2468"


class FileKeyring(KeyringBackend):
    """A keyring kept in a JSON file: real set/get/delete, as a keychain would."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[f"{service}\0{username}"] = password
        self.path.write_text(json.dumps(items))

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        items.pop(f"{service}\0{username}", None)
        self.path.write_text(json.dumps(items))


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[FileKeyring]:
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "keychain.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keychain() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_a_stored_secret_is_a_name_in_the_file_and_a_value_in_the_keychain(
        tmp_path: Path, file_keyring: FileKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert keychain_available()
    ref = store_secret("harbour-cafe/cache", SECRET)
    profile = Profile(name="Harbour Café",
                      sources=(Source("cache", "redis", "redis://cache:6379/0", password=ref),))
    path = save_profile(profile, tmp_path / "harbour.toml")
    text = path.read_text(encoding="utf-8")
    assert 'password = "keyring:harbour-cafe/cache"' in text
    assert SECRET not in text
    assert SECRET in file_keyring.path.read_text()
    again = load_profile(path)
    assert again.sources[0].password == SecretRef("keyring", "harbour-cafe/cache")
    assert resolve_secret(again.sources[0].password) == SECRET
    assert SECRET not in caplog.text


def test_a_connection_test_never_shows_the_secret(file_keyring: FileKeyring) -> None:
    store_secret("harbour-cafe/web", SECRET)
    port = servers.free_port()
    # The secret would be in the failure's words (it is in the URL here): it is masked.
    source = Source("web", "prometheus", f"http://127.0.0.1:{port}/{SECRET}/metrics",
                    user="scraper", password=SecretRef("keyring", "harbour-cafe/web"),
                    timeout_s=1.0)
    result = check_target("source", source)
    assert result.outcome is Outcome.UNREACHABLE
    assert SECRET not in result.detail
    assert "***" in result.detail


def test_without_a_keychain_nothing_is_stored_and_env_is_offered(no_keychain: None) -> None:
    assert not keychain_available()
    with pytest.raises(SecretError, match="env:NAME"):
        store_secret("harbour-cafe/cache", SECRET)
    with pytest.raises(SecretError, match="env:NAME"):
        resolve_secret(SecretRef("keyring", "harbour-cafe/cache"))
    result = check_target("source", Source("cache", "redis", "redis://127.0.0.1:1/0",
                                           password=SecretRef("keyring", "harbour-cafe/cache")))
    assert result.outcome is Outcome.SECRET_MISSING


def test_env_references_work_for_scripts(monkeypatch: pytest.MonkeyPatch,
                                         no_keychain: None) -> None:
    monkeypatch.setenv("HARBOUR_CACHE_PASSWORD", SECRET)
    assert resolve_secret(SecretRef.parse("env:HARBOUR_CACHE_PASSWORD")) == SECRET
