"""``LatencyStats`` from a dense latency histogram: percentiles to the bucket, exact min, max
and mean when the recorder kept them. Shared by the run's aggregate and stress mode's steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.metrics.histogram import (
    add_into,
    add_sparse,
    mean_us,
    new_counts,
    percentiles_us,
    value_range_us,
)
from engine.run.protocol import LatencyStats

QUANTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9)
NO_MIN = 1 << 62  # min_ns of totals that hold no request yet


def latency_stats(
    counts: Sequence[int],
    total: int | None = None,
    min_ns: int | None = None,
    max_ns: int | None = None,
    sum_ns: int | None = None,
) -> LatencyStats:
    """LatencyStats (ms) from dense bucket counts; exact min/max/mean when given, percentiles
    clamped into [min, max]."""
    if total is None:
        total = sum(counts)
    if total <= 0:
        return LatencyStats()
    low_us, high_us = value_range_us(counts)
    lo = min_ns / 1000.0 if min_ns is not None else low_us
    hi = max_ns / 1000.0 if max_ns is not None else high_us
    mean = sum_ns / 1000.0 / total if sum_ns is not None else mean_us(counts, total)
    ps = [min(max(p, lo), hi) / 1000.0 for p in percentiles_us(counts, QUANTILES, total)]
    return LatencyStats(
        count=total,
        min_ms=lo / 1000.0,
        mean_ms=mean / 1000.0,
        p50_ms=ps[0],
        p75_ms=ps[1],
        p90_ms=ps[2],
        p95_ms=ps[3],
        p99_ms=ps[4],
        p99_9_ms=ps[5],
        max_ms=hi / 1000.0,
    )


class LatencyTotals:
    """A latency histogram with its request and error counts and exact min, max and sum: what
    a request name, a window or a stress step adds up."""

    __slots__ = ("counts", "errors", "max_ns", "min_ns", "requests", "sum_ns")

    def __init__(self) -> None:
        self.counts = new_counts()
        self.requests = 0
        self.errors = 0
        self.min_ns = NO_MIN
        self.max_ns = 0
        self.sum_ns = 0

    def add_figures(
        self,
        hist: Iterable[tuple[int, int]],
        requests: int,
        errors: int,
        min_ns: int,
        max_ns: int,
        sum_ns: int,
    ) -> None:
        """Add one worker window's figures: its sparse histogram, counts and exact extremes
        (which mean nothing when it had no request)."""
        add_sparse(self.counts, hist)
        self.requests += requests
        self.errors += errors
        if requests:
            self.min_ns = min(self.min_ns, min_ns)
            self.max_ns = max(self.max_ns, max_ns)
        self.sum_ns += sum_ns

    def merge(self, other: LatencyTotals) -> None:
        """Add ``other``'s figures to these."""
        add_into(self.counts, other.counts)
        self.requests += other.requests
        self.errors += other.errors
        if other.requests:
            self.min_ns = min(self.min_ns, other.min_ns)
            self.max_ns = max(self.max_ns, other.max_ns)
        self.sum_ns += other.sum_ns

    def stats(self) -> LatencyStats:
        """The latency figures (percentiles over the histogram's own count)."""
        if not self.requests:
            return LatencyStats()
        return latency_stats(self.counts, None, self.min_ns, self.max_ns, self.sum_ns)
