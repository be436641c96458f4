"""The saved run's t-digest: built from a histogram, read back from centroids, and as close to
the raw samples as the histogram it came from."""

from __future__ import annotations

import json
import math
import random

from engine.metrics.distribution import centroids_from_counts, digest_of
from engine.metrics.histogram import bucket_index, new_counts


def exact_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


def test_a_digest_from_the_histogram_gives_percentiles_close_to_the_raw_samples() -> None:
    rng = random.Random(3)
    samples_ms = [rng.lognormvariate(math.log(12.0), 0.7) for _ in range(50_000)]
    counts = new_counts()
    for ms in samples_ms:
        counts[bucket_index(int(ms * 1000))] += 1
    centroids = centroids_from_counts(counts)
    assert 10 < len(centroids) < 400  # compact: not one entry per sample, nor per bucket
    assert sum(c for _, c in centroids) == len(samples_ms)
    back = digest_of(json.loads(json.dumps(centroids)))  # as a saved run holds them
    for q in (50, 90, 95, 99):
        exact = exact_percentile(samples_ms, q)
        assert abs(back.percentile(q) - exact) / exact < 0.03, q


def test_an_empty_histogram_has_no_centroids() -> None:
    assert centroids_from_counts(new_counts()) == ()
