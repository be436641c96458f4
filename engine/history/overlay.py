"""Two runs' latency distributions on one log-spaced scale, for the overlaid histograms.

Each run's saved t-digest centroids (``(mean_ms, weight)``) fall into shared bins; a bin holds
each run's share of its results (0..1), so runs of different lengths compare by shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Centroids = Sequence[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class OverlayBin:
    """Latencies in [low_ms, high_ms): the share of run A's and of run B's results there."""

    low_ms: float
    high_ms: float
    share_a: float
    share_b: float


def _shares(centroids: Centroids, low: float, step: float, bins: int) -> list[float]:
    total = sum(w for _, w in centroids)
    out = [0.0] * bins
    if total <= 0:
        return out
    for mean, weight in centroids:
        k = int(math.log(max(mean, low) / low) / step) if step > 0 else 0
        out[min(max(k, 0), bins - 1)] += weight / total
    return out


def overlay_bins(a: Centroids, b: Centroids, bins: int) -> tuple[OverlayBin, ...]:
    """``bins`` log-spaced bins spanning both runs' latencies (empty when neither has any)."""
    means = [m for m, w in (*a, *b) if w > 0]
    if not means or bins <= 0:
        return ()
    low = max(min(means), 0.001)
    high = max(max(means), low * 1.01)
    # widen by half a percent so the largest value falls inside the last bin
    step = math.log(high * 1.005 / low) / bins
    share_a = _shares(a, low, step, bins)
    share_b = _shares(b, low, step, bins)
    return tuple(
        OverlayBin(low * math.exp(step * k), low * math.exp(step * (k + 1)), share_a[k], share_b[k])
        for k in range(bins)
    )
