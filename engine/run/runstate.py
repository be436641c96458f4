"""What the supervisor knows about a run in progress: its worker slots, their health, the clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from engine.metrics.window import WindowData
from engine.plan.model import RunPlan
from engine.run.protocol import (
    LatencyStats,
    PhaseTimings,
    Snapshot,
    ThresholdResult,
    WorkerHealth,
)

CPU_SAMPLE_S = 0.5  # a worker's CPU share is measured over at least this long
_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkerProcess(Protocol):
    """What the supervisor uses of a worker's process: a local ``multiprocessing`` process,
    or a cluster actor's stand-in (``engine.run.cluster.ActorProcess``)."""

    @property
    def sentinel(self) -> int: ...
    @property
    def exitcode(self) -> int | None: ...
    @property
    def pid(self) -> int | None: ...
    def kill(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


@dataclass(slots=True)
class WorkerSlot:
    worker_id: int
    process: WorkerProcess
    conn: Connection
    done: bool = False
    exited: bool = False
    conn_open: bool = True
    reason: str = ""
    results: dict[str, bytes] | None = None
    done_at: float = 0.0
    # health, for the workers panel and the report
    node: str = "local"
    remote: bool = False  # a cluster actor: its loss is reported, not fatal
    clock_offset_s: float | None = None
    windows: int = 0
    requests: int = 0
    rps: float = 0.0
    load: float = 0.0
    lag_s: float = 0.0
    read_cpu: Callable[[], float | None] | None = None  # cumulative CPU s; default: /proc
    cpu_s: float | None = None
    cpu_pct: float | None = None
    cpu_mark: tuple[float, float] | None = None  # (when, cpu_s) the share is measured from
    failed: bool = False
    lost_reason: str = ""
    lost_at_s: float | None = None

    def track(self, window: WindowData, arrived: float, start_at: float, open_model: bool) -> None:
        """Count one window of this worker's: requests, req/s, load, and how late it came."""
        self.windows += 1
        self.requests += window.requests
        duration = window.end_s - window.start_s
        if duration > 0:
            self.rps = window.requests / duration
        self.load = window.target_rate if open_model else float(window.active_users)
        self.lag_s = max(0.0, arrived - (start_at + window.end_s))

    def sample_cpu(self, now: float) -> None:
        """Update ``cpu_pct`` from the cumulative CPU seconds (read here for a local process)."""
        if self.exited:
            return
        if self.read_cpu is not None:
            self.cpu_s = self.read_cpu()
        else:
            self.cpu_s = process_cpu_seconds(self.process.pid)
        if self.cpu_s is None:
            return
        if self.cpu_mark is None:
            self.cpu_mark = (now, self.cpu_s)
            return
        since, cpu_then = self.cpu_mark
        if now - since >= CPU_SAMPLE_S:
            self.cpu_pct = max(0.0, (self.cpu_s - cpu_then) / (now - since) * 100.0)
            self.cpu_mark = (now, self.cpu_s)

    def health(self) -> WorkerHealth:
        if self.lost_reason:
            state = "lost"
        elif self.failed:
            state = "failed"
        elif self.done:
            state = "done"
        else:
            state = "running" if self.windows else "starting"
        offset = self.clock_offset_s
        return WorkerHealth(
            worker_id=self.worker_id,
            node=self.node,
            state=state,
            load=self.load,
            requests=self.requests,
            rps=0.0 if self.done else self.rps,
            cpu_pct=None if self.done else self.cpu_pct,
            lag_ms=self.lag_s * 1000.0,
            clock_offset_ms=None if offset is None else offset * 1000.0,
            lost_at_s=self.lost_at_s,
            reason=self.lost_reason,
        )


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (Linux ``/proc``), None when unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return None
    # after the command name: state is field 3, utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


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
    lost: list[str] = field(default_factory=list)  # what was said about each lost worker

    @property
    def open_model(self) -> bool:
        return self.plan.profile.model == "open"

    def elapsed(self) -> float:
        """Run time so far (0 before the start; a cluster run's start is set once placed)."""
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
        thresholds=tuple(
            ThresholdResult(expr, None, None, plan.thresholds_default) for expr in plan.thresholds
        ),
    )


def completion_reason(workers: list[WorkerSlot]) -> str:
    reasons = {slot.reason for slot in workers if slot.reason}
    if reasons == {"stopped"}:
        return "stopped"
    return "completed"
