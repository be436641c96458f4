"""A run's latency distribution as a t-digest: the compact form saved runs keep.

Live windows and percentiles use the log-linear histograms (``engine.metrics.histogram``):
merging is adding arrays, and the error is bounded by construction. A saved run must stay
comparable after that layout changes, so at the end of a run each request's merged histogram
is turned into a t-digest (its centroids, in milliseconds), which depends on no bucket layout.
The pure-Python ``tdigest`` costs ~15 us an update, so it is built once, from at most one
update per histogram bucket in use, never fed per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from tdigest import TDigest

from engine.metrics.histogram import bucket_value

# (mean in ms, weight) pairs, ascending by mean
Centroids = tuple[tuple[float, float], ...]
# t-digest compression: ~150-200 centroids for a run's histogram, percentiles within ~0.2% of
# the histogram's own (benchmarks/README.md has the figures)
DELTA = 0.05


def digest_from_counts(counts: Sequence[int]) -> TDigest:
    """A t-digest of a dense histogram: one weighted update per bucket in use, at the bucket's
    representative value."""
    digest = TDigest(delta=DELTA)
    for index, count in enumerate(counts):
        if count:
            digest.update(bucket_value(index) / 1000.0, count)
    digest.compress()
    return digest


def centroids_of(digest: TDigest) -> Centroids:
    """The digest's centroids as plain ``(mean_ms, weight)`` pairs (for JSON and pickling)."""
    return tuple((float(c["m"]), float(c["c"])) for c in digest.centroids_to_list())


def digest_of(centroids: Sequence[Sequence[float]]) -> TDigest:
    """A t-digest back from saved ``(mean_ms, weight)`` pairs."""
    digest = TDigest(delta=DELTA)
    digest.update_centroids_from_list([{"m": float(m), "c": float(c)} for m, c in centroids])
    return digest


def centroids_from_counts(counts: Sequence[int]) -> Centroids:
    """``centroids_of(digest_from_counts(counts))``; empty for an empty histogram."""
    if not any(counts):
        return ()
    return centroids_of(digest_from_counts(counts))
