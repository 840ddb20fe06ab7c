"""Secrets: keyring and env references resolve, missing ones say what to do, text is masked."""

from __future__ import annotations

import pytest

from console.profile import SecretRef
from console.redaction import mask_url, redact
from services.local.secrets import (
    SecretError,
    keychain_available,
    resolve_secret,
    store_secret,
    with_password,
)
from tests.support.keychain import MemoryKeyring


def test_store_then_resolve_from_the_keychain(memory_keyring: MemoryKeyring) -> None:
    ref = store_secret("backroom/db", "pa55word")
    assert ref == SecretRef("keyring", "backroom/db")
    assert memory_keyring.items[("backroom", "backroom/db")] == "pa55word"
    assert resolve_secret(ref) == "pa55word"
    assert keychain_available()


def test_missing_keychain_entry_says_how_to_add_it(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(SecretError, match="no secret named 'backroom/mq' in the OS keychain"):
        resolve_secret(SecretRef("keyring", "backroom/mq"))


def test_no_keychain_backend_is_reported(no_keychain: None) -> None:
    assert not keychain_available()
    with pytest.raises(SecretError, match="keychain could not be read"):
        resolve_secret(SecretRef("keyring", "x"))


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKROOM_TEST_SECRET", "from-env")
    assert resolve_secret(SecretRef("env", "BACKROOM_TEST_SECRET")) == "from-env"
    monkeypatch.delenv("BACKROOM_TEST_SECRET")
    with pytest.raises(SecretError, match="BACKROOM_TEST_SECRET is not set"):
        resolve_secret(SecretRef("env", "BACKROOM_TEST_SECRET"))


def test_literal_resolves_to_itself() -> None:
    assert resolve_secret(SecretRef.literal("abc")) == "abc"


def test_redact_masks_values_encodings_and_url_passwords() -> None:
    text = ("connect to redis://:p%40ss@cache:6379 failed; token=tok-123456 "
            "url amqp://guest:guest@mq:5672/ and again p@ss")
    masked = redact(text, ["tok-123456", "p@ss"])
    assert "tok-123456" not in masked
    assert "p@ss" not in masked and "p%40ss" not in masked
    assert "amqp://guest:***@mq:5672/" in masked
    assert masked.count("***") == 4


def test_mask_url() -> None:
    assert mask_url("postgresql+psycopg://app:hunter2@db:5432/shop") == \
        "postgresql+psycopg://app:***@db:5432/shop"
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"
    assert mask_url("http://u:p@[::1]:8080/x?y=1") == "http://u:***@[::1]:8080/x?y=1"


def test_with_password_encodes() -> None:
    assert with_password("redis://cache:6379/0", "a@b/c") == "redis://:a%40b%2Fc@cache:6379/0"
