"""Encoding many chunks at once gives the very bytes of encoding them one at a time."""

from __future__ import annotations

import struct

import numpy as np

from console.history_codec import decode_raw, encode_raw, encode_raw_many

NOW = 1_700_006_400.0


def _values(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:
        return rng.lognormal(-3, 0.7, n)  # latencies in seconds
    if kind == 1:
        return np.cumsum(rng.integers(0, 40, n)).astype(float)  # a counter
    if kind == 2:
        return np.full(n, 7.0)  # a gauge that does not move
    if kind == 3:
        return rng.normal(0, 1e6, n)  # negative and positive, wide
    if kind == 4:
        values = rng.normal(5, 1, n)
        values[rng.random(n) < 0.1] = np.nan
        values[rng.random(n) < 0.02] = np.inf
        return values
    if kind == 5:
        values = rng.random(n)
        values[rng.integers(0, n)] = 1e300  # a huge value beside small ones: kept as floats
        return values
    if kind == 6:
        return rng.integers(-3, 3, n) * 2.0**60  # whole but too big to be exact integers
    if kind == 7:  # powers of ten and their neighbours, where a decade could go either way
        tens = 10.0 ** rng.integers(-6, 6, n)
        return tens * rng.choice([1.0, 1 - 2**-52, 1 + 2**-52, 0.5, 3.0], n)
    if kind == 8:
        return rng.lognormal(-3, 0.7, n) * rng.choice([0.0, 1.0], n)  # half of them zero
    return np.zeros(n)


def _clock(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == 0:
        return NOW + np.arange(n) + rng.normal(0, 0.004, n)  # a 1 Hz poller's jitter
    if kind == 1:
        return NOW + np.cumsum(rng.exponential(3.0, n))  # irregular
    return NOW + np.sort(rng.integers(0, 5, n)).astype(float)  # repeated timestamps


def test_many_chunks_at_once_are_byte_for_byte_the_chunks_one_at_a_time() -> None:
    rng = np.random.default_rng(23)
    sizes = [int(s) for s in rng.choice([1, 2, 3, 4, 17, 256, 511, 512, 600], 600)]
    ts = np.concatenate([_clock(int(rng.integers(0, 3)), s, rng) for s in sizes])
    ts_sorted = np.concatenate([np.sort(p) for p in np.split(ts, np.cumsum(sizes)[:-1])])
    values = np.concatenate([_values(int(rng.integers(0, 10)), s, rng) for s in sizes])

    many = encode_raw_many(ts_sorted, values, sizes)

    lo = 0
    for size, payload in zip(sizes, many, strict=True):
        piece_ts, piece_values = ts_sorted[lo : lo + size], values[lo : lo + size]
        assert payload == encode_raw(piece_ts, piece_values)
        back_ts, back_values = decode_raw(payload)
        np.testing.assert_allclose(back_ts, piece_ts, atol=0.006)
        finite = np.isfinite(piece_values)
        assert (np.isfinite(back_values) == finite).all()
        _, _, flags, exponent, _ = struct.unpack_from("<BBBbI", payload)
        quantum = 0.0 if flags & 2 else 10.0**exponent  # floats kept whole, or to 10**exp
        np.testing.assert_allclose(back_values[finite], piece_values[finite], rtol=1e-12,
                                   atol=quantum / 2)
        lo += size


def test_offsets_and_deltas_that_pack_alike_are_packed_as_one_at_a_time() -> None:
    # a step of 1 each sample: offsets 0..n-1 against deltas of 1 - near each other
    sizes = [3, 4, 5, 8, 64, 3]
    values = np.concatenate([np.arange(s, dtype=float) for s in sizes])
    ts = np.concatenate([NOW + np.arange(s, dtype=float) for s in sizes])
    lo = 0
    for size, payload in zip(sizes, encode_raw_many(ts, values, sizes), strict=True):
        assert payload == encode_raw(ts[lo : lo + size], values[lo : lo + size])
        lo += size
    assert encode_raw_many(ts[:0], values[:0], []) == []
