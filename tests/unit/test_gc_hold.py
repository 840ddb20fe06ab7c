"""gc_held: automatic collections off while any poll holds them, back on after the last."""

from __future__ import annotations

import gc
import threading

import pytest

from services.collectors import gc_hold
from services.collectors.gc_hold import gc_held, holds_until_folded


@pytest.fixture(autouse=True)
def _gc_back_on() -> object:
    yield
    gc.enable()


def test_collections_resume_after_the_block_even_when_it_raises() -> None:
    with gc_held():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_held():
        raise RuntimeError("page not parsed")
    assert gc.isenabled()


def test_overlapping_holds_of_two_threads_resume_only_after_the_last() -> None:
    entered, release = threading.Event(), threading.Event()
    states: list[bool] = []

    def other_poll() -> None:
        with gc_held():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other_poll)
    with gc_held():
        thread.start()
        assert entered.wait(10)
    states.append(gc.isenabled())  # the other poll still holds
    release.set()
    thread.join(10)
    states.append(gc.isenabled())
    assert states == [False, True]


def test_collections_turned_off_by_someone_else_stay_off() -> None:
    gc.disable()
    with gc_held():
        pass
    assert not gc.isenabled()


def test_a_hold_kept_up_too_long_ends_with_a_collection(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(gc_hold, "MAX_HOLD_S", 0.0)
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with gc_held():
            pass
    finally:
        gc.callbacks.remove(seen)
    assert 2 in collections


def test_a_hold_taken_inside_a_poll_ends_when_the_poll_has_folded_its_readings() -> None:
    states: list[bool] = []
    with holds_until_folded():
        with gc_held():  # the collector's parse
            pass
        states.append(gc.isenabled())  # the poller folds its readings: still held
    states.append(gc.isenabled())
    with holds_until_folded():
        pass  # a collector that held nothing
    states.append(gc.isenabled())
    assert states == [False, True, True]
