"""Deterministic ``Snapshot`` data for widget tests and SVG snapshots, and a replaying link."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from engine.metrics.histogram import bucket_index
from engine.run.protocol import (
    Command,
    ErrorSample,
    LatencyStats,
    Message,
    PhaseTimings,
    RequestStats,
    Snapshot,
    StressProgress,
    StressStep,
    ThresholdResult,
)


def lognormal_hist(
    median_us: float, total: int, spread: float = 0.5
) -> tuple[tuple[int, int], ...]:
    """A deterministic long-tailed latency distribution as sparse histogram pairs."""
    counts: dict[int, int] = {}
    steps = 60
    for k in range(steps):
        z = -3 + 7 * k / steps  # a longer right tail
        weight = math.exp(-z * z / 2)
        us = int(median_us * math.exp(spread * z))
        counts[bucket_index(us)] = counts.get(bucket_index(us), 0) + round(weight * total / 25)
    return tuple(sorted((i, c) for i, c in counts.items() if c))


def latency(p50: float, scale: float = 1.0, count: int = 1000) -> LatencyStats:
    return LatencyStats(
        count=count,
        min_ms=p50 * 0.3,
        mean_ms=p50 * 1.2,
        p50_ms=p50,
        p75_ms=p50 * 1.4 * scale,
        p90_ms=p50 * 2.0 * scale,
        p95_ms=p50 * 2.6 * scale,
        p99_ms=p50 * 4.0 * scale,
        p99_9_ms=p50 * 7.0 * scale,
        max_ms=p50 * 12.0 * scale,
    )


def make_snapshot(
    seq: int = 20,
    *,
    model: str = "closed",
    phase: str = "running",
    thresholds: tuple[ThresholdResult, ...] | None = None,
    window_hist: tuple[tuple[int, int], ...] | None = None,
) -> Snapshot:
    """A mid-run snapshot of the demo scenario, the same for the same arguments."""
    elapsed = seq * 0.5
    rps_series = tuple(1800 + 400 * math.sin(k / 3) + 15 * k for k in range(seq))
    p99_series = tuple(8 + 3 * math.cos(k / 4) for k in range(seq))
    requests = int(sum(rps_series) * 0.5)
    errors = (("timeout", 12), ("http_status", 30))
    if thresholds is None:
        thresholds = (
            ThresholdResult("p95 < 300ms", 5.2, True),
            ThresholdResult("p99 < 5ms", 8.0, False),
            ThresholdResult("error_rate < 1%", 0.0021, True),
        )
    return Snapshot(
        seq=seq,
        phase=phase,
        model=model,
        collection="demo",
        scenario="smoke",
        target="http://127.0.0.1:8089",
        elapsed_s=elapsed,
        planned_s=30.0,
        stage_index=1,
        stage_label="steady",
        requests=requests,
        successes=requests - 42,
        rps=rps_series[-1],
        mean_rps=requests / elapsed,
        bytes_in=requests * 180,
        bytes_out=requests * 95,
        status_codes=((200, requests - 72), (404, 42), (503, 30)),
        errors=errors,
        skipped=7 if model == "open" else 0,
        active_users=20,
        target_users=20.0,
        in_flight=17,
        target_rate=2000.0 if model == "open" else 0.0,
        latency=latency(2.0),
        service_latency=latency(1.6, 0.8),
        window_latency=latency(2.1),
        scheduler_lag_ms=latency(0.05) if model == "open" else LatencyStats(),
        window_hist=window_hist if window_hist is not None else lognormal_hist(2100, 1000),
        cumulative_hist=lognormal_hist(2000, requests),
        phases=PhaseTimings(0.21, 0.9, 0.0, 0.0, 1.7, 6.5, 20),
        rps_series=rps_series,
        p99_series=p99_series,
        error_series=tuple(k % 3 for k in range(seq)),
        users_series=tuple(20.0 for _ in range(seq)),
        per_request=(
            RequestStats("home", requests // 2, 950.0, 2, latency(1.5), ((200, requests // 2),)),
            RequestStats("slow jitter", requests // 4, 470.0, 30, latency(4.5)),
            RequestStats("json doc", requests // 4, 480.0, 10, latency(1.9)),
        ),
        recent_errors=(
            ErrorSample(3.5, "slow jitter", "timeout", 0, "read timed out after 1.0s"),
            ErrorSample(7.0, "json doc", "http_status", 503, "503 Service Unavailable"),
        ),
        thresholds=thresholds,
    )


def stress_snapshot() -> Snapshot:
    """A stress run in its fourth step: three steps held, the fourth breaking so far."""
    held = tuple(
        StressStep(load, 400 + load, 200.0 + load, 5.0 * k, 12.0 * k, 20.0 * k, 0.0, True)
        for k, load in enumerate((10, 20, 30), start=1)
    )
    breaking = StressStep(40, 120, 160.0, 60.0, 230.0, 400.0, 0.004, False, False, "p95 > 200ms")
    steps = (*held, breaking)
    stress = StressProgress("users", ("p95 > 200ms",), 10.0, 1.0, 100, steps, None, 30, False)
    return replace(make_snapshot(), stress=stress, stage_label="step 4/10: 40 users")


class ReplayLink:
    """An engine link that hands out prepared messages (deterministic screens, no process)."""

    def __init__(self, messages: list[Message]) -> None:
        self.pending: deque[Message] = deque(messages)
        self.sent: list[Command] = []
        self.closed = False

    def send(self, command: Command) -> None:
        self.sent.append(command)

    def poll(self, timeout: float = 0.0) -> bool:
        if self.pending:
            return True
        if timeout:
            import time

            time.sleep(min(timeout, 0.05))
        return False

    def recv(self) -> Message:
        return self.pending.popleft()

    def close(self, timeout: float = 5.0) -> None:
        self.closed = True
