"""Log-linear latency buckets (HdrHistogram layout), 1 us .. 60 s, < 1% relative error.

A latency in microseconds ``v`` maps to a bucket index with integer arithmetic only, so the
hot path pays one ``bit_length`` and a shift per request. Values below 128 us are exact;
above, each power of two is split into 64 sub-buckets, so a bucket is at most 1/64 of its
lower bound wide and its midpoint is within 0.8% of any value in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SUB_BITS = 7
SUB_COUNT = 1 << SUB_BITS  # 128
HALF = SUB_COUNT >> 1  # 64
MAX_US = 60_000_000  # 60 s; larger values are clamped into the last bucket
_MAX_SHIFT = MAX_US.bit_length() - SUB_BITS
BUCKETS = (_MAX_SHIFT << 6) + SUB_COUNT  # number of buckets (1344)


def bucket_index(us: int) -> int:
    """Index of the bucket holding ``us`` microseconds (clamped to [0, MAX_US])."""
    if us < SUB_COUNT:
        return us if us > 0 else 0
    if us > MAX_US:
        us = MAX_US
    shift = us.bit_length() - SUB_BITS
    return (shift << 6) + (us >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """[low, high) in microseconds of bucket ``index``."""
    if index < SUB_COUNT:
        return index, index + 1
    shift = (index >> 6) - 1
    sub = (index & 63) + 64
    return sub << shift, (sub + 1) << shift


def bucket_value(index: int) -> float:
    """Representative value (midpoint, microseconds) of bucket ``index``."""
    low, high = bucket_bounds(index)
    if high - low == 1:
        return float(low)
    return (low + high - 1) / 2.0


def new_counts() -> list[int]:
    return [0] * BUCKETS


def add_into(target: list[int], source: Sequence[int]) -> None:
    """Merge ``source`` counts into ``target`` in place (windows merge by adding arrays)."""
    for i, c in enumerate(source):
        if c:
            target[i] += c


def sparse(counts: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Non-zero (index, count) pairs: the compact form sent over the pipe."""
    return tuple((i, c) for i, c in enumerate(counts) if c)


def add_sparse(target: list[int], pairs: Iterable[tuple[int, int]]) -> None:
    for i, c in pairs:
        target[i] += c


def percentile_us(counts: Sequence[int], q: float, total: int | None = None) -> float | None:
    """The q-th percentile (0..100) in microseconds from bucket counts, None when empty.

    Nearest-rank on the bucket counts, reported as the bucket midpoint; exact values below
    128 us.
    """
    if total is None:
        total = sum(counts)
    if total <= 0:
        return None
    rank = max(1, -(-int(q * total * 1000) // 100_000))  # ceil(q/100 * total), integer math
    running = 0
    for i, c in enumerate(counts):
        if c:
            running += c
            if running >= rank:
                return bucket_value(i)
    return bucket_value(BUCKETS - 1)


def percentiles_us(
    counts: Sequence[int], qs: Sequence[float], total: int | None = None
) -> list[float]:
    """Several percentiles (each 0..100, ascending) in one pass; all 0.0 when empty.

    Same nearest-rank rule as ``percentile_us``; one pass costs the same as one percentile.
    """
    if total is None:
        total = sum(counts)
    if total <= 0:
        return [0.0] * len(qs)
    ranks = [max(1, -(-int(q * total * 1000) // 100_000)) for q in qs]
    out: list[float] = []
    k = 0
    running = 0
    for i, c in enumerate(counts):
        if c:
            running += c
            while k < len(ranks) and running >= ranks[k]:
                out.append(bucket_value(i))
                k += 1
            if k == len(ranks):
                return out
    last = bucket_value(BUCKETS - 1)
    return out + [last] * (len(ranks) - k)


def mean_us(counts: Sequence[int], total: int | None = None) -> float:
    """Mean in microseconds from bucket midpoints (within 0.8%); 0.0 when empty."""
    if total is None:
        total = sum(counts)
    if total <= 0:
        return 0.0
    return sum(bucket_value(i) * c for i, c in enumerate(counts) if c) / total


def value_range_us(counts: Sequence[int]) -> tuple[float, float]:
    """(lowest, highest) microseconds the counts can hold: first bucket's low bound, last
    bucket's high bound (exclusive bound less one); (0, 0) when empty."""
    low = next((i for i, c in enumerate(counts) if c), None)
    if low is None:
        return 0.0, 0.0
    high = next(i for i in range(len(counts) - 1, -1, -1) if counts[i])
    return float(bucket_bounds(low)[0]), float(bucket_bounds(high)[1] - 1)
