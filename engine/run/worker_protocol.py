"""Messages between the supervisor and its worker processes (internal to the engine).

Supervisor -> worker: ``protocol.Adjust`` (already this worker's share: users or rate) and
``protocol.Stop``. Worker -> supervisor: the classes below (``WorkerReady`` and ``WorkerLost``
come from the cluster bridge, for a worker running as a Ray actor). ``WindowData`` (defined
by the metrics package) is plain picklable data; workers never send live objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.metrics.window import WindowData


@dataclass(frozen=True, slots=True)
class WorkerWindow:
    """One closed window of measurements from one worker (sent every plan.window_s)."""

    worker_id: int
    window: WindowData


@dataclass(frozen=True, slots=True)
class WorkerLog:
    worker_id: int
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class WorkerDone:
    """The worker finished (stages over, iterations done, or stopped).

    ``final`` is the last partial window; ``results`` the worker's ring buffer as columns
    (``ResultRing.to_columns()``), for CSV export and the error inspector.
    """

    worker_id: int
    final: WindowData | None
    results: dict[str, bytes] | None
    reason: str


@dataclass(frozen=True, slots=True)
class WorkerFailed:
    """The worker hit an unexpected error; it exits after sending this."""

    worker_id: int
    message: str


@dataclass(frozen=True, slots=True)
class WorkerReady:
    """A cluster worker is placed and about to start (sent by ``engine.run.cluster``).

    ``start_at`` is the shared start on the supervisor's monotonic clock; the worker's own
    clock reads ``clock_offset_s`` more (estimated by halving the round trip).
    """

    worker_id: int
    node: str
    clock_offset_s: float
    start_at: float


@dataclass(frozen=True, slots=True)
class WorkerLost:
    """A cluster worker's actor or node died: the run goes on without it."""

    worker_id: int
    reason: str


def share_of(total: float, worker_id: int, n_workers: int, integral: bool) -> float:
    """This worker's share of a users (integral) or rate (fractional) target."""
    if not integral:
        return total / n_workers
    base, extra = divmod(round(total), n_workers)
    return float(base + (1 if worker_id < extra else 0))
