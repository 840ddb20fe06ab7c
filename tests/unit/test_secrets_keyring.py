"""Secrets through a real keyring backend: saved as the editor saves, read back,
never in the profile file or a connection test's words; and the no-keychain path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from console.profile import Profile, SecretRef, Source
from services.diagnostics.connection_check import Outcome, check_target
from services.local.profiles import load_profile, save_profile
from services.local.secrets import SecretError, keychain_available, resolve_secret, store_secret
from tests import servers
from tests.support.keychain import MemoryKeyring

SECRET = "Kitchen-Door-Code-2468"


def test_a_stored_secret_is_a_name_in_the_file_and_a_value_in_the_keychain(
        tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert keychain_available()
    ref = store_secret("harbour-cafe/cache", SECRET)
    profile = Profile(name="Harbour Café",
                      sources=(Source("cache", "redis", "redis://cache:6379/0", password=ref),))
    path = save_profile(profile, tmp_path / "harbour.toml")
    text = path.read_text(encoding="utf-8")
    assert 'password = "keyring:harbour-cafe/cache"' in text
    assert SECRET not in text
    assert memory_keyring.items[("backroom", "harbour-cafe/cache")] == SECRET
    again = load_profile(path)
    assert again.sources[0].password == SecretRef("keyring", "harbour-cafe/cache")
    assert resolve_secret(again.sources[0].password) == SECRET
    assert SECRET not in caplog.text


def test_a_connection_test_never_shows_the_secret(memory_keyring: MemoryKeyring) -> None:
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
