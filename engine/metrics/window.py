"""One closed measurement window from one worker: plain, picklable, sparse data.

A worker's ``WindowRecorder`` fills preallocated arrays during a window and ``flush()``
turns them into a ``WindowData``; the supervisor's ``Aggregator`` merges windows by adding
their sparse ``(bucket index, count)`` pairs. Histograms use the layout of
``engine.metrics.histogram``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.run.protocol import ErrorSample

Pairs = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class RequestWindow:
    """One request name's share of a window (index-aligned with ``plan.requests``).

    ``min_ns`` / ``max_ns`` / ``sum_ns`` give exact min, max and mean latency; ``min_ns`` is 0
    when ``requests`` is 0.
    """

    requests: int = 0
    errors: int = 0
    latency_hist: Pairs = ()
    status_codes: Pairs = ()
    error_codes: Pairs = ()
    min_ns: int = 0
    max_ns: int = 0
    sum_ns: int = 0


@dataclass(frozen=True, slots=True)
class WindowData:
    """Everything one worker measured between ``start_s`` and ``end_s`` (run-elapsed seconds).

    ``seq`` is ``int(start elapsed // window_s)``. Latencies: ``latency_hist`` is measured from
    the intended send time in the open model (coordinated omission corrected),
    ``service_hist`` from the actual send; ``lag_hist`` is how late the open-model scheduler
    started sends. Phase histograms hold only results where the phase happened.
    """

    worker_id: int
    seq: int
    start_s: float
    end_s: float
    requests: int = 0
    successes: int = 0
    per_request: tuple[RequestWindow, ...] = ()
    latency_hist: Pairs = ()
    service_hist: Pairs = ()
    lag_hist: Pairs = ()
    connect_hist: Pairs = ()
    tls_hist: Pairs = ()
    ttfb_hist: Pairs = ()
    status_codes: Pairs = ()
    errors: Pairs = ()  # (error code, count)
    bytes_in: int = 0
    bytes_out: int = 0
    skipped: int = 0
    active_users: int = 0
    target_users: float = 0.0
    in_flight: int = 0
    target_rate: float = 0.0
    stage_index: int = 0
    stage_label: str = ""
    min_ns: int = 0
    max_ns: int = 0
    sum_ns: int = 0
    error_samples: tuple[ErrorSample, ...] = ()
    # every failed result of the window counted by (error code, message), messages redacted
    error_messages: tuple[tuple[int, str, int], ...] = ()
    service_sum_ns: int = 0  # for the exact mean service time
    # exact extremes of service time and scheduler lag; -1 when the window has none
    service_min_ns: int = -1
    service_max_ns: int = -1
    lag_min_ns: int = -1
    lag_max_ns: int = -1
    new_connections: int = 0  # connections the worker's client opened in the window
    retried: int = 0  # requests it sent again because the server never processed them

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
