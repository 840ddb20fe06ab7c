"""The history's chunk codec: one series' samples over a stretch of time, packed small."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FORMAT_VERSION = 1
RAW = 0  #: tier of raw samples on disk
ROLLUP = 1  #: tier of one-minute roll-ups (mean, min, max, count) on disk
ROLLUP_STEP_S = 60

# -- chunk codec ----------------------------------------------------------------------------
#
# A chunk is one series' samples over a stretch of time:
#   header  <BBBbI  format version, tier, flags, value exponent, n
#   zlib(   [bitmap of finite values]  ts column  value column(s)  [count column] )
# Timestamps are kept to 10 ms (every reader works on a grid of 1 s or coarser). Values
# are kept as integers times 10**exponent, the exponent chosen per chunk to keep
# SIGNIFICANT_DIGITS digits of the chunk's median magnitude (whole numbers stay exact).
# Each integer column is stored as offsets from its minimum, as (zigzag) deltas, as deltas
# of deltas, or as residuals from a straight line (a regular clock leaves only its
# jitter) - whichever looks smallest - in the narrowest integer width, bytes shuffled so
# zlib sees the high bytes together.
# A chunk whose values span more than an int64 can hold at that exponent (a huge value
# beside small ones) keeps its values as float64 instead (flag _FLOATS).
# Non-finite values come back as NaN.

_HEADER = struct.Struct("<BBBbI")
_COLUMN = struct.Struct("<BBqq")
_HAS_MASK = 1
_FLOATS = 2  #: values kept as float64: their range is too wide for integers at any exponent
_MODE_OFFSET, _MODE_DELTA, _MODE_DOD, _MODE_LINEAR = 0, 1, 2, 3
_MAX_EXACT = 2.0**52
SIGNIFICANT_DIGITS = 3
TS_UNITS_PER_S = 100  #: timestamps on disk are kept to 1/100 s


def _zigzag(x: IntArray) -> npt.NDArray[np.uint64]:
    return ((x << 1) ^ (x >> 63)).astype(np.uint64)


def _unzigzag(u: npt.NDArray[np.uint64]) -> IntArray:
    return ((u >> np.uint64(1)).astype(np.int64)) ^ -((u & np.uint64(1)).astype(np.int64))


def _bits(u: npt.NDArray[np.uint64]) -> float:
    """A rough count of the bits ``u`` needs: how the packer compares its options."""
    return float(np.log2(u + 1.0).sum())


_VALUE_MODES = (_MODE_OFFSET, _MODE_DELTA)
_CLOCK_MODES = (_MODE_LINEAR, _MODE_DELTA)


def _pack_column(x: IntArray, modes: tuple[int, ...] = _VALUE_MODES) -> bytes:
    """Pack integers in whichever of ``modes`` looks smallest (see the codec notes)."""
    n = x.size
    if n == 0:
        return _COLUMN.pack(_MODE_OFFSET, 1, 0, 0)
    first = int(x[0])
    best: tuple[float, int, int, int, npt.NDArray[np.uint64]] | None = None
    for mode in modes:
        if mode == _MODE_OFFSET or n < 3:
            base = int(x.min())
            option = (0.0, _MODE_OFFSET, base, 0, (x - base).astype(np.uint64))
        elif mode == _MODE_DELTA:
            option = (0.0, _MODE_DELTA, first, 0, _zigzag(np.diff(x)))
        elif mode == _MODE_DOD:
            d = np.diff(x)
            option = (0.0, _MODE_DOD, first, int(d[0]), _zigzag(np.diff(d)))
        else:  # a regular clock: what is left after the usual step is only its jitter
            slope = round((int(x[-1]) - first) / (n - 1))
            line = first + slope * np.arange(n, dtype=np.int64)
            option = (0.0, _MODE_LINEAR, first, slope, _zigzag(x - line))
        if mode == _MODE_LINEAR and n >= 3 and 2 * int(option[4].max()) < abs(option[3]):
            best = option  # jitter under a quarter step: a regular clock, no need to compare
            break
        if len(modes) > 1:
            option = (_bits(option[4]), *option[1:])
        if best is None or option[0] < best[0]:
            best = option
    assert best is not None
    _, mode, a, b, u = best
    top = int(u.max()) if u.size else 0
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4 if top < 1 << 32 else 8
    shuffled = u.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T.tobytes()
    return _COLUMN.pack(mode, width, a, b) + shuffled


def _unpack_column(buf: bytes, pos: int, n: int) -> tuple[IntArray, int]:
    mode, width, a, b = _COLUMN.unpack_from(buf, pos)
    pos += _COLUMN.size
    stored = {_MODE_OFFSET: n, _MODE_LINEAR: n, _MODE_DELTA: n - 1, _MODE_DOD: n - 2}[mode]
    stored = max(stored, 0)
    raw = np.frombuffer(buf, dtype=np.uint8, count=stored * width, offset=pos)
    pos += stored * width
    u = raw.reshape(width, stored).T.copy().view(f"<u{width}").ravel().astype(np.uint64)
    if n == 0:
        return np.zeros(0, dtype=np.int64), pos
    if mode == _MODE_OFFSET:
        return u.astype(np.int64) + a, pos
    if mode == _MODE_LINEAR:
        return a + b * np.arange(n, dtype=np.int64) + _unzigzag(u), pos
    d = _unzigzag(u)
    if mode == _MODE_DOD:
        d = b + np.concatenate(([0], np.cumsum(d)))
    return a + np.concatenate(([0], np.cumsum(d))).astype(np.int64), pos


def _exponent(values: FloatArray, digits: int) -> int | None:
    """The power of ten to quantise ``values`` (all finite) by; None when no exponent keeps
    both the largest value in range and ``digits`` digits of the typical one (the values are
    then kept as floats)."""
    if values.size == 0:
        return 0
    magnitude = np.abs(values)
    top = float(magnitude.max())
    if top < _MAX_EXACT and bool((values == np.rint(values)).all()):
        return 0
    nonzero = magnitude[magnitude > 0]
    middle = (nonzero.size - 1) // 2  # the lower median: never coarser than the median
    typical = float(np.partition(nonzero, middle)[middle]) if nonzero.size else 1.0
    exp = math.floor(math.log10(typical)) - (digits - 1)
    if top / 10.0**exp >= _MAX_EXACT or not -120 <= exp <= 120:
        return None
    return exp


def _quantise(values: FloatArray, exp: int) -> IntArray:
    scaled = values * 10.0**-exp if exp < 0 else values / 10.0**exp
    return np.rint(scaled).astype(np.int64)


def _dequantise(ints: IntArray, exp: int) -> FloatArray:
    as_float = ints.astype(np.float64)
    return as_float / 10.0**-exp if exp < 0 else as_float * 10.0**exp


def encode_raw(ts: FloatArray, values: FloatArray, digits: int = SIGNIFICANT_DIGITS) -> bytes:
    """One chunk of raw samples (ts sorted) as bytes; see the codec notes above."""
    finite = np.isfinite(values)
    flags = 0
    parts: list[bytes] = []
    if not finite.all():
        flags |= _HAS_MASK
        parts.append(np.packbits(finite).tobytes())
    kept = values[finite]
    exp = _exponent(kept, digits)
    parts.append(_pack_column(np.rint(ts * TS_UNITS_PER_S).astype(np.int64), _CLOCK_MODES))
    if exp is None:
        flags |= _FLOATS
        parts.append(kept.astype("<f8").tobytes())
    else:
        parts.append(_pack_column(_quantise(kept, exp)))
    header = _HEADER.pack(FORMAT_VERSION, RAW, flags, exp or 0, ts.size)
    return header + zlib.compress(b"".join(parts), 6)


def encode_raw_many(
    ts: FloatArray, values: FloatArray, sizes: list[int], digits: int = SIGNIFICANT_DIGITS
) -> list[bytes]:
    """:func:`encode_raw` of many chunks laid end to end (``sizes`` samples each, none
    empty): the same bytes, the numpy work done for many chunks at once rather than chunk
    by chunk (a flush encodes thousands of small chunks, each call ~40 small numpy calls).
    Chunks of under 3 samples, with non-finite values or kept as floats, and the rare
    near-tie between two packings, go through :func:`encode_raw` itself."""
    out: list[bytes] = []
    lo = first = block = 0
    for i, size in enumerate(sizes):
        block += size
        if block >= _BLOCK or i == len(sizes) - 1:
            # a block at a time: numpy's temporaries stay in the cache (all of a flush's
            # samples at once cost more in fresh memory than the calls saved)
            out += _encode_block(ts[lo : lo + block], values[lo : lo + block],
                                 sizes[first : i + 1], digits)
            lo, first, block = lo + block, i + 1, 0
    return out


_BLOCK = 16_384  #: samples encoded together by encode_raw_many


def _encode_block(
    ts: FloatArray, values: FloatArray, sizes: list[int], digits: int
) -> list[bytes]:
    count = len(sizes)
    if not count:
        return []
    n = np.asarray(sizes, dtype=np.int64)
    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(n[:-1], out=starts[1:])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        finite = np.isfinite(values)
        fast = (n >= 3) & np.logical_and.reduceat(finite, starts)
        kept = np.where(finite, values, 0.0)
        whole = np.logical_and.reduceat(kept == np.rint(kept), starts)
        whole &= np.maximum.reduceat(np.abs(kept), starts) < _MAX_EXACT
        exps = [0] * count
        for i, rough in _exponents(kept, starts, n, fast & ~whole, digits).items():
            lo = int(starts[i])
            exp = rough if rough is not None else _exponent(values[lo : lo + sizes[i]], digits)
            if exp is None:
                fast[i] = False
            else:
                exps[i] = exp
        ts_col = _pack_many(np.rint(ts * TS_UNITS_PER_S).astype(np.int64), starts, n, fast,
                            clock=True)
        exp_arr = np.array(exps, dtype=np.int64)
        scale = np.repeat([10.0**-e if e < 0 else 10.0**e for e in exps], n)
        scaled = np.where(np.repeat(exp_arr < 0, n), kept * scale, kept / scale)
        value_col = _pack_many(np.rint(scaled).astype(np.int64), starts, n, fast, clock=False)
    out: list[bytes] = []
    for i, size in enumerate(sizes):
        ts_part, value_part = ts_col[i], value_col[i]
        if ts_part is None or value_part is None:
            lo = int(starts[i])
            out.append(encode_raw(ts[lo : lo + size], values[lo : lo + size], digits))
        else:
            header = _HEADER.pack(FORMAT_VERSION, RAW, 0, exps[i], size)
            out.append(header + zlib.compress(ts_part + value_part, 6))
    return out


def _exponents(
    kept: FloatArray, starts: IntArray, n: IntArray, todo: npt.NDArray[np.bool_], digits: int
) -> dict[int, int | None]:
    """:func:`_exponent` of each chunk marked ``todo`` (finite, not all whole numbers), from
    the decades of its values at once: the lower median's decade is the lower median of the
    decades. None where a value sits within a hair of a power of ten (numpy's log10 and the
    math module's could then round to either side) or the chunk is kept as floats."""
    chunk = np.repeat(np.arange(n.size), n)
    pick = np.repeat(todo, n) & (kept != 0)
    magnitude, chunk = np.abs(kept[pick]), chunk[pick]
    log = np.log10(magnitude)
    decade = np.floor(log)
    near = np.zeros(n.size, dtype=bool)
    near[chunk[(log - decade < 1e-9) | (log - decade > 1 - 1e-9)]] = True
    nonzero = np.bincount(chunk, minlength=n.size)
    key = chunk * 1024 + (decade.astype(np.int64) + 400)  # decades run -324 .. 308
    key.sort()
    middle = np.cumsum(nonzero) - nonzero + np.maximum(nonzero - 1, 0) // 2
    typical = key[np.minimum(middle, max(key.size - 1, 0))] % 1024 - 400 if key.size else middle
    top = np.maximum.reduceat(np.abs(kept), starts)
    out: dict[int, int | None] = {}
    for i, count, ten, largest, close in zip(
        np.flatnonzero(todo).tolist(), nonzero[todo].tolist(), typical[todo].tolist(),
        top[todo].tolist(), near[todo].tolist(), strict=True,
    ):
        exp = (ten if count else 0) - (digits - 1)
        fits = -120 <= exp <= 120 and largest / 10.0**exp < _MAX_EXACT
        out[i] = exp if fits and not close else None
    return out


def _rough_bits(u: npt.NDArray[np.uint64], starts: IntArray) -> FloatArray:
    """:func:`_bits` of each chunk of ``u`` (from ``starts`` on), in float32."""
    return np.add.reduceat(np.log2(u.astype(np.float32) + np.float32(1.0)), starts,
                           dtype=np.float64)


def _pack_many(
    x: IntArray, starts: IntArray, n: IntArray, todo: npt.NDArray[np.bool_], clock: bool
) -> list[bytes | None]:
    """:func:`_pack_column` of each chunk of ``x`` (``n`` integers from ``starts``) marked
    ``todo`` (3 integers or more), with the clock's or the values' modes; None for the
    others and where the two packings' bit counts are too close to call the same way."""
    ends = starts + n
    count = n.size
    first = x[starts]
    zz_delta = np.zeros(x.size, dtype=np.uint64)
    zz_delta[:-1] = _zigzag(np.diff(x))
    zz_delta[ends - 1] = 0  # the step from one chunk into the next is no chunk's
    if clock:
        slope = np.rint((x[ends - 1] - first) / (n - 1)).astype(np.int64)
        step = np.arange(x.size, dtype=np.int64) - np.repeat(starts, n)
        line = np.asarray(np.repeat(first, n) + np.repeat(slope, n) * step, dtype=np.int64)
        u_a = _zigzag(x - line)
        mode_a, a_a, b_a = _MODE_LINEAR, first, slope
    else:
        base = np.minimum.reduceat(x, starts)
        u_a = (x - np.repeat(base, n)).astype(np.uint64)
        mode_a, a_a, b_a = _MODE_OFFSET, base, np.zeros(count, dtype=np.int64)
    top_a = np.maximum.reduceat(u_a, starts)
    top_d = np.maximum.reduceat(zz_delta, starts)
    bits_a, bits_d = _rough_bits(u_a, starts), _rough_bits(zz_delta, starts)
    pick_delta = bits_d < bits_a
    # _bits in float32 is 10 times quicker and off by under 1e-5 bits a sample; a closer
    # call goes through _pack_column. Two columns of zeros tie exactly (offsets win).
    unsure = np.abs(bits_d - bits_a) <= 1e-4 * n
    unsure &= (top_a > 0) | (top_d > 0)
    if clock:  # jitter under a quarter step: a regular clock, no need to compare
        sure_clock = top_a < (np.abs(slope).astype(np.uint64) + np.uint64(1)) // np.uint64(2)
        pick_delta &= ~sure_clock
        unsure &= ~sure_clock
    top = np.where(pick_delta, top_d, top_a)
    width = np.where(top < 1 << 8, 1, np.where(top < 1 << 16, 2, np.where(top < 1 << 32, 4, 8)))
    ok = todo & ~unsure
    out: list[bytes | None] = [None] * count
    rows = zip(np.flatnonzero(ok).tolist(), starts[ok].tolist(), ends[ok].tolist(),
               pick_delta[ok].tolist(), width[ok].tolist(), first[ok].tolist(),
               a_a[ok].tolist(), b_a[ok].tolist(), strict=True)
    for i, lo, hi, delta, w, a_delta, a, b in rows:
        if delta:
            head, u = _COLUMN.pack(_MODE_DELTA, w, a_delta, 0), zz_delta[lo : hi - 1]
        else:
            head, u = _COLUMN.pack(mode_a, w, a, b), u_a[lo:hi]
        if w == 1:
            out[i] = head + u.astype(np.uint8).tobytes()
        else:
            out[i] = head + u.astype(f"<u{w}").view(np.uint8).reshape(-1, w).T.tobytes()
    return out


def decode_raw(payload: bytes) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`encode_raw`: (ts, values)."""
    version, tier, flags, exp, n = _HEADER.unpack_from(payload)
    if version != FORMAT_VERSION or tier != RAW:
        raise ValueError(f"not a raw chunk of format {FORMAT_VERSION}")
    body = zlib.decompress(payload[_HEADER.size :])
    pos = 0
    finite: npt.NDArray[np.bool_] | None = None
    if flags & _HAS_MASK:
        nbytes = (n + 7) // 8
        finite = np.unpackbits(np.frombuffer(body, np.uint8, nbytes), count=n).astype(bool)
        pos = nbytes
    ts_units, pos = _unpack_column(body, pos, n)
    kept = int(finite.sum()) if finite is not None else n
    if flags & _FLOATS:
        stored = np.frombuffer(body, "<f8", kept, pos).astype(np.float64)
    else:
        ints, pos = _unpack_column(body, pos, kept)
        stored = _dequantise(ints, exp)
    ts = ts_units / TS_UNITS_PER_S
    if finite is None:
        return ts, stored
    values = np.full(n, np.nan)
    values[finite] = stored
    return ts, values


def encode_rollup(
    bucket: IntArray,
    mean: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    count: IntArray,
    digits: int = SIGNIFICANT_DIGITS,
) -> bytes:
    """One chunk of one-minute roll-ups (bucket = ts // 60; all values finite)."""
    exp = _exponent(np.concatenate([mean, lo, hi]), digits)
    parts = [_pack_column(bucket, _CLOCK_MODES)]
    for column in (mean, lo, hi):
        parts.append(column.astype("<f8").tobytes() if exp is None
                     else _pack_column(_quantise(column, exp)))
    parts.append(_pack_column(count, (_MODE_OFFSET,)))
    flags = _FLOATS if exp is None else 0
    header = _HEADER.pack(FORMAT_VERSION, ROLLUP, flags, exp or 0, bucket.size)
    return header + zlib.compress(b"".join(parts), 6)


def decode_rollup(
    payload: bytes,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Inverse of :func:`encode_rollup`: (bucket start ts, mean, min, max, count)."""
    version, tier, flags, exp, n = _HEADER.unpack_from(payload)
    if version != FORMAT_VERSION or tier != ROLLUP:
        raise ValueError(f"not a roll-up chunk of format {FORMAT_VERSION}")
    body = zlib.decompress(payload[_HEADER.size :])
    bucket, pos = _unpack_column(body, 0, n)
    values: list[FloatArray] = []
    for _ in range(3):  # mean, min, max
        if flags & _FLOATS:
            values.append(np.frombuffer(body, "<f8", n, pos).astype(np.float64))
            pos += 8 * n
        else:
            ints, pos = _unpack_column(body, pos, n)
            values.append(_dequantise(ints, exp))
    count, pos = _unpack_column(body, pos, n)
    mean, lo, hi = values
    return (
        bucket.astype(np.float64) * ROLLUP_STEP_S,
        mean,
        lo,
        hi,
        count.astype(np.float64),
    )


def roll_up(
    ts: FloatArray, values: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Raw samples -> one-minute (bucket, mean, min, max, count), NaN samples skipped."""
    keep = np.isfinite(values)
    ts, values = ts[keep], values[keep]
    if ts.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        nothing = np.zeros(0)
        return empty, nothing, nothing, nothing, empty
    order = np.argsort(ts, kind="stable")
    ts, values = ts[order], values[order]
    bucket = np.floor(ts / ROLLUP_STEP_S).astype(np.int64)
    starts = np.flatnonzero(np.append(True, bucket[1:] != bucket[:-1]))
    count = np.diff(np.append(starts, bucket.size)).astype(np.int64)
    mean = np.add.reduceat(values, starts) / count
    return (
        bucket[starts],
        mean,
        np.minimum.reduceat(values, starts),
        np.maximum.reduceat(values, starts),
        count,
    )

