"""The history's chunks of a series, without a file: split, planned, rolled up, held back."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from console.domain import Reading
from console.history_chunks import (
    OpenChunk,
    add_readings,
    add_samples,
    chunk_pieces,
    decode_columns,
    drop_older_than,
    plan_flush,
    roll_up_rows,
    samples_since,
)
from console.history_codec import RAW, ROLLUP, decode_raw, decode_rollup, encode_raw

NOW = 1_700_006_400.0  # a whole hour since the epoch


def test_pieces_end_at_the_sample_count_or_the_time_span() -> None:
    ts = NOW + np.arange(10.0)
    assert list(chunk_pieces(ts, 4, 3600.0)) == [(0, 4), (4, 8), (8, 10)]
    assert list(chunk_pieces(ts, 100, 3.0)) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert list(chunk_pieces(ts[:0], 4, 3600.0)) == []


def test_readings_and_arrays_wait_in_their_series_open_chunk() -> None:
    open_chunks: dict[str, OpenChunk] = {}
    added = add_readings(open_chunks, [Reading("web/p95", NOW, 0.05),
                                       Reading("web/p99", NOW, 0.2),
                                       Reading("web/p95", NOW + 1, 0.06)])
    added += add_samples(open_chunks, "web/p99", NOW + np.arange(1.0, 3.0), np.array([0.3, 0.4]))
    assert added == 5
    assert list(open_chunks["web/p95"].values) == [0.05, 0.06]
    assert list(open_chunks["web/p99"].ts) == [NOW, NOW + 1, NOW + 2]
    assert open_chunks["web/p99"].unflushed == 3


def test_a_flush_plan_rewrites_the_open_chunk_and_seals_full_ones() -> None:
    known = OpenChunk(chunk_id=7, ts=array("d", [NOW, NOW + 2, NOW + 1]),
                      values=array("d", [1.0, 3.0, 2.0]), unflushed=1)
    fresh = OpenChunk(ts=array("d", NOW + np.arange(5.0)), values=array("d", range(5)),
                      unflushed=5)
    plan = plan_flush([("known", known), ("fresh", fresh)], {"known": 1},
                      next_chunk_id=10, next_series_id=2, max_samples=4, max_span_s=3600.0,
                      digits=3)

    assert plan.new_series == [{"id": 2, "name": "fresh"}]
    assert [u["cid"] for u in plan.updates] == [7], "the open chunk's row is rewritten"
    assert decode_raw(plan.updates[0]["payload"])[1].tolist() == [1.0, 2.0, 3.0], "sorted"
    assert [(i["id"], i["series_id"], i["n"], i["tier"]) for i in plan.inserts] == [
        (10, 2, 4, RAW), (11, 2, 1, RAW)]
    assert (plan.next_chunk_id, plan.next_series_id) == (12, 3)
    assert known.unflushed == 1, "nothing changes before the rows are written"

    plan.written()
    assert (known.chunk_id, len(known.ts), known.unflushed) == (7, 3, 0)
    assert (fresh.chunk_id, list(fresh.values), fresh.unflushed) == (11, [4.0], 0)


def test_a_full_newest_piece_is_not_kept_open() -> None:
    full = OpenChunk(ts=array("d", NOW + np.arange(4.0)), values=array("d", range(4)),
                     unflushed=4)
    plan = plan_flush([("s", full)], {"s": 1}, 1, 2, max_samples=4, max_span_s=3600.0,
                      digits=3)
    plan.written()
    assert (full.chunk_id, len(full.ts)) == (None, 0)


def test_the_backlog_drops_only_old_unwritten_samples() -> None:
    chunk = OpenChunk(chunk_id=1, ts=array("d", NOW + np.arange(10.0)),
                      values=array("d", range(10)), unflushed=6)
    assert drop_older_than([chunk], backlog_s=3.0) == 2
    assert list(chunk.values) == [0, 1, 2, 3, 6, 7, 8, 9], "written samples stay"
    assert chunk.unflushed == 4


def test_raw_chunks_roll_up_per_series_with_fresh_ids() -> None:
    ts = NOW + np.arange(180.0)
    payload = encode_raw(ts, np.full(180, 0.5))
    rows, next_id = roll_up_rows([(1, payload), (2, payload)], next_chunk_id=5,
                                 keep_after_ts=NOW + 60, max_buckets=1, digits=3)
    assert [(r["id"], r["series_id"], r["tier"]) for r in rows] == [
        (5, 1, ROLLUP), (6, 1, ROLLUP), (7, 2, ROLLUP), (8, 2, ROLLUP)]
    assert next_id == 9, "the first minute ends by the cut and is left out"
    assert decode_rollup(rows[0]["payload"])[0].tolist() == [NOW + 60]


def test_joined_and_decoded_chunks() -> None:
    first = (NOW + np.arange(3.0), np.array([1.0, 2.0, 3.0]))
    second = (NOW + np.arange(3.0, 5.0), np.array([4.0, 5.0]))
    ts, values = samples_since([first, second], NOW + 2)
    assert values.tolist() == [3.0, 4.0, 5.0] and ts[0] == NOW + 2

    tier, (got_ts, mean, lo, hi, count) = decode_columns([(RAW, encode_raw(*first))])
    assert tier == RAW and mean.tolist() == lo.tolist() == hi.tolist() == [1.0, 2.0, 3.0]
    assert count.tolist() == [1.0, 1.0, 1.0] and got_ts[0] == pytest.approx(NOW)
    tier, columns = decode_columns([])
    assert tier == RAW and all(c.size == 0 for c in columns)


def test_a_flush_plan_of_many_series_writes_each_its_own_samples() -> None:
    chunks = {f"web/s{k}": OpenChunk(ts=array("d", NOW + np.arange(k + 1.0)),
                                     values=array("d", np.arange(k + 1.0) * k), unflushed=k + 1)
              for k in range(40)}
    chunks["web/s7"].ts[3], chunks["web/s7"].ts[4] = NOW + 4, NOW + 3  # arrived out of order
    chunks["web/empty"] = OpenChunk()
    plan = plan_flush(chunks.items(), {}, next_chunk_id=1, next_series_id=1, max_samples=16,
                      max_span_s=3600.0, digits=3)

    assert [s["name"] for s in plan.new_series] == list(chunks)
    by_series: dict[int, list[float]] = {}
    for row in plan.inserts:
        ts, values = decode_raw(row["payload"])
        assert (row["start_ts"], row["end_ts"], row["n"]) == (ts[0], ts[-1], ts.size)
        by_series.setdefault(row["series_id"], []).extend(values.tolist())
    names = {s["id"]: s["name"] for s in plan.new_series}
    for sid, values in by_series.items():
        k = int(names[sid].removeprefix("web/s"))
        expected = (np.arange(k + 1.0) * k).tolist()
        if k == 7:
            expected[3], expected[4] = expected[4], expected[3]
        assert values == expected
    assert len(by_series) == 40, "the empty open chunk writes no row"
