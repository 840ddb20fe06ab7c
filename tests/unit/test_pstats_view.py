"""console.pstats_view: a real cProfile dump becomes rows, edges, filters and sorts."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

import pytest

from console.pstats_view import (
    PstatsError,
    describe,
    filter_rows,
    from_stats,
    load_stats,
    sort_rows,
)


def fibonacci(n: int) -> int:
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def render_menu(items: int) -> int:
    return sum(map(len, map(str, range(items)))) + fibonacci(12)


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    profiler = cProfile.Profile()
    profiler.enable()
    render_menu(500)
    profiler.disable()
    path = tmp_path / "shop.prof"
    profiler.dump_stats(path)
    return path


def test_rows_carry_calls_and_times(profile_file: Path) -> None:
    stats = load_stats(profile_file)
    assert stats.source == "shop.prof"
    fib = next(r for r in stats.rows if r.name == "fibonacci")
    # fibonacci(12) makes 465 calls, one of them from outside (primitive)
    assert fib.calls == 465
    assert fib.primitive_calls == 1
    assert fib.calls_text == "465/1"
    assert fib.cumtime >= fib.tottime > 0
    assert fib.percall == pytest.approx(fib.tottime / 465)
    assert fib.function == f"fibonacci (test_pstats_view.py:{fib.line})"
    assert stats.total_calls >= 465
    assert stats.total_time > 0


def test_callers_and_callees(profile_file: Path) -> None:
    stats = load_stats(profile_file)
    fib = next(r for r in stats.rows if r.name == "fibonacci")
    menu = next(r for r in stats.rows if r.name == "render_menu")
    callers = stats.callers(fib.key)
    assert {describe(e.caller) for e in callers} == {menu.function, fib.function}
    recursive = next(e for e in callers if e.caller == fib.key)
    assert recursive.calls == 464
    callees = stats.callees(menu.key)
    assert fib.key in {e.callee for e in callees}
    assert any("sum" in describe(e.callee) for e in callees)


def test_builtins_are_named_as_pstats_prints_them(profile_file: Path) -> None:
    stats = load_stats(profile_file)
    assert any(r.function == "<built-in method builtins.sum>" for r in stats.rows)


def test_filter_by_name_and_file(profile_file: Path) -> None:
    stats = load_stats(profile_file)
    assert {r.name for r in filter_rows(stats.rows, "FIBON")} == {"fibonacci"}
    assert len(filter_rows(stats.rows, "test_pstats_view")) >= 2
    assert filter_rows(stats.rows, "  ") == stats.rows
    assert filter_rows(stats.rows, "no-such-function") == ()


def test_sort_by_every_column(profile_file: Path) -> None:
    stats = load_stats(profile_file)
    by_calls = sort_rows(stats.rows, "calls")
    assert by_calls[0].name == "fibonacci"
    calls = [r.calls for r in by_calls]
    assert calls == sorted(calls, reverse=True)
    ascending = sort_rows(stats.rows, "tottime", descending=False)
    assert [r.tottime for r in ascending] == sorted(r.tottime for r in stats.rows)
    names = [r.function.casefold() for r in sort_rows(stats.rows, "function", False)]
    assert names == sorted(names)
    for column in ("percall", "cumtime", "cumpercall"):
        assert len(sort_rows(stats.rows, column)) == len(stats.rows)
    with pytest.raises(KeyError):
        sort_rows(stats.rows, "size")


def test_from_stats_matches_the_file(profile_file: Path) -> None:
    loaded = load_stats(profile_file)
    in_memory = from_stats(pstats.Stats(str(profile_file)))
    assert {r.key for r in in_memory.rows} == {r.key for r in loaded.rows}


@pytest.mark.parametrize("content", [b"", b"not a profile at all", b"\x00\x01\x02"])
def test_foreign_files_say_what_to_do(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.prof"
    path.write_bytes(content)
    with pytest.raises(PstatsError) as err:
        load_stats(path)
    assert "notes.prof" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PstatsError, match="cannot read"):
        load_stats(tmp_path / "gone.prof")
