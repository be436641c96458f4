"""The log-linear histogram: bucket layout and percentiles against exact raw-sample values."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from engine.metrics.histogram import (
    BUCKETS,
    MAX_US,
    bucket_bounds,
    bucket_index,
    bucket_value,
    mean_us,
    new_counts,
    percentile_us,
    percentiles_us,
    value_range_us,
)

QUANTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9)


def exact_percentile(sorted_values: list[int], q: float) -> int:
    """Nearest-rank percentile of raw samples."""
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def counts_of(values: list[int]) -> list[int]:
    counts = new_counts()
    for v in values:
        counts[bucket_index(v)] += 1
    return counts


def _uniform(rng: random.Random) -> float:
    return rng.uniform(1_000, 200_000)


def _lognormal(rng: random.Random) -> float:
    return rng.lognormvariate(math.log(5_000), 1.2)  # long tail, median 5 ms


def _bimodal(rng: random.Random) -> float:
    return rng.gauss(2_000, 150) if rng.random() < 0.85 else rng.gauss(150_000, 10_000)


DISTRIBUTIONS: dict[str, Callable[[random.Random], float]] = {
    "uniform": _uniform,
    "lognormal": _lognormal,
    "bimodal": _bimodal,
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_percentiles_within_one_percent_of_exact_raw_sample_percentiles(name: str) -> None:
    rng = random.Random(7)
    values = [max(1_000, int(DISTRIBUTIONS[name](rng))) for _ in range(100_000)]
    ordered = sorted(values)
    counts = counts_of(values)
    got = percentiles_us(counts, QUANTILES)
    for q, value in zip(QUANTILES, got, strict=True):
        exact = exact_percentile(ordered, q)
        assert abs(value - exact) / exact < 0.01, (name, q, value, exact)
        assert percentile_us(counts, q) == value


def test_percentiles_stay_within_bucket_error_on_discrete_data() -> None:
    values = [1_000] * 99 + [100_000]
    counts = counts_of(values)
    p50, p99, p999 = percentiles_us(counts, (50.0, 99.0, 99.9))
    assert abs(p50 - 1_000) / 1_000 < 0.01
    assert abs(p99 - 1_000) / 1_000 < 0.01
    assert abs(p999 - 100_000) / 100_000 < 0.01


def test_every_value_lands_in_a_bucket_that_holds_it_and_is_under_one_percent_wide() -> None:
    rng = random.Random(3)
    samples = list(range(0, 300)) + [rng.randint(1, MAX_US) for _ in range(20_000)]
    for us in samples:
        i = bucket_index(us)
        low, high = bucket_bounds(i)
        assert low <= us < high, (us, i, low, high)
        assert 0 <= i < BUCKETS
        assert abs(bucket_value(i) - us) <= max(0.5, 0.008 * us)


def test_values_beyond_sixty_seconds_clamp_into_the_last_bucket() -> None:
    assert bucket_index(MAX_US * 10) == bucket_index(MAX_US)
    assert bucket_index(MAX_US) < BUCKETS
    assert bucket_index(-5) == 0


def test_empty_counts_give_zeros() -> None:
    counts = new_counts()
    assert percentiles_us(counts, QUANTILES) == [0.0] * len(QUANTILES)
    assert mean_us(counts) == 0.0
    assert value_range_us(counts) == (0.0, 0.0)


def test_mean_and_range_follow_the_samples() -> None:
    rng = random.Random(11)
    values = [int(rng.lognormvariate(math.log(3_000), 0.7)) + 200 for _ in range(50_000)]
    counts = counts_of(values)
    exact_mean = sum(values) / len(values)
    assert abs(mean_us(counts) - exact_mean) / exact_mean < 0.01
    low, high = value_range_us(counts)
    assert low <= min(values) and high >= max(values)
    assert (min(values) - low) / min(values) < 0.02
    assert (high - max(values)) / max(values) < 0.02
