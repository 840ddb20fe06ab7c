"""Without Celery installed, asking the workers says how to install the extra."""

from __future__ import annotations

import sys

import pytest

from services.diagnostics.celery_inside import (
    CELERY_MISSING,
    Broker,
    CeleryMissing,
    celery_app,
    read_workers,
    watch_events,
)


def test_without_celery_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)  # import celery raises ImportError
    broker = Broker("broker", "redis", "redis://127.0.0.1:1/0", {}, ("celery",), 1.0)
    for call in (lambda: celery_app(broker), lambda: read_workers(broker),
                 lambda: watch_events(broker, 1.0)):
        with pytest.raises(CeleryMissing) as caught:
            call()
        assert str(caught.value) == CELERY_MISSING
    assert "pip install 'backroom[celery]'" in CELERY_MISSING
