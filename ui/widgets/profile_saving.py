"""Saving a profile: typed secrets to the keychain or held for the session, then the file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PyQt6.QtCore import QObject

from console.profile import Profile, SecretRef
from services.local.profiles import save_profile
from services.local.secrets import hold_for_session, store_secret
from ui.widgets.secret_field import SecretField
from ui.worker import TaskRunner

#: ``(name, value) -> SecretRef`` (services.local.secrets.store_secret by default).
SecretStore = Callable[[str, str], SecretRef]
#: ``(profile, path) -> Path`` (services.local.profiles.save_profile by default).
ProfileWriter = Callable[[Profile, Path], Path]


def save_with_secrets(profile: Profile, path: Path, fields: Sequence[SecretField],
                      tasks: TaskRunner, *, owner: QObject, store: SecretStore | None,
                      write: ProfileWriter | None, on_saved: Callable[[Path, int], None],
                      on_failed: Callable[[BaseException], None]) -> None:
    """Hold the secrets typed for this session now; store those typed in keychain mode and
    then write the file in a task of ``owner``. Once written the fields forget what they
    stored and ``on_saved(written, how many stored)`` is called on the GUI thread."""
    for field in fields:
        held = field.session_secret()
        if held is not None:
            hold_for_session(*held)
    pending = [(field, *secret) for field in fields
               if (secret := field.pending_secret()) is not None]
    keep = store or store_secret
    put = write or save_profile
    secrets = [(name, value) for _field, name, value in pending]

    def work(_state: object) -> Path:
        for name, value in secrets:
            keep(name, value)
        return put(profile, path)

    def done(written: Path) -> None:
        for field, _name, _value in pending:
            field.mark_stored()
        on_saved(Path(written), len(pending))

    tasks.run(work, owner=owner, on_success=done, on_failure=on_failed, name="save-profile")
