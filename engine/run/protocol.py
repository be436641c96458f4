"""The pipe protocol between a caller (TUI, headless CLI, attached viewer) and the engine.

Commands go down, messages come up. Everything is a small frozen dataclass of plain data, so
it pickles cheaply and nothing live (socket, lock, widget) ever crosses the pipe. Bump
``PROTOCOL_VERSION`` when a field changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.plan.model import RunPlan

PROTOCOL_VERSION = 1

# --- commands: caller -> engine ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    plan: RunPlan


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the run. graceful: let in-flight requests finish (bounded by graceful_stop_s)."""

    graceful: bool = True


@dataclass(frozen=True, slots=True)
class Adjust:
    """Change the load live: closed model ``users``, open model ``rate`` (req/s).

    Once adjusted, the value holds until the end of the run (stages no longer drive it).
    """

    users: int | None = None
    rate: float | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    token: int = 0


Command = Start | Stop | Adjust | Ping

# --- data carried up ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Latency summary in milliseconds. All None-free: an empty set has count 0 and zeros."""

    count: int = 0
    min_ms: float = 0.0
    mean_ms: float = 0.0
    p50_ms: float = 0.0
    p75_ms: float = 0.0
    p90_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    p99_9_ms: float = 0.0
    max_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "min": self.min_ms,
            "mean": self.mean_ms,
            "p50": self.p50_ms,
            "p75": self.p75_ms,
            "p90": self.p90_ms,
            "p95": self.p95_ms,
            "p99": self.p99_ms,
            "p99_9": self.p99_9_ms,
            "max": self.max_ms,
        }


@dataclass(frozen=True, slots=True)
class RequestStats:
    """Per request name (cumulative)."""

    name: str
    requests: int
    rps: float
    errors: int
    latency: LatencyStats
    status_codes: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """A threshold as evaluated now. value is None and passed None while there is no data.
    ``default``: not the scenario's own but the one applied when it sets none
    (``engine.thresholds.DEFAULT_THRESHOLDS``)."""

    expr: str
    value: float | None
    passed: bool | None
    default: bool = False


@dataclass(frozen=True, slots=True)
class ErrorSample:
    """One recent failed result, with sensitive headers already redacted."""

    elapsed_s: float
    request: str
    error_class: str
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class PhaseTimings:
    """Mean and p99 of connection phases in ms (only for results where the phase happened);
    the connections the clients opened, and the requests sent again because the server had
    not processed them (HTTP/2 GOAWAY, REFUSED_STREAM)."""

    connect_mean_ms: float = 0.0
    connect_p99_ms: float = 0.0
    tls_mean_ms: float = 0.0
    tls_p99_ms: float = 0.0
    ttfb_mean_ms: float = 0.0
    ttfb_p99_ms: float = 0.0
    new_connections: int = 0
    retried: int = 0


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """One worker as the supervisor sees it (the dashboard's workers panel, the report).

    state: "starting" | "running" | "done" | "lost" | "failed". ``load`` is its current share
    (users, or req/s in the open model); ``cpu_pct`` its process's CPU over the last interval
    (None when unknown); ``lag_ms`` how long after its window closed the window arrived;
    ``clock_offset_ms`` its clock minus the supervisor's (None for a local process);
    ``lost_at_s`` the run time its loss was seen, ``reason`` why.
    """

    worker_id: int
    node: str
    state: str
    load: float = 0.0
    requests: int = 0
    rps: float = 0.0
    cpu_pct: float | None = None
    lag_ms: float = 0.0
    clock_offset_ms: float | None = None
    lost_at_s: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StressStep:
    """One step of a stress run: its load and what its results measured (the first
    ``warmup_s`` of the step left out). ``held`` is None while nothing was judged yet;
    ``complete`` is False for the step in progress (its verdict so far)."""

    load: float
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_rate: float
    held: bool | None
    complete: bool = True
    broke_on: str = ""  # the until condition that held, or "no responses"


@dataclass(frozen=True, slots=True)
class StressProgress:
    """A stress run so far: the judged steps, then the step in progress, and the outcome.
    ``breaking_point`` is the load of the first step that broke; ``max_sustainable`` the
    highest load that held; ``concluded`` once a step broke or the last one held."""

    over: str  # "users" | "rate"
    until: tuple[str, ...]
    step_s: float
    warmup_s: float
    max_load: float
    steps: tuple[StressStep, ...]
    breaking_point: float | None
    max_sustainable: float | None
    concluded: bool

    @property
    def judged(self) -> tuple[StressStep, ...]:
        return tuple(s for s in self.steps if s.complete)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The cached aggregate the engine publishes every window (0.5 s). Widgets render only this.

    Histograms are sparse ``(bucket index, count)`` pairs in the layout of
    ``engine.metrics.histogram``. Series are per window, oldest first, bounded in length.
    In the open model ``latency`` is measured from the intended send time (coordinated
    omission corrected) and ``service_latency`` from the actual send; in the closed model
    both are the same.
    """

    seq: int
    phase: str  # "starting" | "running" | "stopping" | "finished"
    model: str  # "closed" | "open"
    collection: str
    scenario: str
    target: str  # base URL
    elapsed_s: float
    planned_s: float
    stage_index: int
    stage_label: str
    # counts (cumulative)
    requests: int
    successes: int
    rps: float  # over the last window
    mean_rps: float  # over the whole run
    bytes_in: int
    bytes_out: int
    status_codes: tuple[tuple[int, int], ...]
    errors: tuple[tuple[str, int], ...]  # (error class, count), classes with count > 0
    skipped: int
    # live gauges
    active_users: int
    target_users: float
    in_flight: int
    target_rate: float
    # latency
    latency: LatencyStats
    service_latency: LatencyStats
    window_latency: LatencyStats
    scheduler_lag_ms: LatencyStats  # open model: how late sends started vs intended
    window_hist: tuple[tuple[int, int], ...]
    cumulative_hist: tuple[tuple[int, int], ...]
    phases: PhaseTimings
    # series, one value per window (bounded)
    rps_series: tuple[float, ...]
    p99_series: tuple[float, ...]
    error_series: tuple[int, ...]
    users_series: tuple[float, ...]
    per_request: tuple[RequestStats, ...]
    recent_errors: tuple[ErrorSample, ...]
    thresholds: tuple[ThresholdResult, ...]
    version: int = PROTOCOL_VERSION
    workers: tuple[WorkerHealth, ...] = ()  # per worker, in worker id order
    # the run's most frequent error messages: (error class, message, count), most first
    error_messages: tuple[tuple[str, str, int], ...] = ()
    stress: StressProgress | None = None  # stress mode: the steps so far

    @property
    def lost_workers(self) -> tuple[WorkerHealth, ...]:
        return tuple(w for w in self.workers if w.state == "lost")

    @property
    def error_count(self) -> int:
        return sum(n for _, n in self.errors)

    @property
    def error_rate(self) -> float:
        return self.error_count / self.requests if self.requests else 0.0


# --- messages: engine -> caller ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Log:
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True, slots=True)
class EngineError:
    """Something went wrong in the engine. fatal: the run cannot continue (a Finished follows)."""

    message: str
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class LatencyDigests:
    """The run's latency distribution as t-digest centroids ``(mean_ms, weight)``: of all
    results and of each request (index-aligned with ``Snapshot.per_request``). Saved runs
    keep these so comparisons do not depend on the histogram layout."""

    all: tuple[tuple[float, float], ...] = ()
    per_request: tuple[tuple[tuple[float, float], ...], ...] = ()


STOPPED = "stopped"  # the reason of a run stopped before its end (Stop, a signal)
QUIT = "quit"  # the reason of a run the app stopped (and saved) because it was closed
Verdict = Literal["passed", "failed", "stopped"]


def run_verdict(passed: bool, reason: str) -> Verdict:
    """What a finished run says: "failed" when a threshold (or the engine) failed, else
    "stopped" when it was stopped before its end, else "passed". Every report and the app
    show this word; only "passed" is a pass."""
    if not passed:
        return "failed"
    return "stopped" if reason in (STOPPED, QUIT) else "passed"


@dataclass(frozen=True, slots=True)
class Finished:
    """The run is over. ``snapshot`` is final; ``passed`` is the thresholds' verdict
    (True when there are no thresholds); ``reason`` says why it ended
    ("completed", "stopped", "worker died", ...); ``verdict`` is the word to show.

    ``results`` holds each worker's raw-result ring as columns (``ResultRing.to_columns()``)
    for CSV export and the error inspector; only the caller that started the run gets them.
    ``digests`` is the run's distribution for saving (see ``LatencyDigests``).
    """

    snapshot: Snapshot
    passed: bool
    reason: str
    results: tuple[dict[str, bytes], ...] = ()
    digests: LatencyDigests | None = None

    @property
    def verdict(self) -> Verdict:
        return run_verdict(self.passed, self.reason)


@dataclass(frozen=True, slots=True)
class Pong:
    token: int


Message = Snapshot | Log | EngineError | Finished | Pong
