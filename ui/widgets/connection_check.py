""""Test connection" on a card: what it holds, checked once off the GUI thread, and the outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject

from console.profile import ProfileError, SecretRef, parse_profile
from ui.widgets.probe_form import ProbeForm
from ui.widgets.profile_problems import by_field
from ui.widgets.shop_forms import BackendForm, DatabaseForm
from ui.widgets.source_form import SourceForm
from ui.widgets.target_form import TargetForm
from ui.worker import TaskRunner

#: ``(target kind, dataclass) -> result`` with ``.outcome``, ``.title``, ``.detail``; runs on a
#: worker thread (the root's ``Diagnostics.check_connection``).
Tester = Callable[[str, Any], Any]


def run_connection_test(form: TargetForm, tasks: TaskRunner, *, owner: QObject,
                        tester: Tester, tested: Callable[[str, str], None]) -> None:
    """Connect once with what the card holds (typed secrets included, in memory only) in a
    task of ``owner``; the card shows the outcome and ``tested(what, outcome)`` is called on
    the GUI thread. ``tester`` makes the connection."""
    target = target_for(form)
    if target is None:
        form.result.set_result("invalid", "Fix the fields marked first", "")
        tested(form.describe(), "invalid")
        return
    kind, item = target
    form.result.set_running(form.describe())

    def done(result: Any) -> None:
        form.result.set_result(str(result.outcome), str(result.title), str(result.detail))
        tested(form.describe(), str(result.outcome))

    def failed(exc: BaseException) -> None:
        form.result.set_result("error", "Could not test", str(exc))
        tested(form.describe(), "error")

    tasks.run(lambda _state: tester(kind, item), owner=owner, on_success=done,
              on_failure=failed, name="connection-test")


def target_for(form: TargetForm) -> tuple[str, Any] | None:
    """(kind, parsed item) for the card, typed secrets as in-memory literals."""
    if isinstance(form, BackendForm | DatabaseForm):
        data = form.to_data()
        if data is None:
            return None
        key = "backend" if isinstance(form, BackendForm) else "database"
        doc: dict[str, Any] = {"name": "connection test", key: data}
    elif isinstance(form, ProbeForm):
        key, doc = "probes", {"name": "connection test", "probes": [form.to_data()]}
    else:
        assert isinstance(form, SourceForm)
        key, doc = "sources", {"name": "connection test", "sources": [form.to_data()]}
    try:
        profile = parse_profile(doc)
    except ProfileError as err:
        form.show_problems(by_field(err.problems))
        return None
    secret = next((f.typed_value() for f in form.secret_fields() if f.typed_value()), None)
    if key == "backend":
        item: Any = profile.backend
        kind = "backend"
        if secret:
            item = dataclasses.replace(item, token=SecretRef.literal(secret))
    elif key == "database":
        item, kind = profile.database, "database"
        if secret:
            item = dataclasses.replace(item, password=SecretRef.literal(secret))
    elif key == "probes":
        item, kind = profile.probes[0], "probe"
        if secret:
            item = dataclasses.replace(item, token=SecretRef.literal(secret))
    else:
        item, kind = profile.sources[0], "source"
        if secret:
            item = dataclasses.replace(item, password=SecretRef.literal(secret))
    return kind, item
