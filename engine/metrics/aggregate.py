"""The supervisor's aggregate: merges workers' windows into the cached ``Snapshot``.

``add()`` only adds sparse pairs into cumulative arrays (cheap, never invalidates the cache);
``snapshot()`` derives every figure from those arrays at most once per ``ttl_s``.

Percentiles come from the merged histogram, whose error is bounded by construction (half a
bucket, < 0.8%) whatever the shape of the data. At the end, ``digests()`` turns the merged
histograms into t-digests for the saved run (``engine.metrics.distribution``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace

from engine.metrics.distribution import centroids_from_counts
from engine.metrics.histogram import (
    add_sparse,
    mean_us,
    new_counts,
    percentiles_us,
    sparse,
)
from engine.metrics.latency import NO_MIN, LatencyTotals, latency_stats
from engine.metrics.stress import StressTracker
from engine.metrics.window import WindowData
from engine.plan.model import RunPlan
from engine.results import ERROR_CLASSES, error_class_name
from engine.run.protocol import (
    ErrorSample,
    LatencyDigests,
    LatencyStats,
    PhaseTimings,
    RequestStats,
    Snapshot,
    ThresholdResult,
)
from engine.thresholds import evaluate_thresholds

TOP_MESSAGES = 20  # error messages a snapshot lists, the most frequent first
MAX_MESSAGES = 1000  # distinct (class, message) pairs counted one by one
OTHER_MESSAGES = "(other messages)"


class _Extremes:
    """The exact min and max of a measure kept as a histogram, over every window; unknown
    (None) if a window carried the measure without them."""

    __slots__ = ("exact", "high", "low")

    def __init__(self) -> None:
        self.low = NO_MIN
        self.high = -1
        self.exact = True

    def add(self, hist: object, low: int, high: int) -> None:
        if not hist:
            return
        if high < 0:
            self.exact = False
            return
        self.low = min(self.low, low)
        self.high = max(self.high, high)

    def bounds(self) -> tuple[int | None, int | None]:
        if not self.exact or self.high < 0:
            return None, None
        return self.low, self.high


class _RequestTotals(LatencyTotals):
    """Cumulative figures of one request name."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        super().__init__()
        self.status: dict[int, int] = {}


class _WindowGroup(LatencyTotals):
    """The windows of one ``seq`` from several workers, summed."""

    __slots__ = ("active_users", "end_s", "in_flight", "seq", "start_s", "workers")

    def __init__(self, seq: int) -> None:
        super().__init__()
        self.seq = seq
        self.workers: set[int] = set()
        self.start_s = float("inf")
        self.end_s = 0.0
        self.active_users = 0
        self.in_flight = 0

    def add(self, w: WindowData) -> None:
        self.workers.add(w.worker_id)
        errors = w.requests - w.successes
        self.add_figures(w.latency_hist, w.requests, errors, w.min_ns, w.max_ns, w.sum_ns)
        self.start_s = min(self.start_s, w.start_s)
        self.end_s = max(self.end_s, w.end_s)
        self.active_users += w.active_users
        self.in_flight += w.in_flight

    def rps(self, window_s: float) -> float:
        duration = self.end_s - self.start_s
        return self.requests / (duration if duration > 0 else window_s)


class Aggregator:
    """Cumulative and current-window figures over all workers, published as a ``Snapshot``.

    The "current window" is the newest seq every worker has reported (or that a newer seq has
    left two windows behind, so a dead worker cannot stall it); its sums give ``rps``,
    ``window_latency``, ``window_hist`` and one point of each series. ``users_series`` holds
    active users in the closed model and requests in flight in the open model.
    """

    def __init__(
        self,
        plan: RunPlan,
        *,
        ttl_s: float = 0.5,
        series_len: int = 600,
        recent_errors: int = 50,
    ) -> None:
        self.plan = plan
        self.ttl_s = ttl_s
        self.n_workers = max(plan.workers, 1)
        self.names = tuple(r.name for r in plan.requests)
        self.windows_added = 0
        self.reason = ""
        # stress mode: each closed window also goes to its step's judge
        self.stress = StressTracker(plan.stress, plan.window_s) if plan.stress else None
        self._latency = new_counts()
        self._service = new_counts()
        self._lag = new_counts()
        self._connect = new_counts()
        self._tls = new_counts()
        self._ttfb = new_counts()
        self._per_request = [_RequestTotals() for _ in self.names]
        self._status: dict[int, int] = {}
        self._errors = [0] * (len(ERROR_CLASSES) + 1)
        self._requests = 0
        self._successes = 0
        self._min_ns = NO_MIN
        self._max_ns = 0
        self._sum_ns = 0
        self._service_sum_ns = 0
        self._new_connections = 0
        self._retried = 0
        self._service_range = _Extremes()
        self._lag_range = _Extremes()
        self._bytes_in = 0
        self._bytes_out = 0
        self._skipped = 0
        self._latest: dict[int, WindowData] = {}  # newest window per worker: gauges
        self._pending: dict[int, _WindowGroup] = {}
        self._newest_seq = -1
        self._current: _WindowGroup | None = None
        self._rps_series: deque[float] = deque(maxlen=series_len)
        self._p99_series: deque[float] = deque(maxlen=series_len)
        self._error_series: deque[int] = deque(maxlen=series_len)
        self._users_series: deque[float] = deque(maxlen=series_len)
        self._recent_errors: deque[ErrorSample] = deque(maxlen=recent_errors)
        self._messages: dict[tuple[str, str], int] = {}  # (class, message) -> count
        self._cached: Snapshot | None = None
        self._cached_at = 0.0
        self._snapshots = 0

    # --- adding ----------------------------------------------------------------------------

    def add(self, window: WindowData) -> None:
        """Merge one worker's window into the totals (the cached snapshot stays as it is)."""
        self.windows_added += 1
        add_sparse(self._latency, window.latency_hist)
        add_sparse(self._service, window.service_hist)
        add_sparse(self._lag, window.lag_hist)
        add_sparse(self._connect, window.connect_hist)
        add_sparse(self._tls, window.tls_hist)
        add_sparse(self._ttfb, window.ttfb_hist)
        for totals, rw in zip(self._per_request, window.per_request, strict=False):
            if not rw.requests:
                continue
            totals.add_figures(
                rw.latency_hist, rw.requests, rw.errors, rw.min_ns, rw.max_ns, rw.sum_ns
            )
            for code, c in rw.status_codes:
                totals.status[code] = totals.status.get(code, 0) + c
        for code, c in window.status_codes:
            self._status[code] = self._status.get(code, 0) + c
        for code, c in window.errors:
            if 0 < code < len(self._errors):
                self._errors[code] += c
        self._requests += window.requests
        self._successes += window.successes
        if window.requests:
            self._min_ns = min(self._min_ns, window.min_ns)
            self._max_ns = max(self._max_ns, window.max_ns)
        self._sum_ns += window.sum_ns
        self._service_sum_ns += window.service_sum_ns
        self._new_connections += window.new_connections
        self._retried += window.retried
        self._service_range.add(window.service_hist, window.service_min_ns, window.service_max_ns)
        self._lag_range.add(window.lag_hist, window.lag_min_ns, window.lag_max_ns)
        self._bytes_in += window.bytes_in
        self._bytes_out += window.bytes_out
        self._skipped += window.skipped
        latest = self._latest.get(window.worker_id)
        if latest is None or window.seq >= latest.seq:
            self._latest[window.worker_id] = window
        self._recent_errors.extend(window.error_samples)
        self._count_messages(window.error_messages)
        self._group(window)

    def _group(self, window: WindowData) -> None:
        """File the window under its seq; close groups every worker has reported (or that a
        newer seq has left two windows behind), oldest first."""
        if self._current is not None and window.seq <= self._current.seq:
            return  # late for a window already shown: it only counts cumulatively
        group = self._pending.get(window.seq)
        if group is None:
            group = self._pending[window.seq] = _WindowGroup(window.seq)
        group.add(window)
        self._newest_seq = max(self._newest_seq, window.seq)
        ready = [
            seq
            for seq, g in self._pending.items()
            if len(g.workers) >= self.n_workers or seq <= self._newest_seq - 2
        ]
        if ready:
            self._close_groups_up_to(max(ready))

    def _close_groups_up_to(self, last_seq: int) -> None:
        for seq in sorted(s for s in self._pending if s <= last_seq):
            group = self._pending.pop(seq)
            self._current = group
            self._rps_series.append(group.rps(self.plan.window_s))
            self._p99_series.append(group.stats().p99_ms)
            self._error_series.append(group.errors)
            closed = self.plan.profile.model == "closed"
            self._users_series.append(float(group.active_users if closed else group.in_flight))
            if self.stress is not None:
                self.stress.add(seq, group, group.end_s - group.start_s)

    # --- reading ---------------------------------------------------------------------------

    def snapshot(self, elapsed_s: float, phase: str, *, force: bool = False) -> Snapshot:
        """The aggregate now; the same object is returned for ``ttl_s`` unless forced."""
        now = time.monotonic()
        cached = self._cached
        if (
            not force
            and cached is not None
            and cached.phase == phase
            and now - self._cached_at < self.ttl_s
        ):
            return cached
        snap = self._build(elapsed_s, phase)
        self._cached = snap
        self._cached_at = now
        return snap

    def final_snapshot(self, elapsed_s: float, reason: str) -> Snapshot:
        """The last snapshot: every pending window closed, phase "finished"."""
        self.reason = reason
        if self._pending:
            self._close_groups_up_to(max(self._pending))
        if self.stress is not None:
            self.stress.finish(completed=reason == "completed")
        return self.snapshot(elapsed_s, "finished", force=True)

    def _build(self, elapsed_s: float, phase: str) -> Snapshot:
        plan = self.plan
        self._snapshots += 1
        open_model = plan.profile.model == "open"
        latency = latency_stats(
            self._latency, self._requests, self._min_ns, self._max_ns, self._sum_ns
        )
        if open_model:
            service = latency_stats(self._service, None, *self._service_range.bounds())
            if service.count:
                service = replace(service, mean_ms=self._service_sum_ns / 1e6 / service.count)
            lag = latency_stats(self._lag, None, *self._lag_range.bounds())
        else:
            service, lag = latency, LatencyStats()
        current = self._current
        gauges = list(self._latest.values())
        newest = max(gauges, key=lambda w: (w.seq, w.end_s), default=None)
        snap = Snapshot(
            seq=self._snapshots,
            phase=phase,
            model=plan.profile.model,
            collection=plan.collection_name,
            scenario=plan.scenario_name,
            target=plan.base_url,
            elapsed_s=elapsed_s,
            planned_s=plan.profile.duration_s,
            stage_index=newest.stage_index if newest else 0,
            stage_label=newest.stage_label if newest else "",
            requests=self._requests,
            successes=self._successes,
            rps=current.rps(plan.window_s) if current else 0.0,
            mean_rps=self._requests / elapsed_s if elapsed_s > 0 else 0.0,
            bytes_in=self._bytes_in,
            bytes_out=self._bytes_out,
            status_codes=tuple(sorted(self._status.items())),
            errors=tuple(
                (error_class_name(code), n) for code, n in enumerate(self._errors) if code and n
            ),
            skipped=self._skipped,
            active_users=sum(w.active_users for w in gauges),
            target_users=sum(w.target_users for w in gauges),
            in_flight=sum(w.in_flight for w in gauges),
            target_rate=sum(w.target_rate for w in gauges),
            latency=latency,
            service_latency=service,
            window_latency=current.stats() if current else LatencyStats(),
            scheduler_lag_ms=lag,
            window_hist=sparse(current.counts) if current else (),
            cumulative_hist=sparse(self._latency),
            phases=self._phases(),
            rps_series=tuple(self._rps_series),
            p99_series=tuple(self._p99_series),
            error_series=tuple(self._error_series),
            users_series=tuple(self._users_series),
            per_request=self._request_stats(elapsed_s),
            recent_errors=tuple(self._recent_errors),
            thresholds=(),
            error_messages=self._top_messages(),
            stress=self.stress.progress() if self.stress is not None else None,
        )
        if plan.thresholds:
            snap = replace(snap, thresholds=self._thresholds(snap))
        return snap

    def _count_messages(self, counted: tuple[tuple[int, str, int], ...]) -> None:
        """Add a window's (error code, message, count); past ``MAX_MESSAGES`` distinct ones,
        new messages are counted together per class (bounded, and no count is lost)."""
        messages = self._messages
        for code, text, count in counted:
            key = (error_class_name(code), text)
            if key not in messages and len(messages) >= MAX_MESSAGES:
                key = (key[0], OTHER_MESSAGES)
            messages[key] = messages.get(key, 0) + count

    def _top_messages(self) -> tuple[tuple[str, str, int], ...]:
        ranked = sorted(self._messages.items(), key=lambda item: -item[1])[:TOP_MESSAGES]
        return tuple((cls, text, count) for (cls, text), count in ranked)

    def _request_stats(self, elapsed_s: float) -> tuple[RequestStats, ...]:
        out = []
        for name, t in zip(self.names, self._per_request, strict=True):
            stats = (
                latency_stats(t.counts, t.requests, t.min_ns, t.max_ns, t.sum_ns)
                if t.requests
                else LatencyStats()
            )
            out.append(
                RequestStats(
                    name=name,
                    requests=t.requests,
                    rps=t.requests / elapsed_s if elapsed_s > 0 else 0.0,
                    errors=t.errors,
                    latency=stats,
                    status_codes=tuple(sorted(t.status.items())),
                )
            )
        return tuple(out)

    def _phases(self) -> PhaseTimings:
        def mean_p99(counts: list[int]) -> tuple[float, float, int]:
            total = sum(counts)
            if not total:
                return 0.0, 0.0, 0
            (p99,) = percentiles_us(counts, (99.0,), total)
            return mean_us(counts, total) / 1000.0, p99 / 1000.0, total

        connect_mean, connect_p99, _ = mean_p99(self._connect)
        tls_mean, tls_p99, _ = mean_p99(self._tls)
        ttfb_mean, ttfb_p99, _ = mean_p99(self._ttfb)
        return PhaseTimings(
            connect_mean_ms=connect_mean,
            connect_p99_ms=connect_p99,
            tls_mean_ms=tls_mean,
            tls_p99_ms=tls_p99,
            ttfb_mean_ms=ttfb_mean,
            ttfb_p99_ms=ttfb_p99,
            new_connections=self._new_connections,
            retried=self._retried,
        )

    def _thresholds(self, snap: Snapshot) -> tuple[ThresholdResult, ...]:
        plan = self.plan
        return evaluate_thresholds(plan.thresholds, snap, plan.thresholds_default)

    def digests(self) -> LatencyDigests:
        """The run's latency distribution so far as t-digest centroids, for saving."""
        return LatencyDigests(
            all=centroids_from_counts(self._latency),
            per_request=tuple(centroids_from_counts(t.counts) for t in self._per_request),
        )
