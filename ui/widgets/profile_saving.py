"""Saving a profile: typed secrets to the keychain or held for the session, then the file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from PyQt6.QtCore import QObject

from console.profile import Profile, SecretRef
from ui.widgets.secret_field import SecretField
from ui.worker import TaskRunner


class ProfileKeeper(Protocol):
    """Where a saved profile and its secrets go (the root's ``services.bootstrap.Local``)."""

    def store_secret(self, name: str, value: str) -> SecretRef: ...
    def hold_for_session(self, name: str, value: str) -> None: ...
    def save_profile(self, profile: Profile, path: Path) -> Path: ...


def save_with_secrets(profile: Profile, path: Path, fields: Sequence[SecretField],
                      tasks: TaskRunner, *, owner: QObject, keeper: ProfileKeeper,
                      on_saved: Callable[[Path, int], None],
                      on_failed: Callable[[BaseException], None]) -> None:
    """Hold the secrets typed for this session now; store those typed in keychain mode and
    then write the file in a task of ``owner``. Once written the fields forget what they
    stored and ``on_saved(written, how many stored)`` is called on the GUI thread."""
    for field in fields:
        held = field.session_secret()
        if held is not None:
            keeper.hold_for_session(*held)
    pending = [(field, *secret) for field in fields
               if (secret := field.pending_secret()) is not None]
    secrets = [(name, value) for _field, name, value in pending]

    def work(_state: object) -> Path:
        for name, value in secrets:
            keeper.store_secret(name, value)
        return keeper.save_profile(profile, path)

    def done(written: Path) -> None:
        for field, _name, _value in pending:
            field.mark_stored()
        on_saved(Path(written), len(pending))

    tasks.run(work, owner=owner, on_success=done, on_failure=on_failed, name="save-profile")
