"""The history's chunks of a series: split, planned for writing, rolled up, joined again."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from console.domain import Reading
from console.history_codec import (
    RAW,
    ROLLUP,
    ROLLUP_STEP_S,
    FloatArray,
    decode_raw,
    decode_rollup,
    encode_raw_many,
    encode_rollup,
    roll_up,
)

# -- chunks of a series ---------------------------------------------------------------------

def chunk_pieces(ts: FloatArray, max_samples: int, max_span_s: float) -> Iterator[tuple[int, int]]:
    """Split sorted samples into chunks of at most ``max_samples`` samples and ``max_span_s``
    seconds, so retention works chunk by chunk even on slow series: (lo, hi) slices."""
    lo = 0
    while lo < ts.size:
        by_time = int(np.searchsorted(ts, ts[lo] + max_span_s, side="left"))
        hi = min(lo + max_samples, max(by_time, lo + 1), ts.size)
        yield lo, hi
        lo = hi


def roll_up_rows(
    raw_chunks: Iterable[tuple[int, bytes]],
    next_chunk_id: int,
    keep_after_ts: float,
    max_buckets: int,
    digits: int,
) -> tuple[list[dict[str, Any]], int]:
    """Raw chunks, (series id, payload) in each series' time order, as the rows of roll-up
    chunks of up to ``max_buckets`` minutes with ids from ``next_chunk_id`` on, the minutes
    that end by ``keep_after_ts`` left out; and the next free chunk id."""
    by_series: dict[int, list[bytes]] = {}
    for sid, payload in raw_chunks:
        by_series.setdefault(sid, []).append(payload)
    rows: list[dict[str, Any]] = []
    for sid, payloads in by_series.items():
        decoded = [decode_raw(p) for p in payloads]
        ts = np.concatenate([d[0] for d in decoded])
        values = np.concatenate([d[1] for d in decoded])
        bucket, mean, lo, hi, count = roll_up(ts, values)
        fresh = bucket * ROLLUP_STEP_S + ROLLUP_STEP_S > keep_after_ts
        bucket, count = bucket[fresh], count[fresh]
        mean, lo, hi = mean[fresh], lo[fresh], hi[fresh]
        for i in range(0, bucket.size, max_buckets):
            sl = slice(i, i + max_buckets)
            rows.append({
                "id": next_chunk_id,
                "series_id": sid,
                "tier": ROLLUP,
                "start_ts": float(bucket[sl][0] * ROLLUP_STEP_S),
                "end_ts": float(bucket[sl][-1] * ROLLUP_STEP_S),
                "n": int(bucket[sl].size),
                "payload": encode_rollup(bucket[sl], mean[sl], lo[sl], hi[sl], count[sl], digits),
            })
            next_chunk_id += 1
    return rows, next_chunk_id


def samples_since(
    pieces: Iterable[tuple[FloatArray, FloatArray]], since_ts: float
) -> tuple[FloatArray, FloatArray]:
    """Decoded raw chunks of one series joined, the samples before ``since_ts`` left out."""
    chunks = list(pieces)
    ts = np.concatenate([p[0] for p in chunks])
    values = np.concatenate([p[1] for p in chunks])
    keep = ts >= since_ts
    return ts[keep], values[keep]


def decode_columns(chunks: Iterable[tuple[int, bytes]]) -> tuple[int, list[FloatArray]]:
    """Chunks of either tier, (tier, payload), as the columns (ts, mean, min, max, count) and
    the coarsest tier among them (a raw sample is its own mean, min and max, count 1)."""
    parts: list[tuple[FloatArray, ...]] = []
    tier = RAW
    for chunk_tier, payload in chunks:
        if chunk_tier == RAW:
            ts, values = decode_raw(payload)
            parts.append((ts, values, values, values, np.ones(ts.size)))
        else:
            tier = ROLLUP
            parts.append(decode_rollup(payload))
    columns: list[FloatArray] = [
        np.concatenate(c) if parts else np.zeros(0) for c in zip(*parts, strict=True)
    ] or [np.zeros(0)] * 5
    return tier, columns


# -- samples waiting to be written ----------------------------------------------------------

@dataclass(slots=True)
class OpenChunk:
    """The newest chunk of a series: rewritten at each flush until it is full. Samples are
    kept in plain C doubles (16 bytes a sample, not ~64 as Python floats in lists)."""

    chunk_id: int | None = None
    ts: array[float] = field(default_factory=lambda: array("d"))
    values: array[float] = field(default_factory=lambda: array("d"))
    unflushed: int = 0


def add_readings(open_chunks: dict[str, OpenChunk], readings: Sequence[Reading]) -> int:
    """Add readings to their series' open chunks; returns how many."""
    for reading in readings:
        found = open_chunks.get(reading.series)
        if found is None:
            found = open_chunks[reading.series] = OpenChunk()
        found.ts.append(reading.ts)
        found.values.append(reading.value)
        found.unflushed += 1
    return len(readings)


def add_samples(open_chunks: dict[str, OpenChunk], series: str, ts: FloatArray,
                values: FloatArray) -> int:
    """Add many samples of one series to its open chunk; returns how many."""
    chunk = open_chunks.setdefault(series, OpenChunk())
    chunk.ts.frombytes(ts.tobytes())
    chunk.values.frombytes(values.tobytes())
    chunk.unflushed += ts.size
    return int(ts.size)


def drop_older_than(chunks: Iterable[OpenChunk], backlog_s: float) -> int:
    """Drop unwritten samples more than ``backlog_s`` older than their series' newest;
    returns how many. Samples already in the file stay (they are rewritten with the chunk)."""
    dropped = 0
    for chunk in chunks:
        if not chunk.unflushed:
            continue
        ts = np.frombuffer(chunk.ts, dtype=np.float64)
        first = len(ts) - chunk.unflushed
        tail = ts[first:]
        old = tail < tail.max() - backlog_s
        count = int(old.sum())
        if not count:
            continue
        values = np.frombuffer(chunk.values, dtype=np.float64)
        keep = np.concatenate([np.ones(first, dtype=bool), ~old])
        chunk.ts = array("d", ts[keep].tobytes())
        chunk.values = array("d", values[keep].tobytes())
        chunk.unflushed -= count
        dropped += count
    return dropped


@dataclass(slots=True)
class FlushPlan:
    """The rows one flush writes, and what each open chunk keeps once they are written."""

    new_series: list[dict[str, Any]]  #: {"id": int, "name": str}
    inserts: list[dict[str, Any]]  #: new chunk rows
    updates: list[dict[str, Any]]  #: open chunks rewritten ("cid" is the row's id)
    next_chunk_id: int
    next_series_id: int
    kept: list[tuple[OpenChunk, int | None, FloatArray, FloatArray]]

    def written(self) -> None:
        """The rows are in the file: each open chunk keeps only its newest piece, if not full."""
        for chunk, chunk_id, ts_left, values_left in self.kept:
            chunk.chunk_id = chunk_id
            chunk.ts = array("d", ts_left.tobytes())
            chunk.values = array("d", values_left.tobytes())
            chunk.unflushed = 0


def plan_flush(
    dirty: Iterable[tuple[str, OpenChunk]],
    series_ids: dict[str, int],
    next_chunk_id: int,
    next_series_id: int,
    max_samples: int,
    max_span_s: float,
    digits: int,
) -> FlushPlan:
    """The rows that write the open chunks with new samples (``dirty``): each series' samples
    sorted and cut into chunks (:func:`chunk_pieces`), its open chunk's row rewritten."""
    plan = FlushPlan([], [], [], next_chunk_id, next_series_id, [])
    entries = list(dirty)
    sids: list[int] = []
    for name, _ in entries:
        sid = series_ids.get(name)
        if sid is None:
            sid = plan.next_series_id
            plan.next_series_id += 1
            plan.new_series.append({"id": sid, "name": name})
        sids.append(sid)
    sizes = [len(chunk.ts) for _, chunk in entries]
    if not sum(sizes):
        return plan
    # one copy of every series' samples end to end (the arrays grow on): the codec then
    # encodes all the chunks in one go (encode_raw_many), not one small chunk at a time
    ts = np.concatenate([np.frombuffer(chunk.ts, dtype=np.float64) for _, chunk in entries])
    values = np.concatenate([np.frombuffer(c.values, dtype=np.float64) for _, c in entries])
    ends = np.cumsum(sizes)
    starts = ends - sizes
    back = np.zeros(ts.size, dtype=bool)
    back[1:] = ts[1:] < ts[:-1]
    back[starts[starts < ts.size]] = False  # a series' first follows the previous' last
    for i in np.unique(np.searchsorted(ends, np.flatnonzero(back), side="right")).tolist():
        lo, hi = int(starts[i]), int(ends[i])
        order = lo + np.argsort(ts[lo:hi], kind="stable")
        ts[lo:hi], values[lo:hi] = ts[order], values[order]
    at = np.minimum(starts, ts.size - 1)  # (an empty open chunk's start is past the end)
    single = (np.asarray(sizes) <= max_samples) & (ts[ends - 1] < ts[at] + max_span_s)
    pieces: list[tuple[int, int, int]] = []  # (series, lo, hi) in the joined arrays
    for i, (lo, hi, one) in enumerate(zip(starts.tolist(), ends.tolist(), single.tolist(),
                                          strict=True)):
        if hi == lo:
            continue
        if one:
            pieces.append((i, lo, hi))
        else:
            pieces.extend((i, lo + a, lo + b) for a, b in chunk_pieces(ts[lo:hi], max_samples,
                                                                    max_span_s))
    payloads = encode_raw_many(ts, values, [hi - lo for _, lo, hi in pieces], digits)
    first, last = starts.tolist(), ends.tolist()
    lows = np.array([lo for _, lo, _ in pieces])
    highs = np.array([hi for _, _, hi in pieces])
    spans = zip(pieces, payloads, ts[lows].tolist(), ts[highs - 1].tolist(), strict=True)
    for (i, lo, hi), payload, start_ts, end_ts in spans:
        chunk = entries[i][1]
        row = {"start_ts": start_ts, "end_ts": end_ts, "n": hi - lo,
               "payload": payload}
        if lo == first[i] and chunk.chunk_id is not None:
            row_id = chunk.chunk_id
            plan.updates.append({"cid": row_id, **row})
        else:
            row_id = plan.next_chunk_id
            plan.next_chunk_id += 1
            plan.inserts.append({"id": row_id, "series_id": sids[i], "tier": RAW, **row})
        if hi == last[i]:  # the newest piece stays open unless it is full
            if hi - lo < max_samples:
                plan.kept.append((chunk, row_id, ts[lo:hi], values[lo:hi]))
            else:
                plan.kept.append((chunk, None, ts[:0], values[:0]))
    return plan
