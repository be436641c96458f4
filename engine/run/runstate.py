"""What the supervisor knows about a run in progress: its worker slots and clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from engine.plan.model import RunPlan
from engine.run.protocol import LatencyStats, PhaseTimings, Snapshot, ThresholdResult


@dataclass(slots=True)
class WorkerSlot:
    worker_id: int
    process: BaseProcess
    conn: Connection
    done: bool = False
    exited: bool = False
    conn_open: bool = True
    reason: str = ""
    results: dict[str, bytes] | None = None
    done_at: float = 0.0


@dataclass(slots=True)
class RunState:
    plan: RunPlan
    aggregator: Any
    start_at: float
    workers: list[WorkerSlot]
    next_publish: float
    stopping: bool = False
    stop_deadline: float = 0.0
    reason: str = ""
    errors: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return max(0.0, time.monotonic() - self.start_at)

    def phase(self) -> str:
        if self.stopping:
            return "stopping"
        return "starting" if time.monotonic() < self.start_at else "running"


def empty_snapshot(plan: RunPlan) -> Snapshot:
    """A finished snapshot with nothing measured (for a run that could not start)."""
    none = LatencyStats()
    return Snapshot(
        seq=0,
        phase="finished",
        model=plan.profile.model,
        collection=plan.collection_name,
        scenario=plan.scenario_name,
        target=plan.base_url,
        elapsed_s=0.0,
        planned_s=plan.profile.duration_s,
        stage_index=0,
        stage_label="",
        requests=0,
        successes=0,
        rps=0.0,
        mean_rps=0.0,
        bytes_in=0,
        bytes_out=0,
        status_codes=(),
        errors=(),
        skipped=0,
        active_users=0,
        target_users=0.0,
        in_flight=0,
        target_rate=0.0,
        latency=none,
        service_latency=none,
        window_latency=none,
        scheduler_lag_ms=none,
        window_hist=(),
        cumulative_hist=(),
        phases=PhaseTimings(),
        rps_series=(),
        p99_series=(),
        error_series=(),
        users_series=(),
        per_request=(),
        recent_errors=(),
        thresholds=tuple(ThresholdResult(expr, None, None) for expr in plan.thresholds),
    )


def completion_reason(workers: list[WorkerSlot]) -> str:
    reasons = {slot.reason for slot in workers if slot.reason}
    if reasons == {"stopped"}:
        return "stopped"
    return "completed"
